"""The state one running sandbox shares across requests (`app.state.sandbox`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from medblocks.sandbox.api.validation import PathEntry, compile_spec
from medblocks.sandbox.clock import SandboxClock
from medblocks.sandbox.config import SandboxConfig, resolve_api_key
from medblocks.sandbox.storage.seed import seed_store
from medblocks.sandbox.storage.store import Store
from medblocks.spec import PINNED_PATH, dereferenced_pinned, pinned_version

T = TypeVar("T")


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
    # One object per kind that lives as long as this sandbox (fault state, webhook worker).
    _companions: dict[type, Any] = field(default_factory=dict, init=False, repr=False)
    _companions_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def build(cls, config: SandboxConfig) -> SandboxRuntime:
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

    def companion(self, kind: type[T], make: Callable[[SandboxRuntime], T]) -> T:
        """This sandbox's one `kind` object, made by `make(self)` on first use.

        `make` runs outside the lock (it may read the store), so two racing first calls may
        each build one; only the first stored is ever returned, so `make` must not start work.
        """
        found = self._companions.get(kind)
        if found is None:
            made = make(self)
            with self._companions_lock:
                found = self._companions.setdefault(kind, made)
        return cast(T, found)

    def find_companion(self, kind: type[T]) -> T | None:
        """This sandbox's `kind` object if one was made, else None."""
        return cast("T | None", self._companions.get(kind))

    def drop_companion(self, kind: type) -> None:
        """Forget this sandbox's `kind` object; the next `companion` call makes a fresh one."""
        with self._companions_lock:
            self._companions.pop(kind, None)
