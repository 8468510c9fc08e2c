"""What the Alerts page shows: the rules with their settings, the channels (masked), the
history of decisions in words, the silences."""

from __future__ import annotations

import pandas as pd

from medblocks.alerts import channels
from medblocks.alerts.settings import RULES, AlertSettings
from medblocks.dashboard.tables import time_text

RULE_WORDS = {
    "new_failures": "Connections newly failing, one message per hospital",
    "source_incident": "A hospital in an incident (its last 3+ attempts failed, rate well above "
    "its usual)",
    "stale_mirror": "The mirror got no sync and no webhook event for a while",
    "webhook_endpoint": "A webhook endpoint disabled or failing its deliveries (alerts check)",
    "contract_run": "The latest contract run has failures or drift (alerts check)",
}


def rules_frame(settings: AlertSettings) -> pd.DataFrame:
    setting = {
        "new_failures": f"newly = within {settings.new_failure_minutes:g} min",
        "source_incident": "rule in the Ops guide",
        "stale_mirror": f"after {settings.stale_minutes:g} min",
        "webhook_endpoint": "3+ undelivered events tried",
        "contract_run": "any failure or drift",
    }
    return pd.DataFrame(
        [
            {
                "rule": rule,
                "what": RULE_WORDS[rule],
                "setting": setting[rule],
                "on": rule in settings.rules,
            }
            for rule in RULES
        ]
    )


def channels_frame(settings: AlertSettings) -> pd.DataFrame:
    return pd.DataFrame({"channel": [channels.masked(url) for url in settings.urls]}, dtype=object)


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """Decisions for people: when (to the minute), what, the outcome and why."""
    return pd.DataFrame(
        {
            "when": time_text(pd.to_datetime(history["decided_at"], utc=True, format="ISO8601")),
            "rule": history["rule"],
            "kind": history["kind"],
            "message": history["title"],
            "outcome": history["outcome"],
            "why": history["detail"].fillna(""),
            "decided by": history["decided_by"],
            "view": history["link"],
        }
    )
