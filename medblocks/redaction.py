"""Scrub what must never reach a report or a page: API keys and patient PHI (names, emails).

Used by the contract suite's reports and by the dashboard when it shows the suite's output."""

from __future__ import annotations

import re

KEY_PATTERN = re.compile(r"mb_sk_(?:sbx|live)_[A-Za-z0-9_\-]+")
BEARER_PATTERN = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?bearer\s+)[^\s'\"]+")
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# A quoted key and a colon: JSON and Python reprs of bodies (never an XML attribute).
PHI_FIELD_PATTERN = re.compile(
    r"""((?P<q>["'])(?:name|email|patient_name|patient_email)(?P=q)\s*:\s*)"""
    r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
)
REDACTED = "[redacted]"


def sanitize(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with every given secret, any Medblocks key, bearer token, email address and
    name/email field value replaced by a marker."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[api-key]")
    text = KEY_PATTERN.sub("[api-key]", text)
    text = BEARER_PATTERN.sub(r"\1[api-key]", text)
    text = EMAIL_PATTERN.sub("[email]", text)
    return PHI_FIELD_PATTERN.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
