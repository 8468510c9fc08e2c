"""The org mirror: a local copy of the organisation's Medblocks state, with its history.

Filled by a full reconcile (`sync`), kept fresh by webhook events (`receiver`, `poll`), stored
through SQLAlchemy Core (SQLite or PostgreSQL, schema by Alembic). It uses the client, never
the sandbox or Streamlit.
"""

from medblocks.mirror.db import Mirror, open_mirror
from medblocks.mirror.settings import database_url

__all__ = ["Mirror", "database_url", "open_mirror"]
