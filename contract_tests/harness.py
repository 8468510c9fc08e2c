"""The schemathesis side of the suite: the schema (pinned document + overlay links, merged in
memory only), its configuration, the run's hooks and the checks the schema cannot express.

Expected statuses come from the documented error table (reference §7, §10): a request that the
schema calls invalid may be refused with any documented error status; a valid one may still
get the statuses that rules stated only in prose produce (listed per operation below).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.core.failures import FailureGroup

from contract_tests.pacing import (
    PacedLimiter,
    per_resource_limit,
    retry_after_seconds,
    retry_throttled_read,
)
from contract_tests.run import RunState, pinned_operations
from contract_tests.target import ContractTarget
from medblocks.spec import load_overlay, load_pinned, pinned_version

SEED = 20260425
# Hypothesis budget per operation (fuzzing phase) and per stateful run; CI may lower or raise.
MAX_EXAMPLES = 20
STATEFUL_EXAMPLES = 40
STATEFUL_STEPS = 10
DEADLINE_MS = 5000
MAX_RESPONSE_SECONDS = 5.0  # generous: the CI machine is small and shared

# Documented refusal statuses (§2, §7): every declared error status plus the prose-only 413.
DOCUMENTED_REFUSALS = ["400", "401", "403", "404", "409", "413", "429"]

# Statuses a schema-valid request may still get, per operation, and why (prose-only rules).
CURSOR = "a cursor this list never issued is refused (400 or 404: not documented which)"
VALID_REQUEST_STATUSES: dict[str, tuple[list[str], str]] = {
    "api.health": (["200"], "no rules beyond the schema"),
    "api.createPatient": (["200", "409"], "duplicate patient_id -> 409"),
    "api.listPatients": (["200", "400", "404"], CURSOR),
    "api.getPatient": (["200", "404"], "unknown id -> 404"),
    "api.updatePatient": (["200", "400", "404"], "body patient_id must equal {id} (400)"),
    "api.deletePatient": (["200", "404"], "unknown id -> 404"),
    "api.disconnectPatientConnection": (["200", "404"], "unknown patient or connection"),
    "api.listPatientSessionsForPatient": (["200", "400", "404"], CURSOR),
    "api.getPatientRecords": (["200", "400", "404"], CURSOR + "; `since` must be a date"),
    "api.getFhirSource": (["200", "404"], "unknown source"),
    "api.listFhirSources": (["200", "400", "404"], CURSOR),
    "api.initPatientSession": (
        ["200", "400", "404"],
        "connection_id excludes recommended_connection_ids (400); unknown sources (404); "
        "reserved patient_id prefixes (400)",
    ),
    "api.retrievePatientSession": (["200", "404"], "unknown session"),
    "api.retrieveLaunchContext": (["200", "400", "404"], "the id must be a UUID"),
    "api.createWebhook": (
        ["200", "400"],
        "url must be https (http only for localhost); `*` never mixed with event types",
    ),
    "api.listWebhooks": (["200", "400", "404"], CURSOR),
    "api.getWebhook": (["200", "404"], "unknown endpoint"),
    "api.updateWebhook": (["200", "400", "404"], "same url and events rules as creation"),
    "api.deleteWebhook": (["200", "404"], "unknown endpoint"),
    "api.rotateWebhookSecret": (["200", "404"], "unknown endpoint"),
    "api.listWebhookEvents": (["200", "400", "404"], CURSOR),
    "api.redeliverWebhookEvent": (["200", "404", "429"], "one redelivery per event per minute"),
}
PATIENT_CREATING = {"api.createPatient", "api.initPatientSession"}


def operation_id(case: Case) -> str:
    return str(case.operation.definition.raw.get("operationId", case.operation.label))


def first_header(response: Response, name: str) -> str | None:
    """A header's first value (schemathesis may hold a header's values as a list)."""
    value = response.headers.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def request_id_of(response: Response | None) -> str | None:
    return None if response is None else first_header(response, "x-request-id")


def document_with_links() -> dict[str, Any]:
    """The pinned document with the overlay's OpenAPI links added to its 200 responses.

    Only for schemathesis, in memory; `medblocks.json` on disk is never touched.
    """
    document = load_pinned()
    links = load_overlay().get("links", {})
    for item in document["paths"].values():
        for op in item.values():
            if not isinstance(op, dict) or op.get("operationId") not in links:
                continue
            for status, named in links[op["operationId"]].items():
                response = op["responses"][status]
                if "$ref" in response:  # shared component: give this operation its own copy
                    name = response["$ref"].rsplit("/", 1)[-1]
                    response = copy.deepcopy(document["components"]["responses"][name])
                    op["responses"][status] = response
                response.setdefault("links", {}).update(copy.deepcopy(named))
    return document


def config_dict(
    target: ContractTarget, *, seed: int = SEED, max_examples: int = MAX_EXAMPLES
) -> dict:
    """The schemathesis configuration of a run (kept as data so the report can show it)."""
    all_checks = {
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_headers_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "negative_data_rejection": {"enabled": True, "expected-statuses": DOCUMENTED_REFUSALS},
        "positive_data_acceptance": {"enabled": True},
        "missing_required_header": {"enabled": True, "expected-statuses": ["400", "401"]},
        "ignored_auth": {"enabled": True},
        "use_after_free": {"enabled": True},
        "ensure_resource_availability": {"enabled": True},
        "unsupported_method": {"enabled": True},
        "allow_header_conformance": {"enabled": True},
        "object_level_authorization": {"enabled": True},
        "max_response_time": MAX_RESPONSE_SECONDS,
    }
    operations: list[dict[str, Any]] = [
        {
            "include-operation-id": op,
            "checks": {"positive_data_acceptance": {"expected-statuses": statuses}},
        }
        for op, (statuses, _why) in VALID_REQUEST_STATUSES.items()
    ]
    # `/health`: the prose calls it unauthenticated (the prose rule `health-needs-no-key`
    # checks that), while the document's global security covers it and it declares 200 only:
    # the schema-level checks that expect a missing or wrong key to be refused are off there,
    # and `health_status` replaces status-code conformance.
    operations.append(
        {
            "include-operation-id": "api.health",
            "checks": {
                "ignored_auth": {"enabled": False},
                "missing_required_header": {"enabled": False},
                "negative_data_rejection": {"enabled": False},
                "status_code_conformance": {"enabled": False},
            },
        }
    )
    generation = {
        "mode": "all",
        "max-examples": max_examples,
        "deterministic": True,
        "allow-x00": False,
        "codec": "utf-8",
    }
    data: dict[str, Any] = {
        "seed": seed,
        "parameters": {"Version": pinned_version()},
        "auth": {"openapi": {"BearerAuth": {"bearer": target.api_key}}},
        "generation": generation,
        "checks": all_checks,
        "request-timeout": 20,
        "operations": operations,
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {
                "enabled": True,
                # Sequences are for reaching real resources; negative data is the other phases' job.
                "generation": {**generation, "mode": "positive"},
                "max-steps": STATEFUL_STEPS,
                "inference": {"algorithms": []},
                # Calibration learns from earlier answers and so changes later draws, which
                # hypothesis reports as inconsistent data generation: off.
                "link-calibration": False,
            },
        },
    }
    if not target.is_in_process:
        data["base-url"] = target.base_url
    return data


def build_schema(
    target: ContractTarget, hooks: RunHooks, operations: list[str] | None = None, **config: Any
) -> Any:
    """A schemathesis schema bound to the target, with the run's hooks registered on it;
    `operations` (operationIds) narrows the conformance tests to those operations."""
    loaded = schemathesis.Config.from_dict(config_dict(target, **config))
    schema = schemathesis.openapi.from_dict(document_with_links(), config=loaded)
    if operations:  # exclude the rest (includes are OR-ed with the config's own filters)
        others = [op for op in pinned_operations().values() if op not in operations]
        schema = schema.exclude(operation_id=others)
    if target.is_in_process:
        schema.app = target.app
    else:
        schema.config.rate_limit = PacedLimiter(target.pacer)
    hooks.install(schema)
    return schema


class RunHooks:
    """What happens around every request the suite sends through schemathesis.

    `before_call` runs from the tests and the state machine (schemathesis allows that hook
    only globally, and a global hook would leak into other suites in the same process);
    `after_call` and `after_validate` are registered on this schema alone.
    """

    def __init__(self, target: ContractTarget, state: RunState) -> None:
        self.target = target
        self.state = state
        self.pauses: dict[tuple[str, str], float] = {}
        self.failed_checks: dict[str, list[str]] = {}  # case id -> "operation: check: title"
        self.checks = [request_id_check(state), *SHARED_CHECKS]

    def before_call(self, case: Case, *, pin_version: bool = False) -> None:
        """Give created patients the run prefix; wait out a `Retry-After` for this route.

        `pin_version` is for the stateful phase: it sends the pinned `Version` (the config's
        parameter override does not reach that phase, and any string would count as valid)
        and makes each created patient id unique (see `RunState.patient_id`).
        """
        if pin_version and "Version" in {p.name for p in case.operation.headers}:
            case.headers = {**(case.headers or {}), "Version": pinned_version()}
        if operation_id(case) in PATIENT_CREATING and isinstance(case.body, dict):
            value = case.body.get("patient_id")
            if isinstance(value, str) and value:
                # A new dict: the body may be an example object that later cases share.
                patient_id = self.state.patient_id(value, unique=pin_version)
                case.body = {**case.body, "patient_id": patient_id}
        wait = self.pauses.get(_route(case), 0.0) - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, max(self.state.remaining(), 0.0)))

    def after_call(self, context: Any, case: Case, response: Response) -> None:
        op = operation_id(case)
        self.state.saw(op, response.status_code)
        if response.status_code == 200:
            remember_created(self.state, op, _json(response))
        if response.status_code == 429 and not self.target.is_in_process:
            retry_after = retry_after_seconds(first_header(response, "retry-after")) or 1
            if per_resource_limit(case.method, case.formatted_path):  # only this route waits
                self.pauses[_route(case)] = time.monotonic() + retry_after
            else:
                self.target.pacer.throttled_for(retry_after)

    def call(self, case: Case, send: Callable[[], Response]) -> Response:
        """`send()` the case; a read the key's rate limit refused is sent again once the
        pacer's hold (its Retry-After, set by `after_call`) has passed. Writes never are."""
        response = send()
        attempt = 0
        while not self.target.is_in_process and retry_throttled_read(
            case.method, response.status_code, attempt
        ):
            attempt += 1
            response = send()  # the transport's limiter waits out the hold first
        return response

    def after_validate(
        self, context: Any, case: Case, response: Response, results: list[Any]
    ) -> None:
        op = operation_id(case)
        failed = self.failed_checks.setdefault(case.id, [])
        for result in results:
            if result.failure is None:
                self.state.passed(op, result.name)
                continue
            message = f"{op} [{case.method} {case.path}]: {result.name}: {result.failure.title}"
            failed.append(f"{message} (request id {request_id_of(response)})")
            detail = getattr(result.failure, "message", "")
            if detail:
                message += f" - {detail}"
            self.state.fail(
                op,
                result.name,
                message,
                request_id_of(response),
                status=response.status_code,
                curl=self.state.curl(response.request),
            )

    def validate(self, case: Case, response: Response, **kwargs: Any) -> None:
        """`case.validate_response` with the extra checks; a failure is annotated with the
        operationId and the name of every check that failed."""
        __tracebackhide__ = True
        self.failed_checks.pop(case.id, None)
        try:
            case.validate_response(response, additional_checks=self.checks, **kwargs)
        except FailureGroup as exc:
            for line in self.failed_checks.pop(case.id, []):
                exc.add_note(f"failed check: {line}")
            raise

    def install(self, schema: Any) -> None:
        schema.hooks.register_hook_with_name(self.after_call, "after_call")
        schema.hooks.register_hook_with_name(self.after_validate, "after_validate")


