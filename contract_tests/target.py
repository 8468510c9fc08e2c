"""Which server the contract suite talks to, and the refusal of a live key.

* nothing configured -> a fresh in-process sandbox (`medblocks.in_process`: an ASGI app, no
  socket);
* `MEDBLOCKS_API_URL` + `MEDBLOCKS_API_KEY` -> that server, named for what it is by asking it
  (`identify`): a sandbox with `/_sandbox` controls (it answers `GET /_sandbox/faults` with its
  faults), a Medblocks sandbox workspace (a `mb_sk_sbx_` key on Medblocks' own host), or "a
  server" (anything else: a mock, a proxy, another implementation; a loopback URL alone says
  nothing);
* a `mb_sk_live_` key -> `LiveKeyRefused`, raised before any client object exists, so no
  request can leave.

`MEDBLOCKS_CONTRACT_BREAK` (self-test only) wraps the in-process sandbox in one deliberate break
from `contract_tests.broken`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from contract_tests.pacing import RATE_ENV, SHARE_OF_LIMIT, PacedTransport, Pacer
from medblocks.client.checks import DEFAULT_API_URL, SANDBOX_KEY_PREFIX
from medblocks.config import LIVE_KEY_PREFIX, ConfigError, load_settings
from medblocks.in_process import (
    IN_PROCESS_BASE_URL,
    TIMEOUT,
    in_process_client,
    start_in_process_sandbox,
)
from medblocks.sandbox.__main__ import parse_args as sandbox_arguments
from medblocks.spec import pinned_version

FAULTS_CONTROL = "/_sandbox/faults"
# What a target is, as the reports name it ("<kind> at <url>").
IN_PROCESS = "in-process sandbox"
SANDBOX_WITH_CONTROLS = "a sandbox with /_sandbox controls"
MEDBLOCKS_WORKSPACE = "a Medblocks sandbox workspace"
A_SERVER = "a server"
BREAK_ENV = "MEDBLOCKS_CONTRACT_BREAK"


class LiveKeyRefused(RuntimeError):
    """A production key was configured; the suite never fuzzes production."""


class TargetUnusable(RuntimeError):
    """The configured server cannot be reached, or refuses the key: nothing to test."""


@dataclass
class ContractTarget:
    """A server under test. `app` is set for the in-process sandbox, None over the network."""

    label: str
    base_url: str
    api_key: str = field(repr=False)
    app: Any = field(default=None, repr=False)
    broken: str | None = None
    # The faults the target's `/_sandbox/faults` control reports (None: it has no such control).
    faults: dict[str, Any] | None = None
    pacer: Pacer = field(default_factory=Pacer, repr=False)

    @property
    def is_in_process(self) -> bool:
        return self.app is not None

    @property
    def is_sandbox(self) -> bool:
        """The project's sandbox: in-process, or a server that answered its faults control."""
        return self.is_in_process or self.faults is not None

    @property
    def faults_active(self) -> dict[str, Any]:
        """The faults switched on at the target (latency, error rate, rate limit...), if known."""
        numbers = {k: v for k, v in (self.faults or {}).items() if isinstance(v, (int, float))}
        return {k: v for k, v in numbers.items() if v and k != "retry_after"}

    @property
    def reproduce_url(self) -> str:
        """Where a printed curl command goes: the target itself, or for the in-process sandbox
        (no address) `python -m medblocks.sandbox`'s default address."""
        return sandbox_default_url() if self.is_in_process else self.base_url

    def client(self, *, authenticated: bool = True, version: bool = True) -> httpx.Client:
        """An httpx client for hand-written requests (errors, behaviour, cleanup)."""
        headers = {"Accept": "application/json"}
        if authenticated:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if version:
            headers["Version"] = pinned_version()
        if self.app is not None:
            return in_process_client(self.app, headers=headers)
        # A server: within its rate and a 429's Retry-After (`pacing.PacedTransport`).
        return httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=TIMEOUT,
            transport=PacedTransport(self.pacer),
        )


def sandbox_default_url() -> str:
    """The address `python -m medblocks.sandbox` serves on when given no options."""
    defaults = sandbox_arguments([])
    return f"http://{defaults.host}:{defaults.port}"


