"""`python -m medblocks`: the project's command line.

* `spec diff OLD NEW` compares two OpenAPI documents (files or URLs).
* `spec check [SOURCE]` compares the pinned document with SOURCE, or, without one, with the
  document the configured target serves at `/openapi/medblocks.json` (nothing configured: a
  fresh in-process sandbox, `medblocks.in_process`). The report's `compared:` line names both sides.
* `audit export [--format csv|jsonl] [--since WHEN]` writes the dashboard's audit log.

The exit status follows `--fail-on`: 0 below the threshold, 1 at or above it, 2 when the
comparison could not be made (headline `unknown`) or the command line is wrong.

Each command group is added by one `add_*_commands(commands)` function and runs through the
`run` default it sets, so a new group is one function and one line in `build_parser`. Every
command fails the same way (`medblocks.cli_failures.run_command`): a few lines saying what
failed and what to do, a non-zero status, the traceback only with `--verbose`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx

from medblocks.alerts.cli import add_alerts_commands
from medblocks.cli_failures import add_verbose_option, run_command
from medblocks.config import load_settings
from medblocks.in_process import start_in_process_sandbox
from medblocks.mirror import cli as mirror_cli
from medblocks.mirror.audit import EXPORT_FORMATS
from medblocks.mirror.db import open_mirror
from medblocks.served_spec import FETCH_TIMEOUT, SERVED_PATH, check_served_spec, fetch_url
from medblocks.spec import PINNED_LABEL, SpecError, load_pinned, read_document
from medblocks.spec.document import Document
from medblocks.spec.drift import DriftReport, diff_documents, unknown_report

IN_PROCESS_LABEL = f"in-process sandbox {SERVED_PATH}, started as nothing is configured"


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def load_source(source: str) -> Document:
    """A document from a URL (fetched with httpx) or a file path."""
    return fetch_url(source) if is_url(source) else read_document(source)


def check_configured_target() -> DriftReport:
    """The pinned document against what the configured target serves (no credentials sent);
    with nothing configured, a fresh in-process sandbox."""
    settings = load_settings()
    if settings.base_url is not None:
        with httpx.Client(
            base_url=settings.base_url, timeout=FETCH_TIMEOUT, follow_redirects=True
        ) as client:
            return check_served_spec(client, settings.base_url + SERVED_PATH)
    with start_in_process_sandbox(seed_demo=False).client() as client:
        return check_served_spec(client, IN_PROCESS_LABEL)


def run_diff(old_source: str, new_source: str) -> DriftReport:
    try:
        old = load_source(old_source)
    except SpecError as exc:
        return unknown_report(old_source, new_source, None, str(exc))
    try:
        new = load_source(new_source)
    except SpecError as exc:
        return unknown_report(old_source, new_source, old, str(exc))
    return diff_documents(old, new, old_source, new_source)


def run_check(source: str | None) -> DriftReport:
    if source is None:
        return check_configured_target()
    pinned = load_pinned()
    try:
        served = load_source(source)
    except SpecError as exc:
        return unknown_report(PINNED_LABEL, source, pinned, str(exc))
    return diff_documents(pinned, served, PINNED_LABEL, source)


def report_and_exit_status(report: DriftReport, args: argparse.Namespace) -> int:
    """Print (and with `--output` write) the report; the exit status `--fail-on` asks for."""
    rendered = report.render(args.format)
    print(rendered)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(rendered + "\n", encoding="utf-8")
    if report.headline == "unknown" and args.fail_on != "never":
        return 2
    return 1 if report.fails(args.fail_on) else 0


def add_spec_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    spec = commands.add_parser("spec", help="compare OpenAPI documents (version drift)")
    actions = spec.add_subparsers(dest="action", required=True)

    def report_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--format", choices=("text", "json", "markdown"), default="text", help="output format"
        )
        sub.add_argument(
            "--fail-on",
            choices=("breaking", "compatible", "info", "never"),
            default="breaking",
            help="exit 1 when a change of this level or a more severe one is found "
            "(default: breaking); `unknown` exits 2 unless `never`",
        )
        sub.add_argument("--output", type=Path, help="also write the report to this file")
        add_verbose_option(sub)

    diff = actions.add_parser("diff", help="classify every change from OLD to NEW")
    diff.add_argument("old", help="file or URL")
    diff.add_argument("new", help="file or URL")
    report_options(diff)
    diff.set_defaults(run=lambda args: report_and_exit_status(run_diff(args.old, args.new), args))
    check = actions.add_parser(
        "check", help="compare the pinned document with the one a target serves"
    )
    check.add_argument(
        "source",
        nargs="?",
        help="file or URL; default: the configured target's /openapi/medblocks.json",
    )
    report_options(check)
    check.set_defaults(run=lambda args: report_and_exit_status(run_check(args.source), args))


def add_mirror_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`mirror` is listed here with all its options; `main` hands its command line to
    `medblocks/mirror/cli.py`, which parses it with the same arguments."""
    mirror = commands.add_parser("mirror", help=mirror_cli.HELP, description=mirror_cli.HELP)
    mirror_cli.add_mirror_arguments(mirror)


def since_stamp(text: str) -> str:
    """`--since` (an ISO 8601 date or time; without a zone, UTC) as the log's stamps are written."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--since {text!r} is not an ISO 8601 date or time (e.g. 2026-12-01 or "
            "2026-12-01T09:00:00Z)"
        ) from None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_audit_export(args: argparse.Namespace) -> int:
    # imported here: the dashboard layer loads pandas, which no other command needs (the
    # receiver's memory bound is measured on `mirror listen`, started through this module)
    from medblocks.dashboard.audit import export_lines

    since = since_stamp(args.since) if args.since else None
    mirror = open_mirror(args.database_url)
    try:
        for chunk in export_lines(mirror, args.format, since):
            sys.stdout.write(chunk)
    finally:
        mirror.close()
    return 0


def add_audit_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser("audit", help="the dashboard's audit log (who saw and did what)")
    actions = audit.add_subparsers(dest="action", required=True)
    export = actions.add_parser(
        "export",
        help="write the audit log, oldest first, to standard output",
        description="Every row of the audit log, oldest first: CSV (cells a spreadsheet would "
        "run are made text) or JSON lines.",
    )
    export.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    export.add_argument("--since", help="only rows at or after this ISO 8601 date or time (UTC)")
    export.add_argument("--database-url", help="default: MEDBLOCKS_DATABASE_URL")
    add_verbose_option(export)
    export.set_defaults(run=run_audit_export)


def build_parser() -> argparse.ArgumentParser:
    """Every command of `python -m medblocks`: the one tree `--help` and the docs test read."""
    parser = argparse.ArgumentParser(prog="python -m medblocks")
    add_verbose_option(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True)
    add_spec_commands(commands)
    add_mirror_commands(commands)
    add_audit_commands(commands)
    add_alerts_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["mirror"]:  # `python -m medblocks mirror …`: medblocks/mirror/cli.py
        return mirror_cli.main(argv[1:])
    args = build_parser().parse_args(argv)
    return run_command(lambda: int(args.run(args)), verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
