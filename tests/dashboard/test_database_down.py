"""The mirror's database down, or refusing the login: every page says so once, in words (what
failed, where, what to do), never Streamlit's error box; pages that need no mirror still work.

The dashboard is pointed at the sandbox as a configured target (key and URL): the embedded
sandbox mirrors into a database of its own and never opens `MEDBLOCKS_DATABASE_URL`."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from medblocks.dashboard.database_problem import DatabaseProblem
from medblocks.sandbox import RunningSandbox
from tests.dashboard.apptest import open_app_page
from tests.local_servers import free_port
from tests.mirror.conftest import postgres_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("app_environment")


@pytest.fixture
def configured_target(
    app_environment: None, monkeypatch: pytest.MonkeyPatch, embedded: RunningSandbox
) -> None:
    """The sandbox as a configured target, so the dashboard's mirror is the configured one."""
    monkeypatch.setenv("MEDBLOCKS_API_KEY", embedded.api_key)
    monkeypatch.setenv("MEDBLOCKS_API_URL", embedded.base_url)


def said(at: object) -> str:
    return " ".join(
        [e.value for e in at.error] + [t.value for t in at.text]  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("page", ["ui_pages/connection_health.py", "ui_pages/patients.py"])
@pytest.mark.usefixtures("configured_target")
def test_a_database_that_does_not_answer_is_one_message(
    monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    url = f"postgresql+psycopg://ops:s3cret@127.0.0.1:{free_port()}/medblocks"
    monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", url)
    at = open_app_page(page)
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("The mirror's database does not answer")
    assert "s3cret" not in said(at) and "ops:***@127.0.0.1" in errors[0]
    assert "MEDBLOCKS_DATABASE_URL" in said(at)


@pytest.mark.usefixtures("configured_target")
def test_pages_without_the_mirror_keep_working(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql+psycopg://ops@127.0.0.1:{free_port()}/medblocks"
    monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", url)
    at = open_app_page("ui_pages/sources.py")
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1  # the database, said once
    assert at.dataframe  # the catalog, read live


@pytest.mark.postgres
@pytest.mark.usefixtures("configured_target")
def test_a_refused_login_is_one_message(
    monkeypatch: pytest.MonkeyPatch,
    postgres_server: str,  # noqa: F811
) -> None:
    url = postgres_server.replace("postgres@", "nobody_here:pw@")
    monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", url)
    at = open_app_page("ui_pages/connection_health.py")
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("The mirror's database refused the login")
    assert ":pw@" not in said(at)


def test_the_embedded_sandbox_never_opens_the_configured_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"postgresql+psycopg://ops:s3cret@127.0.0.1:{free_port()}/medblocks"
    monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", url)
    at = open_app_page("ui_pages/connection_health.py")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert "mirror_sync_now" in {b.key for b in at.button}


def test_only_database_errors_are_explained() -> None:
    assert DatabaseProblem.of(ValueError("x"), "sqlite:///x.db") is None
    refused = sa.exc.OperationalError("SELECT 1", {}, Exception("Connection refused"))
    problem = DatabaseProblem.of(refused, "postgresql+psycopg://a:b@h/d")
    assert problem is not None and "a:***@h/d" in problem.title
