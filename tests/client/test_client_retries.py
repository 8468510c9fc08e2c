"""Retries only where safe: GET on 408/429/502/503/504 and connection errors, writes only when
the request never left. Faults come from MockTransport; the sleeps are real and short."""

from __future__ import annotations

import logging
import re
import time

import httpx
import pytest

from medblocks import APIConnectionError, MedblocksError
from medblocks.client import errors, retries
from tests.client.mocks import EMPTY_LIST, PATIENT, Recorder, envelope


def throttled(retry_after: str | None = "1") -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return httpx.Response(429, json=envelope("rate_limit_error", "throttled"), headers=headers)


def unavailable() -> httpx.Response:
    return httpx.Response(503, content=b"<html>try later</html>", headers={"X-Request-Id": "r-503"})


def test_get_is_retried_on_429_honouring_retry_after(mock_client) -> None:
    recorder = Recorder(throttled("1"), httpx.Response(200, json=EMPTY_LIST))
    started = time.monotonic()
    page = mock_client(recorder).patients.list_page()
    elapsed = time.monotonic() - started
    assert page.data == [] and len(recorder.requests) == 2
    assert 1.0 <= elapsed < 2.0


async def test_async_get_is_retried_on_429_honouring_retry_after(mock_aclient) -> None:
    recorder = Recorder(throttled("1"), httpx.Response(200, json=EMPTY_LIST))
    started = time.monotonic()
    async with mock_aclient(recorder) as client:
        page = await client.patients.list_page()
    assert page.has_more is False and len(recorder.requests) == 2
    assert time.monotonic() - started >= 1.0


def test_get_is_retried_on_503_and_502_and_connection_errors(mock_client, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="medblocks.client")
    recorder = Recorder(
        unavailable(),
        httpx.ConnectError("refused"),
        httpx.Response(200, json=EMPTY_LIST),
    )
    mock_client(recorder).patients.list_page()
    assert len(recorder.requests) == 3
    delays = [float(d) for d in re.findall(r"delay=([\d.]+)s", caplog.text)]
    assert len(delays) == 2
    assert 0.375 <= delays[0] <= 0.5 and 0.75 <= delays[1] <= 1.0


@pytest.mark.parametrize("status", [408, 502, 504])
def test_get_retries_every_retryable_status(mock_client, status: int) -> None:
    recorder = Recorder(httpx.Response(status, content=b""), httpx.Response(200, json=EMPTY_LIST))
    mock_client(recorder).patients.list_page()
    assert len(recorder.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 500])
def test_get_is_not_retried_on_other_statuses(mock_client, status: int) -> None:
    recorder = Recorder(httpx.Response(status, json=envelope("api_error", "internal_error")))
    with pytest.raises(MedblocksError):
        mock_client(recorder).patients.list_page()
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "answer", [unavailable, lambda: throttled("1"), lambda: httpx.Response(502)]
)
def test_post_is_never_retried_on_5xx_or_429(mock_client, answer) -> None:
    recorder = Recorder(answer(), httpx.Response(200, json=PATIENT))
    with pytest.raises(MedblocksError):
        mock_client(recorder, max_retries=5).patients.create("user_1")
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.patients.replace("user_1", email=None, name=None, metadata=None),
        lambda c: c.patients.delete("user_1"),
        lambda c: c.webhooks.update("wh_1", status="active"),
        lambda c: c.events.redeliver("evt_1"),
    ],
)
def test_put_patch_delete_are_never_retried_on_503(mock_client, call) -> None:
    recorder = Recorder(unavailable())
    with pytest.raises(MedblocksError):
        call(mock_client(recorder))
    assert len(recorder.requests) == 1


def test_write_is_retried_only_when_the_request_never_left(mock_client) -> None:
    not_sent = Recorder(httpx.ConnectError("refused"), httpx.Response(200, json=PATIENT))
    assert mock_client(not_sent).patients.create("user_1").id == "user_1"
    assert len(not_sent.requests) == 2

    maybe_sent = Recorder(httpx.ReadError("reset"), httpx.Response(200, json=PATIENT))
    with pytest.raises(APIConnectionError):
        mock_client(maybe_sent).patients.create("user_1")
    assert len(maybe_sent.requests) == 1


def test_gives_up_after_max_retries_per_client_and_per_call(mock_client) -> None:
    recorder = Recorder(unavailable())
    with pytest.raises(MedblocksError) as caught:
        mock_client(recorder, max_retries=0).patients.list_page()
    assert len(recorder.requests) == 1
    assert caught.value.http_status == 503

    recorder = Recorder(unavailable())
    with pytest.raises(MedblocksError) as caught:
        mock_client(recorder, max_retries=0).patients.list_page(max_retries=1)
    assert len(recorder.requests) == 2
    assert caught.value.__notes__ == ["gave up after 1 retries"]


def test_default_is_two_retries(mock_client) -> None:
    recorder = Recorder(unavailable())
    client = mock_client(recorder)
    assert client.max_retries == 2
    with pytest.raises(MedblocksError):
        client.health()
    assert len(recorder.requests) == 3


def test_retry_after_beyond_60_seconds_gives_up_and_says_so(mock_client, caplog) -> None:
    recorder = Recorder(throttled("120"))
    with pytest.raises(errors.RateLimitError) as caught:
        mock_client(recorder).patients.list_page()
    assert len(recorder.requests) == 1
    assert caught.value.retry_after == 120
    assert "exceeds the 60 s" in caught.value.__notes__[0]
    assert "exceeds the 60 s" in caught.value.__notes__[0] in caplog.text


@pytest.mark.parametrize("retry", range(8))
def test_backoff_stays_within_its_bounds(retry: int) -> None:
    ceiling = min(0.5 * 2**retry, 8.0)
    assert retries.backoff_delay(retry, rand=0.0) == pytest.approx(0.75 * ceiling)
    assert retries.backoff_delay(retry, rand=1.0) == pytest.approx(ceiling)
    draws = [retries.backoff_delay(retry) for _ in range(200)]
    assert all(0.75 * ceiling <= d <= ceiling for d in draws)
    assert len(set(draws)) > 1


def test_timeouts_are_explicit(mock_client) -> None:
    client = mock_client(Recorder(httpx.Response(200, json=EMPTY_LIST)))
    assert (client.timeout.connect, client.timeout.read) == (5.0, 30.0)
    recorder = Recorder(httpx.Response(200, json=EMPTY_LIST))
    mock_client(recorder).patients.list_page(timeout=2.5)
    assert recorder.requests[0].extensions["timeout"]["read"] == 2.5
