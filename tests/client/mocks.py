"""Scripted answers for httpx.MockTransport: only for faults the sandbox cannot produce."""

from __future__ import annotations

from typing import Any

import httpx

PATIENT = {
    "id": "user_1",
    "resource_type": "patient",
    "email": None,
    "name": None,
    "metadata": {},
    "created_at": "2026-04-25T14:30:00.000Z",
}
EMPTY_LIST = {"resource_type": "list", "data": [], "has_more": False, "next_cursor": None}


def envelope(type_: str, code: str, message: str = "it failed", **extra: Any) -> dict[str, Any]:
    fields = {
        "type": type_,
        "code": code,
        "message": message,
        "param": None,
        "doc_url": "https://docs.medblocks.com/errors",
        "request_id": "11111111-2222-3333-4444-555555555555",
    }
    return {"error": {**fields, **extra}}


class Recorder:
    """A scripted MockTransport handler: answers in order and keeps every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer
