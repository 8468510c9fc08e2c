"""Fixtures of the mirror's tests: each test runs on SQLite and on PostgreSQL.

PostgreSQL is Debian's server (`/usr/lib/postgresql/<v>/bin`), started once per test session
as a throwaway cluster (initdb + pg_ctl in a temporary directory, on a free loopback port);
each test gets a database of its own. initdb refuses to run as root, so as root the cluster
runs as the `postgres` user. Missing binaries fail the tests (CI installs `postgresql`): the
PostgreSQL half never skips.

Beside the fixtures, the helpers the mirror's tests share: `rows` (a table as dicts), `synced`
(one sync from the sandbox), `command_env` (a mirror command's environment), `signed` (the
headers of a delivery signed with `WEBHOOK_SECRET`), `delivered` (a listed event as the bytes
its delivery carries) and the `receiver` fixture (the webhook receiver on loopback, re-reading
from the sandbox).
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from medblocks.client import AsyncMedblocks
from medblocks.client import models as m
from medblocks.client.webhooks_signature import expected_signature
from medblocks.mirror import Mirror, open_mirror
from medblocks.mirror.poll import event_body
from medblocks.mirror.receiver import create_receiver
from medblocks.mirror.server import RunningReceiver, serve_in_thread
from medblocks.mirror.sync import sync_mirror
from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.local_servers import free_port

_databases = itertools.count()


def _pg_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.fail(
            "PostgreSQL server binaries are missing (no /usr/lib/postgresql/*/bin/pg_ctl): "
            "install Debian's postgresql package (.ci/run does)"
        )
    return os.path.dirname(found[-1])


def _as_cluster_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class PgCluster:
    """A throwaway PostgreSQL cluster in a temporary directory, on a free loopback port; it
    can be stopped and started again (same port, same data)."""

    bindir: str
    workdir: str
    port: int

    @classmethod
    def create(cls) -> PgCluster:
        bindir = _pg_bin()
        workdir = tempfile.mkdtemp(prefix="mirror-pg-")
        if os.geteuid() == 0:
            shutil.chown(workdir, user="postgres")
        initdb = [f"{bindir}/initdb", "-D", f"{workdir}/data", "-A", "trust", "-U", "postgres"]
        subprocess.run(
            _as_cluster_user([*initdb, "--no-sync", "-E", "UTF8"]),
            check=True,
            capture_output=True,
        )
        return cls(bindir, workdir, free_port())

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        command = [f"{self.bindir}/pg_ctl", "-D", f"{self.workdir}/data", *args]
        subprocess.run(_as_cluster_user(command), check=check, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c synchronous_commit=off -c full_page_writes=off"
        self._pg_ctl("-o", options, "-l", f"{self.workdir}/log", "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "stop", check=False)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster; yields the URL of its `postgres` database."""
    cluster = PgCluster.create()
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.remove()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty database for one test, on SQLite or on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mirror.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"mirror_{os.getpid()}_{next(_databases)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as db:
            db.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def mirror(database_url: str) -> Iterator[Mirror]:
    opened = open_mirror(database_url)
    yield opened
    opened.close()


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A fresh sandbox (demo organisation, in memory) on loopback."""
    with start_in_thread(SandboxConfig(db_path=None, seed_demo=True)) as running:
        yield running


@dataclass
class Controls:
    """The sandbox's `/_sandbox/` controls and raw API reads (not part of the client)."""

    http: httpx.Client

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.put(path, json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def set_status(self, conn_id: str, status: str, failure_code: str | None = None) -> None:
        body: dict[str, Any] = {"status": status}
        if failure_code:
            body["failure_code"] = failure_code
        self.post(f"/_sandbox/connections/{conn_id}/status", body)

    def advance(self, seconds: float) -> None:
        self.post("/_sandbox/clock/advance", {"seconds": seconds})


@pytest.fixture
def controls(sandbox: RunningSandbox) -> Iterator[Controls]:
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as http:
        yield Controls(http)


@pytest.fixture
def aclient_for(sandbox: RunningSandbox) -> Any:
    def make(**options: Any) -> AsyncMedblocks:
        return AsyncMedblocks(sandbox.api_key, base_url=sandbox.base_url, **options)

    return make


WEBHOOK_SECRET = "whsec_test_receiver_secret"


def rows(mirror: Mirror, table: sa.Table) -> list[dict[str, Any]]:
    with mirror.read() as db:
        return [dict(row._mapping) for row in db.execute(sa.select(table))]


async def synced(mirror: Mirror, sandbox: RunningSandbox, **options: Any) -> Any:
    """One sync of `mirror` from `sandbox` (its report)."""
    async with AsyncMedblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        return await sync_mirror(mirror, [client], **options)


def command_env(sandbox: RunningSandbox, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `python -m medblocks mirror ...` child mirroring `sandbox` into
    `database_url` (this process's environment, plus `extra`)."""
    return dict(
        os.environ,
        MEDBLOCKS_API_KEY=sandbox.api_key,
        MEDBLOCKS_API_URL=sandbox.base_url,
        MEDBLOCKS_DATABASE_URL=database_url,
        **extra,
    )


def signed(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    """The headers of a delivery of `body` signed with `secret` at `at` (default: now)."""
    t = int(time.time()) if at is None else at
    return {
        "Medblocks-Signature": f"t={t},v1={expected_signature(body, t, secret)}",
        "Content-Type": "application/json",
    }


def delivered(event: m.WebhookEvent) -> bytes:
    """A listed event as the body its delivery carries (`medblocks.mirror.poll.event_body`)."""
    return json.dumps(event_body(event)).encode()


@pytest.fixture
def receiver(mirror: Mirror, sandbox: RunningSandbox) -> Iterator[RunningReceiver]:
    """The webhook receiver on loopback (secret `WEBHOOK_SECRET`), re-reading from `sandbox`."""
    app = create_receiver(
        mirror,
        WEBHOOK_SECRET,
        lambda: AsyncMedblocks(sandbox.api_key, base_url=sandbox.base_url),
    )
    running = serve_in_thread(app)
    yield running
    running.stop()
