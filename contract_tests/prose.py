"""Promises the API reference makes only in words (medblocks-api.md §2-§10), each a named rule
with a check a client can run from outside: against the in-process sandbox, a local sandbox or a
Medblocks sandbox workspace. Every check makes its own run-prefixed data (removed by the run's
clean-up) and reads only what it made, so it is safe on a shared workspace.

A failed rule raises an AssertionError that starts with the operation and `rule:<id>`; the
report shows every rule with its result (`contract_tests.reports`). Checks that need a
connected EHR use the sandbox controls (`/_sandbox/`) and skip, saying why, where there are
none. `NOT_CHECKABLE` lists the prose rules no client can observe, with the reason.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from contract_tests.calls import (
    SANDBOX_CONTROLS,
    Expectation,
    behaviour,
    expect_ok,
    path_id,
)
from contract_tests.run import RunState
from contract_tests.target import ContractTarget
from medblocks.spec import pinned_version

# A return URL with a path, a query and an escape: it must come back byte for byte.
ODD_RETURN_URL = "https://example.test/Back/?from=contract&x=%C3%A9"
DEFAULT_EXPIRES_IN = 1800
FAR_FUTURE = "2999-01-01T00:00:00Z"
RULE_WORKERS = 4  # rules in flight at once (the pacer keeps them within the target's rate)


@dataclass(frozen=True)
class ProseRule:
    id: str
    section: str  # where the reference states it
    operation: str  # the operationId whose answer the rule is about
    text: str  # the rule, in our words
    check: Callable[[RuleContext], None]


RULES: dict[str, ProseRule] = {}


def rule(id: str, section: str, operation: str, text: str) -> Callable[..., Any]:
    def register(check: Callable[[RuleContext], None]) -> Callable[[RuleContext], None]:
        RULES[id] = ProseRule(id, section, operation, text, check)
        return check

    return register


# Prose rules no client can check from outside, and why (shown in every report).
NOT_CHECKABLE: list[tuple[str, str]] = [
    (
        "§2 no idempotency key: retrying a create can create twice",
        "a warning to clients, not a server behaviour to observe",
    ),
    (
        "§2/§10 list cursors stay valid 7 days (records)",
        "takes 7 days of wall-clock time on a real target",
    ),
    (
        "§5 at expires_at the session's hosted url stops working",
        "the shortest expiry is 60 s of wall-clock time, beyond the suite's budget per rule",
    ),
    (
        "§5 records are pulled in the background after a connection becomes active",
        "timing on the server's side; no promise of when, so nothing to assert",
    ),
    (
        "§5 failure_code values are stable once published",
        "a promise over time and versions, not one run",
    ),
    (
        "§8 webhook delivery: signature, 5 s timeout, retry schedule, disabling after 9 attempts",
        "needs a receiver the target can reach (a public HTTPS URL for a Medblocks workspace) "
        "and hours of retry schedule",
    ),
    (
        "§10 disconnect affects the caller's organisation only; tokens are revoked when no other "
        "workspace uses them",
        "needs a second organisation and the EHR's token store",
    ),
    (
        "§10 records keep only the latest version of each resource; resource.id is the EHR's "
        "own id",
        "needs control of the EHR's data to change a resource between two syncs",
    ),
    (
        "§10 launch contexts (mb_launch id, pending then ready, relative FHIR references)",
        "a launch context is made by an EHR launching the app; the API cannot start one",
    ),
    (
        "§10 deliveries to a disabled endpoint are skipped; status active re-enables it",
        "an endpoint is disabled only after 9 failed deliveries (hours of retry schedule)",
    ),
    (
        "§3 a secret rotation invalidates the old secret",
        "only visible in the signatures of deliveries to a receiver the target can reach",
    ),
    (
        "§6 the return URL's query (picker and direct mode, success flag, error codes)",
        "the hosted browser flow makes the redirect; the API has no part in it",
    ),
    (
        "§10 one session may connect several EHRs",
        "connecting happens in the hosted browser flow (the sandbox controls make one attempt "
        "per session)",
    ),
    (
        "§10 a cleared name displays as the patient_id",
        "a rule for screens that show patients, not an API behaviour",
    ),
    (
        "§10 attempts, next_attempt_at and delivered_at after a delivery finishes",
        "needs a receiver the target can reach; the run's endpoints point at a closed port",
    ),
    (
        "§10 the events list holds recent delivery records only",
        "the retention is not stated, so there is nothing to compare with",
    ),
    (
        "§10 the hosted picker lists recommended sources first; the Done button reads "
        "'Done — return to {label}'",
        "the hosted page is a browser flow, not the API (the sandbox's own tests cover it)",
    ),
]


class RuleContext:
    """What the checks share in one run: the client, the target, the run state and the data a
    few checks need (made once, on first use)."""

    def __init__(self, api: httpx.Client, target: ContractTarget, state: RunState) -> None:
        self.api = api
        self.target = target
        self.state = state
        self.rule: ProseRule | None = None
        self._made: dict[str, Any] = {}
        self._making: dict[str, threading.Lock] = {}

    def for_rule(self, rule_: ProseRule) -> RuleContext:
        """A context for one rule in a pool: its own `rule`, the shared data and client."""
        ctx = copy.copy(self)
        ctx.rule = rule_
        return ctx

    @property
    def check(self) -> str:
        assert self.rule is not None
        return f"rule:{self.rule.id}"

    def expect(self, operation: str, response: httpx.Response | None = None) -> Expectation:
        return behaviour(self.state, operation, self.check, response)

    def ok(self, operation: str, response: httpx.Response) -> Any:
        return expect_ok(self.state, operation, self.check, response)

    def once(self, name: str, make: Callable[[], Any]) -> Any:
        """Made by the first rule that needs it (the others wait for it); a make that fails
        or skips is tried again by the next rule, as in a run one rule at a time."""
        with self._making.setdefault(name, threading.Lock()):
            if name not in self._made:
                self._made[name] = make()
        return self._made[name]

    # -- data the checks make ----------------------------------------------------------------
    def new_patient(self, name: str, **fields: Any) -> httpx.Response:
        """A run-prefixed patient (recorded for clean-up); the creation's response."""
        patient_id = self.state.patient_id(name, unique=True)
        response = self.api.post("/patients", json={"patient_id": patient_id, **fields})
        expect_ok(self.state, "api.createPatient", "rule_setup", response)
        self.state.created_patient(patient_id)
        return response

    def new_webhook(self, url: str, **fields: Any) -> httpx.Response:
        """A run endpoint (recorded for clean-up), for every event unless `events` is given."""
        response = self.api.post("/webhooks", json={"url": url, "events": ["*"], **fields})
        expect_ok(self.state, "api.createWebhook", "rule_setup", response)
        self.state.created_webhook(response.json()["id"])
        return response

    def catalog(self) -> list[dict[str, Any]]:
        def make() -> list[dict[str, Any]]:
            response = self.api.get("/connections", params={"limit": 100})
            sources = expect_ok(self.state, "api.listFhirSources", "rule_setup", response)["data"]
            if len(sources) < 3:
                pytest.skip("the target's catalog has fewer than 3 sources")
            return list(sources)

        return list(self.once("catalog", make))

    def direct_session(self) -> httpx.Response:
        """A direct-mode session for a new run patient, with no label and no expires_in."""

        def make() -> httpx.Response:
            patient_id = self.state.patient_id("prose-session", unique=True)
            body = {
                "patient_id": patient_id,
                "return_url": ODD_RETURN_URL,
                "connection_id": self.catalog()[0]["id"],
            }
            response = self.api.post("/patient-sessions", json=body)
            session = expect_ok(self.state, "api.initPatientSession", "rule_setup", response)
            self.state.created_patient(patient_id)
            self.state.created_session(session)
            return response

        response: httpx.Response = self.once("direct_session", make)
        return response

    def complete(self, source_id: str, outcome: str, patient_id: str) -> dict[str, Any]:
        """A direct session for `patient_id`, completed through the sandbox controls."""
        body = {"patient_id": patient_id, "return_url": ODD_RETURN_URL, "connection_id": source_id}
        response = self.api.post("/patient-sessions", json=body)
        session = expect_ok(self.state, "api.initPatientSession", "rule_setup", response)
        self.state.created_patient(patient_id)
        self.state.created_session(session)
        result = {"outcome": outcome}
        if outcome == "failed":
            result["failure_code"] = "user_denied"
        done = self.api.post(
            f"{SANDBOX_CONTROLS}/patient-sessions/{path_id(session['id'])}/complete", json=result
        )
        if done.status_code == 404:
            pytest.skip("this target has no sandbox controls to connect an EHR without a browser")
        assert done.status_code == 200, f"sandbox control: {done.text[:300]}"
        return dict(session)

    def connected_patient(self) -> dict[str, Any]:
        """One patient, three sessions: source A active, then source B active, then source C
        failed. Returns the patient id and the three session ids."""

        def make() -> dict[str, Any]:
            a, b, c = (s["id"] for s in self.catalog()[:3])
            patient_id = self.state.patient_id("prose-connected", unique=True)
            sessions = [
                self.complete(a, "active", patient_id)["id"],
                self.complete(b, "active", patient_id)["id"],
                self.complete(c, "failed", patient_id)["id"],
            ]
            return {"patient_id": patient_id, "sources": [a, b, c], "sessions": sessions}

        return dict(self.once("connected_patient", make))

    def detail(self) -> httpx.Response:
        patient_id = self.connected_patient()["patient_id"]
        response = self.api.get(f"/patients/{path_id(patient_id)}")
        self.ok("api.getPatient", response)
        return response

    def records(self, **params: Any) -> httpx.Response:
        patient_id = self.connected_patient()["patient_id"]
        return self.api.get(f"/patients/{path_id(patient_id)}/records", params=params)

    def event_endpoint(self) -> dict[str, Any]:
        """A run endpoint for every event, and the events one connected session made for it."""

        def make() -> dict[str, Any]:
            endpoint = self.new_webhook("http://localhost:9/prose-events").json()
            patient_id = self.state.patient_id("prose-events", unique=True)
            self.complete(self.catalog()[0]["id"], "active", patient_id)
            return endpoint

        return dict(self.once("event_endpoint", make))

    def events(self, **params: Any) -> tuple[httpx.Response, list[dict[str, Any]]]:
        endpoint = self.event_endpoint()
        response = self.api.get(f"/webhooks/{path_id(endpoint['id'])}/events", params=params)
        return response, list(self.ok("api.listWebhookEvents", response)["data"])


