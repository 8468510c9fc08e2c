"""One table of failure-code wording (`medblocks.spec.failure_codes`), used identically by
the hosted page, the dashboard's Return page and Connection health's guidance.

Each code the sandbox produces is driven through a real session: the attempt is recorded by
the same code the hosted page's consent step runs, the hosted result page is read over
loopback, Done is clicked (a form POST), and the Return page's logic re-reads the session with
the real client. Both must show the table's words, character for character.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from itertools import islice
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from medblocks.client import Medblocks
from medblocks.client.models import FhirSource
from medblocks.dashboard.connection_guidance import failure_in_words, guidance_for
from medblocks.dashboard.return_page import verify_return
from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread
from medblocks.sandbox.hosted import outcomes
from medblocks.sandbox.runtime import SandboxRuntime
from medblocks.spec import OVERLAY_PATH
from medblocks.spec.failure_codes import FAILURE_WORDING, failure_wording, unknown_failure

RETURN_URL = "https://app.example.test/connected"


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(seed_demo=False)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(running: RunningSandbox) -> Iterator[Medblocks]:
    with Medblocks(running.api_key, base_url=running.base_url) as medblocks:
        yield medblocks


def _source(client: Medblocks, index: int) -> FhirSource:
    return list(islice(client.sources.list(), index + 1))[index]


def _text(page: str, element_id: str) -> str:
    found = re.search(rf'<p id="{element_id}">(.*?)</p>', page, re.S)
    assert found, element_id
    return unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def test_every_code_has_patient_wording_and_a_next_step():
    overlay = json.loads(OVERLAY_PATH.read_text())
    controls = overlay["paths"]["/_sandbox/patient-sessions/{id}/complete"]["post"]
    schema = controls["requestBody"]["content"]["application/json"]["schema"]
    # The codes the controls accept are the sandbox's codes, and each one is in the table.
    assert tuple(schema["properties"]["failure_code"]["enum"]) == outcomes.FAILURE_CODES
    assert set(outcomes.FAILURE_CODES) <= set(FAILURE_WORDING)
    for code, wording in FAILURE_WORDING.items():
        assert wording.code == code
        for sentence in (wording.what_happened, wording.next_step):
            # Patient words: whole sentences, no code or other underscore jargon.
            assert sentence[0].isupper() and sentence.endswith("."), sentence
            assert "_" not in sentence and "oauth" not in sentence.lower(), sentence
        assert wording.who_acts


def test_user_denied_says_the_patient_declined():
    wording = failure_wording("user_denied")
    assert "declined" in wording.what_happened
    assert "did not finish" not in wording.what_happened
    assert "declined" in guidance_for("failed", "user_denied").tell_patient


def test_an_unknown_code_is_named_rather_than_guessed():
    wording = failure_wording("quantum_flux")
    assert wording == unknown_failure("quantum_flux")
    assert "quantum_flux" in wording.what_happened and wording.next_step
    assert (
        failure_in_words(None) == "" and failure_in_words("quantum_flux") == wording.what_happened
    )


@pytest.mark.parametrize("code", outcomes.FAILURE_CODES)
def test_hosted_page_and_return_page_word_a_code_identically(
    running: RunningSandbox, client: Medblocks, code: str
):
    runtime: SandboxRuntime = running.app.state.sandbox
    source = _source(client, 2)
    session = client.patient_sessions.create(patient_id=f"wording_{code}", return_url=RETURN_URL)
    token = urlsplit(session.url).path.rsplit("/", 1)[1]
    row = runtime.store.get_session_by_token(token)
    assert row is not None
    outcomes.record_attempt(
        runtime, row, source.id, outcomes.Outcome.failed(code), running.base_url
    )
    wording = failure_wording(code)

    with httpx.Client(timeout=10) as browser:
        result = browser.get(f"{session.url}/sources/{source.id}/result")
        assert result.status_code == 200
        assert _text(result.text, "what-happened") == wording.what_happened
        assert _text(result.text, "next-step") == f"What to do next: {wording.next_step}"
        done = browser.post(f"{session.url}/done", follow_redirects=False)
    assert done.status_code == 303

    outcome = verify_return(client, dict(parse_qsl(urlsplit(done.headers["location"]).query)))
    assert outcome.state == "failed"
    [attempt] = outcome.attempts
    assert (attempt.failure_code, attempt.failure_words) == (code, wording.what_happened)
    assert attempt.next_step == outcome.next_step == wording.next_step
    # Connection health tells the patient the same two sentences.
    guidance = guidance_for("failed", code)
    assert guidance.tell_patient == f"{wording.what_happened} {wording.next_step}"
    assert guidance.who_acts == wording.who_acts


def test_direct_mode_error_description_is_the_tables_words(
    running: RunningSandbox, client: Medblocks
):
    source = _source(client, 0)
    session = client.patient_sessions.create(
        patient_id="wording_direct", return_url=RETURN_URL, connection_id=source.id
    )
    with httpx.Client(timeout=10) as browser:
        decided = browser.post(
            f"{session.url}/sources/{source.id}/consent",
            data={"persona": "user_good", "decision": "deny"},
            follow_redirects=False,
        )
    query = dict(parse_qsl(urlsplit(decided.headers["location"]).query))
    assert query["error_description"] == failure_wording("user_denied").what_happened
    outcome = verify_return(client, query)
    assert outcome.next_step == failure_wording("user_denied").next_step


def test_every_return_page_outcome_has_a_next_step(running: RunningSandbox, client: Medblocks):
    source = _source(client, 0)
    connected = client.patient_sessions.create(patient_id="wording_ok", return_url=RETURN_URL)
    abandoned = client.patient_sessions.create(patient_id="wording_none", return_url=RETURN_URL)
    with httpx.Client(timeout=10) as browser:
        browser.post(
            f"{connected.url}/sources/{source.id}/consent",
            data={"persona": "user_good", "decision": "approve"},
        )
        browser.post(f"{connected.url}/done")
        browser.post(f"{abandoned.url}/done")
    steps = {}
    for session in (connected, abandoned):
        params = {"patient_id": session.patient_id, "patient_session_id": session.id}
        outcome = verify_return(client, params)
        steps[outcome.state] = outcome.next_step
    steps["invalid"] = verify_return(client, {"patient_session_id": "nope"}).next_step
    assert set(steps) == {"connected", "abandoned", "invalid"}
    assert all(step.endswith(".") and len(step) > 30 for step in steps.values()), steps
