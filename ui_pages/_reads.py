"""API reads a page makes (not org-wide data, which comes from the mirror), cached per
target for `TTL` seconds (the health check for 10)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from medblocks.client import Medblocks
from medblocks.dashboard import patient_view, webhooks
from medblocks.dashboard.clock import ServerClock
from medblocks.dashboard.server_health import HealthCheck, check_health
from medblocks.dashboard.sources import sources_by_id, sources_frame
from ui_pages import _target

TTL = 60


@st.cache_data(ttl=TTL, show_spinner=False)
def _catalog(key: str, _client: Medblocks) -> dict[str, dict[str, Any]]:
    return sources_by_id(_client)


def catalog() -> dict[str, dict[str, Any]]:
    return _catalog(_target.target_id(_target.target()), _target.client())


@st.cache_data(ttl=TTL, show_spinner=False)
def _sources(key: str, q: str, vendor: str, _client: Medblocks) -> pd.DataFrame:
    return sources_frame(_client, q=q, vendor=vendor)


def sources(q: str = "", vendor: str = "") -> pd.DataFrame:
    return _sources(_target.target_id(_target.target()), q, vendor, _target.client())


@st.cache_data(ttl=TTL, show_spinner=False)
def _patient(key: str, patient_id: str, _client: Medblocks) -> patient_view.PatientView:
    return patient_view.load_patient(_client, patient_id, catalog())


def patient(patient_id: str) -> patient_view.PatientView:
    return _patient(_target.target_id(_target.target()), patient_id, _target.client())


@st.cache_data(ttl=TTL, show_spinner=False)
def _endpoints(key: str, _client: Medblocks) -> pd.DataFrame:
    return webhooks.endpoints_frame(_client)


def endpoints() -> pd.DataFrame:
    return _endpoints(_target.target_id(_target.target()), _target.client())


@st.cache_data(ttl=TTL, show_spinner=False)
def _events(key: str, endpoint_id: str, _client: Medblocks) -> pd.DataFrame:
    return webhooks.events_frame(_client, endpoint_id)


def events(endpoint_id: str) -> pd.DataFrame:
    return _events(_target.target_id(_target.target()), endpoint_id, _target.client())


@st.cache_data(ttl=10, show_spinner=False)
def _health(key: str, _client: Medblocks) -> HealthCheck:
    return check_health(_client)


def health() -> HealthCheck:
    """`/health` and clock skew, re-read at most every 10 seconds."""
    return _health(_target.target_id(_target.target()), _target.client())


def clock() -> ServerClock:
    """The server's clock (this machine's when `/health` cannot be read: the frame says so)."""
    try:
        return ServerClock(health().skew_seconds)
    except Exception:
        return ServerClock()


@st.cache_data(ttl=TTL, show_spinner=False)
def _exact_match(key: str, patient_id: str, email: str, _client: Medblocks) -> list[str]:
    filters = {"patient_id": patient_id or None, "email": email or None}
    return [p.id for p in _client.patients.list(**filters)]


def exact_match(patient_id: str, email: str) -> list[str]:
    """Patient ids the API's exact-match `patient_id` / `email` filters return."""
    return _exact_match(_target.target_id(_target.target()), patient_id, email, _target.client())