class NotRunForTime(Exception):
    """The budget was spent before this rule's turn in the pool came."""


def run_rules(
    rules: list[ProseRule], ctx: RuleContext, test_name: str
) -> dict[str, BaseException | None]:
    """Run `rules` at once in a bounded pool (their requests are independent: each makes its
    own data; shared data is made once, see `RuleContext.once`). Returns rule id -> what it
    raised (None: passed); the test of each rule re-raises it."""

    def one(rule_: ProseRule) -> BaseException | None:
        ctx.state.in_thread_for(test_name.format(rule_.id))
        if ctx.state.remaining() <= 0:
            return NotRunForTime(f"time budget of {ctx.state.budget_seconds:.0f}s exhausted")
        try:
            run_rule(rule_, ctx.for_rule(rule_))
        except BaseException as exc:  # a failure, a skip, an error: the rule's test raises it
            return exc
        return None

    with ThreadPoolExecutor(max_workers=RULE_WORKERS, thread_name_prefix="rule") as pool:
        return dict(zip([r.id for r in rules], pool.map(one, rules), strict=True))


def run_rule(rule_: ProseRule, ctx: RuleContext) -> None:
    """Run one rule's check; a failure names the rule and says it in words."""
    ctx.rule = rule_
    try:
        rule_.check(ctx)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n  rule {rule_.id} ({rule_.section}): {rule_.text}") from None


