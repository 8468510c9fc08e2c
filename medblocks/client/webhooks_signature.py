"""Check the `Medblocks-Signature` header of a webhook delivery before trusting its body.

The header reads `t=<unix seconds>,v1=<hex>`; `v1` is the HMAC-SHA256, keyed by the
endpoint's `whsec_` secret, of the timestamp, a dot and the raw body bytes. A delivery is
accepted when one `v1` matches (compared in constant time) and `t` is within `tolerance`
seconds of now, which stops an old delivery from being replayed. Pass the body exactly as
received: re-encoding parsed JSON changes the bytes and the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import time

DEFAULT_TOLERANCE = 300


class SignatureVerificationError(ValueError):
    """The delivery is not proven to come from Medblocks; do not act on its body."""


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureVerificationError("the t= timestamp is not an integer") from None
        elif name == "v1":
            signatures.append(value)
    if timestamp is None:
        raise SignatureVerificationError("the Medblocks-Signature header has no t= timestamp")
    if not signatures:
        raise SignatureVerificationError("the Medblocks-Signature header has no v1= signature")
    return timestamp, signatures


def expected_signature(payload: bytes, timestamp: int, secret: str) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.<payload>` keyed by `secret`."""
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify_signature(
    payload: bytes,
    header: str,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Return when `header` proves `payload` came from Medblocks; raise otherwise."""
    if not isinstance(payload, bytes | bytearray):
        raise TypeError("payload must be the raw request body as bytes")
    if not header:
        raise SignatureVerificationError("no Medblocks-Signature header")
    timestamp, signatures = _parse_header(header)
    expected = expected_signature(bytes(payload), timestamp, secret)
    # as bytes: a header may carry any character, and compare_digest refuses non-ASCII text
    if not any(
        hmac.compare_digest(expected.encode(), candidate.encode("utf-8", "replace"))
        for candidate in signatures
    ):
        raise SignatureVerificationError("no v1 signature matches this body and secret")
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        raise SignatureVerificationError(
            f"the signature timestamp is {abs(age):.0f} s away from now, beyond the "
            f"{tolerance} s tolerance"
        )
