"""The mirror's database failing, as one message a person can act on (the page shows it in
place of Streamlit's redacted error box): what failed, at which database (the password never
shown), and what to do.

Only database errors are explained here (`DatabaseProblem.of` returns None for anything else):
SQLAlchemy's `DBAPIError` family, which wraps what psycopg and sqlite3 raise. The driver's own
words are not repeated: they can quote a statement and its values (a patient's name).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy.exc as sa_exc
from sqlalchemy.engine import make_url

from medblocks.mirror.settings import DATABASE_URL_VARIABLE

LOGIN_REFUSED = ("password authentication failed", "authentication failed", 'role "')
NOT_ANSWERING = (
    "connection refused",
    "could not connect",
    "connection timeout",
    "timeout expired",
    "server closed the connection",
    "no such host",
    "name or service not known",
    "could not translate host name",
    "connection is closed",
    "terminating connection",
)


def is_database_error(exc: BaseException) -> bool:
    return isinstance(exc, sa_exc.DBAPIError)


@dataclass(frozen=True)
class DatabaseProblem:
    title: str
    advice: str

    @classmethod
    def of(cls, exc: BaseException, database_url: str) -> DatabaseProblem | None:
        """The problem `exc` is, or None when it is not a database error."""
        if not is_database_error(exc):
            return None
        where = shown_url(database_url)
        words = str(getattr(exc, "orig", exc)).lower()
        if any(marker in words for marker in LOGIN_REFUSED):
            return cls(
                f"The mirror's database refused the login ({where}).",
                f"Check the user name and password in {DATABASE_URL_VARIABLE}, and that this "
                "user may connect to that database; then reload the page.",
            )
        if any(marker in words for marker in NOT_ANSWERING) or isinstance(
            exc, sa_exc.OperationalError
        ):
            return cls(
                f"The mirror's database does not answer ({where}).",
                f"Check that the database server is running and reachable from here, and that "
                f"{DATABASE_URL_VARIABLE} names it; the pages work again once it answers "
                "(reload the page).",
            )
        return cls(
            f"The mirror's database failed a request ({where}): {type(exc).__name__}.",
            "Reload the page; if it happens again, check the database server's log.",
        )


def shown_url(database_url: str) -> str:
    """The database URL with its password hidden."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except Exception:  # an unparsable setting is reported where it is read
        return "the configured database"