def is_iso8601(value: Any) -> bool:
    """An ISO 8601 date-time with a time zone (`Z` or an offset)."""
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _seconds_between(start: str, end: str) -> float:
    first = datetime.fromisoformat(start.replace("Z", "+00:00"))
    return (datetime.fromisoformat(end.replace("Z", "+00:00")) - first).total_seconds()


# -- §2-§3 conventions and operations ---------------------------------------------------------


@rule(
    "health-needs-no-key",
    "§3",
    "api.health",
    "GET /health answers 200 with ok: true to a request without an API key",
)
def _health_needs_no_key(ctx: RuleContext) -> None:
    with ctx.target.client(authenticated=False) as anonymous:
        response = anonymous.get("/health")
    check = ctx.expect("api.health", response)
    check.require(response.status_code == 200, f"HTTP {response.status_code} without a key")
    check.verify()


@rule(
    "version-header-optional",
    "§2",
    "api.listPatients",
    "the Version header may be left out: the version pinned on the key applies (200)",
)
def _version_header_optional(ctx: RuleContext) -> None:
    with ctx.target.client(version=False) as unversioned:
        response = unversioned.get("/patients", params={"limit": 1})
    check = ctx.expect("api.listPatients", response)
    check.require(response.status_code == 200, f"HTTP {response.status_code} without Version")
    check.verify()


@rule(
    "errors-always-enveloped",
    "§10",
    "api.listPatients",
    "every non-2xx answer is the error envelope with the request id, also for statuses no "
    "operation declares (an unsupported method)",
)
def _errors_always_enveloped(ctx: RuleContext) -> None:
    response = ctx.api.delete("/patients")
    check = ctx.expect("api.listPatients", response)
    check.require(response.status_code >= 400, f"DELETE /patients answered {response.status_code}")
    body = check.body()
    error = body.get("error") if isinstance(body, dict) else None
    check.require(isinstance(error, dict), f"HTTP {response.status_code} is not the envelope")
    if isinstance(error, dict):
        check.require(
            error.get("request_id") == check.request_id, "error.request_id != X-Request-Id"
        )
    check.verify()


@rule(
    "patients-filter-exact",
    "§3",
    "api.listPatients",
    "the patient_id and email filters of GET /patients match exactly: that patient only, not "
    "values that merely contain the one asked for",
)
def _patients_filter_exact(ctx: RuleContext) -> None:
    email = f"{ctx.state.prefix.lower()}exact@example.test"
    mine = ctx.new_patient("prose-exact", email=email).json()["id"]
    longer = mine + "0"
    created = ctx.api.post("/patients", json={"patient_id": longer, "email": "a" + email})
    expect_ok(ctx.state, "api.createPatient", "rule_setup", created)
    ctx.state.created_patient(longer)
    for name, value in (("patient_id", mine), ("email", email)):
        response = ctx.api.get("/patients", params={name: value, "limit": 100})
        ids = [p["id"] for p in ctx.ok("api.listPatients", response)["data"]]
        check = ctx.expect("api.listPatients", response)
        check.require(ids == [mine], f"the {name} filter listed {len(ids)} patients: {ids[:3]}")
        check.verify()


