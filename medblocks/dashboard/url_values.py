"""Filter values read from the page's URL, checked against what the page offers: a value the
page does not know is reported (so a mistyped or outdated shared link says so) and ignored,
never passed to a widget that would fail on it.

`read_param(name, values, rule)` is the one check every page uses for every query parameter
(glue: `ui_pages/_query.py`): `Choices` (values the page offers), `WholeNumber` (in a range),
`Text` (bounded, no control characters). Anything else is named in the notice and ignored."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


def split_known(asked: Iterable[str], options: Sequence[str]) -> tuple[list[str], list[str]]:
    """The asked values the page offers (in the order asked) and the ones it does not."""
    known = [value for value in asked if value in options]
    unknown = [value for value in asked if value not in options]
    return known, unknown


def unknown_notice(name: str, unknown: Sequence[str], options: Sequence[str]) -> str:
    """One line saying which values of `?name=` were ignored and what the page offers."""
    shown = _quoted(unknown)
    offered = ", ".join(options[:12]) + (", …" if len(options) > 12 else "")
    return f"Ignored {name}={shown}: not one of {offered or 'nothing'}."


def unknown_path(url: str | None) -> str | None:
    """The path of an app address that names no page, as the default (root) page sees it: None
    for the root itself (or when the address is not known)."""
    path = urlsplit(url or "").path
    return None if path.strip("/") == "" else path[:200]


MAX_TEXT = 1000
"""The longest free-text value a page takes from its URL (a name, an e-mail, an id): the
pinned spec sets no maximum for ids (a 250-character `patient_id` is valid), so the bound only
keeps a pasted page of text out of the filters."""


@dataclass(frozen=True)
class Choices:
    """Values among `options` (a multiselect, a selectbox, a row to open)."""

    options: Sequence[str]


@dataclass(frozen=True)
class WholeNumber:
    """A whole number from `least` to `most`."""

    least: int
    most: int


@dataclass(frozen=True)
class Text:
    """Free text (a search, an id typed by hand): at most `longest` characters, no control
    characters (Unicode category Cc). Format characters such as bidi overrides are kept: an id
    may hold them, and the pages show them visibly (`bidi.visible_controls`)."""

    longest: int = MAX_TEXT


Rule = Choices | WholeNumber | Text


@dataclass(frozen=True)
class Read:
    """What a page may use of one query parameter, and the notice for what it may not."""

    values: tuple[str, ...] = ()
    notice: str | None = None

    @property
    def first(self) -> str | None:
        return self.values[0] if self.values else None

    @property
    def number(self) -> int | None:
        return int(self.values[0]) if self.values else None


def read_param(name: str, raw: Iterable[str], rule: Rule) -> Read:
    """Check the URL's values of `?name=` against `rule`: the usable ones (empty values are
    no filter) and one notice naming the others, which are ignored."""
    asked = [value for value in raw if value]
    if isinstance(rule, Choices):
        known, unknown = split_known(asked, rule.options)
        return Read(tuple(known), unknown_notice(name, unknown, rule.options) if unknown else None)
    if isinstance(rule, WholeNumber):
        good = [
            v
            for v in asked[:1]
            if v.isascii() and v.isdigit() and rule.least <= int(v) <= rule.most
        ]
        bad = [v for v in asked if v not in good]
        notice = (
            f"Ignored {name}={_quoted(bad)}: not a whole number from {rule.least} to {rule.most}."
            if bad
            else None
        )
        return Read(tuple(str(int(v)) for v in good), notice)
    good = [v for v in asked[:1] if len(v) <= rule.longest and not _controls(v)]
    bad = [v for v in asked if v not in good]
    notice = (
        f"Ignored {name}={_quoted(bad)}: one value of at most {rule.longest} characters, "
        "without control characters, is taken."
        if bad
        else None
    )
    return Read(tuple(good), notice)


def _controls(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(repr(value[:80]) for value in values)