def _route(case: Case) -> tuple[str, str]:
    return case.method.upper(), case.formatted_path


def remember_created(state: RunState, op: str, body: Any) -> None:
    if not isinstance(body, dict):
        return
    if op == "api.createPatient" and isinstance(body.get("id"), str):
        state.created_patient(body["id"])
    elif op == "api.initPatientSession" and isinstance(body.get("patient_id"), str):
        if not body["patient_id"].startswith(state.prefix):
            return  # not the session the run asked for: the server's own (a canned answer)
        state.created_patient(body["patient_id"])
        if isinstance(body.get("id"), str):
            state.created_session(body)
    elif op == "api.createWebhook" and isinstance(body.get("id"), str):
        state.created_webhook(body["id"])


def _json(response: Response) -> Any:
    try:
        return response.json()
    except Exception:
        return None


# -- checks the schema cannot express ---------------------------------------------------------


def request_id_check(state: RunState) -> Callable[..., bool | None]:
    """The check `request_id_echoed` of one run (it counts what it sees in `state`)."""

    def request_id_echoed(ctx: CheckContext, response: Response, case: Case) -> bool | None:
        """Every answer carries `X-Request-Id`; an error envelope echoes it as
        `error.request_id`. A missing header fails this check once per run
        (`RunState.request_id_missing`): later ones are counted for the report's root causes."""
        header = request_id_of(response)
        op = operation_id(case)
        if not header:
            if state.request_id_missing(op):
                raise AssertionError(
                    f"{op}: request_id_echoed: HTTP {response.status_code} has no X-Request-Id "
                    "header (later answers without one are counted in the report, not failed "
                    "again)"
                )
            return None
        body = _json(response)
        if (
            response.status_code >= 400
            and isinstance(body, dict)
            and isinstance(body.get("error"), dict)
        ):
            echoed = body["error"].get("request_id")
            if echoed != header:
                raise AssertionError(
                    f"{op}: request_id_echoed: error.request_id {echoed!r} != X-Request-Id "
                    f"{header!r}"
                )
        return None

    return request_id_echoed


ERROR_FIELDS = ("type", "code", "message", "param", "doc_url", "request_id")


def error_envelope(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every non-2xx answer, declared or not (405, 413, ...), is the documented envelope."""
    if response.status_code < 400:
        return None
    op = operation_id(case)
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not all(key in error for key in ERROR_FIELDS):
        raise AssertionError(
            f"{op}: error_envelope: HTTP {response.status_code} is not the error envelope "
            f"(needs error.{', error.'.join(ERROR_FIELDS)})"
        )
    return None


HEALTH_STATUSES = frozenset({200, 400, 401, 403, 405, 429, 500})


def health_status(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """`/health` answers 200 or a documented error status (a missing key, if one is demanded;
    405 to an unsupported method; limits)."""
    if operation_id(case) == "api.health" and response.status_code not in HEALTH_STATUSES:
        raise AssertionError(
            f"api.health: health_status: HTTP {response.status_code} is neither 200 nor a "
            f"documented error status ({sorted(HEALTH_STATUSES)})"
        )
    return None


SHARED_CHECKS: list[Callable[..., bool | None]] = [error_envelope, health_status]
