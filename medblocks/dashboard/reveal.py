""" "Reveal names and emails" kept for a browser's session, not just one Streamlit run.

A reload or a link opened from a table starts a new Streamlit session, which used to switch
Reveal off each time. `RevealMemory` remembers, in the dashboard's process, which browser
sessions turned it on: keyed by a hash of who is signed in and the browser's own session
cookie (never the cookie itself), for at most `KEEP` after the last change. No cookie (a
client without one): nothing is remembered and Reveal stays per run, off by default.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta

KEEP = timedelta(hours=8)
"""A working day: after it, Reveal is off again until someone turns it on."""


def cookie_token(cookie: str) -> str:
    """The stable part of a browser session cookie. Streamlit's XSRF cookie is written
    "2|<mask>|<masked token>|<time>" with a fresh random mask on each page load: the token is
    the masked bytes XOR the 4-byte mask, repeated. Any other value is taken as it is."""
    parts = cookie.strip("\"'").split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return cookie
        if len(mask) == 4:
            return bytes(b ^ mask[i % 4] for i, b in enumerate(masked)).hex()
    return cookie


def browser_key(user: str, cookie: str | None) -> str | None:
    """Which browser session asks (None when it cannot be told apart)."""
    if not cookie:
        return None
    return hashlib.sha256(f"{user}\n{cookie_token(cookie)}".encode()).hexdigest()


class RevealMemory:
    def __init__(self, keep: timedelta = KEEP) -> None:
        self.keep = keep
        self._until: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def remembered(self, key: str | None, now: datetime) -> bool:
        """True when this browser session turned Reveal on within `keep`."""
        if key is None:
            return False
        with self._lock:
            until = self._until.get(key)
            if until is not None and until <= now:
                del self._until[key]
                return False
            return until is not None

    def remember(self, key: str | None, on: bool, now: datetime) -> None:
        if key is None:
            return
        with self._lock:
            if on:
                self._until[key] = now + self.keep
            else:
                self._until.pop(key, None)
