"""Every `python -m medblocks …` command, given an API that does not answer, a refused key, a
database that does not answer or refuses the login: a few lines on stderr (what failed, the
request id where there is one, what to do), no traceback, a non-zero exit status; the traceback
only with `--verbose`. The key never appears."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.local_servers import free_port

KEY = "mb_sk_sbx_clifailurestests0123456789"
MIRROR_COMMANDS = {
    "sync": ["mirror", "sync", "--no-progress"],
    "listen": ["mirror", "listen", "--port", "0"],
    "poll": ["mirror", "poll", "--endpoint", "wh_nothing"],
    "start-over": ["mirror", "start-over"],
}


@pytest.fixture(scope="module")
def served() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(db_path=None, api_key=KEY, seed_demo=False)) as running:
        yield running


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MEDBLOCKS_")} | {
        "MEDBLOCKS_WEBHOOK_SECRET": "whsec_clitests",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "medblocks", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )


def assert_one_clear_message(done: subprocess.CompletedProcess[str], says: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode not in (0, None), output
    assert "Traceback" not in output, output
    assert says in done.stderr, output
    assert len(done.stderr.strip().splitlines()) <= 4, output
    assert KEY not in output and "mb_sk_sbx_0" not in output


@pytest.mark.parametrize("command", MIRROR_COMMANDS)
def test_an_api_that_does_not_answer(command: str, tmp_path: Path) -> None:
    done = run(
        MIRROR_COMMANDS[command],
        MEDBLOCKS_API_KEY=KEY,
        MEDBLOCKS_API_URL=f"http://127.0.0.1:{free_port()}",
        MEDBLOCKS_DATABASE_URL=f"sqlite:///{tmp_path / 'm.sqlite3'}",
    )
    assert_one_clear_message(done, "the API did not answer")
    assert "check MEDBLOCKS_API_URL" in done.stderr


@pytest.mark.parametrize("command", MIRROR_COMMANDS)
def test_a_refused_key(command: str, tmp_path: Path, served: RunningSandbox) -> None:
    done = run(
        MIRROR_COMMANDS[command],
        MEDBLOCKS_API_KEY="mb_sk_sbx_0" + KEY[11:],
        MEDBLOCKS_API_URL=served.base_url,
        MEDBLOCKS_DATABASE_URL=f"sqlite:///{tmp_path / 'm.sqlite3'}",
    )
    assert_one_clear_message(done, "the API refused the key")
    assert "HTTP 401 authentication_error" in done.stderr
    assert "no request id" not in done.stderr  # the sandbox's X-Request-Id is named


@pytest.mark.parametrize("command", MIRROR_COMMANDS)
def test_a_database_that_does_not_answer(command: str, served: RunningSandbox) -> None:
    done = run(
        MIRROR_COMMANDS[command],
        MEDBLOCKS_API_KEY=KEY,
        MEDBLOCKS_API_URL=served.base_url,
        MEDBLOCKS_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none",
    )
    assert_one_clear_message(done, "the mirror's database did not answer or refused the login")


@pytest.mark.postgres
@pytest.mark.parametrize("command", MIRROR_COMMANDS)
def test_a_database_that_refuses_the_login(
    command: str, served: RunningSandbox, postgres_server: str
) -> None:
    refused = postgres_server.replace("postgres@", "nobody_here@", 1)
    done = run(
        MIRROR_COMMANDS[command],
        MEDBLOCKS_API_KEY=KEY,
        MEDBLOCKS_API_URL=served.base_url,
        MEDBLOCKS_DATABASE_URL=refused,
    )
    assert_one_clear_message(done, "the mirror's database did not answer or refused the login")
    assert "nobody_here" in done.stderr  # the driver's own words: which login was refused


def test_verbose_adds_the_traceback(tmp_path: Path) -> None:
    args = MIRROR_COMMANDS["sync"]
    env = {
        "MEDBLOCKS_API_KEY": KEY,
        "MEDBLOCKS_API_URL": f"http://127.0.0.1:{free_port()}",
        "MEDBLOCKS_DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}",
    }
    for verbose in (["mirror", "--verbose", *args[1:]], [*args, "--verbose"]):
        done = run(verbose, **env)
        assert done.returncode == 1
        assert "the API did not answer" in done.stderr and "Traceback" in done.stderr
        assert KEY not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "args", [["spec", "check"], ["spec", "diff", "URL", "medblocks/spec/medblocks.json"]]
)
def test_spec_commands_with_an_api_that_does_not_answer(args: list[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    args = [a.replace("URL", f"{url}/openapi.json") for a in args]
    done = run(args, MEDBLOCKS_API_KEY=KEY, MEDBLOCKS_API_URL=url)
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert "could not be fetched" in done.stdout and len(done.stdout.splitlines()) <= 4


@pytest.mark.parametrize(
    "args", [["alerts", "check"], ["alerts", "silence", "list"], ["alerts", "test"]]
)
def test_alerts_commands_with_a_database_that_does_not_answer(args: list[str]) -> None:
    database = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"
    done = run(
        args,
        MEDBLOCKS_DATABASE_URL=database,
        MEDBLOCKS_ALERT_URLS="json://127.0.0.1:9/alerts",
    )
    assert_one_clear_message(done, "the mirror's database did not answer or refused the login")
    verbose = run(
        [*args, "--verbose"],
        MEDBLOCKS_DATABASE_URL=database,
        MEDBLOCKS_ALERT_URLS="json://127.0.0.1:9/alerts",
    )
    assert "Traceback" in verbose.stderr
