"""What the sync and async clients share at construction: target, headers, defaults, the
httpx client they send through and the resources they offer."""

from __future__ import annotations

import platform
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

import httpx

from medblocks.client.calls import DEFAULT_MAX_RETRIES, CallRunner, TimeoutArg, as_timeout
from medblocks.client.checks import DEFAULT_API_URL, checked_base_url, key_environment
from medblocks.spec import pinned_version
from medblocks.version import __version__


def user_agent() -> str:
    """`medblocks-workbench/<version>` plus the runtime, sent on every request."""
    return (
        f"medblocks-workbench/{__version__} "
        f"(python {platform.python_version()}; httpx {httpx.__version__})"
    )


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)


class ClientCore(ABC, Generic[HttpT, TransportT]):
    """The one constructor of both clients: checks the base URL and the key's shape, holds
    the `CallRunner` and the httpx client (`HttpT`, opened over `transport` unless
    `http_client` is given, and then left for its owner to close); never keeps the key in
    `repr()`."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_API_URL,
        api_version: str | None = None,
        timeout: TimeoutArg = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: TransportT | None = None,
        http_client: HttpT | None = None,
    ) -> None:
        key_environment(api_key)
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.base_url = checked_base_url(base_url)
        self.api_version = api_version or pinned_version()
        headers = {
            "Authorization": f"Bearer {api_key.strip()}",
            "Version": self.api_version,
            "User-Agent": user_agent(),
            "Accept": "application/json",
        }
        self._runner = CallRunner(self.base_url, headers, as_timeout(timeout), max_retries)
        self._owns_http = http_client is None
        self._http: HttpT = http_client or self._open_http(transport)
        self._attach_resources()

    @abstractmethod
    def _open_http(self, transport: TransportT | None) -> HttpT:
        """The httpx client this client owns, with the client's default timeout."""

    @abstractmethod
    def _attach_resources(self) -> None:
        """Set the resources: `patients`, `patient_sessions`, `sources`, `webhooks`, `events`,
        `launch_contexts`."""

    @property
    def max_retries(self) -> int:
        return self._runner.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._runner.timeout

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, api_version={self.api_version!r})"
        )
