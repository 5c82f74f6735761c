"""Call windows: when an owner may be phoned.

All reasoning happens in Asia/Shanghai local time (UTC+8, no DST since 1991).
Callers may pass any aware datetime; results are aware Asia/Shanghai datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from functools import lru_cache
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Hard guard no campaign setting can cross: nobody is phoned before 08:00 or
# from 21:00 on, whatever hours an operator types into a campaign.
GUARD_START = time(8, 0)
GUARD_END = time(21, 0)

# Seed 000 §10: best hours 9:30 (weekends 10:30)–12:00 and 15:00–18:00.
WEEKDAY_HOURS = ((time(9, 30), time(12, 0)), (time(15, 0), time(18, 0)))
WEEKEND_HOURS = ((time(10, 30), time(12, 0)), (time(15, 0), time(18, 0)))

# How far next_callable looks ahead before declaring a configuration dead.
SEARCH_DAYS = 400

Range = tuple[time, time]


class NoCallableTime(ValueError):
    """The windows allow no call at all within the search horizon."""


class DayType(str, Enum):
    WEEKDAY = "weekday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # statutory holiday (法定节假日), incl. its in-lieu rest days
    MAKEUP_WORKDAY = "makeup_workday"  # 调休: a Saturday/Sunday that is a working day


def _ranges(value: Iterable[Sequence[time]]) -> tuple[Range, ...]:
    out = []
    for start, end in value:
        if not (isinstance(start, time) and isinstance(end, time)):
            raise TypeError(f"window bounds must be datetime.time, got {start!r}, {end!r}")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("window bounds are Shanghai wall-clock times; give naive times")
        if not start < end:
            raise ValueError(f"window start {start} must be before its end {end}")
        out.append((start, end))
    return tuple(sorted(out))


@dataclass(frozen=True)
class CallWindows:
    """Per-day-type call hours as half-open [start, end) Shanghai wall-clock ranges.

    Arrears reminders keep call_on_holidays=False (nobody wants a debt call during
    Spring Festival); water-outage notices usually set it True.  Holidays, when
    called at all, use the weekend hours.
    """

    weekday: tuple[Range, ...] = WEEKDAY_HOURS
    weekend: tuple[Range, ...] = WEEKEND_HOURS
    call_on_holidays: bool = False

    def __post_init__(self) -> None:
        # Accept lists from config files; store tuples so the value stays hashable.
        object.__setattr__(self, "weekday", _ranges(self.weekday))
        object.__setattr__(self, "weekend", _ranges(self.weekend))


def to_shanghai(at: datetime) -> datetime:
    """Convert an aware datetime to Asia/Shanghai; naive input is refused, not guessed."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: pass an aware datetime (any zone)")
    return at.astimezone(SHANGHAI)


def local_today(now: datetime | None = None) -> date:
    """Today's date where the owners live. The servers may run in UTC, where the date
    differs from Shanghai's between 16:00 and 24:00 UTC, so never use date.today()."""
    return to_shanghai(now or datetime.now(timezone.utc)).date()


def shift(at: datetime, delta: timedelta) -> datetime:
    """Add elapsed time (not wall-clock time) to an instant; result in Shanghai time."""
    return (to_shanghai(at).astimezone(timezone.utc) + delta).astimezone(SHANGHAI)


# Days the State Council has announced but the installed chinese_calendar does not know yet
# (it ships each year's arrangement some weeks after the announcement): date → holiday name
# (a day off) or None (a 调休 working day). Loaded from IVR_HOLIDAYS_FILE (ivr.policy.calendar_file).
_SUPPLEMENT: dict[date, tuple[bool, str | None]] = {}


def set_calendar_supplement(days: dict[date, tuple[bool, str | None]]) -> None:
    """Replace the supplement: {date: (day_off, name)}; day_off False marks a 调休 workday."""
    _SUPPLEMENT.clear()
    _SUPPLEMENT.update(days)
    day_type.cache_clear()


