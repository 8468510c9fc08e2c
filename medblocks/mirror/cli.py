"""`python -m medblocks mirror sync | listen | poll | webhook | start-over`: fill the mirror,
keep it fresh, or archive its history and begin again.

The target is the configured one (`MEDBLOCKS_API_KEY`, `MEDBLOCKS_API_URL`); the embedded
sandbox has nothing to mirror from outside a dashboard process, so a key is required here.
The database is `MEDBLOCKS_DATABASE_URL` (or `--database-url`). Every action first claims the
mirror for the target (`identity.claim`: the key tried, another organisation refused, nothing
changed); a failure is a few lines and a non-zero status (`medblocks.cli_failures`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack

import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from medblocks.cli_failures import add_verbose_option, run_command
from medblocks.client import AsyncMedblocks, Medblocks
from medblocks.config import ConfigError, Settings, load_settings
from medblocks.mirror.db import Mirror, open_mirror
from medblocks.mirror.identity import claim, read_one_patient, start_over
from medblocks.mirror.pacing import Pacer
from medblocks.mirror.poll import find_endpoint, poll_events
from medblocks.mirror.receiver import create_receiver
from medblocks.mirror.settings import webhook_endpoint_id, webhook_secret
from medblocks.mirror.sync import DEFAULT_CONCURRENCY, sync_mirror
from medblocks.mirror.webhook_cli import add_webhook_commands, run_webhook

SYNC_CLIENTS = 4  # several small connection pools cost less CPU than one large one


def client_for(settings: Settings) -> AsyncMedblocks:
    assert settings.api_key is not None and settings.base_url is not None
    return AsyncMedblocks(
        settings.api_key, base_url=settings.base_url, api_version=settings.api_version
    )


def try_key(settings: Settings) -> None:
    assert settings.api_key is not None and settings.base_url is not None
    read_one_patient(
        Medblocks(settings.api_key, base_url=settings.base_url, api_version=settings.api_version)
    )


def configured_target() -> Settings:
    settings = load_settings()
    if settings.api_key is None or settings.base_url is None:
        raise ConfigError(
            "the mirror reads a configured target: set MEDBLOCKS_API_KEY (and "
            "MEDBLOCKS_API_URL for a local sandbox); the embedded sandbox is mirrored by the "
            "dashboard itself"
        )
    return settings


HELP = "the org mirror: sync, webhook receiver, poll, webhook endpoints"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m medblocks mirror", description=HELP)
    add_mirror_arguments(parser)
    return parser


def add_mirror_arguments(parser: argparse.ArgumentParser) -> None:
    """The mirror's options and actions, on its own parser or as `python -m medblocks mirror`."""
    parser.add_argument("--database-url", help="default: MEDBLOCKS_DATABASE_URL")
    add_verbose_option(parser, top=True)
    actions = parser.add_subparsers(dest="action", required=True)
    sync = actions.add_parser("sync", help="full reconcile (continues a sync that was stopped)")
    sync.add_argument("--rate", type=float, help="at most N requests per second")
    sync.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    sync.add_argument("--no-progress", action="store_true", help="no progress bar")
    listen = actions.add_parser("listen", help="webhook receiver (Medblocks-Signature checked)")
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=8790)
    poll = actions.add_parser("poll", help="read GET /webhooks/{id}/events after the last seen")
    poll.add_argument("--endpoint", help="wh_ id (default: MEDBLOCKS_WEBHOOK_ENDPOINT_ID)")
    poll.add_argument("--interval", type=float, help="poll again every N seconds")
    poll.add_argument("--times", type=int, default=0, help="stop after N polls (0: no limit)")
    add_webhook_commands(actions)
    actions.add_parser(
        "start-over",
        help="archive what the mirror holds (kept readable) and bind it to the configured target",
    )
    for action in actions.choices.values():
        add_verbose_option(action)


def open_for(args: argparse.Namespace, settings: Settings) -> Mirror:
    """The mirror, claimed for the configured organisation (`identity.claim`)."""
    mirror = open_mirror(args.database_url)
    assert settings.api_key is not None and settings.base_url is not None
    claim(mirror, settings.base_url, settings.api_key, lambda: try_key(settings))
    return mirror


def run_start_over(args: argparse.Namespace, settings: Settings) -> int:
    mirror = open_mirror(args.database_url)
    assert settings.api_key is not None and settings.base_url is not None
    archived = start_over(mirror, settings.base_url, settings.api_key, lambda: try_key(settings))
    if archived is None:
        print("the mirror held nothing to archive", end="")
    else:
        print(
            f"archived {archived.rows} rows of {archived.organisation} as archive "
            f"#{archived.archive_id} (tables archives, archived_rows)",
            end="",
        )
    print("; the mirror is now bound to the configured target: run `mirror sync` to fill it")
    return 0


async def run_sync(args: argparse.Namespace, settings: Settings) -> int:
    mirror = open_for(args, settings)
    columns = (
        TextColumn("mirror sync"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, disable=args.no_progress, transient=True) as progress:
        task = progress.add_task("patients", total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        async with AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(client_for(settings)) for _ in range(SYNC_CLIENTS)
            ]
            report = await sync_mirror(
                mirror, clients, rate=args.rate, concurrency=args.concurrency, on_progress=update
            )
    print(report.summary())
    if report.failures:
        print(f"{len(report.failures)} patients could not be read (kept as they were):")
        for patient_failure in list(report.failures.values())[:10]:
            print(f"  {patient_failure}")
    return 1 if report.failures or report.list_stopped else 0


def run_listen(args: argparse.Namespace, settings: Settings) -> int:
    mirror = open_for(args, settings)
    app = create_receiver(mirror, webhook_secret(), lambda: client_for(settings))
    print(f"mirror receiver: http://{args.host}:{args.port}/webhooks/medblocks", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


async def run_poll(args: argparse.Namespace, settings: Settings) -> int:
    mirror = open_for(args, settings)
    async with client_for(settings) as client:
        endpoint = args.endpoint or webhook_endpoint_id() or await find_endpoint(client)
        done = 0
        while True:
            started = time.monotonic()
            report = await poll_events(mirror, client, endpoint, pacer=Pacer())
            print(report.summary(), flush=True)
            done += 1
            if args.interval is None or (args.times and done >= args.times):
                return 0
            await asyncio.sleep(max(0.0, args.interval - (time.monotonic() - started)))


def run(args: argparse.Namespace) -> int:
    settings = configured_target()
    if args.action == "sync":
        return asyncio.run(run_sync(args, settings))
    if args.action == "listen":
        return run_listen(args, settings)
    if args.action == "start-over":
        return run_start_over(args, settings)
    if args.action == "webhook":
        assert settings.base_url is not None
        return asyncio.run(run_webhook(args, client_for(settings), settings.base_url))
    return asyncio.run(run_poll(args, settings))


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    # The client logs every failed attempt; the pacer retries them and the sync's own report
    # names the reads that failed for good (request id first), so only that is printed.
    logging.getLogger("medblocks.client").setLevel(logging.CRITICAL)
    return run_command(
        lambda: run(args),
        verbose=args.verbose,
        interrupted="stopped; `mirror sync` continues from its checkpoint next time",
    )
