"""What one contract run observed: status codes per operation, check outcomes, failures,
the resources it created (for clean-up) and the drift headline."""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contract_tests.reproduce import curl_for
from medblocks.spec import load_pinned
from medblocks.spec.drift import DriftReport

PATIENT_ID_MAX = 200


def pinned_operations() -> dict[tuple[str, str], str]:
    """(METHOD, path template) -> operationId for every operation of the pinned document."""
    return {
        (method.upper(), path): op["operationId"]
        for path, item in load_pinned()["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


@dataclass
class Failure:
    """One failed check on one answer. `curl` repeats the request (see `reproduce.py`); `test`
    is the node id of the test that saw it."""

    operation: str
    check: str
    message: str
    request_id: str | None
    status: int | None = None
    curl: str | None = None
    test: str | None = None

    @property
    def cause(self) -> tuple[str, str, int | None]:
        """Failures with one cause share the operation, the check and the status."""
        return self.operation, self.check, self.status

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "check": self.check,
            "status": self.status,
            "message": self.message,
            "request_id": self.request_id,
            "curl": self.curl,
            "test": self.test,
        }


@dataclass
class RunState:
    """Shared by every test of a session; written out by `contract_tests.reports`."""

    target_label: str
    base_url: str
    budget_seconds: float
    # Where a printed curl command sends its request (the in-process sandbox has no address:
    # there, `python -m medblocks.sandbox`'s default one).
    reproduce_url: str = ""
    api_key: str = field(default="", repr=False)  # to write it as $MEDBLOCKS_API_KEY in curl
    prefix: str = field(
        default_factory=lambda: f"ct{datetime.now(UTC):%m%d%H%M%S}{secrets.token_hex(2)}-"
    )
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    started: float = field(default_factory=time.monotonic)
    coverage: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    checks: dict[str, dict[str, list[int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: [0, 0]))
    )
    failures: list[Failure] = field(default_factory=list)
    created_patients: set[str] = field(default_factory=set)
    created_webhooks: set[str] = field(default_factory=set)
    created_sessions: set[str] = field(default_factory=set)
    cleanup_problems: list[str] = field(default_factory=list)
    cleaned: int = 0
    # kind -> [made, deleted, left behind]; filled by `contract_tests.cleanup`.
    cleanup_counts: dict[str, list[int]] = field(default_factory=dict)
    known_gaps: dict[str, str] = field(default_factory=dict)  # check -> why it is excused
    configuration_error: str | None = None
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    sequence: int = 0
    drift: DriftReport | None = None
    # Tests the run meant to run and did not, and why (a run with any is not green).
    not_run: dict[str, str] = field(default_factory=dict)
    # Conformance: operation -> generated cases not sent because the budget's share was spent.
    fuzzing_cut: dict[str, int] = field(default_factory=dict)
    fuzzing_left: int = 0  # conformance tests still to start (each gets a share of the budget)
    answers: int = 0
    # operation -> answers without an X-Request-Id (the check fails once, on the first).
    without_request_id: dict[str, int] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)  # what `causes.probe` learnt
    faults: dict[str, Any] = field(default_factory=dict)  # faults the target says are on
    throttled: int = 0  # 429s of the key's rate limit
    waited: float = 0.0  # seconds spent waiting for the target's rate limit
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _test: str | None = None

    @property
    def current_test(self) -> str | None:
        """The test whose requests these are (per thread: the rules run in a pool)."""
        return getattr(self._local, "test", None) or self._test

    @current_test.setter
    def current_test(self, nodeid: str | None) -> None:
        self._test = nodeid

    def in_thread_for(self, nodeid: str) -> None:
        """This thread's requests belong to `nodeid` (a worker of a pool)."""
        self._local.test = nodeid

    # -- naming -------------------------------------------------------------------------------
    def patient_id(self, value: str, *, unique: bool = False) -> str:
        """`value` carrying the run prefix. A valid id stays valid (cut to the documented 200
        characters); an id that is too long stays too long, so negative cases stay negative.
        `unique` adds a counter, so a replayed sequence creates a new patient instead of
        meeting its own earlier one (409), which would make the replay behave differently."""
        if value.startswith(self.prefix):
            return value
        prefix = self.prefix
        if unique:
            with self.lock:
                self.sequence += 1
                prefix += f"{self.sequence}-"
        if len(value) > PATIENT_ID_MAX:
            return prefix + value
        return (prefix + value)[:PATIENT_ID_MAX]

    def unexercised(self) -> list[str]:
        """Operations of the pinned document that no request of this run reached."""
        return sorted(op for op in pinned_operations().values() if not self.coverage.get(op))

    # -- time -----------------------------------------------------------------------------
    def start_clock(self) -> None:
        """Count the budget from the suite's first test rather than from collection: in a
        whole-repository run every other test directory runs in between."""
        self.started = time.monotonic()

    def remaining(self) -> float:
        return self.budget_seconds - (time.monotonic() - self.started)

    # -- observations -----------------------------------------------------------------------
    def saw(self, operation: str, status: int) -> None:
        with self.lock:
            self.coverage[operation].add(status)
            self.answers += 1

    def cut_fuzzing(self, operation: str) -> None:
        with self.lock:
            self.fuzzing_cut[operation] = self.fuzzing_cut.get(operation, 0) + 1

    def request_id_missing(self, operation: str) -> bool:
        """Count an answer without `X-Request-Id`; True for the run's first, the one answer
        whose check fails (the other checks go on and report on their own behaviour)."""
        with self.lock:
            first = not self.without_request_id
            self.without_request_id[operation] = self.without_request_id.get(operation, 0) + 1
            return first

    def check_result(self, operation: str, check: str, passed: bool) -> None:
        with self.lock:
            self.checks[operation][check][0 if passed else 1] += 1

    def fail(
        self,
        operation: str,
        check: str,
        message: str,
        request_id: str | None,
        *,
        status: int | None = None,
        curl: str | None = None,
    ) -> None:
        failure = Failure(operation, check, message, request_id, status, curl, self.current_test)
        with self.lock:
            self.checks[operation][check][1] += 1
            self.failures.append(failure)

    def curl(self, request: Any) -> str | None:
        return curl_for(request, base_url=self.reproduce_url, api_key=self.api_key)

    def excuse(self, check: str, why: str) -> None:
        """A known sandbox gap (`contract_tests.sandbox_gaps`): its failures leave the list."""
        with self.lock:
            self.known_gaps[check] = why
            self.failures = [f for f in self.failures if f.check != check]

    def phase(self, name: str, seconds: float) -> None:
        with self.lock:
            self.phases[name] = self.phases.get(name, 0.0) + seconds

    def passed(self, operation: str, check: str) -> None:
        self.check_result(operation, check, True)

    # -- created resources (removed by `contract_tests.cleanup`) -----------------------------
    def created_patient(self, patient_id: str) -> None:
        """The run sends prefixed ids only: an id without the prefix in an answer is the
        server's own data (a mock's canned example), which the run neither made nor deletes."""
        if not patient_id.startswith(self.prefix):
            return
        with self.lock:
            self.created_patients.add(patient_id)

    def created_webhook(self, webhook_id: str) -> None:
        with self.lock:
            self.created_webhooks.add(webhook_id)

    def created_session(self, session: dict[str, Any]) -> None:
        """A session the run opened: its answer names a run patient (a session for anyone
        else is the server's own data, as with patients)."""
        if not str(session.get("patient_id") or "").startswith(self.prefix):
            return
        with self.lock:
            self.created_sessions.add(str(session["id"]))
