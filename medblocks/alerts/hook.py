"""What the mirror's writers (sync, receiver, open-session re-read, the dashboard's own actions)
call after every change: the alert rules, but only when a channel is configured.

With no channel (the default) it returns at once without loading the rules and their
libraries (pandas, apprise), so a receiver or a sync that sends no alerts stays as small as
before. `medblocks.alerts.engine.evaluate_after_change` does the evaluation itself.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from medblocks.alerts.settings import AlertSettings, alert_settings

if TYPE_CHECKING:
    from medblocks.mirror.db import Mirror

log = logging.getLogger("medblocks.alerts")


def evaluate_after_change(
    mirror: Mirror,
    settings: AlertSettings | None = None,
    *,
    now: datetime | None = None,
    by: str | None = None,
) -> list[Any]:
    """The engine's decisions after a change; [] at once when no channel is configured. Never
    raises: the change has happened and must not be undone by an alert."""
    try:
        settings = settings or alert_settings()
    except Exception as exc:  # a setting that cannot be used: said in the log, nothing sent
        log.warning("alert settings unusable: %s", type(exc).__name__)
        return []
    if not settings.urls:
        return []
    from medblocks.alerts import engine  # loaded only where alerts are configured

    return engine.evaluate_after_change(mirror, settings, now=now, by=by)
