"""The run's last step: delete what it made and count, per kind, what it made, what is gone and
what is left behind - truthfully, checked on the target afterwards.

* patients: every id carrying the run prefix (walking the list, so a crashed test's patients
  are found too) plus those recorded; deleting one deletes its connections;
* patient sessions the run opened: there is no delete; they are gone when a later read says
  404 (the sandbox deletes them with their patient), else left behind;
* webhook endpoints the run created, and their events (deleted with the endpoint's history;
  checked by a 404 on the events list);
* webhook events the run caused on endpoints it does not own (another endpoint for `*`): the
  API cannot delete them, so they are counted as left behind and named by endpoint.

Only run-prefixed ids and ids the run itself received are touched, so a shared sandbox
workspace keeps everyone else's data; and only they are reported: what the server held before
(a mock's canned `user_42`) is neither counted nor named.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from contract_tests.run import RunState

MAX_PAGES = 100
WORKERS = 4  # deletions in flight at once (the pacer keeps them within the target's rate)
KINDS = ("patients", "patient sessions", "webhook endpoints", "webhook events")


def _path(collection: str, identifier: str) -> str:
    return f"/{collection}/{quote(identifier, safe='')}"


def _pages(
    client: httpx.Client, state: RunState, path: str, what: str, *, gone_ok: bool = False
) -> Iterator[dict]:
    """Every item of a list (bounded); a refused page is a clean-up problem (a 404 is not
    when `gone_ok`: the list's owner was already deleted)."""
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        params: dict[str, str | int] = {"limit": 100}
        if cursor:
            params["starting_after"] = cursor
        response = client.get(path, params=params)
        if response.status_code == 404 and gone_ok:
            return
        if response.status_code != 200:
            state.cleanup_problems.append(
                f"listing {what} answered HTTP {response.status_code} "
                f"(request id {response.headers.get('x-request-id')})"
            )
            return
        page = response.json()
        yield from page["data"]
        cursor = page.get("next_cursor")
        if not page.get("has_more") or not cursor:
            return


def run_patients(client: httpx.Client, state: RunState) -> set[str]:
    """Prefixed patient ids present on the target (walking the list), plus those recorded."""
    found = set(state.created_patients)  # prefixed only (`RunState.created_patient`)
    listed = _pages(client, state, "/patients", "patients (only recorded ids deleted)")
    return found | {str(p["id"]) for p in listed if str(p.get("id", "")).startswith(state.prefix)}


def caused_by_run(event: dict[str, Any], state: RunState) -> bool:
    """An event about a run patient or a run session (its `data.object`)."""
    obj = (event.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        return False
    return str(obj.get("patient_id") or "").startswith(state.prefix) or any(
        obj.get(key) in state.created_sessions for key in ("id", "patient_session_id")
    )


class Tally:
    def __init__(self, state: RunState) -> None:
        self.state = state
        self.counts = {kind: [0, 0, 0] for kind in KINDS}  # made, deleted, left behind

    def made(self, kind: str, n: int = 1) -> None:
        self.counts[kind][0] += n

    def deleted(self, kind: str, n: int = 1) -> None:
        self.counts[kind][1] += n

    def left(self, kind: str, problem: str, n: int = 1) -> None:
        self.counts[kind][2] += n
        self.state.cleanup_problems.append(problem)


def _delete(client: httpx.Client, path: str) -> tuple[bool, str]:
    """(gone, why not): 200, or 404 because a test already deleted it."""
    try:
        response = client.delete(path)
    except httpx.HTTPError as exc:
        return False, type(exc).__name__
    if response.status_code in (200, 404):
        return True, ""
    return False, f"HTTP {response.status_code} (request id {response.headers.get('x-request-id')})"


@dataclass
class Cleared:
    """One run endpoint after its deletion."""

    events: int  # its events about the run
    why: str  # why it is not gone ("" when it is)
    history_gone: bool = False  # its events list answers 404


def _clear_endpoint(client: httpx.Client, state: RunState, endpoint: str) -> Cleared:
    history = _path("webhooks", endpoint) + "/events"
    # Its events about the run's patients and sessions (an endpoint for `*` also hears the
    # rest of the organisation, and a mock answers canned ones: not the run's).
    pages = _pages(client, state, history, history, gone_ok=True)
    events = sum(caused_by_run(event, state) for event in pages)
    gone, why = _delete(client, _path("webhooks", endpoint))
    if not gone:
        return Cleared(events, why)
    return Cleared(events, "", client.get(history).status_code == 404)


def clean_up(client: httpx.Client, state: RunState) -> None:
    """Delete what the run made, independent requests in a bounded pool; count it all."""
    tally = Tally(state)
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="clean-up") as pool:
        endpoints = sorted(state.created_webhooks)
        cleared = pool.map(lambda e: _clear_endpoint(client, state, e), endpoints)
        for endpoint, done in zip(endpoints, cleared, strict=True):
            tally.made("webhook endpoints")
            tally.made("webhook events", done.events)
            if done.why:
                tally.left("webhook endpoints", f"webhook endpoint {endpoint!r}: {done.why}")
                tally.left("webhook events", f"{done.events} events of {endpoint!r}", done.events)
                continue
            tally.deleted("webhook endpoints")
            if done.history_gone:
                tally.deleted("webhook events", done.events)
            elif done.events:
                tally.left(
                    "webhook events",
                    f"{done.events} events of deleted endpoint {endpoint!r}",
                    done.events,
                )
        patients = sorted(run_patients(client, state))
        deleted = pool.map(lambda p: _delete(client, _path("patients", p)), patients)
        for patient, (gone, why) in zip(patients, deleted, strict=True):
            tally.made("patients")
            if gone:
                tally.deleted("patients")
            else:
                tally.left("patients", f"patient {patient!r}: {why}")
        sessions = sorted(state.created_sessions)
        read = pool.map(lambda s: client.get(_path("patient-sessions", s)).status_code, sessions)
        for session, status in zip(sessions, read, strict=True):
            tally.made("patient sessions")
            if status == 404:
                tally.deleted("patient sessions")
            else:
                tally.left(
                    "patient sessions", f"patient session {session!r} still reads HTTP {status}"
                )
    for endpoint in _pages(client, state, "/webhooks", "webhook endpoints"):
        if endpoint["id"] in state.created_webhooks:
            continue
        path = _path("webhooks", str(endpoint["id"])) + "/events"
        caused = sum(caused_by_run(e, state) for e in _pages(client, state, path, path))
        if caused:
            tally.made("webhook events", caused)
            tally.left(
                "webhook events",
                f"{caused} webhook events on endpoint {endpoint['id']!r}, which the run does not "
                "own (the API cannot delete events)",
                caused,
            )
    state.cleanup_counts = tally.counts
    state.cleaned = sum(counts[1] for counts in tally.counts.values())


def left_behind(state: RunState) -> int:
    return sum(counts[2] for counts in state.cleanup_counts.values())
