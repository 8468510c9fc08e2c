"""The alert rules: what fires now, grouped, in ops words, without PHI.

Each rule returns `Firing` items, one per group (a source, the mirror, an endpoint, the latest
contract run). A message names hospitals, counts, statuses, failure codes and times; never a
patient's name, e-mail or id (counts are enough to act on, and the link opens the view where
the patients are, behind the dashboard's own sign-in).

- `new_failures` (per source): connections now failing whose current failing run started in the
  last `new_failure_minutes`. Connections that failed during an incident of their source (from
  its start to its resolution) are left out: the incident alert covers them. Only a failing
  run whose start is exact (`failing_since_exact`: the server's `failure_at`, or a change the
  mirror saw happen) counts: a failure first seen already there — everything a first sync finds
  — is dated "at least since" the sighting and is not new, so it never fires as if it were.
- `source_incident` (per source): the incident rule of `medblocks.dashboard.source_health`.
- `stale_mirror`: no sync page, sync end, change or webhook event written to the mirror for
  `stale_minutes` (a mirror never written is not stale: it has not started).
- `webhook_endpoint` (per endpoint; `alerts check` only, read through the API): an endpoint
  whose status is `disabled`, or with `FAILING_DELIVERIES` or more undelivered events that were
  attempted.
- `contract_run` (`alerts check` only): the newest contract run has failures or drift.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa

from medblocks.alerts.settings import AlertSettings
from medblocks.alerts.tables import alert_state
from medblocks.dashboard import source_health
from medblocks.dashboard.ops_wording import ops_wording
from medblocks.dashboard.tables import time_text
from medblocks.mirror import schema
from medblocks.mirror.db import Mirror
from medblocks.mirror.source_queries import iso, last_activity
from medblocks.mirror.statuses import FAILING

FAILING_DELIVERIES = 3
MIRROR_RULES = ("new_failures", "source_incident", "stale_mirror")


@dataclass(frozen=True)
class Firing:
    rule: str
    group: str
    started_at: str  # ISO, as the mirror stores times: the episode's start
    title: str
    body: str
    link: str

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.group}"


def _when(moment: Any) -> str:
    return time_text([pd.Timestamp(moment)])[0]


def _hospital_link(settings: AlertSettings, source_id: str) -> str:
    return settings.link("hospitals?" + urlencode({"hospital": source_id}))


def _reasons(rows: Iterable[tuple[str, str | None]]) -> str:
    counts = Counter(code or status for status, code in rows)
    return ", ".join(f"{reason} ×{n}" for reason, n in counts.most_common(3))


def incident_episodes(mirror: Mirror) -> dict[str, list[tuple[str, str | None]]]:
    """Each source's incident alerts (start, end; None while it lasts), from the alert state."""
    s = alert_state
    query = sa.select(s.c.group_key, s.c.started_at, s.c.resolved_at, s.c.firing).where(
        s.c.rule == "source_incident"
    )
    with mirror.read() as db:
        rows = db.execute(query).all()
    found: dict[str, list[tuple[str, str | None]]] = {}
    for row in rows:
        end = None if row.firing else row.resolved_at
        found.setdefault(row.group_key, []).append((row.started_at, end))
    return found


def new_failures(
    mirror: Mirror,
    settings: AlertSettings,
    now: datetime,
    names: Mapping[str, str],
    skip: set[str],
) -> list[Firing]:
    c = schema.connections
    start = iso(now - timedelta(minutes=settings.new_failure_minutes))
    query = sa.select(c.c.source_id, c.c.status, c.c.failure_code, c.c.failing_since).where(
        c.c.status.in_(sorted(FAILING)),
        c.c.failing_since >= start,
        # a failure the mirror first saw already there ("at least since", a first sync's
        # finding) is not news: only a failure dated by the server or seen happening fires
        c.c.failing_since_exact.is_(True),
    )
    with mirror.read() as db:
        rows = db.execute(query).all()
    episodes = incident_episodes(mirror)
    by_source: dict[str, list[Any]] = {}
    for row in rows:
        covered = any(
            start <= row.failing_since and (end is None or row.failing_since <= end)
            for start, end in episodes.get(row.source_id, [])
        )
        if row.source_id not in skip and not covered:
            by_source.setdefault(row.source_id, []).append(row)
    firings = []
    for source_id, group in sorted(by_source.items()):
        name = names.get(source_id, source_id)
        first = min(row.failing_since for row in group)
        top = Counter((row.status, row.failure_code) for row in group).most_common(1)[0][0]
        words = ops_wording(*top)
        count = len(group)
        firings.append(
            Firing(
                "new_failures",
                source_id,
                first,
                f"{name}: {count} connection{'s' if count != 1 else ''} started failing",
                f"{count} connection{'s' if count != 1 else ''} at {name} started failing "
                f"since {_when(first)} ({_reasons((r.status, r.failure_code) for r in group)}). "
                f"Most common: {words.what_happened} Who acts: {words.who_acts}. "
                f"What to do: {words.what_to_do}",
                _hospital_link(settings, source_id),
            )
        )
    return firings


