"""`verify_signature` accepts exactly what Medblocks signs: HMAC-SHA256 of `t.body`, 5 minutes."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from medblocks.client.webhooks_signature import SignatureVerificationError, verify_signature

SECRET = "whsec_01J9YR9N3X4VZ6P2K5RH7M3LMP"
BODY = b'{"id":"evt_1","object":"event","type":"records.sync.completed","data":{"object":{}}}'
NOW = 1_777_000_000


def sign(body: bytes, t: int, secret: str = SECRET) -> str:
    """An independent signer, written from the documented scheme."""
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_fresh_correct_signature_passes() -> None:
    verify_signature(BODY, f"t={NOW},v1={sign(BODY, NOW)}", SECRET, now=NOW + 10)


def test_any_matching_v1_passes_when_several_are_sent() -> None:
    header = f"t={NOW},v1={'0' * 64},v1={sign(BODY, NOW)}"
    verify_signature(BODY, header, SECRET, now=NOW)


@pytest.mark.parametrize(
    ("body", "header", "secret", "now", "why"),
    [
        (BODY + b" ", f"t={NOW},v1={sign(BODY, NOW)}", SECRET, NOW, "no v1 signature matches"),
        (BODY, f"t={NOW},v1={sign(BODY, NOW)}", "whsec_other", NOW, "no v1 signature matches"),
        (BODY, f"t={NOW + 1},v1={sign(BODY, NOW)}", SECRET, NOW, "no v1 signature matches"),
        (BODY, f"t={NOW},v1={sign(BODY, NOW)}", SECRET, NOW + 301, "beyond the 300 s"),
        (BODY, f"t={NOW},v1={sign(BODY, NOW)}", SECRET, NOW - 301, "beyond the 300 s"),
        (BODY, f"v1={sign(BODY, NOW)}", SECRET, NOW, "no t= timestamp"),
        (BODY, f"t={NOW}", SECRET, NOW, "no v1= signature"),
        (BODY, "t=yesterday,v1=ab", SECRET, NOW, "not an integer"),
        (BODY, f"t={NOW},v1=é{sign(BODY, NOW)[1:]}", SECRET, NOW, "no v1 signature matches"),
        (BODY, f"t={NOW},v1=\ud800", SECRET, NOW, "no v1 signature matches"),
        (BODY, "", SECRET, NOW, "no Medblocks-Signature header"),
    ],
)
def test_anything_else_is_refused(
    body: bytes, header: str, secret: str, now: int, why: str
) -> None:
    with pytest.raises(SignatureVerificationError, match=why):
        verify_signature(body, header, secret, now=now)


def test_tolerance_is_adjustable_and_the_edge_passes() -> None:
    header = f"t={NOW},v1={sign(BODY, NOW)}"
    verify_signature(BODY, header, SECRET, now=NOW + 300)
    with pytest.raises(SignatureVerificationError):
        verify_signature(BODY, header, SECRET, now=NOW + 61, tolerance=60)


def test_the_raw_bytes_are_required() -> None:
    with pytest.raises(TypeError):
        verify_signature(BODY.decode(), f"t={NOW},v1=x", SECRET, now=NOW)  # type: ignore[arg-type]


def test_the_secret_never_appears_in_an_error() -> None:
    with pytest.raises(SignatureVerificationError) as caught:
        verify_signature(BODY, f"t={NOW},v1=00", SECRET, now=NOW)
    assert SECRET not in str(caught.value)
