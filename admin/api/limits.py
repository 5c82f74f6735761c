"""A per-key token bucket, in process.

`API_RATE_LIMIT` in the app config ("600/minute", "20/second"; default 600/minute) is each
key's sustained rate, and also its burst. Counted per process: with N admin processes a key
gets up to N times the rate, which is fine for a guard against runaway clients (flask-limiter
with a shared storage would be the next step if that ever matters).
"""
from __future__ import annotations

import math
import re
import threading
import time

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(text: str) -> tuple[int, float]:
    m = re.fullmatch(r"\s*(\d+)\s*(?:/|per)\s*(second|minute|hour|day)s?\s*", text or "")
    if not m:
        raise ValueError(f"rate limit must look like '600/minute', not {text!r}")
    return int(m.group(1)), float(UNITS[m.group(2)])


class TokenBucket:
    def __init__(self, rate: str, clock=time.monotonic):
        self.capacity, self.period = parse_rate(rate)
        self.per_second = self.capacity / self.period
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[object, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: object) -> float:
        """0 if the call may go ahead, else the seconds to wait before the next one."""
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(key, (float(self.capacity), now))
            tokens = min(self.capacity, tokens + (now - at) * self.per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.per_second


def retry_after(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