@rule(
    "catalog-search-case-insensitive",
    "§3",
    "api.listFhirSources",
    "q matches a case-insensitive substring of the source's name",
)
def _catalog_search(ctx: RuleContext) -> None:
    source = next((s for s in ctx.catalog() if len(s["name"]) >= 5), ctx.catalog()[0])
    q = source["name"][1:4].swapcase()
    response = ctx.api.get("/connections", params={"q": q, "limit": 100})
    found = ctx.ok("api.listFhirSources", response)["data"]
    check = ctx.expect("api.listFhirSources", response)
    check.require(
        source["id"] in {s["id"] for s in found}, f"q={q!r} misses {source['id']} ({q!r})"
    )
    strays = [s["id"] for s in found if q.lower() not in s["name"].lower()]
    check.require(not strays, f"q={q!r} lists sources whose name lacks it: {strays[:3]}")
    check.verify()


@rule(
    "catalog-type-filter",
    "§3",
    "api.listFhirSources",
    "type narrows the catalog to sources of that vendor",
)
def _catalog_type(ctx: RuleContext) -> None:
    vendor = next((s["type"] for s in ctx.catalog() if s["type"]), None)
    if vendor is None:
        pytest.skip("no source of the catalog names its vendor")
    response = ctx.api.get("/connections", params={"type": vendor, "limit": 100})
    found = ctx.ok("api.listFhirSources", response)["data"]
    check = ctx.expect("api.listFhirSources", response)
    check.require(bool(found), f"type={vendor!r} lists nothing")
    others = sorted({str(s["type"]) for s in found if s["type"] != vendor})
    check.require(not others, f"type={vendor!r} also lists vendors {others}")
    check.verify()


@rule(
    "source-by-fhir-base-url",
    "§3, §10",
    "api.getFhirSource",
    "GET /connections/{id} also takes the source's fhir_base_url in place of its fhirsrc_ id",
)
def _source_by_base_url(ctx: RuleContext) -> None:
    source = ctx.catalog()[0]
    response = ctx.api.get(f"/connections/{quote(source['fhir_base_url'], safe='')}")
    check = ctx.expect("api.getFhirSource", response)
    check.require(response.status_code == 200, f"HTTP {response.status_code} by fhir_base_url")
    body = check.body()
    found = body.get("id") if isinstance(body, dict) else None
    check.require(response.status_code != 200 or found == source["id"], f"found {found!r}")
    check.verify()


@rule(
    "sessions-status-filter",
    "§3",
    "api.listPatientSessionsForPatient",
    "status narrows a patient's sessions to that status",
)
def _sessions_status_filter(ctx: RuleContext) -> None:
    session = ctx.direct_session().json()
    path = f"/patients/{path_id(session['patient_id'])}/patient-sessions"
    op = "api.listPatientSessionsForPatient"
    for status in ("complete", "open"):
        response = ctx.api.get(path, params={"status": status})
        listed = ctx.ok(op, response)["data"]
        check = ctx.expect(op, response)
        wrong = [s["status"] for s in listed if s["status"] != status]
        check.require(not wrong, f"status={status} listed sessions that are {wrong}")
        if status == "open":
            ids = [s["id"] for s in listed]
            check.require(session["id"] in ids, "status=open misses the open session")
        check.verify()


# -- §4, §10 timestamps ----------------------------------------------------------------------


@rule(
    "health-server-time-iso8601",
    "§10",
    "api.health",
    "/health's server_time is the server clock as an ISO 8601 date-time with its zone",
)
def _health_server_time(ctx: RuleContext) -> None:
    response = ctx.api.get("/health")
    body = ctx.ok("api.health", response)
    check = ctx.expect("api.health", response)
    check.require(is_iso8601(body.get("server_time")), f"server_time {body.get('server_time')!r}")
    check.verify()


@rule(
    "timestamps-iso8601",
    "§10",
    "api.createPatient",
    "every timestamp (created_at, updated_at, expires_at, ...) is an ISO 8601 date-time, though "
    "the schema says only 'string'",
)
def _timestamps_iso8601(ctx: RuleContext) -> None:
    for op, response, fields in (
        ("api.createPatient", ctx.new_patient("prose-time"), ("created_at",)),
        ("api.initPatientSession", ctx.direct_session(), ("created_at", "expires_at")),
        (
            "api.createWebhook",
            ctx.new_webhook("http://localhost:9/prose-time"),
            ("created_at", "updated_at"),
        ),
    ):
        check = ctx.expect(op, response)
        obj = response.json()
        bad = {f: obj.get(f) for f in fields if not is_iso8601(obj.get(f))}
        check.require(not bad, f"not ISO 8601: {bad}")
        check.verify()


# -- §10 patients ------------------------------------------------------------------------------


