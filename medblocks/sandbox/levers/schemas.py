"""The request-body schemas of the `/_sandbox/` controls, from `medblocks/spec/overlay.json`
(the one description of these routes), compiled once."""

from __future__ import annotations

from functools import lru_cache

from jsonschema import Draft202012Validator

from medblocks.spec import load_overlay


@lru_cache(maxsize=1)
def _validators() -> dict[tuple[str, str], Draft202012Validator]:
    found = {}
    for path, item in load_overlay().get("paths", {}).items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                found[(path, method.upper())] = Draft202012Validator(body["schema"])
    return found


def body_validator(path: str, method: str) -> Draft202012Validator:
    """The validator of the JSON body of `method` on the overlay path `path`."""
    return _validators()[(path, method.upper())]
