"""Signing a webhook's body, and checking a signature (pure).

    headers = sign(secret, body, t=now_s)       # X-Hotline-Timestamp, X-Hotline-Signature
    verify(secret, body, headers, now=now_s)    # None, or why the request is refused

The signature is HMAC-SHA256, keyed with the shared secret, over ``TIMESTAMP.BODY`` (the
timestamp header's digits, a dot, the body's bytes): the body cannot be changed, nor an old
request replayed beyond ``tolerance`` seconds, without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

TIMESTAMP = "X-Hotline-Timestamp"
SIGNATURE = "X-Hotline-Signature"
TOLERANCE_S = 300


def signature(secret: str, body: bytes, t: int) -> str:
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def sign(secret: str, body: bytes, *, t: int) -> dict[str, str]:
    """The headers that sign BODY sent at T (s since the epoch)."""
    return {TIMESTAMP: str(t), SIGNATURE: signature(secret, body, t)}


def verify(
    secret: str, body: bytes, headers: Mapping[str, str], *, now: int,
    tolerance: int = TOLERANCE_S,
) -> str | None:  # fmt: skip
    """Why a request with BODY and HEADERS is not signed with SECRET (None: it is)."""
    lower = {k.lower(): v for k, v in headers.items()}
    raw_t, given = lower.get(TIMESTAMP.lower(), ""), lower.get(SIGNATURE.lower(), "")
    if not raw_t.isdigit() or not given:
        return "no timestamp or no signature"
    t = int(raw_t)
    if abs(now - t) > tolerance:
        return f"timestamp {t} is more than {tolerance} s from now"
    if not hmac.compare_digest(given.encode(), signature(secret, body, t).encode()):
        return "the signature does not match the body"
    return None
