"""Fixtures for the sandbox's own tests, reusable by anyone testing against the sandbox.

`sandbox_app` is a fresh in-memory sandbox (demo data seeded) per test; `api` is a sync
httpx client bound to it in-process (`medblocks.in_process.in_process_client`), sending the
key and the pinned `Version`; `raw` is the same client without either header. These are raw
HTTP clients on purpose: the sandbox exists to check the project's client library, so its tests
never use that library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from medblocks.in_process import in_process_client
from medblocks.sandbox import SandboxConfig, create_app
from medblocks.sandbox.runtime import SandboxRuntime

API_KEY = "mb_sk_sbx_01TESTKEY0000000000000000000"
EXPIRED_KEY = "mb_sk_sbx_01EXPIREDKEY000000000000000"
VERSION = "2026-04-25"


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def expired_key() -> str:
    return EXPIRED_KEY


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(api_key=API_KEY, expired_api_keys=frozenset({EXPIRED_KEY}))


@pytest.fixture
def sandbox_app(sandbox_config: SandboxConfig) -> Iterator[Starlette]:
    app = create_app(sandbox_config)
    yield app
    app.state.sandbox.store.close()


@pytest.fixture
def runtime(sandbox_app: Starlette) -> SandboxRuntime:
    runtime: SandboxRuntime = sandbox_app.state.sandbox
    return runtime


@pytest.fixture
def api(sandbox_app: Starlette) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_KEY}", "Version": VERSION}
    with in_process_client(sandbox_app, headers=headers) as client:
        yield client


@pytest.fixture
def raw(sandbox_app: Starlette) -> Iterator[httpx.Client]:
    with in_process_client(sandbox_app) as client:
        yield client


ErrorCheck = Callable[..., dict[str, object]]


def _assert_error(
    response: httpx.Response, status: int, type_: str, code: str, param: str | None = None
) -> dict[str, object]:
    """The response is the documented envelope with this status, type, code and param,
    and its request id matches the `X-Request-Id` header."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"type", "code", "message", "param", "doc_url", "request_id"}
    assert (error["type"], error["code"], error["param"]) == (type_, code, param)
    assert error["doc_url"] == f"https://medblocks.com/docs/reference/errors#{code}"
    assert response.headers["x-request-id"] == error["request_id"]
    assert isinstance(error, dict)
    return error


@pytest.fixture
def assert_error() -> ErrorCheck:
    """`assert_error(response, status, type, code, param=None)` checks a documented error."""
    return _assert_error