def calendar_known_until() -> date:
    """The last date whose holidays are known (chinese_calendar's years, or the supplement)."""
    library = date(max(chinese_calendar.holidays).year, 12, 31)
    return max([library, *(date(d.year, 12, 31) for d in _SUPPLEMENT)])


@lru_cache(maxsize=4096)
def day_type(day: date) -> DayType:
    """Classify a Shanghai calendar date using chinese_calendar's State Council data."""
    if day in _SUPPLEMENT:
        off, name = _SUPPLEMENT[day]
        if off:
            return DayType.HOLIDAY
        return DayType.MAKEUP_WORKDAY if day.weekday() >= 5 else DayType.WEEKDAY
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        # chinese_calendar only knows the years the State Council has published
        # (1.11: 2004–2026) and raises outside them.  Plain weekday/weekend is the
        # best guess there: holidays and 调休 days for unknown years are not called out.
        return DayType.WEEKEND if day.weekday() >= 5 else DayType.WEEKDAY
    # get_holiday_detail names a day only when it is in the statutory tables, so
    # (off, name) separates a holiday from an ordinary weekend and a 调休 workday
    # from an ordinary weekday.
    if off:
        return DayType.HOLIDAY if name is not None else DayType.WEEKEND
    return DayType.MAKEUP_WORKDAY if day.weekday() >= 5 else DayType.WEEKDAY


def _clip(ranges: Iterable[Range]) -> list[Range]:
    """Clip to the 08:00–21:00 guard and merge overlapping/touching ranges."""
    merged: list[Range] = []
    for start, end in sorted(ranges):
        start, end = max(start, GUARD_START), min(end, GUARD_END)
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def hours_on(day: date, windows: CallWindows) -> list[Range]:
    """The effective (guarded, merged) call hours for one Shanghai date."""
    kind = day_type(day)
    if kind is DayType.HOLIDAY:
        return _clip(windows.weekend) if windows.call_on_holidays else []
    if kind is DayType.WEEKEND:
        return _clip(windows.weekend)
    return _clip(windows.weekday)  # weekday or 调休 make-up working day


def windows_on(day: date, windows: CallWindows) -> list[tuple[datetime, datetime]]:
    """The call windows of one Shanghai date as aware [start, end) datetimes."""
    return [
        (datetime.combine(day, s, SHANGHAI), datetime.combine(day, e, SHANGHAI))
        for s, e in hours_on(day, windows)
    ]


def _window_at_or_after(at: datetime, windows: CallWindows) -> tuple[datetime, datetime]:
    local = to_shanghai(at)
    day = local.date()
    for _ in range(SEARCH_DAYS + 1):
        for start, end in windows_on(day, windows):
            if end > local:
                return start, end
        day += timedelta(days=1)
    raise NoCallableTime(
        f"no call window within {SEARCH_DAYS} days after {local.isoformat()}; "
        f"check the campaign's hours (they are clipped to {GUARD_START:%H:%M}–{GUARD_END:%H:%M}) "
        f"and call_on_holidays={windows.call_on_holidays}"
    )


def is_callable(at: datetime, windows: CallWindows) -> bool:
    local = to_shanghai(at)
    return any(start <= local < end for start, end in windows_on(local.date(), windows))


def next_callable(at: datetime, windows: CallWindows) -> datetime:
    """`at` itself (in Shanghai time) if callable, else the start of the next window.

    Raises NoCallableTime if nothing is callable within SEARCH_DAYS days.
    """
    local = to_shanghai(at)
    start, _ = _window_at_or_after(local, windows)
    return max(start, local)


def window_end(at: datetime, windows: CallWindows) -> datetime | None:
    """End of the window containing `at`, or None when `at` is outside every window."""
    local = to_shanghai(at)
    for start, end in windows_on(local.date(), windows):
        if start <= local < end:
            return end
    return None


def day_start(day: date) -> datetime:
    """Midnight at the start of a Shanghai date."""
    return datetime.combine(day, time(0), SHANGHAI)
