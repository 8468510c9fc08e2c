"""Alert settings, read from the environment (then `.env`), never logged: channel URLs hold
secrets (webhook tokens, mail passwords).

- `MEDBLOCKS_ALERT_URLS`: apprise URLs, separated by spaces, commas or new lines (none: no
  alert is evaluated after mirror changes; the dashboard works as before).
- `MEDBLOCKS_DASHBOARD_URL`: the dashboard's base URL, for the link in each message.
- `MEDBLOCKS_ALERT_RULES`: the rules to evaluate, comma separated (default: all).
- `MEDBLOCKS_ALERT_REPEAT_MINUTES` (240): a still-firing alert is sent again after this long.
- `MEDBLOCKS_ALERT_NEW_FAILURE_MINUTES` (60): a connection counts as newly failing this long.
- `MEDBLOCKS_ALERT_STALE_MINUTES` (60): the mirror is stale after this long without a write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from medblocks.config import ConfigError
from medblocks.mirror.settings import read_value

URLS_VARIABLE = "MEDBLOCKS_ALERT_URLS"
DASHBOARD_URL_VARIABLE = "MEDBLOCKS_DASHBOARD_URL"
RULES_VARIABLE = "MEDBLOCKS_ALERT_RULES"
REPEAT_VARIABLE = "MEDBLOCKS_ALERT_REPEAT_MINUTES"
NEW_FAILURE_VARIABLE = "MEDBLOCKS_ALERT_NEW_FAILURE_MINUTES"
STALE_VARIABLE = "MEDBLOCKS_ALERT_STALE_MINUTES"
RULES = ("new_failures", "source_incident", "stale_mirror", "webhook_endpoint", "contract_run")
DEFAULT_DASHBOARD_URL = "http://127.0.0.1:8501"


@dataclass(frozen=True)
class AlertSettings:
    urls: tuple[str, ...] = ()
    dashboard_url: str = DEFAULT_DASHBOARD_URL
    rules: tuple[str, ...] = RULES
    repeat_minutes: float = 240
    new_failure_minutes: float = 60
    stale_minutes: float = 60

    def __repr__(self) -> str:  # the URLs hold secrets
        return f"AlertSettings({len(self.urls)} channels, rules={self.rules})"

    def link(self, path_and_query: str) -> str:
        """A dashboard view's address (relative paths as the pages write them)."""
        return f"{self.dashboard_url.rstrip('/')}/{path_and_query.lstrip('/')}"


def _minutes(name: str, raw: str, default: float) -> float:
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value <= 0:
        raise ConfigError(f"{name} must be a positive number of minutes (got {raw!r})")
    return value


def alert_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env"
) -> AlertSettings:
    def value(name: str) -> str:
        return read_value(name, environ, dotenv_path)

    urls = tuple(u for u in re.split(r"[\s,]+", value(URLS_VARIABLE)) if u)
    rules_text = value(RULES_VARIABLE)
    rules = tuple(r.strip() for r in rules_text.split(",") if r.strip()) if rules_text else RULES
    unknown = sorted(set(rules) - set(RULES))
    if unknown:
        raise ConfigError(
            f"{RULES_VARIABLE} names unknown rules {', '.join(unknown)} (known: {', '.join(RULES)})"
        )
    return AlertSettings(
        urls=urls,
        dashboard_url=value(DASHBOARD_URL_VARIABLE) or DEFAULT_DASHBOARD_URL,
        rules=rules,
        repeat_minutes=_minutes(REPEAT_VARIABLE, value(REPEAT_VARIABLE), 240),
        new_failure_minutes=_minutes(NEW_FAILURE_VARIABLE, value(NEW_FAILURE_VARIABLE), 60),
        stale_minutes=_minutes(STALE_VARIABLE, value(STALE_VARIABLE), 60),
    )
