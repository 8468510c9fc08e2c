"""Every operation of both clients against the real sandbox: the sync client over loopback
(`start_in_thread`), the async client in-process (`httpx.ASGITransport`)."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from medblocks import AsyncMedblocks, Medblocks
from medblocks.client import errors
from medblocks.client.models import PatientDetail
from medblocks.sandbox import SandboxConfig, create_app, start_in_thread
from medblocks.sandbox.runtime import SandboxRuntime

KEY = "mb_sk_sbx_clienttests0123456789abcdef"


@dataclass
class ClientUnderTest:
    client: Medblocks | AsyncMedblocks
    runtime: SandboxRuntime
    make: Callable[..., Medblocks | AsyncMedblocks]  # another client for the same sandbox

    def launch_context_id(self) -> str:
        return str(self.runtime.store.query("SELECT id FROM launch_contexts")[0]["id"])


async def run(value: Any) -> Any:
    """The result of a client call, awaited when the client is the async one."""
    return await value if inspect.isawaitable(value) else value


async def collect(items: Any) -> list[Any]:
    """Every item of a sync or async paginator/iterator."""
    if hasattr(items, "__aiter__"):
        return [item async for item in items]
    return list(items)


def fresh_id(prefix: str = "client_test") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def served() -> Iterator[Any]:
    config = SandboxConfig(db_path=None, api_key=KEY, seed_demo=True)
    with start_in_thread(config) as running:
        yield running


@pytest.fixture(params=["sync", "async"])
async def target(request: pytest.FixtureRequest, served: Any) -> AsyncIterator[ClientUnderTest]:
    if request.param == "sync":

        def make(key: str = KEY, **options: Any) -> Medblocks:
            return Medblocks(key, base_url=served.base_url, **options)

        with make() as client:
            yield ClientUnderTest(client, served.app.state.sandbox, make)
        return
    app = create_app(SandboxConfig(db_path=None, api_key=KEY, seed_demo=True))
    transport = httpx.ASGITransport(app=app)

    def amake(key: str = KEY, **options: Any) -> AsyncMedblocks:
        return AsyncMedblocks(key, base_url="http://127.0.0.1", transport=transport, **options)

    async with amake() as aclient:
        yield ClientUnderTest(aclient, app.state.sandbox, amake)


async def patient_with(target: ClientUnderTest, status: str) -> PatientDetail:
    """A seeded patient with a connection in `status`."""
    for patient in await collect(target.client.patients.list(limit=100)):
        detail = await run(target.client.patients.retrieve(patient.id))
        if any(c.status == status for c in detail.connections):
            return detail
    raise AssertionError(f"the demo seed has no patient with a {status} connection")


async def test_health(target: ClientUnderTest) -> None:
    health = await run(target.client.health())
    assert health.ok is True and health.server_time


async def test_patient_lifecycle(target: ClientUnderTest) -> None:
    patients = target.client.patients
    pid = fresh_id()
    created = await run(
        patients.create(pid, email="river@example.test", name="River Test", metadata={"a": "1"})
    )
    assert (created.id, created.email, created.name, created.metadata) == (
        pid,
        "river@example.test",
        "River Test",
        {"a": "1"},
    )
    detail = await run(patients.retrieve(pid))
    assert detail.id == pid and detail.connections == []

    assert [p.id for p in await collect(patients.list(patient_id=pid))] == [pid]
    page = await run(patients.list_page(email="river@example.test", limit=5))
    assert [p.id for p in page.data] == [pid] and page.has_more is False

    replaced = await run(patients.replace(pid, email=None, name="River Renamed", metadata=None))
    assert (replaced.email, replaced.name, replaced.metadata) == (None, "River Renamed", {})

    with pytest.raises(errors.ConflictError) as caught:
        await run(patients.create(pid))
    assert caught.value.code == "external_id_already_exists"

    deleted = await run(patients.delete(pid))
    assert (deleted.id, deleted.deleted) == (pid, True)
    with pytest.raises(errors.NotFoundError) as missing:
        await run(patients.retrieve(pid))
    assert missing.value.code == "resource_not_found"
    assert str(missing.value).startswith(missing.value.request_id or "?")


async def test_patient_id_with_a_slash_is_one_path_segment(target: ClientUnderTest) -> None:
    pid = fresh_id("team/a")
    await run(target.client.patients.create(pid))
    assert (await run(target.client.patients.retrieve(pid))).id == pid


async def test_disconnect_an_active_connection(target: ClientUnderTest) -> None:
    patient = await patient_with(target, "active")
    conn = next(c for c in patient.connections if c.status == "active")
    result = await run(target.client.patients.disconnect(patient.id, conn.id))
    assert (result.id, result.resource_type, result.disconnected) == (conn.id, "connection", True)
    after = await run(target.client.patients.retrieve(patient.id))
    assert next(c for c in after.connections if c.id == conn.id).status == "disconnected"


async def test_sessions_picker_and_direct_mode(target: ClientUnderTest) -> None:
    client = target.client
    sources = (await run(client.sources.list_page(limit=3))).data
    pid = fresh_id()
    picker = await run(
        client.patient_sessions.create(
            patient_id=pid,
            return_url="https://app.example.test/return",
            recommended_connection_ids=[s.id for s in sources[:2]],
            return_button_label="Acme",
            expires_in=600,
            metadata={"flow": "picker"},
        )
    )
    assert picker.status == "open" and picker.connection_id is None
    assert picker.recommended_connection_ids == [s.id for s in sources[:2]]
    direct = await run(
        client.patient_sessions.create(
            patient_id=pid,
            return_url="https://app.example.test/return",
            connection_id=sources[2].id,
        )
    )
    assert direct.connection_id == sources[2].id and direct.recommended_connection_ids is None
    again = await run(client.patient_sessions.retrieve(picker.id))
    assert again.id == picker.id and again.metadata == {"flow": "picker"}

    listed = await collect(client.patients.sessions(pid, status="open", limit=1))
    assert {s.id for s in listed} == {picker.id, direct.id}
    assert (await run(client.patients.sessions_page(pid, status="expired"))).data == []

    with pytest.raises(ValueError, match="not both"):
        await run(
            client.patient_sessions.create(
                patient_id=pid,
                return_url="https://app.example.test/return",
                connection_id=sources[0].id,
                recommended_connection_ids=[sources[1].id],
            )
        )
    assert len(await collect(client.patients.sessions(pid))) == 2


async def test_records_pages_forwards_and_backwards(target: ClientUnderTest) -> None:
    client = target.client
    patient = await patient_with(target, "active")
    everything = await collect(client.patients.iter_records(patient.id))
    if len(everything) < 3:
        pytest.fail("the demo seed should give an active patient at least three records")
    first = await run(client.patients.records(patient.id, count=2))
    assert first.patient_id == patient.id and len(first.data) == 2 and first.has_more
    second = await run(
        client.patients.records(patient.id, count=2, starting_after=first.next_cursor)
    )
    assert second.data[0] == everything[2]
    back = await run(
        client.patients.records(patient.id, count=2, ending_before=second.previous_cursor)
    )
    assert back.data == first.data
    kinds = {r.resource.resourceType for r in everything}
    one_kind = sorted(kinds)[0]
    filtered = await collect(client.patients.iter_records(patient.id, type=one_kind))
    assert filtered and {r.resource.resourceType for r in filtered} == {one_kind}
    assert await collect(client.patients.iter_records(patient.id, since="2999-01-01")) == []


async def test_source_catalog(target: ClientUnderTest) -> None:
    sources = target.client.sources
    catalog = await collect(sources.list(limit=5))
    assert len(catalog) == len({s.id for s in catalog}) > 5
    epic = await collect(sources.list(type="epic"))
    assert epic and all(s.type == "epic" for s in epic)
    needle = catalog[0].name[:4].lower()
    assert all(needle in s.name.lower() for s in await collect(sources.list(q=needle)))
    by_id = await run(sources.retrieve(catalog[0].id))
    by_url = await run(sources.retrieve(catalog[0].fhir_base_url))
    assert by_id == by_url == catalog[0]


async def test_webhook_endpoint_lifecycle(target: ClientUnderTest) -> None:
    hooks = target.client.webhooks
    created = await run(
        hooks.create(
            url="https://hooks.example.test/client-tests",
            events=["patient_session.completed"],
            description="client tests",
            metadata={"suite": "client"},
        )
    )
    assert created.secret.startswith("whsec_") and "whsec_" not in repr(created)
    assert (await run(hooks.retrieve(created.id))).url == created.url
    assert created.id in {h.id for h in await collect(hooks.list(status="active"))}

    updated = await run(hooks.update(created.id, description=None, status="disabled"))
    assert (updated.description, updated.status, updated.url) == (None, "disabled", created.url)
    assert created.id in {h.id for h in (await run(hooks.list_page(status="disabled"))).data}

    rotated = await run(hooks.rotate_secret(created.id))
    assert rotated.secret.startswith("whsec_") and rotated.secret != created.secret

    deleted = await run(hooks.delete(created.id))
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(errors.NotFoundError):
        await run(hooks.retrieve(created.id))


async def test_webhook_events_and_redelivery(target: ClientUnderTest) -> None:
    client = target.client
    endpoint = (await collect(client.webhooks.list()))[0]
    events = await collect(client.webhooks.events(endpoint.id, limit=3))
    assert events and all(e.webhook_endpoint_id == endpoint.id for e in events)
    delivered = await collect(client.webhooks.events(endpoint.id, delivered=True))
    pending = (await run(client.webhooks.events_page(endpoint.id, delivered=False))).data
    assert all(e.delivered_at is not None for e in delivered)
    assert all(e.delivered_at is None for e in pending)

    event = events[0]
    redelivered = await run(client.events.redeliver(event.id))
    assert redelivered.id == event.id and redelivered.last_redelivered_at is not None
    with pytest.raises(errors.RateLimitError) as caught:
        await run(client.events.redeliver(event.id))
    assert caught.value.code == "throttled" and caught.value.retry_after is not None


async def test_launch_context(target: ClientUnderTest) -> None:
    context_id = target.launch_context_id()
    context = await run(target.client.launch_contexts.retrieve(context_id))
    assert context.id == context_id and context.status in ("ready", "pending")
    assert context.unknown_enum_values() == {}


async def test_wrong_key_is_an_authentication_error(target: ClientUnderTest) -> None:
    with pytest.raises(errors.AuthenticationError) as caught:
        await run(target.make("mb_sk_sbx_wrong").patients.list_page())
    error = caught.value
    assert error.http_status == 401 and error.type == "authentication_error"
    assert error.request_id and str(error).startswith(error.request_id)
    assert KEY not in str(error) and "mb_sk_sbx_wrong" not in str(error)


async def test_unsupported_version_is_a_bad_request(target: ClientUnderTest) -> None:
    with pytest.raises(errors.BadRequestError) as caught:
        await run(target.make(api_version="2020-01-01").patients.list_page())
    assert caught.value.code == "unsupported_api_version"


async def test_per_call_timeout_and_retries_are_accepted(target: ClientUnderTest) -> None:
    page = await run(target.client.sources.list_page(limit=1, timeout=10.0, max_retries=0))
    assert len(page.data) == 1
