"""Recurring schedules: "the 5th of every month at 09:30" as a rule string and its occurrences.

The stored form is `monthly:<day>@<HH:MM>` (Campaign.recurrence, written by the admin wizard),
e.g. `monthly:5@09:30`. Days run 1–28 only, so every month has the day (no "31st of February"
question). Times are Asia/Shanghai wall-clock times; China keeps no DST, so every occurrence
exists exactly once.

Pure: no I/O, no clock. Callers pass the instant to reason from.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .windows import SHANGHAI, to_shanghai

MAX_DAY = 28
_RULE = re.compile(r"monthly:(?P<day>\d{1,2})@(?P<hour>\d{2}):(?P<minute>\d{2})")


class RecurrenceError(ValueError):
    """A rule string that is not a recurrence this product can run."""


@dataclass(frozen=True)
class MonthlyRule:
    """On `day` of every month at `at` (Shanghai wall-clock)."""
    day: int
    at: time

    def __post_init__(self) -> None:
        if not 1 <= self.day <= MAX_DAY:
            raise RecurrenceError(f"day of the month must be 1–{MAX_DAY}, got {self.day}")
        if self.at.tzinfo is not None or self.at.second or self.at.microsecond:
            raise RecurrenceError(f"time must be a naive whole minute (HH:MM), got {self.at!r}")

    def __str__(self) -> str:
        return f"monthly:{self.day}@{self.at:%H:%M}"

    def on(self, year: int, month: int) -> datetime:
        """This month's occurrence, aware in Shanghai time."""
        return datetime.combine(date(year, month, self.day), self.at, SHANGHAI)


def parse(rule: str) -> MonthlyRule:
    """`monthly:5@09:30` → MonthlyRule(5, 09:30); anything else raises RecurrenceError."""
    if not isinstance(rule, str):
        raise RecurrenceError(f"a recurrence rule is a string like 'monthly:5@09:30', got {rule!r}")
    m = _RULE.fullmatch(rule.strip())
    if not m:
        raise RecurrenceError(f"unknown recurrence {rule!r}: expected 'monthly:<day 1-{MAX_DAY}>@HH:MM', "
                              f"e.g. 'monthly:5@09:30'")
    hour, minute = int(m["hour"]), int(m["minute"])
    if hour > 23 or minute > 59:
        raise RecurrenceError(f"recurrence {rule!r}: {m['hour']}:{m['minute']} is not a time of day")
    try:
        return MonthlyRule(int(m["day"]), time(hour, minute))
    except RecurrenceError as err:
        raise RecurrenceError(f"recurrence {rule!r}: {err}") from None


def _month_after(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _month_before(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def next_occurrence(rule: MonthlyRule, after: datetime) -> datetime:
    """The first occurrence strictly after `after` (any aware datetime); Shanghai time."""
    local = to_shanghai(after)
    candidate = rule.on(local.year, local.month)
    if candidate > local:
        return candidate
    return rule.on(*_month_after(local.year, local.month))


def first_occurrence(rule: MonthlyRule, not_before: datetime) -> datetime:
    """The first occurrence at or after `not_before` (an arrangement starting exactly at an
    occurrence makes a run at that occurrence)."""
    return next_occurrence(rule, to_shanghai(not_before) - timedelta(microseconds=1))


def latest_occurrence(rule: MonthlyRule, at: datetime) -> datetime:
    """The last occurrence at or before `at`; Shanghai time."""
    local = to_shanghai(at)
    candidate = rule.on(local.year, local.month)
    if candidate <= local:
        return candidate
    return rule.on(*_month_before(local.year, local.month))


@dataclass(frozen=True)
class DueRun:
    """What to do when an arrangement's next occurrence (`due`) has come by `now`."""
    run: datetime | None      # the occurrence to start a run for now, or None
    missed: tuple[datetime, ...]   # occurrences passed over without a run
    next_due: datetime        # the arrangement's next occurrence, strictly after now


def due_run(rule: MonthlyRule, due: datetime, now: datetime) -> DueRun:
    """Decide what happens when the occurrence `due` (≤ now) is noticed at `now`.

    Catch-up rule: only the latest occurrence that has passed can still be run, and only on the
    same Shanghai date as it (a dialer back at 14:00 starts the 09:30 run; one back the next day
    does not start yesterday's, and never a pile of old months). Everything else passed over is
    reported as missed. `due` later than `now` is an error: nothing is due yet.
    """
    due, now = to_shanghai(due), to_shanghai(now)
    if due > now:
        raise ValueError(f"occurrence {due.isoformat()} is not due at {now.isoformat()}")
    latest = latest_occurrence(rule, now)
    passed = []
    at = due
    while at <= latest:
        passed.append(at)
        at = next_occurrence(rule, at)
    run = latest if passed and passed[-1] == latest and latest.date() == now.date() else None
    missed = tuple(o for o in passed if o != run)
    return DueRun(run=run, missed=missed, next_due=next_occurrence(rule, now))
