"""Medblocks Platform API tooling: pinned spec, typed client, embedded sandbox."""

from medblocks.client import (
    APIConnectionError,
    APITimeoutError,
    AsyncMedblocks,
    Medblocks,
    MedblocksError,
)

__version__ = "0.1.0"

__all__ = ["APIConnectionError", "APITimeoutError", "AsyncMedblocks", "Medblocks", "MedblocksError"]
