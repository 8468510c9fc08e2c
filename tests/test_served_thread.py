"""`medblocks.served_thread`: the one way the project serves an app from a background thread
(the sandbox and the mirror's webhook receiver both use it)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from medblocks.served_thread import serve_on_free_port


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI app: `hello` to every request, lifespan events accepted."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


async def failing_startup(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An app whose lifespan startup fails: uvicorn with lifespan "on" gives up."""
    assert scope["type"] == "lifespan"
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "no database"})


def test_it_answers_as_soon_as_it_returns_and_stops_its_thread() -> None:
    served = serve_on_free_port(hello, "127.0.0.1", thread_name="t-hello", what="hello")
    try:
        assert served.base_url.startswith("http://127.0.0.1:")
        assert served.thread.name == "t-hello" and served.thread.daemon
        assert httpx.get(served.base_url + "/anything", timeout=10).text == "hello"
    finally:
        served.stop()
    assert not served.thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(served.base_url, timeout=10)


def test_two_servers_get_two_ports() -> None:
    first = serve_on_free_port(hello, "127.0.0.1", thread_name="t-1", what="first")
    second = serve_on_free_port(hello, "127.0.0.1", thread_name="t-2", what="second")
    try:
        assert first.base_url != second.base_url
    finally:
        first.stop()
        second.stop()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_app_that_cannot_start_is_named_in_one_clear_error() -> None:
    """uvicorn ends its thread with SystemExit when startup fails (pytest reports that thread's
    exit as a warning); the caller gets one RuntimeError saying what did not start."""
    with pytest.raises(RuntimeError, match=r"^the test receiver did not start$"):
        serve_on_free_port(
            failing_startup,
            "127.0.0.1",
            thread_name="t-fail",
            what="the test receiver",
            lifespan="on",
        )
