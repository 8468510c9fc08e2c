"""Medblocks Platform API tooling: pinned spec, typed client, sandbox, org mirror, dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from medblocks.version import __version__ as __version__

if TYPE_CHECKING:
    from medblocks.client import (
        APIConnectionError,
        APITimeoutError,
        AsyncMedblocks,
        Medblocks,
        MedblocksError,
    )


__all__ = ["APIConnectionError", "APITimeoutError", "AsyncMedblocks", "Medblocks", "MedblocksError"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so `import medblocks.sandbox` (which must not depend on the
    # client it exists to check) does not pull in the client and its configuration.
    if name in __all__:
        import medblocks.client

        return getattr(medblocks.client, name)
    raise AttributeError(f"module 'medblocks' has no attribute {name!r}")
