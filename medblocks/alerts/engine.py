"""Deciding what to send, once, and sending it: Alertmanager's habits over the mirror's database.

For every alert firing now (`rules`), the decision's id is its key, its episode (when it
started firing) and its repeat slot (how many repeat intervals have passed since then); an
alert that stopped firing gets "resolved" as its last slot. The decision is an insert that does
nothing when the id exists (the primary key decides), so processes and dashboard replicas that
evaluate the same change at the same time send each message once, and a re-evaluation within
the repeat interval sends nothing. A silenced alert's decision is recorded as `silenced` and
not sent. Only the rules evaluated in a run can resolve: a change to the mirror never resolves
a webhook or contract alert that only `alerts check` reads.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from medblocks.alerts import channels
from medblocks.alerts.rules import MIRROR_RULES, Firing, mirror_firings
from medblocks.alerts.settings import AlertSettings
from medblocks.alerts.tables import alert_sends, alert_silences, alert_state
from medblocks.mirror.db import Mirror, now_iso
from medblocks.mirror.source_queries import SOURCE_NAMES, iso

log = logging.getLogger("medblocks.alerts")


@dataclass(frozen=True)
class Decision:
    id: str
    key: str
    rule: str
    kind: str  # firing, repeat, resolved, test
    title: str
    outcome: str  # sent, failed, silenced
    detail: str


def who() -> str:
    """The deciding process, for the history (host and process id)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _stamp(text: str) -> datetime:
    return pd.Timestamp(text).to_pydatetime()


def source_names(mirror: Mirror) -> dict[str, str]:
    """The catalog's names saved by the last `alerts check` or Alerts page (ids otherwise)."""
    return {str(k): str(v) for k, v in (mirror.checkpoint(SOURCE_NAMES) or {}).items()}


def save_source_names(mirror: Mirror, names: Mapping[str, str]) -> None:
    if dict(names) != source_names(mirror):
        with mirror.write() as db:
            mirror.save_checkpoint(db, SOURCE_NAMES, names)


def active_silences(mirror: Mirror, now: datetime) -> list[Any]:
    s = alert_silences
    with mirror.read() as db:
        return list(db.execute(sa.select(s).where(s.c.ends_at > iso(now))).all())


def _silenced(silences: Iterable[Any], rule: str, group: str) -> Any:
    for silence in silences:
        if silence.rule == rule and silence.group_key in (None, "", group):
            return silence
    return None


def _firing_states(mirror: Mirror) -> dict[str, Any]:
    with mirror.read() as db:
        rows = db.execute(sa.select(alert_state).where(alert_state.c.firing.is_(True))).all()
    return {row.key: row for row in rows}


def _decide(
    mirror: Mirror,
    settings: AlertSettings,
    send_id: str,
    firing: Firing,
    kind: str,
    silences: list[Any],
    by: str,
) -> Decision | None:
    """Insert the decision (None: another evaluation made it already), then send it."""
    silence = _silenced(silences, firing.rule, firing.group)
    title = f"RESOLVED: {firing.title}" if kind == "resolved" else firing.title
    row = {
        "id": send_id,
        "key": firing.key,
        "rule": firing.rule,
        "kind": kind,
        "decided_at": now_iso(),
        "decided_by": by[:120],
        "title": title,
        "body": firing.body,
        "link": firing.link,
        "outcome": "silenced" if silence is not None else "sending",
        "detail": f"silenced until {silence.ends_at}: {silence.comment}" if silence else None,
    }
    with mirror.write() as db:
        if not mirror.insert_new(db, alert_sends, row):
            return None
    if silence is not None:
        detail = str(row["detail"])
        return Decision(send_id, firing.key, firing.rule, kind, title, "silenced", detail)
    body = f"{firing.body}\n\nOpen: {firing.link}"
    delivery = channels.deliver(settings.urls, title, body, kind)
    outcome = "sent" if delivery.ok else "failed"
    with mirror.write() as db:
        db.execute(
            sa.update(alert_sends)
            .where(alert_sends.c.id == send_id)
            .values(outcome=outcome, detail=delivery.detail())
        )
    if not delivery.ok:
        log.warning("alert %s (%s): %s", firing.key, kind, delivery.detail())
    return Decision(send_id, firing.key, firing.rule, kind, title, outcome, delivery.detail())


def evaluate(
    mirror: Mirror,
    settings: AlertSettings,
    firings: list[Firing],
    evaluated: Iterable[str],
    *,
    held: AbstractSet[str] = frozenset(),
    now: datetime | None = None,
    by: str | None = None,
) -> list[Decision]:
    """Decide and send for `firings` (what the rules in `evaluated` raise now)."""
    now = now or datetime.now(UTC)
    by = by or who()
    evaluated = set(evaluated)
    states = _firing_states(mirror)
    silences = active_silences(mirror, now)
    repeat = timedelta(minutes=settings.repeat_minutes)
    decisions = []
    firing_keys = set()
    for firing in firings:
        firing_keys.add(firing.key)
        state = states.get(firing.key)
        episode = state.started_at if state is not None else firing.started_at
        if state is None:
            row = {
                "key": firing.key,
                "rule": firing.rule,
                "group_key": firing.group,
                "firing": True,
                "started_at": episode,
                "resolved_at": None,
                "updated_at": now_iso(),
            }
            with mirror.write() as db:
                mirror.upsert(db, alert_state, [row], "key")
        slot = max(int((now - _stamp(episode)) / repeat), 0)
        kind = "firing" if slot == 0 or state is None else "repeat"
        decision = _decide(
            mirror, settings, f"{firing.key}|{episode}|{slot}", firing, kind, silences, by
        )
        if decision is not None:
            decisions.append(decision)
    for key, state in states.items():
        if key in firing_keys or key in held or state.rule not in evaluated:
            continue
        with mirror.write() as db:
            db.execute(
                sa.update(alert_state)
                .where(alert_state.c.key == key)
                .values(firing=False, resolved_at=iso(now), updated_at=now_iso())
            )
        last = _last_sent(mirror, key)
        if last is None:
            continue
        ended = Firing(
            state.rule,
            state.group_key,
            state.started_at,
            last.title,
            f"Resolved at {now:%Y-%m-%d %H:%M} UTC. It was: {last.body}",
            last.link,
        )
        decision = _decide(
            mirror, settings, f"{key}|{state.started_at}|resolved", ended, "resolved", silences, by
        )
        if decision is not None:
            decisions.append(decision)
    return decisions


def _last_sent(mirror: Mirror, key: str) -> Any:
    """The alert's newest message that was sent (or tried): a RESOLVED is worth sending only
    after one; an alert silenced all along ends quietly."""
    s = alert_sends
    query = (
        sa.select(s.c.title, s.c.body, s.c.link)
        .where(
            s.c.key == key,
            s.c.kind.in_(("firing", "repeat")),
            s.c.outcome.in_(("sent", "failed", "sending")),
        )
        .order_by(s.c.decided_at.desc())
        .limit(1)
    )
    with mirror.read() as db:
        return db.execute(query).first()


def evaluate_after_change(
    mirror: Mirror,
    settings: AlertSettings,
    *,
    now: datetime | None = None,
    by: str | None = None,
) -> list[Decision]:
    """The mirror's rules after a change to the mirror (a sync's end, an applied event, an
    action), with `settings` as `medblocks.alerts.hook` read them. Nothing at all when no
    channel is configured; never raises (a failure is logged without any URL): the change
    itself has happened and must not be undone by an alert."""
    try:
        if not settings.urls:
            return []
        now = now or datetime.now(UTC)
        firings, held = mirror_firings(mirror, settings, now, source_names(mirror))
        rules = [r for r in MIRROR_RULES if r in settings.rules]
        return evaluate(mirror, settings, firings, rules, held=held, now=now, by=by)
    except Exception as exc:  # an alert never breaks the write path
        log.warning("alert evaluation failed: %s", type(exc).__name__)
        return []


def test_send(mirror: Mirror, settings: AlertSettings, by: str) -> Decision:
    """A test message to every channel, recorded in the history like any other."""
    firing = Firing(
        "test",
        uuid.uuid4().hex[:12],
        now_iso(),
        "Test message from the Medblocks workbench",
        "If you read this, alerts reach this channel. Nothing needs doing.",
        settings.link("alerts"),
    )
    decision = _decide(mirror, settings, f"test|{firing.group}", firing, "test", [], by)
    assert decision is not None  # a fresh random id is never taken
    return decision


def add_silence(
    mirror: Mirror, rule: str, group: str | None, hours: float, comment: str, by: str
) -> str:
    silence_id = uuid.uuid4().hex[:16]
    row = {
        "id": silence_id,
        "rule": rule,
        "group_key": group or None,
        "ends_at": iso(datetime.now(UTC) + timedelta(hours=hours)),
        "comment": comment,
        "created_by": by,
        "created_at": now_iso(),
    }
    with mirror.write() as db:
        db.execute(sa.insert(alert_silences), [row])
    return silence_id


def end_silence(mirror: Mirror, silence_id: str) -> bool:
    """End a silence now (kept in the table, as history)."""
    with mirror.write() as db:
        result = db.execute(
            sa.update(alert_silences)
            .where(alert_silences.c.id == silence_id, alert_silences.c.ends_at > now_iso())
            .values(ends_at=now_iso())
        )
    return bool(result.rowcount)


def history(mirror: Mirror, limit: int = 200) -> pd.DataFrame:
    """The newest decisions first: when, by whom, what, the outcome and why."""
    s = alert_sends
    query = (
        sa.select(
            s.c.decided_at,
            s.c.rule,
            s.c.kind,
            s.c.title,
            s.c.outcome,
            s.c.detail,
            s.c.link,
            s.c.decided_by,
            s.c.body,
        )
        .order_by(s.c.decided_at.desc())
        .limit(limit)
    )
    with mirror.read() as db:
        result = db.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def silences_frame(mirror: Mirror) -> pd.DataFrame:
    s = alert_silences
    with mirror.read() as db:
        result = db.execute(sa.select(s).order_by(s.c.created_at.desc()))
        return pd.DataFrame(result.all(), columns=list(result.keys()))
