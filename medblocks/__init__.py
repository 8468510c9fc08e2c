"""Medblocks Platform API tooling: pinned spec, typed client, embedded sandbox."""

__version__ = "0.1.0"
