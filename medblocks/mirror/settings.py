"""The mirror's own settings: where its database is and the webhook receiver's secret.

Read from the environment, then from `.env` for anything unset (as `medblocks.config` does).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

from medblocks.config import ConfigError

DATABASE_URL_VARIABLE = "MEDBLOCKS_DATABASE_URL"
WEBHOOK_SECRET_VARIABLE = "MEDBLOCKS_WEBHOOK_SECRET"
WEBHOOK_ENDPOINT_VARIABLE = "MEDBLOCKS_WEBHOOK_ENDPOINT_ID"
DEFAULT_DATABASE_PATH = Path(".dashboard") / "medblocks.sqlite3"
SUPPORTED_SCHEMES = ("sqlite", "postgresql+psycopg")


def read_value(name: str, environ: Mapping[str, str] | None, dotenv_path: str | Path | None) -> str:
    environ = os.environ if environ is None else environ
    found = environ.get(name)
    if not found and dotenv_path and Path(dotenv_path).is_file():
        found = dotenv_values(dotenv_path).get(name)
    return (found or "").strip()


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def database_url(
    environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env"
) -> str:
    """`MEDBLOCKS_DATABASE_URL`, or SQLite at `.dashboard/medblocks.sqlite3` when unset."""
    url = read_value(DATABASE_URL_VARIABLE, environ, dotenv_path)
    if not url:
        return sqlite_url(DEFAULT_DATABASE_PATH)
    scheme = url.split(":", 1)[0]
    if scheme not in SUPPORTED_SCHEMES:
        raise ConfigError(
            f"{DATABASE_URL_VARIABLE} must start with sqlite:/// or postgresql+psycopg:// "
            f"(got a URL with scheme {scheme!r})"
        )
    return url


def webhook_secret(
    environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env"
) -> str:
    """The endpoint's `whsec_` signing secret; the receiver refuses to start without it."""
    secret = read_value(WEBHOOK_SECRET_VARIABLE, environ, dotenv_path)
    if not secret:
        raise ConfigError(
            f"{WEBHOOK_SECRET_VARIABLE} is not set: give the signing secret Medblocks showed "
            "when the webhook endpoint was created (whsec_…)"
        )
    return secret


def webhook_endpoint_id(
    environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env"
) -> str | None:
    """The `wh_` endpoint whose events `mirror poll` reads (None: the only one there is)."""
    return read_value(WEBHOOK_ENDPOINT_VARIABLE, environ, dotenv_path) or None
