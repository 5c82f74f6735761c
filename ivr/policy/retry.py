"""When to dial a number again after an attempt, and when to stop.

Caps are per phone number within one campaign.  `history` passed to
`next_attempt` holds the EARLIER attempts on the number; the attempt that just
ended is described by `disposition` and `now` (when it ended) and is counted
by the function itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Sequence

from .disposition import Disposition, map_dial_result
from .windows import (
    SEARCH_DAYS,
    CallWindows,
    NoCallableTime,
    day_start,
    next_callable,
    shift,
    to_shanghai,
    window_end,
)

__all__ = [
    "AttemptRecord",
    "Disposition",
    "Reason",
    "RetryDecision",
    "RetryPolicy",
    "map_dial_result",
    "next_attempt",
    "number_unreachable",
]


@dataclass(frozen=True)
class AttemptRecord:
    started_at: datetime  # aware, any zone
    disposition: Disposition
    answered: bool  # the channel was answered (a person picked up)


@dataclass(frozen=True)
class RetryPolicy:
    no_answer: timedelta = timedelta(minutes=30)  # seed 000 §11: every 30 minutes
    busy: timedelta = timedelta(minutes=10)
    failed: timedelta = timedelta(minutes=60)  # congestion / channel unavailable
    machine: timedelta = timedelta(hours=2)
    # A call lost in a crash might have been any outcome, even a delivered
    # reminder; wait at least as long as the slowest ordinary re-dial.
    unknown: timedelta = timedelta(minutes=60)
    failed_before_unreachable: int = 3  # consecutive FAILED tries → number unreachable
    max_attempts_per_day: int = 3
    max_answered_per_day: int = 1
    max_attempts_total: int = 10

    def __post_init__(self) -> None:
        for name in ("no_answer", "busy", "failed", "machine", "unknown"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"RetryPolicy.{name} must be a positive interval")
        for name in (
            "failed_before_unreachable",
            "max_attempts_per_day",
            "max_answered_per_day",
            "max_attempts_total",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"RetryPolicy.{name} must be at least 1")

    def interval(self, disposition: Disposition) -> timedelta:
        return {
            Disposition.NO_ANSWER: self.no_answer,
            Disposition.BUSY: self.busy,
            Disposition.FAILED: self.failed,
            Disposition.MACHINE: self.machine,
            Disposition.UNKNOWN: self.unknown,
        }[disposition]


class Reason(str, Enum):
    # retry_at is set:
    INTERVAL = "interval"  # the disposition's normal interval (moved into a window)
    NEXT_WINDOW = "next_window"  # hung up early: try again in the next window
    CAP_DAILY = "cap_daily"  # today's attempts are used up: next day's first window
    CAP_ANSWERED = "cap_answered"  # already reached today: next day's first window
    # retry_at is None (stop dialing this number in this campaign):
    ANSWERED = "answered"
    OPTED_OUT = "opted_out"
    WRONG_PERSON = "wrong_person"
    UNREACHABLE = "unreachable"
    CAP_TOTAL = "cap_total"
    CAMPAIGN_OVER = "campaign_over"
    NO_WINDOW = "no_window"  # the campaign's windows allow no call at all


@dataclass(frozen=True)
class RetryDecision:
    retry_at: datetime | None  # aware Asia/Shanghai, inside a call window
    reason: Reason

    @property
    def stop(self) -> bool:
        return self.retry_at is None


_FINAL = {
    Disposition.ANSWERED: Reason.ANSWERED,
    Disposition.OPTED_OUT: Reason.OPTED_OUT,
    Disposition.WRONG_PERSON: Reason.WRONG_PERSON,
    Disposition.UNREACHABLE: Reason.UNREACHABLE,
}


def _failed_streak(dispositions: Sequence[Disposition]) -> int:
    """Consecutive FAILED outcomes at the end; UNKNOWN neither counts nor breaks it."""
    n = 0
    for d in reversed(dispositions):
        if d is Disposition.UNKNOWN:
            continue
        if d is not Disposition.FAILED:
            break
        n += 1
    return n


def number_unreachable(history: Sequence[AttemptRecord], policy: RetryPolicy) -> bool:
    """Is this number dead for the campaign (class C material)?"""
    known = [
        r.disposition
        for r in _chronological(history)
        if r.disposition is not Disposition.UNKNOWN
    ]
    if known and known[-1] in (Disposition.UNREACHABLE, Disposition.WRONG_PERSON):
        return True
    return _failed_streak(known) >= policy.failed_before_unreachable


def _chronological(history: Sequence[AttemptRecord]) -> list[AttemptRecord]:
    return sorted(history, key=lambda r: r.started_at)  # aware: compares instants


def _is_reached(record: AttemptRecord) -> bool:
    # "At most one answered reminder a day" is about not pestering someone who
    # has already been reached.  An early hang-up did not hear the reminder (it
    # gets one more try in the next window) and a machine is not the owner.  An
    # answered call lost in a crash counts: we cannot prove it was not heard.
    return record.answered and record.disposition not in (
        Disposition.HUNG_UP_EARLY,
        Disposition.MACHINE,
    )


def next_attempt(
    history: Sequence[AttemptRecord],
    disposition: Disposition,
    now: datetime,
    windows: CallWindows,
    policy: RetryPolicy,
    *,
    campaign_ends_at: datetime | None = None,
) -> RetryDecision:
    """Decide the next dial of a number after an attempt ended with `disposition` at `now`."""
    now = to_shanghai(now)
    disposition = Disposition(disposition)
    history = _chronological(history)

    if disposition in _FINAL:
        return RetryDecision(None, _FINAL[disposition])
    if disposition is Disposition.FAILED:
        streak = _failed_streak([r.disposition for r in history] + [disposition])
        if streak >= policy.failed_before_unreachable:
            return RetryDecision(None, Reason.UNREACHABLE)
    if len(history) + 1 >= policy.max_attempts_total:
        return RetryDecision(None, Reason.CAP_TOTAL)

    attempts: dict[date, int] = {}
    reached: dict[date, int] = {}
    for r in history:
        day = to_shanghai(r.started_at).date()
        attempts[day] = attempts.get(day, 0) + 1
        reached[day] = reached.get(day, 0) + _is_reached(r)
    attempts[now.date()] = attempts.get(now.date(), 0) + 1  # the attempt that just ended

    try:
        if disposition is Disposition.HUNG_UP_EARLY:
            # Not the same window: the owner just hung up on us.
            retry_at = next_callable(window_end(now, windows) or now, windows)
            reason = Reason.NEXT_WINDOW
        else:
            retry_at = next_callable(shift(now, policy.interval(disposition)), windows)
            reason = Reason.INTERVAL
        # Daily caps apply to the day the retry lands on; if it is full, move to
        # the next day's first window (later days can only be fuller if history
        # holds attempts dated after now, hence the loop).
        for _ in range(SEARCH_DAYS):
            day = retry_at.date()
            if attempts.get(day, 0) >= policy.max_attempts_per_day:
                reason = Reason.CAP_DAILY
            elif reached.get(day, 0) >= policy.max_answered_per_day:
                reason = Reason.CAP_ANSWERED
            else:
                break
            retry_at = next_callable(day_start(day + timedelta(days=1)), windows)
        else:
            return RetryDecision(None, Reason.NO_WINDOW)
    except NoCallableTime:
        return RetryDecision(None, Reason.NO_WINDOW)

    if campaign_ends_at is not None and retry_at >= to_shanghai(campaign_ends_at):
        return RetryDecision(None, Reason.CAMPAIGN_OVER)
    return RetryDecision(retry_at, reason)
