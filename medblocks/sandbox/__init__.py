"""The sandbox: a stateful local emulator of the Medblocks Platform API.

It depends on `medblocks.spec` and the neutral `medblocks.loopback` and `medblocks.served_thread`
alone (never on the client it exists to check). Its test patients (`PERSONAS`, signed in with
`SANDBOX_PASSWORD`), the failure codes it produces and its run-wide `Faults` are the one
definition of each; the dashboard shows and sets them from here.
"""

from medblocks.sandbox.app import create_app
from medblocks.sandbox.config import SandboxConfig
from medblocks.sandbox.hosted.outcomes import (
    DENIED,
    FAILURE_CODES,
    PERSONAS,
    SANDBOX_PASSWORD,
    Outcome,
    Persona,
)
from medblocks.sandbox.levers.faults import Faults
from medblocks.sandbox.server import RunningSandbox, start_in_thread

__all__ = [
    "DENIED",
    "FAILURE_CODES",
    "PERSONAS",
    "SANDBOX_PASSWORD",
    "Faults",
    "Outcome",
    "Persona",
    "RunningSandbox",
    "SandboxConfig",
    "create_app",
    "start_in_thread",
]