@rule(
    "put-full-replace",
    "§3, §10",
    "api.updatePatient",
    "PUT replaces the whole patient: email and name left out or sent as null are cleared, and "
    "metadata left out becomes {} (never null)",
)
def _put_full_replace(ctx: RuleContext) -> None:
    patient_id = ctx.state.patient_id("prose-put", unique=True)
    full = {"name": "Prose Replace", "email": "replace@example.test", "metadata": {"kept": "no"}}
    created = ctx.api.post("/patients", json={"patient_id": patient_id, **full})
    patient = expect_ok(ctx.state, "api.createPatient", "rule_setup", created)
    ctx.state.created_patient(patient_id)
    path = f"/patients/{path_id(patient['id'])}"
    put = ctx.api.put(path, json={"patient_id": patient["id"], "name": None})
    answered = ctx.ok("api.updatePatient", put)
    stored = ctx.ok("api.getPatient", ctx.api.get(path))
    check = ctx.expect("api.updatePatient", put)
    for where, body in (("PUT answer", answered), ("GET after PUT", stored)):
        check.require(body.get("name") is None, f"{where}: name sent as null was kept")
        check.require(body.get("email") is None, f"{where}: email left out was kept")
        check.require(body.get("metadata") == {}, f"{where}: metadata left out is not {{}}")
    check.verify()


@rule(
    "patient-detail-on-get-only",
    "§10",
    "api.createPatient",
    "connections[] comes with GET /patients/{id} only: create, replace and list answer the "
    "plain patient",
)
def _detail_on_get_only(ctx: RuleContext) -> None:
    created = ctx.new_patient("prose-detail")
    patient = created.json()
    path = f"/patients/{path_id(patient['id'])}"
    listed = ctx.api.get("/patients", params={"patient_id": patient["id"]})
    replaced = ctx.api.put(path, json={"patient_id": patient["id"]})
    read = ctx.api.get(path)
    check = ctx.expect("api.createPatient", created)
    check.require("connections" not in patient, "the create answer carries connections")
    check.verify()
    for op, response, body in (
        ("api.listPatients", listed, (ctx.ok("api.listPatients", listed)["data"] or [{}])[0]),
        ("api.updatePatient", replaced, ctx.ok("api.updatePatient", replaced)),
    ):
        check = ctx.expect(op, response)
        check.require("connections" not in body, "the answer carries connections")
        check.verify()
    check = ctx.expect("api.getPatient", read)
    check.require(isinstance(ctx.ok("api.getPatient", read).get("connections"), list), "no list")
    check.verify()


@rule(
    "patient-delete-is-final",
    "§10",
    "api.deletePatient",
    "DELETE is a hard delete with no restore: the patient then reads 404, and deleting it "
    "again is 404 too",
)
def _delete_is_final(ctx: RuleContext) -> None:
    patient = ctx.new_patient("prose-delete").json()
    path = f"/patients/{path_id(patient['id'])}"
    ctx.ok("api.deletePatient", ctx.api.delete(path))
    read, again = ctx.api.get(path), ctx.api.delete(path)
    check = ctx.expect("api.getPatient", read)
    check.require(read.status_code == 404, f"GET after DELETE answered {read.status_code}")
    check.verify()
    check = ctx.expect("api.deletePatient", again)
    check.require(again.status_code == 404, f"a second DELETE answered {again.status_code}")
    check.verify()


@rule(
    "detail-connections-most-recent-first",
    "§3",
    "api.getPatient",
    "PatientDetail lists every connection of the patient, in any status, most recent first",
)
def _detail_order(ctx: RuleContext) -> None:
    a, b, _c = ctx.connected_patient()["sources"]
    response = ctx.detail()
    order = [conn["connection_id"] for conn in response.json()["connections"]]
    check = ctx.expect("api.getPatient", response)
    check.require({a, b} <= set(order), f"connections {order} miss an active one")
    if {a, b} <= set(order):
        check.require(order.index(b) < order.index(a), f"older connection first: {order}")
    check.verify()


@rule(
    "failure-fields-only-when-failed",
    "§5",
    "api.getPatient",
    "failure_code and failure_at are set on a failed connection and null on every other",
)
def _failure_fields(ctx: RuleContext) -> None:
    response = ctx.detail()
    check = ctx.expect("api.getPatient", response)
    for conn in response.json()["connections"]:
        failed = conn["status"] == "failed"
        filled = conn["failure_code"] is not None and conn["failure_at"] is not None
        empty = conn["failure_code"] is None and conn["failure_at"] is None
        check.require(filled if failed else empty, f"{conn['status']} connection {conn['id']}")
    check.verify()


# -- §4, §10 sessions --------------------------------------------------------------------------


def _retrieved(ctx: RuleContext, session_id: str) -> httpx.Response:
    response = ctx.api.get(f"/patient-sessions/{path_id(session_id)}")
    ctx.ok("api.retrievePatientSession", response)
    return response


def _session_field_is(field: str, expected: Any) -> Callable[[RuleContext], None]:
    """A check that `field` is `expected` on the created session and on it read back."""

    def check_session(ctx: RuleContext) -> None:
        created = ctx.direct_session()
        for op, response in (
            ("api.initPatientSession", created),
            ("api.retrievePatientSession", _retrieved(ctx, created.json()["id"])),
        ):
            check = ctx.expect(op, response)
            found = response.json().get(field)
            check.require(found == expected, f"{field} {found!r}, expected {expected!r}")
            check.verify()

    return check_session


