"""Identifiers in Medblocks' shapes: prefixed ULIDs, hosted-page tokens, secrets."""

from __future__ import annotations

import secrets
import uuid

from ulid import ULID


def new_ulid() -> str:
    """A fresh 26-character ULID (sortable by creation time)."""
    return str(ULID())


def new_id(prefix: str) -> str:
    """A prefixed id such as `ps_01J…` or `conn_01J…`."""
    return f"{prefix}{new_ulid()}"


def new_token() -> str:
    """The 32-hex part of a hosted patient URL (`/c/<token>`)."""
    return secrets.token_hex(16)


def new_secret() -> str:
    """A webhook signing secret (`whsec_…`)."""
    return f"whsec_{secrets.token_urlsafe(24)}"


def new_request_id() -> str:
    """A UUID-shaped request id, as in Medblocks' examples."""
    return str(uuid.uuid4())
