"""The configured target and what hangs off it, one per process: the sync client, the
launch ledger (and its database, which keeps the audit log), whether writes are allowed."""

from __future__ import annotations

import hashlib

import streamlit as st

from medblocks.client import Medblocks
from medblocks.config import ConfigError, load_settings
from medblocks.dashboard.ledger import Ledger
from medblocks.dashboard.target import Target, connected_target


@st.cache_resource(show_spinner="Starting the embedded sandbox…")
def _configured_target() -> Target | ConfigError:
    """Configuration is read once per process (restart the dashboard to change it)."""
    try:
        return connected_target(load_settings())
    except ConfigError as exc:
        return exc


def target() -> Target:
    """The configured target; a configuration error stops the page with its message."""
    configured = _configured_target()
    if isinstance(configured, ConfigError):
        st.error("The configuration cannot be used.")
        st.text(str(configured))
        st.stop()
    return configured


def target_id(t: Target) -> str:
    """A cache key for reads: which server, which key (hashed), which Version."""
    return hashlib.sha256(f"{t.base_url}|{t.api_key}|{t.api_version}".encode()).hexdigest()[:16]


@st.cache_resource
def _client(_t: Target) -> Medblocks:
    return _t.client()


def client() -> Medblocks:
    """The sync client for the target: one per process, like the target itself."""
    return _client(target())


@st.cache_resource
def ledger() -> Ledger:
    return Ledger()


def require_writes(t: Target) -> bool:
    if not t.writes_allowed:
        st.info("Writes are disabled for the live target (set MEDBLOCKS_ALLOW_LIVE_WRITES=true).")
    return t.writes_allowed
