"""A real sandbox on loopback and the dashboard's own clients for it; the environment and the
embedded sandbox of the dashboard under AppTest; a webhook event to show or redeliver."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import streamlit as st

from medblocks.client import Medblocks
from medblocks.client.models import PatientSession, WebhookEndpoint, WebhookEvent
from medblocks.dashboard.target import Target, embedded_sandbox
from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread
from medblocks.spec import pinned_version


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(db_path=None, seed_demo=True)) as running:
        yield running


@pytest.fixture(scope="module")
def target(sandbox: RunningSandbox) -> Target:
    return Target(
        kind="embedded",
        base_url=sandbox.base_url,
        api_version=pinned_version(),
        writes_allowed=True,
        api_key=sandbox.api_key,
    )


@pytest.fixture
def client(target: Target) -> Iterator[Medblocks]:
    with target.client() as opened:
        yield opened


# -- the dashboard through AppTest (the pages start the process's embedded sandbox) -------------

SETTINGS = (
    "MEDBLOCKS_API_KEY",
    "MEDBLOCKS_API_URL",
    "MEDBLOCKS_API_VERSION",
    "MEDBLOCKS_ALLOW_LIVE_WRITES",
)


@pytest.fixture
def app_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing configured and empty Streamlit caches (configuration is read once per process)."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def embedded() -> RunningSandbox:
    """The process's embedded sandbox: the one the dashboard under AppTest talks to."""
    return embedded_sandbox()


@pytest.fixture(scope="module")
def sandbox_target(embedded: RunningSandbox) -> Target:
    """The embedded sandbox as the dashboard's target (writes allowed)."""
    return Target("embedded", embedded.base_url, pinned_version(), True, embedded.api_key)


@pytest.fixture
def embedded_api(embedded: RunningSandbox) -> Iterator[Medblocks]:
    with Medblocks(embedded.api_key, base_url=embedded.base_url) as client:
        yield client


def completed_session_event(
    sandbox: RunningSandbox, client: Medblocks, patient_id: str
) -> tuple[PatientSession, WebhookEndpoint, WebhookEvent]:
    """A session of `patient_id` completed through the sandbox control (the patient connects the
    first source): the session, the sandbox's webhook endpoint and its
    patient_session.completed event."""
    source = next(iter(client.sources.list())).id
    session = client.patient_sessions.create(
        patient_id=patient_id,
        return_url="http://127.0.0.1:8501/connected",
        recommended_connection_ids=[source],
    )
    httpx.post(
        f"{sandbox.base_url}/_sandbox/patient-sessions/{session.id}/complete",
        json={"outcome": "active", "connection_id": source},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    ).raise_for_status()
    endpoint = next(iter(client.webhooks.list()))
    event = next(
        e
        for e in client.webhooks.events(endpoint.id)
        if e.type == "patient_session.completed" and e.data.object["id"] == session.id
    )
    return session, endpoint, event


def an_active_connection(api: Medblocks) -> tuple[str, str]:
    """(patient id, connection id) of the first active connection the API lists."""
    return next(
        (p.id, c.id)
        for p in api.patients.list(limit=100)
        for c in api.patients.retrieve(p.id).connections
        if c.status == "active"
    )
