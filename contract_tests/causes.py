"""Root causes: what explains many results of a run at once, named before the failure list
(terminal, Markdown, JUnit, the dashboard), each with how many checks it failed or kept from
running.

* faults switched on at the target (a sandbox's `/_sandbox/faults` control says which);
* the target's rate limit (429 answers with `Retry-After`);
* no `X-Request-Id` on any answer (or on some: which operations);
* every key accepted (a made-up key reads the patient list);
* nothing created can be read back: the server keeps no state (a mock of the document);
* the spec document not served at `/openapi/medblocks.json`.

`probe` asks the target the two questions no check asks directly (a made-up key; create a
run patient and read it back) at the start of the run; `root_causes` reads the run's state.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from contract_tests.run import Failure, RunState
from contract_tests.target import ContractTarget

MADE_UP_KEY = "mb_sk_sbx_" + "0" * 32
# Checks whose whole point is reading back what the run made.
READ_BACK_CHECKS = {"use_after_free", "ensure_resource_availability"}
READ_BACK_TESTS = ("contract_tests/test_prose.py", "contract_tests/test_behaviour.py")
STATELESS_TESTS = (*READ_BACK_TESTS, "contract_tests/test_stateful.py")
INJECTED_STATUSES = {429, 500, 502}


def probe(target: ContractTarget, state: RunState) -> None:
    """Record in `state.facts` whether any key is accepted and whether a created patient can
    be read back (the patient is the run's, prefixed, and removed by the clean-up)."""
    try:
        with target.client(authenticated=False) as anonymous:
            answer = anonymous.get(
                "/patients",
                params={"limit": 1},
                headers={"Authorization": f"Bearer {MADE_UP_KEY}"},
            )
        state.facts["any_key_accepted"] = answer.status_code == 200
        patient_id = state.patient_id("probe-state", unique=True)
        with target.client() as api:
            created = api.post("/patients", json={"patient_id": patient_id})
            if created.status_code != 200:
                return
            state.created_patient(patient_id)
            read = api.get(f"/patients/{quote(patient_id, safe='')}")
    except httpx.HTTPError:
        return
    body = _json(read)
    kept = read.status_code == 200 and isinstance(body, dict) and body.get("id") == patient_id
    state.facts["stateless"] = not kept
    state.facts["stateless_evidence"] = (
        f"POST /patients {patient_id!r} answered 200, then GET /patients/{{id}} answered "
        f"HTTP {read.status_code}" + ("" if read.status_code != 200 else f" with id {_id(body)!r}")
    )


def root_causes(state: RunState, outcomes: list[Any]) -> list[dict[str, Any]]:
    """Each cause: `cause` (in words) and `checks` (how many failed or did not run for it)."""
    failures = state.failures
    failed_tests = [o.nodeid for o in outcomes if o.outcome in ("failed", "error")]
    causes: list[dict[str, Any]] = []
    if state.faults:
        on = ", ".join(f"{name} {value}" for name, value in sorted(state.faults.items()))
        hit = sum(f.status in INJECTED_STATUSES or _throttled(f) for f in failures)
        causes.append(
            _cause(f"faults are on at the target ({on}; its /_sandbox/faults control)", hit)
        )
    if state.throttled:
        hit = sum(_throttled(f) for f in failures)
        causes.append(
            _cause(
                f"the target's rate limit refused {state.throttled} requests (429); the run "
                f"waited {state.waited:.0f} s in all to stay within it",
                hit,
            )
        )
    missing = sum(state.without_request_id.values())
    if missing:
        where = (
            f"on any answer ({missing} answers)"
            if missing >= state.answers
            else f"on {missing} of {state.answers} answers "
            f"({', '.join(sorted(state.without_request_id))})"
        )
        causes.append(
            _cause(
                f"no X-Request-Id {where}: failed its own check once; the other checks ran",
                1,
            )
        )
    if state.facts.get("any_key_accepted"):
        hit = sum(
            f.check == "ignored_auth"
            or (f.check.startswith("documented_error") and "401" in f.message)
            for f in failures
        )
        causes.append(_cause("every key is accepted (a made-up key read the patient list)", hit))
    if state.facts.get("stateless"):
        tests = {t for t in failed_tests if t.startswith(STATELESS_TESTS)}
        tests |= {str(f.test) for f in failures if f.check in READ_BACK_CHECKS}
        causes.append(
            _cause(
                "nothing created can be read back: the server keeps no state "
                f"({state.facts.get('stateless_evidence')})",
                len(tests),
            )
        )
    drift = state.drift
    if drift is not None and drift.headline == "unknown":
        causes.append(_cause(f"the spec document is not served: {drift.error}", 1))
    if state.not_run:
        causes.append(
            _cause(
                f"the time budget ({state.budget_seconds:.0f} s) ran out: "
                f"{len(state.not_run)} checks did not run",
                len(state.not_run),
            )
        )
    return causes


def _throttled(failure: Failure) -> bool:
    """A check failed on a 429: its own answer, or one of the extra requests a check sends
    (schemathesis names the status in its message)."""
    return failure.status == 429 or "429 Too Many Requests" in failure.message


def _cause(text: str, checks: int) -> dict[str, Any]:
    return {"cause": text, "checks": checks}


def cause_text(cause: dict[str, Any]) -> str:
    """One line: the cause and its count."""
    n = cause["checks"]
    return f"{cause['cause']} [{n} check{'' if n == 1 else 's'}]"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _id(body: Any) -> Any:
    return body.get("id") if isinstance(body, dict) else None