def source_incidents(
    mirror: Mirror, settings: AlertSettings, now: datetime, names: Mapping[str, str]
) -> list[Firing]:
    firings = []
    for source_id, incident in sorted(source_health.incidents(mirror, now).items()):
        name = names.get(source_id, source_id)
        firings.append(
            Firing(
                "source_incident",
                source_id,
                iso(incident.started_at),
                f"Incident: {name} is failing",
                f"{name}: its last {incident.failures_in_a_row} connection attempts failed, "
                f"since {_when(incident.started_at)}. Failure rate over 24 h "
                f"{incident.rate:.0%} against a usual {incident.usual_rate:.0%}. Likely the "
                "hospital's portal or sign-in: check its status, and hold new links for its "
                "patients until it recovers (this alert resolves at its next success).",
                _hospital_link(settings, source_id),
            )
        )
    return firings


def stale_mirror(mirror: Mirror, settings: AlertSettings, now: datetime) -> list[Firing]:
    last = last_activity(mirror)
    if last is None:
        return []
    since = pd.Timestamp(last).to_pydatetime()
    if now - since < timedelta(minutes=settings.stale_minutes):
        return []
    minutes = int((now - since).total_seconds() // 60)
    return [
        Firing(
            "stale_mirror",
            "mirror",
            last,
            "The org mirror is stale",
            f"No sync and no webhook event reached the mirror for {minutes} min (last write "
            f"{_when(since)}). The dashboard's org-wide pages show data as of then. Check the "
            "scheduled `python -m medblocks mirror sync` and the webhook receiver.",
            settings.link("overview"),
        )
    ]


def webhook_endpoints(
    endpoints: Iterable[Any], undelivered: Mapping[str, list[Any]], settings: AlertSettings
) -> list[Firing]:
    """`endpoints` as the API lists them; `undelivered`: each endpoint's undelivered events."""
    firings = []
    for endpoint in endpoints:
        tried = [e for e in undelivered.get(endpoint.id, []) if e.attempts >= 1]
        if str(endpoint.status) == "disabled":
            body = (
                f"Webhook endpoint {endpoint.id} is disabled: Medblocks sends it no events, so "
                "the mirror learns changes only at the next sync. Enable it again once its "
                "receiver answers."
            )
            started = endpoint.updated_at
        elif len(tried) >= FAILING_DELIVERIES:
            codes = Counter(str(e.last_status_code) for e in tried).most_common(2)
            body = (
                f"Webhook endpoint {endpoint.id}: {len(tried)} events are not delivered after "
                f"retries (last answers: {', '.join(f'{c} ×{n}' for c, n in codes)}). Check "
                "that the receiver (`python -m medblocks mirror listen`) runs and is reachable."
            )
            started = min(e.created_at for e in tried)
        else:
            continue
        firings.append(
            Firing(
                "webhook_endpoint",
                endpoint.id,
                started,
                f"Webhook endpoint {endpoint.id} is not receiving events",
                body,
                settings.link("webhooks"),
            )
        )
    return firings


def contract_run(summary: Mapping[str, Any] | None, settings: AlertSettings) -> list[Firing]:
    """The newest contract run's summary (`contract_runs.report_sets()[0].summary`)."""
    if not summary:
        return []
    failed = int(summary.get("failed") or 0)
    drift = summary.get("drift_headline")
    drifted = drift not in (None, "in-sync")
    if not failed and not drifted:
        return []
    parts = [f"{failed} failed checks"] if failed else []
    if drifted:
        parts.append(f"drift: {drift}")
    return [
        Firing(
            "contract_run",
            "latest",
            str(summary.get("finished_at") or ""),
            "The latest contract run found problems",
            f"Contract run against {summary.get('target', 'the target')} finished "
            f"{_when(summary.get('finished_at'))}: {'; '.join(parts)}. Open the report for "
            "the failures grouped by cause with their request ids.",
            settings.link("contract"),
        )
    ]


def mirror_firings(
    mirror: Mirror, settings: AlertSettings, now: datetime, names: Mapping[str, str]
) -> tuple[list[Firing], set[str]]:
    """What the mirror's rules raise now, and the keys held back (new failures of a source in
    an incident: neither sent nor resolved while the incident stands)."""
    firings: list[Firing] = []
    held: set[str] = set()
    incidents: list[Firing] = []
    if "source_incident" in settings.rules:
        incidents = source_incidents(mirror, settings, now, names)
        firings += incidents
    in_incident = {f.group for f in incidents}
    if "new_failures" in settings.rules:
        firings += new_failures(mirror, settings, now, names, in_incident)
        held = {f"new_failures:{source}" for source in in_incident}
    if "stale_mirror" in settings.rules:
        firings += stale_mirror(mirror, settings, now)
    return firings, held
