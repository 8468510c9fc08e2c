"""`python -m medblocks alerts check | test | silence`: evaluate the alert rules on a schedule,
send a test message, mute a rule for a while.

Each runs inside `medblocks.cli_failures.run_command` like every other command: a failure (a
database that is away, a setting that cannot be used) is a few lines and a non-zero status,
the traceback only with `--verbose`.

`check` evaluates every rule in `MEDBLOCKS_ALERT_RULES`: the mirror's (new failures per
source, source incidents, a stale mirror), the newest contract run's report, and, when a target
is configured (`MEDBLOCKS_API_KEY`), its webhook endpoints through the API (the mirror does not
hold their state). It also saves the catalog's source names so messages name hospitals. With no
channel configured it prints what fires and records nothing.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from medblocks.alerts.settings import RULES, AlertSettings, alert_settings
from medblocks.cli_failures import add_verbose_option
from medblocks.client import Medblocks, MedblocksError
from medblocks.config import load_settings
from medblocks.mirror.db import Mirror, open_mirror
from medblocks.mirror.pacing import describe_failure

if TYPE_CHECKING:
    from medblocks.alerts import rules

HELP = "alerts: evaluate the rules and send (check), a test message, silences"


def _webhook_firings(settings: AlertSettings, mirror: Mirror) -> list[rules.Firing] | None:
    """The webhook rule's firings, None when it could not be evaluated (said why)."""
    from medblocks.alerts import engine, rules

    target = load_settings()
    if target.api_key is None or target.base_url is None:
        print("webhook endpoints: not checked (no target configured: MEDBLOCKS_API_KEY)")
        return None
    try:
        with Medblocks(
            target.api_key, base_url=target.base_url, api_version=target.api_version
        ) as client:
            engine.save_source_names(mirror, {s.id: s.name for s in client.sources.list()})
            endpoints = list(client.webhooks.list())
            undelivered = {
                e.id: client.webhooks.events_page(e.id, delivered=False, limit=20).data
                for e in endpoints
            }
    except MedblocksError as exc:
        print(f"webhook endpoints: not checked ({describe_failure(exc)})")
        return None
    return rules.webhook_endpoints(endpoints, undelivered, settings)


def _latest_contract_summary() -> dict[str, object] | None:
    from medblocks.dashboard import contract_runs

    sets = contract_runs.report_sets()
    return sets[0].summary if sets else None


def run_check(args: argparse.Namespace) -> int:
    from medblocks.alerts import channels, engine, rules

    settings = alert_settings()
    for problem in channels.problems(settings.urls):
        print(f"warning: {problem}")
    mirror = open_mirror(args.database_url)
    try:
        now = datetime.now(UTC)
        evaluated = [r for r in rules.MIRROR_RULES if r in settings.rules]
        if "webhook_endpoint" in settings.rules:
            found = _webhook_firings(settings, mirror)
            if found is not None:
                evaluated.append("webhook_endpoint")
        firings, held = rules.mirror_firings(mirror, settings, now, engine.source_names(mirror))
        if "webhook_endpoint" in evaluated:
            firings += found or []
        if "contract_run" in settings.rules:
            firings += rules.contract_run(_latest_contract_summary(), settings)
            evaluated.append("contract_run")
        for firing in firings:
            print(f"firing: {firing.title} (since {firing.started_at})")
        if not firings:
            print("firing: nothing")
        if not settings.urls:
            print("no channel configured (MEDBLOCKS_ALERT_URLS): nothing sent or recorded")
            return 0
        decisions = engine.evaluate(
            mirror,
            settings,
            firings,
            evaluated,
            held=held,
            now=now,
            by=f"alerts check {engine.who()}",
        )
        for d in decisions:
            print(f"{d.kind}: {d.title} -> {d.outcome} ({d.detail})")
        print(f"decided {len(decisions)} message(s); the rest were sent already or need no repeat")
        return 1 if any(d.outcome == "failed" for d in decisions) else 0
    finally:
        mirror.close()


def run_test(args: argparse.Namespace) -> int:
    from medblocks.alerts import engine

    settings = alert_settings()
    if not settings.urls:
        print("no channel configured: set MEDBLOCKS_ALERT_URLS (apprise URLs)")
        return 2
    mirror = open_mirror(args.database_url)
    try:
        decision = engine.test_send(mirror, settings, f"alerts test {engine.who()}")
    finally:
        mirror.close()
    print(f"test message: {decision.outcome} ({decision.detail})")
    return 0 if decision.outcome == "sent" else 1


def run_silence(args: argparse.Namespace) -> int:
    from medblocks.alerts import engine

    mirror = open_mirror(args.database_url)
    try:
        if args.silence == "add":
            silence_id = engine.add_silence(
                mirror, args.rule, args.group, args.hours, args.comment, f"cli {engine.who()}"
            )
            print(
                f"silence {silence_id}: {args.rule} {args.group or '(every group)'} "
                f"for {args.hours} h"
            )
        elif args.silence == "end":
            ended = engine.end_silence(mirror, args.id)
            print(f"silence {args.id}: {'ended' if ended else 'not active (nothing to end)'}")
            return 0 if ended else 1
        else:
            frame = engine.silences_frame(mirror)
            if frame.empty:
                print("no silences")
            for row in frame.itertuples():
                print(
                    f"{row.id}  {row.rule}  {row.group_key or '*'}  until {row.ends_at}  "
                    f"{row.comment}  ({row.created_by})"
                )
    finally:
        mirror.close()
    return 0


def add_alerts_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    alerts = commands.add_parser("alerts", help=HELP, description=HELP)
    alerts.add_argument(
        "--database-url", help="the mirror's database (default: MEDBLOCKS_DATABASE_URL)"
    )
    actions = alerts.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="evaluate every rule now and send what is due")
    check.set_defaults(run=run_check)
    add_verbose_option(check)
    test = actions.add_parser("test", help="send a test message to every channel")
    test.set_defaults(run=run_test)
    add_verbose_option(test)
    silence = actions.add_parser("silence", help="mute a rule (or one group of it) for a while")
    kinds = silence.add_subparsers(dest="silence", required=True)
    add = kinds.add_parser("add", help="mute RULE (optionally one GROUP) for --hours")
    add.add_argument("rule", choices=[*RULES])
    add.add_argument("--group", help="one group: a source id, an endpoint id, `mirror`")
    add.add_argument("--hours", type=float, required=True)
    add.add_argument("--comment", required=True, help="why (shown in the history)")
    end = kinds.add_parser("end", help="end a silence now")
    end.add_argument("id")
    kinds.add_parser("list", help="every silence, newest first")
    silence.set_defaults(run=run_silence)
    for sub in (add, end, kinds.choices["list"]):
        add_verbose_option(sub)
