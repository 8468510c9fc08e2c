"""Ops answers at scale: the Hospital status view and alert evaluation on a mirror of
`--patients` patients (default 100,000).

The mirror (a temporary SQLite file, or `--database-url`) is filled DIRECTLY with synthetic
rows, as a finished sync would leave them, instead of by a sync (a 100,000-patient sync takes
minutes; `bench/mirror_scale.py` measures that): 1.5 connections a patient on average over the
sandbox catalog's sources, statuses mixed (80% active, 8% failed, 5% refresh_failed, 3%
expired, 4% disconnected), created over 60 days, with their status history (one row when each
was created, a second for those that failed after being active). A small sandbox process is the
dashboard's target (for the catalog's names); the mirror is bound to it before the dashboard
opens it.

1. Hospital status in Chromium (`streamlit run dashboard.py`, Playwright, the render rule of
   `bench/dashboard_pages.py`): one cold visit, then `--warm-passes` warm visits (median);
   also the per-source frame computed directly (`source_health.sources_frame`).
2. A 1% change written as a sync would (statuses changed, history rows added, `failing_since`
   kept, the mirror touched), then `evaluate_after_change` with one `json://` channel to a
   local receiver: the time to evaluate every mirror rule, decide and deliver.

Targets: Hospital status warm <= 1.5 s; alert evaluation after a 1% change <= 1.0 s. The last
line is `targets: met` or `targets: missed: <which>`.

    python bench/ops_scale.py [--patients 100000] [--database-url URL] [--warm-passes 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _processes import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import subprocess  # noqa: E402

import sqlalchemy as sa  # noqa: E402
from dashboard_pages import VIEWPORT, figure, fresh_visit, visit  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from medblocks.alerts import engine  # noqa: E402
from medblocks.alerts.settings import AlertSettings  # noqa: E402
from medblocks.client import Medblocks  # noqa: E402
from medblocks.dashboard import source_health  # noqa: E402
from medblocks.mirror import Mirror, open_mirror, schema  # noqa: E402
from medblocks.mirror.identity import Organisation  # noqa: E402
from medblocks.mirror.source_queries import iso  # noqa: E402
from medblocks.mirror.statuses import FAILING  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.streamlit_app import streamlit_server  # noqa: E402
from tests.mirror.alert_inbox import running_inbox  # noqa: E402

TARGET_VIEW_S = 1.5
TARGET_ALERTS_S = 1.0
STATUSES = [
    ("active", 80),
    ("failed", 8),
    ("refresh_failed", 5),
    ("expired", 3),
    ("disconnected", 4),
]
CODES = ["portal_login_failed", "user_denied", "oauth_error", "consent_timeout"]
CHUNK = 5_000


def start_sandbox() -> tuple[subprocess.Popen[bytes], str, str]:
    key = "mb_sk_sbx_" + os.urandom(12).hex()
    base_url = f"http://127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "medblocks.sandbox", "--memory", "--port", base_url.rsplit(":")[-1]],
        cwd=ROOT,
        env=dict(os.environ, MEDBLOCKS_SANDBOX_API_KEY=key),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/health").is_success:
                return process, key, base_url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop(process)
    raise SystemExit("the sandbox did not start")


def insert(mirror: Mirror, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        with mirror.write() as db:
            db.execute(sa.insert(table), rows[start : start + CHUNK])


def fill(mirror: Mirror, patients: int, sources: list[str], now: datetime) -> None:
    """Synthetic rows as a finished sync leaves them (see the docstring)."""
    rng = random.Random(20)
    names, weights = zip(*STATUSES, strict=True)
    stamp = iso(now)
    patient_rows, connection_rows, history = [], [], []
    for p in range(patients):
        pid = f"pat_{p:07d}"
        patient_rows.append(
            {
                "id": pid,
                "email": None,
                "name": None,
                "metadata": "{}",
                "created_at": iso(now - timedelta(days=61)),
                "sync_run": None,
                "mirrored_at": stamp,
            }
        )
        for c in range(1 + (p % 2)):
            source = sources[rng.randrange(len(sources))]
            status = rng.choices(names, weights)[0]
            created = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
            failed_at = created + (now - created) * rng.random()
            cid = f"conn_{p:07d}_{c}"
            code = rng.choice(CODES) if status == "failed" else None
            row = {
                "id": cid,
                "patient_id": pid,
                "source_id": source,
                "status": status,
                "scopes": "[]",
                "failure_code": code,
                "failure_at": iso(created) if status == "failed" else None,
                "created_at": iso(created),
                "updated_at": iso(failed_at if status in FAILING else created),
                "patient_session_id": None,
                "failing_since": None,
                "records_arrived": status == "active",
                "mirrored_at": stamp,
            }
            first = "failed" if status == "failed" else "active"
            change = {
                "connection_id": cid,
                "patient_id": pid,
                "source_id": source,
                "from_status": None,
                "failure_code": code,
                "observed_at": stamp,
                "observed_by": "sync",
            }
            history.append(change | {"to_status": first, "changed_at": iso(created)})
            if status == "failed":
                row["failing_since"] = iso(created)
            elif status in FAILING:
                row["failing_since"] = iso(failed_at)
                history.append(
                    change
                    | {"from_status": "active", "to_status": status, "changed_at": iso(failed_at)}
                )
            connection_rows.append(row)
    insert(mirror, schema.patients, patient_rows)
    insert(mirror, schema.connections, connection_rows)
    insert(mirror, schema.status_changes, history)
    with mirror.write() as db:
        mirror.touch(db)


def change_one_percent(mirror: Mirror, now: datetime) -> int:
    """1% of connections change as a sync would write them: active ones at one source fail (an
    incident), others fail or come back; history rows added, the mirror touched."""
    c = schema.connections
    with mirror.read() as db:
        rows = db.execute(sa.select(c.c.id, c.c.patient_id, c.c.source_id, c.c.status)).all()
    rng = random.Random(21)
    chosen = rng.sample(rows, max(len(rows) // 100, 1))
    stamp = iso(now)
    history = []
    with mirror.write() as db:
        for i, row in enumerate(chosen):
            to = "active" if row.status in FAILING else "failed"
            when = iso(now - timedelta(seconds=len(chosen) - i))
            db.execute(
                sa.update(c)
                .where(c.c.id == row.id)
                .values(
                    status=to,
                    failure_code="portal_login_failed" if to == "failed" else None,
                    updated_at=when,
                    failing_since=when if to == "failed" else None,
                    mirrored_at=stamp,
                )
            )
            history.append(
                {
                    "connection_id": row.id,
                    "patient_id": row.patient_id,
                    "source_id": row.source_id,
                    "from_status": row.status,
                    "to_status": to,
                    "failure_code": "portal_login_failed" if to == "failed" else None,
                    "changed_at": when,
                    "observed_at": stamp,
                    "observed_by": "sync",
                }
            )
        db.execute(sa.insert(schema.status_changes), history)
        mirror.touch(db)
    return len(chosen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--warm-passes", type=int, default=3)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"Chromium is missing at {CHROMIUM} (apt-get install chromium)")
    missed: list[str] = []
    scratch = tempfile.TemporaryDirectory(prefix="ops-scale-")
    url = args.database_url or f"sqlite:///{Path(scratch.name) / 'mirror.sqlite3'}"
    sandbox, key, base_url = start_sandbox()
    try:
        with Medblocks(key, base_url=base_url) as client:
            catalog = {s.id: s.name for s in client.sources.list()}
        mirror = open_mirror(url)
        with mirror.write() as db:  # the dashboard's claim then finds its own organisation
            Organisation.of(base_url, key).bind(mirror, db)
        now = datetime.now(UTC)
        began = time.monotonic()
        fill(mirror, args.patients, sorted(catalog), now)
        with mirror.read() as db:
            connections = db.execute(sa.select(sa.func.count()).select_from(schema.connections))
            count = int(connections.scalar_one())
        print(
            f"mirror: {args.patients} patients, {count} connections, {len(catalog)} sources, "
            f"filled in {time.monotonic() - began:.1f} s"
        )
        began = time.monotonic()
        frame = source_health.sources_frame(mirror, datetime.now(UTC), catalog)
        print(
            f"per-source frame computed directly: {time.monotonic() - began:.2f} s "
            f"({len(frame)} sources)"
        )

        env = {
            "MEDBLOCKS_API_KEY": key,
            "MEDBLOCKS_API_URL": base_url,
            "MEDBLOCKS_DATABASE_URL": url,
        }
        with streamlit_server(env) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                cold = fresh_visit(browser, base, "hospitals", "Hospital status")
                print(f"Hospital status cold: {figure(cold.seconds)} s {cold.problem}")
                context = browser.new_context(viewport=VIEWPORT)
                visit(context, base, "hospitals", "Hospital status")  # fills its HTTP cache
                warm = [
                    visit(context, base, "hospitals", "Hospital status")
                    for _ in range(args.warm_passes)
                ]
                context.close()
            finally:
                browser.close()
        seconds = [v.seconds for v in warm if v.seconds is not None and not v.problem]
        problems = [v.problem or "not rendered" for v in warm if v.seconds is None or v.problem]
        median = statistics.median(seconds) if seconds else None
        print(
            f"Hospital status warm: {figure(median)} s (passes: "
            f"{' '.join(figure(v.seconds) for v in warm)})"
        )
        if problems or cold.problem:
            missed.append(f"Hospital status: {'; '.join([*problems, cold.problem])}")
        elif median is None or median > TARGET_VIEW_S:
            missed.append(f"Hospital status warm {figure(median)} s > {TARGET_VIEW_S} s")

        changed = change_one_percent(mirror, datetime.now(UTC))
        with running_inbox() as inbox:
            settings = AlertSettings(urls=(inbox.url,))
            began = time.monotonic()
            decisions = engine.evaluate_after_change(mirror, settings, by="bench")
            took = time.monotonic() - began
            inbox.wait_for(len([d for d in decisions if d.outcome == "sent"]))
        print(
            f"alert evaluation after a 1% change ({changed} connections): {took:.2f} s, "
            f"{len(decisions)} messages decided "
            f"({sum(d.rule == 'new_failures' for d in decisions)} new-failure groups, "
            f"{sum(d.rule == 'source_incident' for d in decisions)} incidents), "
            f"{len(inbox.messages)} delivered"
        )
        if took > TARGET_ALERTS_S:
            missed.append(f"alert evaluation {took:.2f} s > {TARGET_ALERTS_S} s")
        began = time.monotonic()
        again = engine.evaluate_after_change(mirror, settings, by="bench")
        print(
            f"re-evaluation, nothing new: {time.monotonic() - began:.2f} s, {len(again)} messages"
        )
        mirror.close()
    finally:
        stop(sandbox)
        scratch.cleanup()
    print("targets: met" if not missed else "targets: missed: " + "; ".join(missed))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
