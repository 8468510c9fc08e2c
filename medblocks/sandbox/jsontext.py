"""Strict JSON in and out, for every body the sandbox reads or writes.

Python's `json` reads `NaN`, `Infinity` and `-Infinity` (and `1e400` as infinity) and writes
them back, though none of them is JSON: a strict client rejects the answer, and a NaN kept in
the sandbox's state breaks every later comparison. Here they are refused when read and can
never be written.
"""

from __future__ import annotations

import json
import math
from typing import Any

from medblocks.sandbox.errors import bad_request


class _NotJson(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson("a number too large for a 64-bit float")
    return value


def loads(raw: bytes | str) -> Any:
    """Decode strict JSON; raises `ValueError` for NaN, ±Infinity and numbers that overflow."""
    return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)


def parse_body(raw: bytes) -> Any:
    """A request body: 400 `bad_request` unless it is valid, strict UTF-8 JSON."""
    try:
        body = loads(raw)
        # Lone surrogates decode fine but cannot be stored or sent back as UTF-8.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except _NotJson as exc:
        raise bad_request(
            "The request body is not valid JSON: NaN, Infinity and numbers beyond a 64-bit "
            "float are not JSON numbers."
        ) from exc
    except (ValueError, RecursionError, UnicodeError) as exc:
        raise bad_request("The request body is not valid JSON.") from exc
    return body


def dumps(value: Any) -> str:
    """Compact JSON text; raises `ValueError` rather than write NaN or ±Infinity."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def encode(value: Any) -> bytes:
    """`dumps` as UTF-8 bytes, for a response or webhook body."""
    return dumps(value).encode()
