"""The sandbox: a stateful local emulator of the Medblocks Platform API.

It depends on `medblocks.spec` alone (never on the client it exists to check).
"""

from medblocks.sandbox.app import create_app
from medblocks.sandbox.config import SandboxConfig
from medblocks.sandbox.server import RunningSandbox, start_in_thread

__all__ = ["RunningSandbox", "SandboxConfig", "create_app", "start_in_thread"]
