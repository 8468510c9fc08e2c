"""The demo organisation a first start builds, and bulk patients for scale work.

Everything is synthetic and deterministic for a given `random_seed`: names from a fixed list,
emails at `example.test`, FHIR endpoints on `*.example.test`, logos as inline SVG data URIs (no
browser ever fetches an outside host). The catalog of FHIR sources is always present (it is
Medblocks' catalog, not the organisation's data); `seed_demo` adds the organisation's patients,
sessions, connections, records, a launch context and a webhook endpoint with its events.
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from ulid import ULID

from medblocks.sandbox.clock import SandboxClock, iso
from medblocks.sandbox.config import SandboxConfig
from medblocks.sandbox.storage.ehr import SCOPES, chart_records
from medblocks.sandbox.storage.store import Store, dumps

SEEDED_KEY = "seeded"
# The failure codes the demo data is seeded with (a subset of hosted.outcomes.FAILURE_CODES).
SEEDED_FAILURE_CODES = (
    "user_denied",
    "oauth_callback_failed",
    "portal_login_failed",
    "consent_timeout",
)

# (name, vendor, slug)
CATALOG: tuple[tuple[str, str | None, str], ...] = (
    ("Aurora Community Health", "epic", "aurora-community"),
    ("Bayview Primary Care", "eclinicalworks", "bayview-primary"),
    ("Cedar Pediatrics", "athena", "cedar-pediatrics"),
    ("Granite Falls Hospital", "meditech", "granite-falls"),
    ("Harbor County Medical", "cerner", "harbor-county"),
    ("Lakeside Medical Center", "epic", "lakeside-medical"),
    ("Maple Family Practice", "athena", "maple-family"),
    ("Northwind Health", "epic", "northwind-health"),
    ("Oak Ridge Health", "veradigm", "oak-ridge"),
    ("Pinecrest Regional", "meditech", "pinecrest-regional"),
    ("Riverbend Hospital", "cerner", "riverbend-hospital"),
    ("Summit Valley Clinic", "epic", "summit-valley"),
    ("Willow Creek Specialists", "nextgen", "willow-creek"),
    ("Medblocks FHIR Test Server", None, "fhir-test"),
)

FIRST_NAMES = (
    "Avery",
    "Blake",
    "Casey",
    "Devon",
    "Emery",
    "Finley",
    "Gray",
    "Harper",
    "Indigo",
    "Jules",
    "Kai",
    "Logan",
    "Morgan",
    "Noel",
    "Oakley",
    "Parker",
    "Quinn",
    "Reese",
    "Sage",
    "Taylor",
    "Umber",
    "Vale",
    "Wren",
    "Xen",
    "Yael",
    "Zion",
)
LAST_NAMES = (
    "Testwell",
    "Sampleton",
    "Mockford",
    "Fakeley",
    "Demoson",
    "Placeholder",
    "Fixture",
    "Synthetica",
    "Stubbs",
    "Dummer",
    "Exampleby",
    "Trialson",
)

# Scenario per demo patient: the statuses of its connections, in creation order.
SCENARIOS: tuple[tuple[str, ...], ...] = (
    ("active",),
    ("active",),
    ("active", "active"),
    ("failed",),
    ("failed", "active"),
    ("refresh_failed",),
    ("expired",),
    ("disconnected",),
    ("active", "disconnected"),
    ("failed",),
    ("refresh_failed", "active"),
    (),
    ("active",),
    ("expired", "failed"),
    ("failed",),
    ("active",),
    (),
    ("disconnected", "refresh_failed"),
    ("active",),
    ("failed", "failed"),
    ("expired",),
    ("active",),
    ("refresh_failed",),
    ("active", "failed"),
    (),
    ("active",),
    ("disconnected",),
    ("failed",),
)


def _logo(name: str, vendor: str | None) -> str:
    initials = "".join(word[0] for word in name.split()[:2])
    hue = sum(map(ord, vendor or name)) % 360
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='64' height='64'>"
        f"<rect width='64' height='64' rx='12' fill='hsl({hue},55%,45%)'/>"
        "<text x='32' y='41' font-family='sans-serif' font-size='24' fill='white' "
        f"text-anchor='middle'>{initials}</text></svg>"
    )
    return "data:image/svg+xml," + quote(svg)


@dataclass
class _Seeder:
    store: Store
    rng: random.Random
    now: datetime

    def ulid(self, prefix: str, moment: datetime) -> str:
        millis = int(moment.timestamp() * 1000).to_bytes(6, "big")
        return prefix + str(ULID.from_bytes(millis + self.rng.randbytes(10)))

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)


def seed_catalog(store: Store, rng: random.Random, now: datetime) -> list[str]:
    seeder = _Seeder(store, rng, now)
    rows = []
    for name, vendor, slug in CATALOG:
        rows.append(
            (
                seeder.ulid("fhirsrc_", seeder.ago(400)),
                name,
                vendor,
                f"https://fhir.{slug}.example.test/api/FHIR/R4",
                _logo(name, vendor),
                f"https://mychart.{slug}.example.test/",
            )
        )
    store.insert_sources(rows)
    return [row[0] for row in rows]


def seed_demo_organisation(
    store: Store, rng: random.Random, now: datetime, sources: list[str]
) -> None:
    seeder = _Seeder(store, rng, now)
    with store.transaction() as db:
        for index, scenario in enumerate(SCENARIOS):
            first, last = FIRST_NAMES[index % len(FIRST_NAMES)], rng.choice(LAST_NAMES)
            name = None if index % 9 == 4 else f"{first} {last}"
            email = None if index % 7 == 3 else f"{first.lower()}.{last.lower()}@example.test"
            patient_id = f"user_{1000 + index}"
            created = seeder.ago(90 - index * 2)
            store.insert_patient(
                db,
                patient_id,
                email,
                name,
                {"cohort": rng.choice(["pilot", "general", "cardiology"])},
                iso(created),
            )
            _seed_patient_history(
                seeder, db, patient_id, name, scenario, created, sources, index % 3 == 1
            )
        _seed_webhooks(seeder, db)
        store.insert_launch_context(
            db,
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            status="ready",
            patient="Patient/48213377",
            encounter="Encounter/enc-3301",
            fhir_user="Practitioner/prac-1207",
            scope="launch openid fhirUser patient/*.read",
            fhir_source=sources[0],
            fhir_base_url=f"https://fhir.{CATALOG[0][2]}.example.test/api/FHIR/R4",
            created_at=iso(seeder.ago(0.5)),
        )


def _seed_patient_history(
    seeder: _Seeder,
    db: Any,
    patient_id: str,
    name: str | None,
    scenario: tuple[str, ...],
    created: datetime,
    sources: list[str],
    with_open_sessions: bool,
) -> None:
    store, rng = seeder.store, seeder.rng
    moment = created + timedelta(hours=1)
    for status in scenario:
        source = rng.choice(sources)
        session_id = seeder.ulid("ps_", moment)
        direct = rng.random() < 0.4
        store.insert_session(
            db,
            id=session_id,
            token=rng.randbytes(16).hex(),
            patient_id=patient_id,
            mode="direct" if direct else "picker",
            connection_id=source if direct else None,
            recommended_connection_ids=None if direct else rng.sample(sources, 2),
            return_url="https://app.example.test/medblocks/return",
            return_button_label=None if direct else "Acme Care",
            expires_at=iso(moment + timedelta(seconds=1800)),
            metadata={"campaign": "demo"},
            created_at=iso(moment),
            status="complete",
            completed_at=iso(moment + timedelta(minutes=4)),
        )
        attempt_at = iso(moment + timedelta(minutes=3))
        failed = status == "failed"
        code = rng.choice(SEEDED_FAILURE_CODES) if failed else None
        connection_id = seeder.ulid("conn_", moment)
        store.insert_connection(
            db,
            id=connection_id,
            patient_id=patient_id,
            patient_session_id=session_id,
            connection_id=source,
            status=status,
            scopes=[] if failed else SCOPES,
            failure_code=code,
            failure_at=attempt_at if failed else None,
            created_at=attempt_at,
        )
        store.insert_attempt(
            db,
            patient_session_id=session_id,
            connection=None if failed else connection_id,
            connection_id=source,
            status=status,
            failure_code=code,
            failure_at=attempt_at if failed else None,
            created_at=attempt_at,
        )
        if status == "active":
            store.insert_records(
                db, chart_records(rng, patient_id, name, source, moment + timedelta(minutes=10))
            )
        moment += timedelta(days=rng.randrange(1, 6))
    # One open and one expired session for every third patient, so lists show all statuses.
    if with_open_sessions:
        for label, started, lifetime in (
            ("open", seeder.now - timedelta(minutes=5), 3600),
            ("expired", moment, 1800),
        ):
            store.insert_session(
                db,
                id=seeder.ulid("ps_", started),
                token=rng.randbytes(16).hex(),
                patient_id=patient_id,
                mode="picker",
                connection_id=None,
                recommended_connection_ids=rng.sample(sources, 3),
                return_url="https://app.example.test/medblocks/return",
                return_button_label="Acme Care" if label == "open" else None,
                expires_at=iso(started + timedelta(seconds=lifetime)),
                metadata={},
                created_at=iso(started),
            )


def _seed_webhooks(seeder: _Seeder, db: Any) -> None:
    store, rng = seeder.store, seeder.rng
    endpoint_id = seeder.ulid("wh_", seeder.ago(30))
    store.insert_webhook(
        db,
        id=endpoint_id,
        url="https://hooks.example.test/medblocks",
        events=["*"],
        status="active",
        description="Demo receiver",
        metadata={"team": "integrations"},
        api_version="2026-04-25",
        secret="whsec_" + rng.randbytes(18).hex(),
        created_at=iso(seeder.ago(30)),
    )
    types = (
        "patient_session.completed",
        "records.sync.completed",
        "connection.token_refresh_failed",
        "records.sync.failed",
    )
    for index in range(8):
        created = seeder.ago(8 - index)
        event_type = types[index % len(types)]
        delivered = index % 4 != 3
        store.insert_event(
            db,
            id=seeder.ulid("evt_", created),
            webhook_endpoint_id=endpoint_id,
            type=event_type,
            data={"object": {"id": seeder.ulid("ps_", created)}},
            api_version="2026-04-25",
            created_at=iso(created),
            attempts=1 if delivered else 3,
            next_attempt_at=None if delivered else iso(seeder.now + timedelta(minutes=30)),
            delivered_at=iso(created + timedelta(seconds=1)) if delivered else None,
            last_status_code=200 if delivered else 503,
            last_response_body="ok" if delivered else "Service Unavailable",
        )


def seed_bulk_patients(
    store: Store, rng: random.Random, now: datetime, sources: list[str], count: int
) -> None:
    """`count` extra patients with one connection each, in one transaction (scale work).

    Built for `--seed 100000` to be ready in seconds: every random choice is drawn in bulk,
    the constant JSON is encoded once and the connection ids are encoded by `_ulid_text`.
    """
    statuses = ("active", "active", "active", "failed", "refresh_failed", "expired", "disconnected")
    scopes = dumps(SCOPES)
    firsts = rng.choices(FIRST_NAMES, k=count)
    lasts = rng.choices(LAST_NAMES, k=count)
    picked_sources = rng.choices(sources, k=count)
    codes = rng.choices(SEEDED_FAILURE_CODES, k=count)
    patients, connections = [], []
    for index in range(count):
        created = iso(now - timedelta(days=rng.uniform(0, 365)))
        first, last = firsts[index], lasts[index]
        patient_id = f"bulk_{index:06d}"
        patients.append(
            (
                patient_id,
                f"{first.lower()}.{last.lower()}.{index}@example.test",
                f"{first} {last}",
                "{}",
                created,
            )
        )
        status = statuses[index % len(statuses)]
        failed = status == "failed"
        connections.append(
            (
                f"conn_{_ulid_text(rng.randbytes(16))}",
                patient_id,
                None,
                picked_sources[index],
                status,
                "[]" if failed else scopes,
                codes[index] if failed else None,
                created if failed else None,
                created,
                created,
            )
        )
    with store.transaction() as db:
        store.insert_patients_bulk(db, patients)
        store.insert_connections_bulk(db, connections)


# RFC 4648 base32 letters -> Crockford's (the ULID alphabet).
_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def _ulid_text(raw: bytes) -> str:
    """The ULID text of 16 bytes, as `str(ULID.from_bytes(raw))` but encoded in C: a ULID is
    the 128 bits read as 26 five-bit digits (two leading zero bits), so the bits shifted into
    a 160-bit block and base32-encoded give it in the first 26 characters."""
    block = (int.from_bytes(raw, "big") << 30).to_bytes(20, "big")
    return base64.b32encode(block)[:26].decode().translate(_CROCKFORD)


def seed_store(store: Store, clock: SandboxClock, config: SandboxConfig) -> None:
    """Build the demo data on a first start (an already seeded database is left as it is)."""
    if store.is_seeded():
        return
    rng = random.Random(config.random_seed)
    now = clock.now()
    sources = seed_catalog(store, rng, now)
    if config.seed_demo:
        seed_demo_organisation(store, rng, now, sources)
    if config.seed_patients:
        seed_bulk_patients(store, rng, now, sources, config.seed_patients)
    store.set_state(SEEDED_KEY, iso(now))