def refuse_live_key(api_key: str | None) -> None:
    if api_key and api_key.strip().startswith(LIVE_KEY_PREFIX):
        raise LiveKeyRefused(
            "MEDBLOCKS_API_KEY is a live key (mb_sk_live_...): the contract suite fuzzes the API "
            "with random and invalid data and never runs against production. Use a sandbox key "
            "(mb_sk_sbx_...) or unset MEDBLOCKS_API_KEY and MEDBLOCKS_API_URL for the in-process "
            "sandbox. No request was sent."
        )


def probe_target(target: ContractTarget) -> None:
    """One authenticated read before the run, so that an unreachable server or a refused key
    stops the run once with one message (instead of every test failing alike)."""
    if target.is_in_process:
        return
    try:
        with target.client() as client:
            response = client.get("/patients", params={"limit": 1})
    except httpx.HTTPError as exc:
        raise TargetUnusable(
            f"cannot reach the target {target.base_url} ({type(exc).__name__}); check "
            "MEDBLOCKS_API_URL. No contract test ran."
        ) from None
    if response.status_code == 401:
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = "no error envelope"
        raise TargetUnusable(
            f"the target {target.base_url} refused MEDBLOCKS_API_KEY (HTTP 401 {code}, request "
            f"id {response.headers.get('x-request-id')}). No contract test ran."
        )


def identify(target: ContractTarget) -> None:
    """Name a network target for what it is, by asking it: a sandbox answers its faults control
    (and so says which faults are on, and its rate limit, which the run keeps within)."""
    if target.is_in_process:
        return
    try:
        with target.client() as client:
            response = client.get(FAULTS_CONTROL)
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        body = None
    name_target(target, body)
    if target.pacer.per_second is None and os.environ.get(RATE_ENV):
        target.pacer.per_second = float(os.environ[RATE_ENV])


def name_target(target: ContractTarget, faults: Any) -> None:
    """The kind of a network target from what its faults control answered (`faults`, None if
    nothing usable): a sandbox with controls; else a `mb_sk_sbx_` key on Medblocks' own host is
    a workspace; anything else is "a server" (a loopback address alone says nothing)."""
    if isinstance(faults, dict) and isinstance(faults.get("latency_ms"), int):
        target.faults = faults
        target.label = SANDBOX_WITH_CONTROLS
        limit = faults.get("rate_limit_per_second")
        if isinstance(limit, int) and limit > 0:
            target.pacer.per_second = limit * SHARE_OF_LIMIT
    elif (
        target.api_key.startswith(SANDBOX_KEY_PREFIX)
        and urlsplit(target.base_url).hostname == urlsplit(DEFAULT_API_URL).hostname
    ):
        target.label = MEDBLOCKS_WORKSPACE
    else:
        target.label = A_SERVER


def select_target(environ: Mapping[str, str] | None = None) -> ContractTarget:
    """The target the environment asks for; raises before any network object is created."""
    environ = os.environ if environ is None else environ
    refuse_live_key(environ.get("MEDBLOCKS_API_KEY"))
    broken = environ.get(BREAK_ENV) or None
    if broken:  # the self-test: always the in-process sandbox, whatever `.env` says
        return in_process_target(broken)
    try:
        settings = load_settings(environ)
    except ConfigError as exc:
        raise ConfigError(f"contract suite: {exc}") from None
    refuse_live_key(settings.api_key)  # also catches a live key that came from `.env`
    if settings.base_url is not None and settings.api_key is not None:
        return ContractTarget(
            label=A_SERVER,  # until `identify` has asked it
            base_url=settings.base_url,
            api_key=settings.api_key,
        )
    return in_process_target()


def in_process_target(broken: str | None = None) -> ContractTarget:
    """A fresh in-process sandbox (key from MEDBLOCKS_SANDBOX_API_KEY or minted)."""
    sandbox = start_in_process_sandbox()
    app, api_key = sandbox.app, sandbox.api_key
    label = IN_PROCESS
    if broken:
        from contract_tests.broken import break_app

        app = break_app(app, broken)
        label += f", deliberately broken: {broken}"
    return ContractTarget(
        label=label, base_url=IN_PROCESS_BASE_URL, api_key=api_key, app=app, broken=broken
    )
