"""`python -m medblocks.sandbox`: serve the sandbox and print its base URL and key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from medblocks.sandbox.app import create_app
from medblocks.sandbox.config import DEFAULT_DB_PATH, SandboxConfig
from medblocks.served_thread import uvicorn_config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m medblocks.sandbox", description="Run the Medblocks sandbox on a port."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument("--db", type=Path, default=DEFAULT_DB_PATH, help="SQLite file")
    storage.add_argument("--memory", action="store_true", help="keep everything in memory")
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="add N bulk patients on a first start"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        metavar="N",
        help="allow N API requests per second per key, then 429 throttled (0: off; default: "
        "what PUT /_sandbox/faults stored, off on a first start)",
    )
    parser.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="base of every URL the sandbox hands out (default: the address a request reached)",
    )
    parser.add_argument(
        "--organisation-name",
        default="Demo Health",
        metavar="NAME",
        help="the app's name on the hosted page when a session has no return_button_label",
    )
    parser.add_argument(
        "--patient-view",
        action="store_true",
        help="hosted page as a live organisation's patients see it (no test-mode badge, "
        "personas, EHR vendors or test servers)",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.seed < 0:
        print("--seed must be 0 or more", file=sys.stderr)
        return 2
    if args.rate_limit is not None and args.rate_limit < 0:
        print("--rate-limit must be 0 (off) or more", file=sys.stderr)
        return 2
    if not args.organisation_name.strip() or len(args.organisation_name) > 60:
        print("--organisation-name must be 1 to 60 characters", file=sys.stderr)
        return 2
    serving = f"http://{args.host}:{args.port}"
    try:
        config = SandboxConfig(
            db_path=None if args.memory else args.db,
            seed_patients=args.seed,
            public_url=args.public_url,
            rate_limit_per_second=args.rate_limit,
            organisation_name=args.organisation_name,
            hosted_test_mode=not args.patient_view,
        )
    except ValueError as exc:
        print(f"--public-url: {exc}", file=sys.stderr)
        return 2
    app = create_app(config)
    runtime = app.state.sandbox
    print(f"Medblocks sandbox: {serving}", flush=True)
    if args.public_url:
        print(f"Public URL: {config.public_url}", flush=True)
    print(f"API key: {runtime.api_key}", flush=True)
    print(f"Storage: {'memory' if args.memory else args.db}", flush=True)
    uvicorn.Server(uvicorn_config(app, args.host, args.port)).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