rule(
    "session-echoes-return-url",
    "§10",
    "api.initPatientSession",
    "return_url is echoed exactly as sent",
)(_session_field_is("return_url", ODD_RETURN_URL))
rule(
    "session-label-null-by-default",
    "§10",
    "api.initPatientSession",
    "return_button_label is null when none was given",
)(_session_field_is("return_button_label", None))
rule(
    "session-direct-mode-no-recommendations",
    "§10",
    "api.initPatientSession",
    "a direct-mode session has recommended_connection_ids null",
)(_session_field_is("recommended_connection_ids", None))
rule(
    "session-connections-empty-at-start",
    "§10",
    "api.initPatientSession",
    "a session's connections are empty until an EHR is connected",
)(_session_field_is("connections", []))


@rule(
    "session-url-is-a-hosted-page",
    "§2, §4",
    "api.initPatientSession",
    "a session's url is its hosted patient page, /c/ followed by 32 hex characters",
)
def _session_url(ctx: RuleContext) -> None:
    response = ctx.direct_session()
    url = str(response.json().get("url"))
    check = ctx.expect("api.initPatientSession", response)
    check.require(re.fullmatch(r"https?://[^/]+/c/[0-9a-f]{32}", url) is not None, f"url {url!r}")
    check.verify()


@rule(
    "session-accepts-fhir-base-url",
    "§10",
    "api.initPatientSession",
    "a source's fhir_base_url may be passed instead of its fhirsrc_ id as connection_id when "
    "creating a session",
)
def _session_by_base_url(ctx: RuleContext) -> None:
    source = ctx.catalog()[0]
    patient_id = ctx.state.patient_id("prose-base-url", unique=True)
    body = {
        "patient_id": patient_id,
        "return_url": ODD_RETURN_URL,
        "connection_id": source["fhir_base_url"],
    }
    response = ctx.api.post("/patient-sessions", json=body)
    if response.status_code == 200:
        ctx.state.created_patient(patient_id)
        ctx.state.created_session(response.json())
    check = ctx.expect("api.initPatientSession", response)
    check.require(response.status_code == 200, f"HTTP {response.status_code}")
    found = check.body().get("connection_id") if response.status_code == 200 else None
    check.require(
        response.status_code != 200 or found in (source["id"], source["fhir_base_url"]),
        f"the session names source {found!r}",
    )
    check.verify()


@rule(
    "session-default-expiry",
    "§4",
    "api.initPatientSession",
    "without expires_in a session expires 1800 s after it was created",
)
def _session_default_expiry(ctx: RuleContext) -> None:
    response = ctx.direct_session()
    session = response.json()
    seconds = _seconds_between(session["created_at"], session["expires_at"])
    check = ctx.expect("api.initPatientSession", response)
    check.require(abs(seconds - DEFAULT_EXPIRES_IN) <= 2, f"expires after {seconds:.0f} s")
    check.verify()


@rule(
    "session-lists-its-own-attempts",
    "§10",
    "api.retrievePatientSession",
    "a session's connections are the attempts made during it, failed ones included (id null), "
    "and none from the patient's other sessions",
)
def _session_attempts(ctx: RuleContext) -> None:
    made = ctx.connected_patient()
    _a, b, c = made["sources"]
    second_response, failed_response = (_retrieved(ctx, s) for s in made["sessions"][1:])
    second, failed = second_response.json(), failed_response.json()
    check = ctx.expect("api.retrievePatientSession", failed_response)
    check.require(
        [i["connection_id"] for i in second["connections"]] == [b],
        f"session B lists {[i['connection_id'] for i in second['connections']]}, not [{b}]",
    )
    items = failed["connections"]
    check.require(
        len(items) == 1 and items[0]["id"] is None and items[0]["status"] == "failed",
        f"the failed attempt shows as {items}",
    )
    check.require(all(i["connection_id"] == c for i in items), "another source's attempt listed")
    check.verify()


# -- §10 records -------------------------------------------------------------------------------


@rule(
    "records-type-filter",
    "§3",
    "api.getPatientRecords",
    "type narrows the records to those FHIR resource types",
)
def _records_type(ctx: RuleContext) -> None:
    everything = ctx.ok("api.getPatientRecords", ctx.records(count=100))["data"]
    types = sorted({r["resource"]["resourceType"] for r in everything})
    if len(types) < 2:
        pytest.skip("the connected patient's records hold fewer than two resource types")
    response = ctx.records(type=types[0], count=100)
    found = ctx.ok("api.getPatientRecords", response)["data"]
    check = ctx.expect("api.getPatientRecords", response)
    check.require(bool(found), f"type={types[0]} lists nothing")
    others = sorted({r["resource"]["resourceType"] for r in found} - {types[0]})
    check.require(not others, f"type={types[0]} also lists {others}")
    check.verify()


