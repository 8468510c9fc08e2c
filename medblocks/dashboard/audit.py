"""Who saw and did what: the dashboard's actions run through here, checked against the actor's
role and written to the audit log (`medblocks.mirror.audit`) with their outcome.

* `perform` runs one write (launch, session link, disconnect, redeliver, a sandbox lever, a
  contract run, an alert silence): refused unless the role allows it, then recorded as done or
  failed with the request id the API gave;
* `record_reveal`, `record_export` and `record_sign_in` record what was shown, downloaded or
  who came in; a reveal, and an export of revealed names, are refused to a viewer;
* `log_frame` and `export_lines` read the log back for the Audit page and `audit export`.

Filters that may hold a patient's name or e-mail (`PHI_FILTERS`) are recorded as given, never
with their text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import pandas as pd

from medblocks.dashboard.roles import Actor, NotAllowed, require
from medblocks.dashboard.tables import csv_text, empty_cells
from medblocks.mirror.audit import COLUMNS, EXPORT_FORMATS, AuditEntry, AuditFilter, entries, record
from medblocks.mirror.db import Mirror

T = TypeVar("T")
PHI_FILTERS = ("email", "q")
"""Query parameters of the pages that may hold a name or an e-mail (Patients' "Email (any case)"
and "Contains")."""


def _request_id(value: object) -> str | None:
    found = getattr(value, "request_id", None) or getattr(value, "_request_id", None)
    return str(found) if found else None


def refuse_unless(mirror: Mirror, actor: Actor, action: str, **entry: Any) -> None:
    """Raise `NotAllowed` (recorded as refused) unless `actor` may do `action`."""
    try:
        require(actor, action)
    except NotAllowed:
        record(mirror, AuditEntry(actor.who, actor.role, action, outcome="refused", **entry))
        raise


def perform(
    mirror: Mirror,
    actor: Actor,
    action: str,
    run: Callable[..., T],
    *args: Any,
    target: str | None = None,
    patient_id: str | None = None,
    view: str | None = None,
    detail: str | None = None,
    **kwargs: Any,
) -> T:
    """`run(*args, **kwargs)` if `actor` may do `action`, recorded either way. A refusal raises
    `NotAllowed` before anything is sent; a failure is recorded and raised again."""
    where: dict[str, Any] = dict(target=target, patient_id=patient_id, view=view, detail=detail)
    refuse_unless(mirror, actor, action, **where)
    entry = dict(actor=actor.who, role=actor.role, action=action, **where)
    try:
        result = run(*args, **kwargs)
    except BaseException as exc:
        record(mirror, AuditEntry(outcome="failed", request_id=_request_id(exc), **entry))
        raise
    record(mirror, AuditEntry(outcome="done", request_id=_request_id(result), **entry))
    return result


def filters_text(filters: Mapping[str, Any]) -> str:
    """The page's filters as recorded: JSON, keys sorted, PHI filters as `(given)`."""
    shown = {
        k: ("(given)" if k in PHI_FILTERS else v)
        for k, v in sorted(filters.items())
        if v not in ("", None, [])
    }
    return json.dumps(shown, ensure_ascii=False)


def record_reveal(
    mirror: Mirror,
    actor: Actor,
    view: str,
    filters: Mapping[str, Any],
    patient_id: str | None = None,
) -> None:
    """Names and e-mails are about to be shown on `view` with `filters`: refused to a viewer
    (recorded as refused), recorded otherwise."""
    perform(
        mirror,
        actor,
        "reveal",
        lambda: None,
        view=view,
        detail=filters_text(filters),
        patient_id=patient_id,
    )


def record_export(
    mirror: Mirror, actor: Actor, view: str, file_name: str, rows: int, *, revealed: bool
) -> None:
    """A CSV of `rows` rows was downloaded; an export with names shown needs the reveal role."""
    entry = AuditEntry(
        actor=actor.who,
        role=actor.role,
        action="export",
        target=file_name,
        view=view,
        rows=rows,
        detail="revealed" if revealed else "masked",
    )
    if revealed and not actor.may("export-revealed"):
        record(mirror, AuditEntry(**{**entry.__dict__, "outcome": "refused"}))
        require(actor, "export-revealed")
    record(mirror, entry)


def record_sign_in(mirror: Mirror, actor: Actor, issued_at: str = "") -> None:
    """`actor` signed in (`issued_at`: their ID token's `iat`, to tell sign-ins apart): recorded
    once per token, so a reload or another tab of the same sign-in adds nothing."""
    detail = f"token issued at {issued_at}" if issued_at else None
    if detail and any(
        row["detail"] == detail
        for row in entries(mirror, AuditFilter(person=actor.who, action="sign-in"))
    ):
        return
    record(mirror, AuditEntry(actor=actor.who, role=actor.role, action="sign-in", detail=detail))


def log_frame(mirror: Mirror, f: AuditFilter, limit: int = 500) -> pd.DataFrame:
    """The newest `limit` rows matching `f`, for the Audit page, as people read them: the time
    to the second in UTC (an audit trail orders what happened within a minute), missing values
    empty (a row count too), counts whole. `export_lines` keeps the stored values as they are."""
    rows = []
    for row in entries(mirror, f):
        rows.append(row)
        if len(rows) >= limit:
            break
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["at"] = [
        "" if pd.isna(t) else f"{pd.Timestamp(t):%Y-%m-%d %H:%M:%S} UTC" for t in frame["at"]
    ]
    frame["rows"] = ["" if pd.isna(n) else str(int(n)) for n in frame["rows"]]
    return empty_cells(frame)


def export_lines(mirror: Mirror, fmt: str, since: str | None = None) -> Iterator[str]:
    """The log, oldest first, as CSV (spreadsheet-safe, `tables.csv_text`) or JSON lines."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    batch: list[dict[str, Any]] = []
    header = True
    for row in entries(mirror, AuditFilter(since=since), newest_first=False):
        if fmt == "jsonl":
            yield json.dumps(row, ensure_ascii=False) + "\n"
            continue
        batch.append(row)
        if len(batch) == 1000:
            yield _csv(batch, header)
            batch, header = [], False
    if fmt == "csv" and (batch or header):
        yield _csv(batch, header)


def _csv(rows: list[dict[str, Any]], header: bool) -> str:
    text = csv_text(pd.DataFrame(rows, columns=list(COLUMNS)))
    return text if header else text.split("\r\n", 1)[1]
