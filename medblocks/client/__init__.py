"""Typed sync and async clients for the Medblocks Platform API (httpx + pydantic)."""

from medblocks.client.async_client import AsyncMedblocks
from medblocks.client.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BillingError,
    ConflictError,
    InternalServerError,
    MedblocksError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    UpstreamError,
)
from medblocks.client.fan_out import FanOutResult
from medblocks.client.log_redaction import install as _install_log_redaction
from medblocks.client.models import unknown_enum_values_seen
from medblocks.client.operations import NOT_GIVEN
from medblocks.client.pagination import AsyncPaginator, PaginationError, Paginator
from medblocks.client.sync_client import Medblocks

_install_log_redaction()

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APITimeoutError",
    "AsyncMedblocks",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "BillingError",
    "ConflictError",
    "FanOutResult",
    "InternalServerError",
    "Medblocks",
    "MedblocksError",
    "NotFoundError",
    "PaginationError",
    "Paginator",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "UpstreamError",
    "unknown_enum_values_seen",
]