@rule(
    "records-since-narrows",
    "§10",
    "api.getPatientRecords",
    "since keeps only the resources changed after that instant",
)
def _records_since(ctx: RuleContext) -> None:
    response = ctx.records(since=FAR_FUTURE)
    found = ctx.ok("api.getPatientRecords", response)["data"]
    check = ctx.expect("api.getPatientRecords", response)
    check.require(not found, f"since={FAR_FUTURE} still lists {len(found)} resources")
    check.verify()


@rule(
    "records-source-resolves",
    "§10",
    "api.getPatientRecords",
    "each record's source is a catalog source that GET /connections/{id} resolves",
)
def _records_source(ctx: RuleContext) -> None:
    response = ctx.records(count=100)
    found = ctx.ok("api.getPatientRecords", response)["data"]
    if not found:
        pytest.skip("the connected patient has no records yet")
    check = ctx.expect("api.getPatientRecords", response)
    for source in sorted({r["source"] for r in found if r["source"] is not None}):
        status = ctx.api.get(f"/connections/{path_id(source)}").status_code
        check.require(status == 200, f"source {source!r} answers HTTP {status}")
    check.verify()


@rule(
    "records-page-backwards",
    "§10",
    "api.getPatientRecords",
    "ending_before takes a page's previous_cursor and returns the page before it",
)
def _records_backwards(ctx: RuleContext) -> None:
    first = ctx.ok("api.getPatientRecords", ctx.records(count=2))
    if not first["next_cursor"]:
        pytest.skip("the connected patient has too few records for two pages")
    second = ctx.ok(
        "api.getPatientRecords", ctx.records(count=2, starting_after=first["next_cursor"])
    )
    response = ctx.records(count=2, ending_before=second["previous_cursor"])
    back = ctx.ok("api.getPatientRecords", response)["data"]
    check = ctx.expect("api.getPatientRecords", response)
    ids = [(r["resource"]["resourceType"], r["resource"]["id"]) for r in back]
    want = [(r["resource"]["resourceType"], r["resource"]["id"]) for r in first["data"]]
    check.require(ids == want, f"paging back gave {ids}, the first page was {want}")
    check.verify()


# -- §10 webhooks --------------------------------------------------------------------------------


def _refused_webhook(ctx: RuleContext, body: dict[str, Any], what: str) -> None:
    response = ctx.api.post("/webhooks", json=body)
    if response.status_code == 200:
        ctx.state.created_webhook(response.json()["id"])
    check = ctx.expect("api.createWebhook", response)
    check.require(response.status_code == 400, f"{what}: HTTP {response.status_code}, not 400")
    check.verify()


@rule(
    "webhook-url-https-only",
    "§10",
    "api.createWebhook",
    "a webhook url must be https; plain http is allowed for localhost only",
)
def _webhook_https(ctx: RuleContext) -> None:
    body = {"url": "http://example.test/prose-hook", "events": ["*"]}
    _refused_webhook(ctx, body, "http to a host that is not localhost")


@rule(
    "webhook-star-never-mixed",
    "§10",
    "api.createWebhook",
    "events is either ['*'] alone or a list of event types, never both",
)
def _webhook_star(ctx: RuleContext) -> None:
    body = {"url": "https://example.test/prose-hook", "events": ["*", "records.sync.completed"]}
    _refused_webhook(ctx, body, "'*' together with an event type")


@rule(
    "webhook-patch-is-partial",
    "§10",
    "api.updateWebhook",
    "PATCH changes only the fields sent; the others keep their values",
)
def _webhook_patch(ctx: RuleContext) -> None:
    endpoint = ctx.new_webhook(
        "http://localhost:9/prose-patch",
        events=["records.sync.completed"],
        description="before",
        metadata={"kept": "yes"},
    ).json()
    patched = ctx.api.patch(f"/webhooks/{path_id(endpoint['id'])}", json={"description": "after"})
    body = ctx.ok("api.updateWebhook", patched)
    check = ctx.expect("api.updateWebhook", patched)
    for field in ("url", "events", "metadata", "status"):
        check.require(body.get(field) == endpoint[field], f"{field} changed to {body.get(field)!r}")
    check.require(body.get("description") == "after", "the description sent was not applied")
    check.verify()


@rule(
    "webhook-secret-only-on-create-and-rotate",
    "§3, §4",
    "api.getWebhook",
    "the signing secret is shown on creation and rotation only, and a rotation issues a new one",
)
def _webhook_secret(ctx: RuleContext) -> None:
    endpoint = ctx.new_webhook("http://localhost:9/prose-secret").json()
    path = f"/webhooks/{path_id(endpoint['id'])}"
    read = ctx.api.get(path)
    check = ctx.expect("api.getWebhook", read)
    check.require("secret" not in ctx.ok("api.getWebhook", read), "GET shows the secret")
    check.verify()
    rotated = ctx.api.post(f"{path}/rotate-secret")
    check = ctx.expect("api.rotateWebhookSecret", rotated)
    new = ctx.ok("api.rotateWebhookSecret", rotated).get("secret")
    check.require(bool(endpoint.get("secret")), "no secret on creation")
    check.require(bool(new) and new != endpoint.get("secret"), "rotation kept the old secret")
    check.verify()


