"""Masking of patient names and emails (PHI): the dashboard shows them masked by default."""

from __future__ import annotations

import pandas as pd

from medblocks.dashboard.bidi import visible_controls


def mask_name(name: str | None) -> str:
    """`Maria Lopez` -> `M**** L****`: the initials stay so a person can tell rows apart."""
    if not isinstance(name, str) or not name:
        return ""
    return " ".join(word[0] + "*" * max(len(word) - 1, 1) for word in name.split())


def mask_email(email: str | None) -> str:
    """`maria.lopez@example.com` -> `m***@e***.com`."""
    if not isinstance(email, str) or not email:
        return ""
    local, _, domain = email.partition("@")
    if not domain:
        return local[:1] + "***"
    host, dot, tld = domain.rpartition(".")
    if not dot:
        return f"{local[:1]}***@{domain[:1]}***"
    return f"{local[:1]}***@{host[:1]}***.{tld}"


def shown_name(name: str | None, *, reveal: bool) -> str:
    """The name as the UI shows it (bidirectional controls made visible, masked or not);
    missing (None or a frame's NaN) is empty."""
    if not reveal:
        return visible_controls(mask_name(name))
    return visible_controls(name) if isinstance(name, str) else ""


def shown_email(email: str | None, *, reveal: bool) -> str:
    """The email as the UI shows it, as `shown_name`."""
    if not reveal:
        return visible_controls(mask_email(email))
    return visible_controls(email) if isinstance(email, str) else ""


def shown_people(frame: pd.DataFrame, *, reveal: bool) -> pd.DataFrame:
    """A copy of `frame` with its `name` and `email` columns as the UI shows them."""
    return frame.assign(
        name=[shown_name(n, reveal=reveal) for n in frame["name"]],
        email=[shown_email(e, reveal=reveal) for e in frame["email"]],
    )
