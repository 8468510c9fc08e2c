"""The connection statuses the API documents, in the order the pages list them, and the ones
that mean a connection is failing (the patient has to reconnect). One definition for the mirror
(status history, source figures), the alert rules and the dashboard, which imports the mirror.
"""

from __future__ import annotations

STATUSES = ("active", "failed", "refresh_failed", "expired", "disconnected")
FAILING = ("failed", "refresh_failed", "expired")