@rule(
    "webhook-delete-drops-history",
    "§10",
    "api.listWebhookEvents",
    "deleting an endpoint deletes its delivery history for good (its events then read 404)",
)
def _webhook_delete_history(ctx: RuleContext) -> None:
    endpoint = ctx.new_webhook("http://localhost:9/prose-history").json()
    path = f"/webhooks/{path_id(endpoint['id'])}"
    ctx.ok("api.deleteWebhook", ctx.api.delete(path))
    response = ctx.api.get(f"{path}/events")
    check = ctx.expect("api.listWebhookEvents", response)
    check.require(response.status_code == 404, f"events answered {response.status_code}")
    check.verify()


@rule(
    "webhooks-status-filter",
    "§3",
    "api.listWebhooks",
    "status narrows the webhook endpoints to that status",
)
def _webhooks_status(ctx: RuleContext) -> None:
    mine = ctx.new_webhook("http://localhost:9/prose-status").json()["id"]
    for status in ("disabled", "active"):
        response = ctx.api.get("/webhooks", params={"status": status, "limit": 100})
        listed = ctx.ok("api.listWebhooks", response)["data"]
        check = ctx.expect("api.listWebhooks", response)
        wrong = [w["id"] for w in listed if w["status"] != status]
        check.require(not wrong, f"status={status} lists endpoints that are not: {wrong[:3]}")
        if status == "active":
            ids = {w["id"] for w in listed}
            check.require(mine in ids, "status=active misses the run's new endpoint")
        check.verify()


@rule(
    "webhook-status-active-reenables",
    "§10",
    "api.updateWebhook",
    "PATCH with status active re-enables a disabled endpoint",
)
def _webhook_reenable(ctx: RuleContext) -> None:
    endpoint = ctx.new_webhook("http://localhost:9/prose-reenable").json()
    path = f"/webhooks/{path_id(endpoint['id'])}"
    ctx.ok("api.updateWebhook", ctx.api.patch(path, json={"status": "disabled"}))
    response = ctx.api.patch(path, json={"status": "active"})
    status = ctx.ok("api.updateWebhook", response).get("status")
    check = ctx.expect("api.updateWebhook", response)
    check.require(status == "active", f"status {status!r} after PATCH status active")
    check.verify()


@rule(
    "events-belong-to-their-endpoint",
    "§10",
    "api.listWebhookEvents",
    "each event is one delivery to one endpoint: an endpoint's events name that endpoint",
)
def _events_endpoint(ctx: RuleContext) -> None:
    endpoint = ctx.event_endpoint()
    response, events = ctx.events()
    check = ctx.expect("api.listWebhookEvents", response)
    check.require(bool(events), "a completed session made no event for '*'")
    wrong = [e["id"] for e in events if e["webhook_endpoint_id"] != endpoint["id"]]
    check.require(not wrong, f"events of another endpoint listed: {wrong[:3]}")
    check.verify()


@rule(
    "webhook-api-version-on-events",
    "§10",
    "api.listWebhookEvents",
    "an endpoint's api_version is fixed at registration and copied onto each of its events",
)
def _webhook_api_version(ctx: RuleContext) -> None:
    endpoint = ctx.event_endpoint()
    response, events = ctx.events()
    check = ctx.expect("api.listWebhookEvents", response)
    check.require(endpoint["api_version"] == pinned_version(), "not the version registered with")
    check.require(bool(events), "a completed session made no event for '*'")
    wrong = [e["api_version"] for e in events if e["api_version"] != endpoint["api_version"]]
    check.require(not wrong, f"events carry api_version {wrong[:3]}")
    check.verify()


@rule(
    "events-delivered-filter",
    "§10",
    "api.listWebhookEvents",
    "delivered=true lists delivered events only; delivered=false pending and failed ones only",
)
def _events_delivered(ctx: RuleContext) -> None:
    for flag, delivered in (("true", True), ("false", False)):
        response, events = ctx.events(delivered=flag)
        check = ctx.expect("api.listWebhookEvents", response)
        wrong = [e["id"] for e in events if (e["delivered_at"] is not None) != delivered]
        check.require(not wrong, f"delivered={flag} lists {wrong[:3]}")
        check.verify()


@rule(
    "redeliver-sets-last-redelivered-at",
    "§10",
    "api.redeliverWebhookEvent",
    "last_redelivered_at is null until an event is redelivered, and set by the redelivery",
)
def _redeliver(ctx: RuleContext) -> None:
    _response, events = ctx.events()
    if not events:
        pytest.skip("no event to redeliver")
    event = events[-1]
    before = event["last_redelivered_at"]
    answer = ctx.api.post(f"/events/{path_id(event['id'])}/redeliver")
    ctx.ok("api.redeliverWebhookEvent", answer)
    _response, after = ctx.events()
    now = next((e for e in after if e["id"] == event["id"]), {})
    check = ctx.expect("api.redeliverWebhookEvent", answer)
    check.require(before is None, f"last_redelivered_at {before!r} before any redelivery")
    check.require(is_iso8601(now.get("last_redelivered_at")), "not set by the redelivery")
    check.verify()
