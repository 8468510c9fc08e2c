"""The state one running sandbox shares across requests (`app.state.sandbox`)."""

from __future__ import annotations

from dataclasses import dataclass

from medblocks.sandbox.clock import SandboxClock
from medblocks.sandbox.config import SandboxConfig, resolve_api_key
from medblocks.sandbox.store import Store
from medblocks.sandbox.validation import PathEntry, compile_spec
from medblocks.spec import PINNED_PATH, dereferenced_pinned, pinned_version


@dataclass
class SandboxRuntime:
    """Configuration, storage, clock, accepted key and the compiled spec of one sandbox."""

    config: SandboxConfig
    store: Store
    clock: SandboxClock
    api_key: str
    api_version: str
    paths: list[PathEntry]
    spec_bytes: bytes

    @classmethod
    def build(cls, config: SandboxConfig) -> SandboxRuntime:
        from medblocks.sandbox.seed import seed_store

        store = Store(config.db_path)
        clock = SandboxClock(store)
        seed_store(store, clock, config)
        return cls(
            config=config,
            store=store,
            clock=clock,
            api_key=resolve_api_key(config.api_key),
            api_version=pinned_version(),
            paths=compile_spec(dereferenced_pinned()),
            spec_bytes=PINNED_PATH.read_bytes(),
        )
