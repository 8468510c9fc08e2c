"""`python -m medblocks spec diff OLD NEW` and `python -m medblocks spec check [SOURCE]`.

`diff` compares two OpenAPI documents (files or URLs). `check` compares the pinned document
with SOURCE, or, without one, with the document the configured target serves at
`/openapi/medblocks.json` (for the embedded target: the in-process sandbox's). The exit status
follows `--fail-on`: 0 below the threshold, 1 at or above it, 2 when the comparison could not
be made (headline `unknown`) or the command line is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from medblocks.mirror import cli as mirror_cli
from medblocks.spec import PINNED_PATH, SpecError, load_pinned, read_document
from medblocks.spec.document import Document
from medblocks.spec.drift import DriftReport, diff_documents, unknown_report

SERVED_PATH = "/openapi/medblocks.json"
FETCH_TIMEOUT = httpx.Timeout(10.0)


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def fetch_document(url: str, client: httpx.Client | None = None) -> Document:
    """GET a JSON OpenAPI document; a specific `SpecError` for every way that can fail.

    No credentials are sent: the document is public, and the key stays where it is.
    """
    try:
        if client is None:
            with httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=True) as own:
                response = own.get(url)
        else:
            response = client.get(url)
    except httpx.HTTPError as exc:
        raise SpecError(f"{url}: could not be fetched ({type(exc).__name__}: {exc})") from exc
    if response.status_code != 200:
        raise SpecError(f"{url}: answered HTTP {response.status_code}, not the document")
    try:
        document = response.json()
    except ValueError as exc:
        raise SpecError(f"{url}: the answer is not JSON") from exc
    if not isinstance(document, dict) or "paths" not in document:
        raise SpecError(f"{url}: not an OpenAPI document (no 'paths')")
    return document


def load_source(source: str) -> Document:
    """A document from a URL (fetched with httpx) or a file path."""
    return fetch_document(source) if is_url(source) else read_document(source)


def served_by_configured_target() -> tuple[str, Document]:
    """(label, document) the configured target serves; the embedded sandbox runs in-process."""
    from medblocks.config import load_settings

    settings = load_settings()
    if settings.base_url is not None:
        url = settings.base_url + SERVED_PATH
        return url, fetch_document(url)
    from medblocks.sandbox import SandboxConfig, create_app

    app = create_app(SandboxConfig(db_path=None, seed_demo=False))

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://embedded") as client:
            return await client.get(SERVED_PATH)

    response = asyncio.run(fetch())
    if response.status_code != 200:
        raise SpecError(f"embedded sandbox {SERVED_PATH}: HTTP {response.status_code}")
    return f"embedded sandbox {SERVED_PATH}", response.json()


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
    pinned = load_pinned()
    label = source or "configured target"
    try:
        if source is None:
            label, served = served_by_configured_target()
        else:
            served = load_source(source)
    except SpecError as exc:
        return unknown_report(str(PINNED_PATH), label, pinned, str(exc))
    return diff_documents(pinned, served, "pinned medblocks.json", label)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m medblocks")
    commands = parser.add_subparsers(dest="command", required=True)
    spec = commands.add_parser("spec", help="compare OpenAPI documents (version drift)")
    actions = spec.add_subparsers(dest="action", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
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

    diff = actions.add_parser("diff", help="classify every change from OLD to NEW")
    diff.add_argument("old", help="file or URL")
    diff.add_argument("new", help="file or URL")
    common(diff)
    check = actions.add_parser(
        "check", help="compare the pinned document with the one a target serves"
    )
    check.add_argument(
        "source",
        nargs="?",
        help="file or URL; default: the configured target's /openapi/medblocks.json",
    )
    common(check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["mirror"]:  # `python -m medblocks mirror …`: medblocks/mirror/cli.py
        return mirror_cli.main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        report = run_diff(args.old, args.new) if args.action == "diff" else run_check(args.source)
    except Exception as exc:  # configuration errors: say what, never a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rendered = report.render(args.format)
    print(rendered)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(rendered + "\n", encoding="utf-8")
    if report.headline == "unknown" and args.fail_on != "never":
        return 2
    return 1 if report.fails(args.fail_on) else 0


if __name__ == "__main__":
    sys.exit(main())
