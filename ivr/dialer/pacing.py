"""Calls-per-second pacing (pure: the clock is a parameter)."""
from __future__ import annotations


class TokenBucket:
    """At most `rate` calls per second on average, bursts of at most `burst` — so a dialer
    that was paused (AMI lost, stop switch) resumes at its normal pace, not in a storm."""

    def __init__(self, rate: float, burst: float = 1.0, now: float = 0.0):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate, self.burst = rate, max(1.0, burst)
        self.tokens, self.updated = self.burst, now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def available(self, now: float) -> int:
        self._refill(now)
        return int(self.tokens)

    def take(self, n: int, now: float) -> None:
        self._refill(now)
        if n > self.tokens + 1e-9:
            raise ValueError("not enough tokens")
        self.tokens -= n

    def wait_time(self, now: float) -> float:
        """Seconds until one more call may start."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate
