"""Filter values read from the page's URL, checked against what the page offers: a value the
page does not know is reported (so a mistyped or outdated shared link says so) and ignored,
never passed to a widget that would fail on it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit


def split_known(asked: Iterable[str], options: Sequence[str]) -> tuple[list[str], list[str]]:
    """The asked values the page offers (in the order asked) and the ones it does not."""
    known = [value for value in asked if value in options]
    unknown = [value for value in asked if value not in options]
    return known, unknown


def unknown_notice(name: str, unknown: Sequence[str], options: Sequence[str]) -> str:
    """One line saying which values of `?name=` were ignored and what the page offers."""
    shown = ", ".join(repr(value[:80]) for value in unknown)
    offered = ", ".join(options[:12]) + (", …" if len(options) > 12 else "")
    return f"Ignored {name}={shown}: not one of {offered or 'nothing'}."


def unknown_path(url: str | None) -> str | None:
    """The path of an app address that names no page, as the default (root) page sees it: None
    for the root itself (or when the address is not known)."""
    path = urlsplit(url or "").path
    return None if path.strip("/") == "" else path[:200]
