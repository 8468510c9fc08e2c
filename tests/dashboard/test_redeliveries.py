"""What the Webhooks page remembers of its redeliveries (`webhooks.Redeliveries`), against a real
sandbox: a redelivery is sent once and said once, the documented once-a-minute limit is a wait
(not a failure) counted down from what the API said, and any other failure is handed back."""

from __future__ import annotations

import time

from medblocks.client import Medblocks, NotFoundError
from medblocks.dashboard.webhooks import QUEUED, REDELIVERY_INTERVAL_SECONDS, Redeliveries
from medblocks.sandbox import RunningSandbox
from tests.dashboard.conftest import completed_session_event


def test_queued_once_said_once_then_the_limit_is_a_wait_counted_down(
    sandbox: RunningSandbox, client: Medblocks
) -> None:
    _, _, completed = completed_session_event(sandbox, client, "redeliveries_patient")
    event = completed.id
    memory = Redeliveries()
    assert memory.seconds_left(event, time.time()) is None  # not redelivered from here
    sent: list[str] = []

    def send() -> object:
        sent.append(event)
        return client.events.redeliver(event)

    now = time.time()
    assert memory.redeliver(event, send, now) == "queued"
    assert memory.seconds_left(event, now) == REDELIVERY_INTERVAL_SECONDS
    assert memory.take_message() == QUEUED and memory.take_message() is None

    later = now + 5
    assert memory.redeliver(event, send, later) == "wait"  # the documented 429, within the minute
    left = memory.seconds_left(event, later)
    assert left is not None and 1 <= left <= REDELIVERY_INTERVAL_SECONDS
    assert memory.take_message() is None  # a wait is information, nothing was queued
    assert memory.seconds_left(event, later + 3600) == 0  # may go again now
    assert sent == [event, event]  # each press sent once, nothing retried


def test_any_other_failure_is_handed_back_and_nothing_is_remembered(client: Medblocks) -> None:
    memory = Redeliveries()
    failure = memory.redeliver("evt_unknown", lambda: client.events.redeliver("evt_unknown"), 0)
    assert isinstance(failure, NotFoundError)
    assert memory.seconds_left("evt_unknown", 0) is None and memory.take_message() is None
