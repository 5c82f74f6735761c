from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ivr.policy import (
    SHANGHAI,
    CallWindows,
    DayType,
    NoCallableTime,
    day_type,
    is_callable,
    next_callable,
    window_end,
    windows_on,
)

ARREARS = CallWindows()  # seed hours, no holiday calls
OUTAGE = CallWindows(call_on_holidays=True)


def sh(y, m, d, hh=0, mm=0, ss=0):
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


# --- what chinese_calendar says about the dates used below -----------------


@pytest.mark.parametrize(
    "day, kind",
    [
        (date(2025, 9, 29), DayType.WEEKDAY),  # Monday
        (date(2025, 9, 27), DayType.WEEKEND),  # ordinary Saturday
        (date(2025, 9, 28), DayType.MAKEUP_WORKDAY),  # Sunday worked for National Day
        (date(2025, 10, 11), DayType.MAKEUP_WORKDAY),  # Saturday worked for National Day
        (date(2025, 10, 1), DayType.HOLIDAY),  # National Day
        (date(2025, 10, 4), DayType.HOLIDAY),  # a Saturday inside the holiday
        (date(2025, 10, 8), DayType.HOLIDAY),  # Wednesday, rest day in lieu
        (date(2026, 2, 17), DayType.HOLIDAY),  # Spring Festival
        (date(2026, 2, 14), DayType.MAKEUP_WORKDAY),  # Saturday worked for Spring Festival
        (date(2026, 2, 24), DayType.WEEKDAY),  # first working day after it
    ],
)
def test_day_type_from_chinese_calendar(day, kind):
    assert day_type(day) is kind


def test_years_chinese_calendar_does_not_know_fall_back_to_weekday_weekend():
    # 2027-01-01 will surely be New Year's Day off, but the installed data ends
    # in 2026, so it is treated as the plain Friday it is.
    assert day_type(date(2027, 1, 1)) is DayType.WEEKDAY
    assert day_type(date(2030, 1, 5)) is DayType.WEEKEND  # Saturday
    assert day_type(date(2003, 1, 1)) is DayType.WEEKDAY  # before the data starts
    assert next_callable(sh(2026, 12, 31, 19), ARREARS) == sh(2027, 1, 1, 9, 30)


# --- a normal weekday and weekend --------------------------------------------


@pytest.mark.parametrize(
    "at, expected",
    [
        (sh(2025, 9, 29, 9, 29, 59), False),
        (sh(2025, 9, 29, 9, 30), True),
        (sh(2025, 9, 29, 11, 59, 59), True),
        (sh(2025, 9, 29, 12, 0), False),  # windows are half-open
        (sh(2025, 9, 29, 14, 59), False),
        (sh(2025, 9, 29, 15, 0), True),
        (sh(2025, 9, 29, 17, 59), True),
        (sh(2025, 9, 29, 18, 0), False),
        (sh(2025, 9, 27, 9, 30), False),  # Saturday starts at 10:30
        (sh(2025, 9, 27, 10, 29), False),
        (sh(2025, 9, 27, 10, 30), True),
        (sh(2025, 9, 27, 16, 0), True),
    ],
)
def test_is_callable_weekday_and_weekend(at, expected):
    assert is_callable(at, ARREARS) is expected


def test_next_callable_is_at_itself_inside_a_window():
    at = sh(2025, 9, 29, 10, 17, 3)
    assert next_callable(at, ARREARS) == at


def test_next_callable_moves_to_the_next_window_start():
    assert next_callable(sh(2025, 9, 29, 7), ARREARS) == sh(2025, 9, 29, 9, 30)
    assert next_callable(sh(2025, 9, 29, 12, 0), ARREARS) == sh(2025, 9, 29, 15)
    # Friday evening → Saturday uses weekend hours
    assert next_callable(sh(2025, 9, 26, 18, 30), ARREARS) == sh(2025, 9, 27, 10, 30)


def test_next_callable_across_a_weekend_without_weekend_hours():
    weekdays_only = CallWindows(weekend=())
    assert next_callable(sh(2025, 9, 19, 18, 30), weekdays_only) == sh(2025, 9, 22, 9, 30)
    # …but the weekend of Sept 27/28 2025 has a 调休 working Sunday.
    assert next_callable(sh(2025, 9, 26, 18, 30), weekdays_only) == sh(2025, 9, 28, 9, 30)


def test_window_end():
    assert window_end(sh(2025, 9, 29, 10), ARREARS) == sh(2025, 9, 29, 12)
    assert window_end(sh(2025, 9, 29, 15), ARREARS) == sh(2025, 9, 29, 18)
    assert window_end(sh(2025, 9, 29, 13), ARREARS) is None
    assert window_end(sh(2025, 9, 27, 10), ARREARS) is None  # Saturday before 10:30


def test_overlapping_windows_merge():
    w = CallWindows(weekday=[(time(9), time(12)), (time(11), time(14))])
    assert window_end(sh(2025, 9, 29, 10), w) == sh(2025, 9, 29, 14)
    assert is_callable(sh(2025, 9, 29, 13, 30), w)


# --- statutory holidays and 调休 ----------------------------------------------


def test_holiday_not_called_for_arrears():
    assert windows_on(date(2025, 10, 1), ARREARS) == []
    assert not is_callable(sh(2025, 10, 1, 10, 45), ARREARS)
    assert not is_callable(sh(2026, 2, 17, 10, 45), ARREARS)


