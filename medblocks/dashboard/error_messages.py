"""Upstream trouble turned into a message a person can act on, always with the request id."""

from __future__ import annotations

from dataclasses import dataclass

from medblocks.client import MedblocksError
from medblocks.client.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UpstreamError,
)
from medblocks.dashboard.roles import NotAllowed
from medblocks.dashboard.sandbox_levers import LeverError
from medblocks.mirror.identity import OtherOrganisation


@dataclass(frozen=True)
class Problem:
    title: str
    detail: str
    request_id: str | None

    @property
    def request_id_text(self) -> str:
        return f"Request id: {self.request_id or 'none (no response was received)'}"


def explain(exc: BaseException) -> Problem:
    """A title saying what kind of trouble it is, the error's own words, and its request id."""
    request_id = getattr(exc, "request_id", None)
    detail = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, APITimeoutError):
        title = "Medblocks did not answer in time"
    elif isinstance(exc, APIConnectionError):
        title = "Medblocks cannot be reached"
    elif isinstance(exc, AuthenticationError):
        title = "The API key was refused (check MEDBLOCKS_API_KEY)"
    elif isinstance(exc, PermissionDeniedError):
        title = "The API key is not allowed to do this"
    elif isinstance(exc, RateLimitError):
        wait = getattr(exc, "retry_after", None)
        title = "Medblocks is rate limiting requests" + (f"; retry in {wait} s" if wait else "")
    elif isinstance(exc, NotFoundError):
        title = "Not found"
    elif isinstance(exc, InternalServerError | UpstreamError):
        title = "Medblocks had a server error"
    elif (
        isinstance(exc, MedblocksError) and getattr(exc, "code", None) == "unsupported_api_version"
    ):
        title = "The Version header is not supported (check MEDBLOCKS_API_VERSION)"
    elif isinstance(exc, MedblocksError):
        title = "Medblocks refused the request"
    elif isinstance(exc, LeverError):
        title = "The sandbox did not answer" if exc.status is None else "The sandbox refused it"
    elif isinstance(exc, NotAllowed):
        title = "Not allowed for your role"
    elif isinstance(exc, OtherOrganisation):
        title = "The mirror's database holds another organisation"
    else:
        title = "Unexpected error"
        detail = type(exc).__name__
    code = getattr(exc, "code", None)
    if code:
        detail = f"{detail} ({getattr(exc, 'type', '')}/{code})"
    return Problem(title=title, detail=detail, request_id=request_id)
