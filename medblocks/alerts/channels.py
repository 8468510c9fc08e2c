"""Delivering a message to the configured channels through apprise (Slack, Microsoft Teams,
e-mail, a JSON webhook… one URL each), and showing a channel without its secrets.

A channel's URL is never logged nor shown: `masked` keeps the kind and the host apprise shows
in its privacy mode (tokens cut to their first and last character, passwords as ****) and drops
the path and the query, where webhook tokens usually are. What a failed delivery records says
which channel (by its position and masked form) refused, never the URL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import apprise

KINDS = {
    "firing": apprise.NotifyType.FAILURE,
    "repeat": apprise.NotifyType.FAILURE,
    "resolved": apprise.NotifyType.SUCCESS,
    "test": apprise.NotifyType.INFO,
}


def _plugin(url: str) -> apprise.plugins.NotifyBase | None:
    return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def masked(url: str) -> str:
    """The channel as people may see it: kind and host, no token, password, path or query."""
    plugin = _plugin(url)
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    if plugin is None:
        return f"{scheme}://… (not a URL apprise knows)"
    shown = urlsplit(plugin.url(privacy=True))
    return f"{shown.scheme}://{shown.netloc}/…"


def problems(urls: tuple[str, ...]) -> list[str]:
    """One line per URL apprise cannot use (named by position and kind only)."""
    return [
        f"channel {i} ({masked(url)}) is not a URL apprise can send to"
        for i, url in enumerate(urls, 1)
        if _plugin(url) is None
    ]


@dataclass(frozen=True)
class Delivery:
    sent: int
    failed: list[str]

    @property
    def ok(self) -> bool:
        return self.sent > 0 and not self.failed

    def detail(self) -> str:
        text = f"sent to {self.sent} channel{'s' if self.sent != 1 else ''}"
        return text + (f"; {'; '.join(self.failed)}" if self.failed else "")


def deliver(urls: tuple[str, ...], title: str, body: str, kind: str) -> Delivery:
    """Send to each channel once (apprise's own retries off: a send is never repeated)."""
    sent, failed = 0, []
    logging.getLogger("apprise").setLevel(logging.CRITICAL)  # its messages may quote URLs
    for i, url in enumerate(urls, 1):
        plugin = _plugin(url)
        if plugin is None:
            failed.append(f"channel {i} ({masked(url)}): not a URL apprise can send to")
            continue
        if plugin.notify(body=body, title=title, notify_type=KINDS[kind]):
            sent += 1
        else:
            failed.append(f"channel {i} ({masked(url)}) refused or did not answer")
    return Delivery(sent, failed)
