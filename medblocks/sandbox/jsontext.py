"""Strict JSON in and out, for every body the sandbox reads or writes.

Python's `json` reads `NaN`, `Infinity` and `-Infinity` (and `1e400` as infinity) and writes
them back, though none of them is JSON: a strict client rejects the answer, and a NaN kept in
the sandbox's state breaks every later comparison. It also reads an integer of any length (400
digits) and echoes it, which a client reading numbers as 64-bit floats turns into infinity.
Here they are refused when read and can never be written.
"""

from __future__ import annotations

import json
import math
import sys
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


def _float_sized_int(text: str) -> int:
    """An integer no larger than a 64-bit float holds (the comparison of int and float is
    exact), so every client, a JavaScript one included, can read it back as a number."""
    value = int(text)
    if abs(value) > sys.float_info.max:
        raise _NotJson("an integer too large for a 64-bit float")
    return value


def loads(raw: bytes | str) -> Any:
    """Decode strict JSON; raises `ValueError` for NaN, ±Infinity and numbers, integers
    included, beyond a 64-bit float."""
    return json.loads(
        raw,
        parse_constant=_refuse_constant,
        parse_float=_finite_float,
        parse_int=_float_sized_int,
    )


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
