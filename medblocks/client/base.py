"""What the sync and async clients share at construction: target, headers, defaults, the
httpx client they send through and the resources they offer."""

from __future__ import annotations

import platform
from abc import ABC, abstractmethod
from typing import Any, Generic, Self, TypeVar

import httpx

from medblocks.client.calls import DEFAULT_MAX_RETRIES, CallRunner, TimeoutArg, as_timeout
from medblocks.config import DEFAULT_API_URL, Settings, validate_base_url
from medblocks.spec import pinned_version


def user_agent() -> str:
    """`medblocks-workbench/<version>` plus the runtime, sent on every request."""
    import medblocks  # the package's own version; imported late because it imports us

    return (
        f"medblocks-workbench/{medblocks.__version__} "
        f"(python {platform.python_version()}; httpx {httpx.__version__})"
    )


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)


class ClientCore(ABC, Generic[HttpT, TransportT]):
    """The one constructor of both clients: validates the target, holds the `CallRunner` and
    the httpx client (`HttpT`, opened over `transport` unless `http_client` is given, and then
    left for its owner to close); never keeps the key in `repr()`."""

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
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError(
                "api_key must be a non-empty Medblocks key (mb_sk_sbx_… or mb_sk_live_…)"
            )
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.base_url = validate_base_url(base_url, variable="base_url")
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

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> Self:
        """A client for a configured sandbox or live target (starting the embedded sandbox,
        then passing its `base_url` and key, is the caller's job)."""
        if settings.api_key is None or settings.base_url is None:
            raise ValueError(
                "these settings select the embedded sandbox: start it and build the client "
                "from its base_url and api_key"
            )
        return cls(
            settings.api_key,
            base_url=settings.base_url,
            api_version=settings.api_version,
            **options,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, api_version={self.api_version!r})"
        )