def test_holiday_uses_weekend_hours_when_calling_on_holidays():
    # 2025-10-01 is a Wednesday, yet on a holiday the day starts at 10:30
    assert not is_callable(sh(2025, 10, 1, 9, 45), OUTAGE)
    assert is_callable(sh(2025, 10, 1, 10, 30), OUTAGE)
    assert is_callable(sh(2026, 2, 17, 15, 30), OUTAGE)
    assert next_callable(sh(2025, 10, 1, 8), OUTAGE) == sh(2025, 10, 1, 10, 30)


def test_makeup_working_day_uses_weekday_hours():
    # Sunday 2025-09-28 was a working day: 09:30 is callable although an
    # ordinary Sunday would start at 10:30.
    assert is_callable(sh(2025, 9, 28, 9, 30), ARREARS)
    assert not is_callable(sh(2025, 9, 21, 9, 30), ARREARS)  # ordinary Sunday
    assert is_callable(sh(2026, 2, 14, 9, 45), ARREARS)  # Saturday worked


def test_next_callable_across_national_day():
    # Oct 1–8 2025 are all off; the next working day is Thursday Oct 9.
    assert next_callable(sh(2025, 9, 30, 18), ARREARS) == sh(2025, 10, 9, 9, 30)
    assert next_callable(sh(2025, 10, 3, 11), ARREARS) == sh(2025, 10, 9, 9, 30)
    # An outage campaign keeps calling through the holiday.
    assert next_callable(sh(2025, 9, 30, 18), OUTAGE) == sh(2025, 10, 1, 10, 30)


def test_next_callable_across_spring_festival():
    # Feb 15–23 2026 are off; Saturday Feb 14 is worked.
    assert next_callable(sh(2026, 2, 14, 18), ARREARS) == sh(2026, 2, 24, 9, 30)


# --- the 08:00–21:00 guard ------------------------------------------------


WIDE = CallWindows(
    weekday=[(time(7), time(22))], weekend=[(time(7), time(22))], call_on_holidays=True
)


@pytest.mark.parametrize(
    "at, expected",
    [
        (sh(2025, 9, 29, 7, 0), False),
        (sh(2025, 9, 29, 7, 59, 59), False),
        (sh(2025, 9, 29, 8, 0), True),
        (sh(2025, 9, 29, 20, 59, 59), True),
        (sh(2025, 9, 29, 21, 0), False),
        (sh(2025, 9, 29, 21, 30), False),
        (sh(2025, 10, 1, 7, 30), False),  # holiday, weekend hours, still guarded
        (sh(2025, 10, 1, 8, 0), True),
    ],
)
def test_guard_clips_a_wide_campaign(at, expected):
    assert is_callable(at, WIDE) is expected


def test_guard_moves_next_callable_and_window_end():
    assert next_callable(sh(2025, 9, 29, 7), WIDE) == sh(2025, 9, 29, 8)
    assert next_callable(sh(2025, 9, 29, 21, 30), WIDE) == sh(2025, 9, 30, 8)
    assert window_end(sh(2025, 9, 29, 12), WIDE) == sh(2025, 9, 29, 21)


def test_window_entirely_outside_the_guard_is_dropped():
    night = CallWindows(weekday=[(time(21), time(23))], weekend=[(time(5), time(7, 59))])
    with pytest.raises(NoCallableTime):
        next_callable(sh(2025, 9, 29, 10), night)


# --- time zones ---------------------------------------------------------------


def test_other_zones_give_the_same_shanghai_answer():
    # 2025-09-29 01:40 UTC = 09:40 Shanghai (callable); 2025-09-28 21:40 in New York.
    utc = datetime(2025, 9, 29, 1, 40, tzinfo=timezone.utc)
    ny = utc.astimezone(ZoneInfo("America/New_York"))
    for at in (utc, ny, utc.astimezone(SHANGHAI)):
        assert is_callable(at, ARREARS)
        result = next_callable(at, ARREARS)
        assert result == sh(2025, 9, 29, 9, 40)
        assert result.tzinfo is SHANGHAI
        assert result.utcoffset() == timedelta(hours=8)
        assert (result.hour, result.minute) == (9, 40)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        is_callable(datetime(2025, 9, 29, 10), ARREARS)
    with pytest.raises(ValueError, match="naive"):
        next_callable(datetime(2025, 9, 29, 10), ARREARS)


def test_bad_windows_are_refused():
    with pytest.raises(ValueError):
        CallWindows(weekday=[(time(12), time(9))])
    with pytest.raises(TypeError):
        CallWindows(weekday=[("09:00", "12:00")])


@pytest.mark.parametrize("utc_hour, expected", [(15, date(2026, 11, 22)), (16, date(2026, 11, 23)),
                                                (23, date(2026, 11, 23))])
def test_today_is_shanghais_date_not_the_servers(utc_hour, expected):
    # A server in UTC is still on the 22nd from 16:00 UTC, when Shanghai is already on the 23rd:
    # "tomorrow's promised payers" and spoken dates must follow Shanghai.
    from ivr.policy.windows import local_today
    assert local_today(datetime(2026, 11, 22, utc_hour, 30, tzinfo=timezone.utc)) == expected
