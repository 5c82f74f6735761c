"""A campaign's settings JSON → the policy objects (pure). The one reader of that JSON, for the
dialer and the admin's wizard alike. Defaults follow the seed documents; every knob can be set
per campaign, and tests shorten intervals through the same settings.

    {"windows": {"weekday": [["09:30", "12:00"], ...], "weekend": [...], "call_on_holidays": false},
     "retry": {"no_answer": 30, "busy": 10, "failed": 60, "machine": 120, "unknown": 60,  # minutes
               "max_attempts_per_day": 3, "max_answered_per_day": 1, "max_attempts_total": 10,
               "failed_before_unreachable": 3},
     "caps": {"concurrency": 10,         # calls of this campaign at once
              "calls_per_second": 2,     # new calls a second, across every dialer (0: none)
              "daily_limit": 0},         # calls a day (Shanghai day), 0: no limit
     "dial_timeout": 30, "key_timeout": 5, "max_call_seconds": 300}      # seconds
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

from ivr.policy.retry import RetryPolicy
from ivr.policy.windows import CallWindows

RETRY_MINUTES = ("no_answer", "busy", "failed", "machine", "unknown")
RETRY_COUNTS = ("failed_before_unreachable", "max_attempts_per_day", "max_answered_per_day",
                "max_attempts_total")


@dataclass(frozen=True)
class CampaignPolicy:
    windows: CallWindows
    retry: RetryPolicy
    max_channels: int = 20          # concurrent calls of this campaign (caps.concurrency)
    calls_per_second: float = 0     # new calls a second across dialers (caps.calls_per_second), 0: none
    daily_limit: int = 0            # calls placed a day (caps.daily_limit), 0: none
    dial_timeout: int = 30          # seconds a phone may ring
    key_timeout: int = 5
    max_call_seconds: int = 300
    daily_follow_up: bool = True    # B/D accounts: call again the next callable day


def _hours(value) -> tuple[tuple[time, time], ...]:
    return tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in value)


def campaign_policy(kind: str, settings: dict | None) -> CampaignPolicy:
    settings = settings or {}
    w = settings.get("windows", {})
    windows_args = {"call_on_holidays": w.get("call_on_holidays", kind == "outage")}
    if "weekday" in w:
        windows_args["weekday"] = _hours(w["weekday"])
    if "weekend" in w:
        windows_args["weekend"] = _hours(w["weekend"])
    r = settings.get("retry", {})
    caps = settings.get("caps") or {}
    retry_args = {k: timedelta(minutes=float(r[k])) for k in RETRY_MINUTES if k in r}
    retry_args |= {k: int(r[k]) for k in RETRY_COUNTS if k in r}
    return CampaignPolicy(
        windows=CallWindows(**windows_args), retry=RetryPolicy(**retry_args),
        max_channels=int(caps.get("concurrency") or 20),
        calls_per_second=float(caps.get("calls_per_second") or 0),
        daily_limit=int(caps.get("daily_limit") or 0),
        dial_timeout=int(settings.get("dial_timeout", 30)),
        key_timeout=int(settings.get("key_timeout", 5)),
        max_call_seconds=int(settings.get("max_call_seconds", 300)),
        daily_follow_up=bool(settings.get("daily_follow_up", kind != "outage")),
    )
