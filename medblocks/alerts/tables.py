"""The alerts' tables in the mirror's database (created by migration 0004), described on the
mirror's own `schema.metadata` so the migrations are checked against them like every table.

- `alert_state`: one row per alert key (`rule:group`) ever seen firing: whether it fires now
  and since when (its episode), so a repeat, a "resolved" and the next episode are told apart.
- `alert_sends`: every decision to send, keyed by what makes it unique (alert key, episode,
  repeat slot or "resolved"); the primary key makes the decision once across processes and
  replicas sharing the database. Its outcome (sent, failed, silenced) and why are kept.
- `alert_silences`: a rule (and optionally one group) muted until a time.
"""

from __future__ import annotations

import sqlalchemy as sa

from medblocks.mirror.schema import Stamp, metadata

alert_state = sa.Table(
    "alert_state",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("rule", sa.String(40), nullable=False),
    sa.Column("group_key", sa.String(250), nullable=False),
    sa.Column("firing", sa.Boolean, nullable=False),
    sa.Column("started_at", Stamp, nullable=False),
    sa.Column("resolved_at", Stamp),
    sa.Column("updated_at", Stamp, nullable=False),
)

alert_sends = sa.Table(
    "alert_sends",
    metadata,
    sa.Column("id", sa.String(400), primary_key=True),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("rule", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("decided_at", Stamp, nullable=False),
    sa.Column("decided_by", sa.String(120), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("link", sa.Text, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("detail", sa.Text),
    sa.Index("ix_alert_sends_decided_at", "decided_at"),
)

alert_silences = sa.Table(
    "alert_silences",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("rule", sa.String(40), nullable=False),
    sa.Column("group_key", sa.String(250)),
    sa.Column("ends_at", Stamp, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
)
