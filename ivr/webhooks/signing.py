"""Signing webhook bodies (HMAC-SHA256), and checking a signature as a receiver would.

The signed text is `<timestamp>.<body>`: the timestamp (Unix seconds, header X-IVR-Timestamp)
is part of what is signed, so a captured request cannot be replayed later with a new
timestamp, and a receiver refuses timestamps too far from its own clock.

    X-IVR-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
"""
from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-IVR-Signature"
TIMESTAMP_HEADER = "X-IVR-Timestamp"
EVENT_HEADER = "X-IVR-Event"
DELIVERY_HEADER = "X-IVR-Delivery"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True when `headers` carry a valid, fresh signature of `body` (raw bytes as received)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lower.get(TIMESTAMP_HEADER.lower(), ""))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    given = lower.get(SIGNATURE_HEADER.lower(), "")
    return hmac.compare_digest(given, signature(secret, timestamp, body))
