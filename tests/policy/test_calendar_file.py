"""The holiday supplement: days announced after the installed chinese_calendar, read from a
CSV that is refused whole when any row is wrong."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from ivr.policy.calendar_file import CalendarFileError, load_supplement, parse_supplement
from ivr.policy.windows import (SHANGHAI, CallWindows, DayType, calendar_known_until, day_type,
                                next_callable, set_calendar_supplement)

# An example arrangement for a year the library does not know (not the official one).
CSV = """date,kind,name
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-14,workday,春节调休
"""


@pytest.fixture(autouse=True)
def no_supplement():
    set_calendar_supplement({})
    yield
    set_calendar_supplement({})


def test_without_a_supplement_unknown_years_are_plain_weekdays_and_weekends():
    assert calendar_known_until() == date(2026, 12, 31)
    assert day_type(date(2027, 2, 8)) is DayType.WEEKDAY      # a Monday
    assert day_type(date(2027, 2, 14)) is DayType.WEEKEND     # a Sunday


def test_a_supplement_names_holidays_and_makeup_workdays(tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text("\ufeff" + CSV, encoding="utf-8")       # Excel's BOM is fine
    assert load_supplement(path) == 3
    assert calendar_known_until() == date(2027, 12, 31)
    assert day_type(date(2027, 2, 8)) is DayType.HOLIDAY
    assert day_type(date(2027, 2, 14)) is DayType.MAKEUP_WORKDAY
    assert day_type(date(2027, 2, 10)) is DayType.WEEKDAY     # not named: chinese_calendar's guess
    # an arrears campaign does not call on the holiday: the next call is the 10th, 09:30
    at = next_callable(datetime(2027, 2, 8, 10, 0, tzinfo=SHANGHAI), CallWindows())
    assert at == datetime(2027, 2, 10, 9, 30, tzinfo=SHANGHAI)


def test_a_bad_file_is_refused_whole_with_every_bad_row():
    with pytest.raises(CalendarFileError) as refused:
        parse_supplement("2027-02-08,holiday,春节\n2027-02-30,holiday\n2027-02-10,rest\n"
                         "2027-02-08,workday\nonly-one-cell\n")
    assert refused.value.problems == [
        "row 2: '2027-02-30' is not a date like 2027-02-06",
        "row 3: kind 'rest' is not holiday or workday",
        "row 4: 2027-02-08 is given as both holiday and workday",
        "row 5: expected date,kind[,name]",
    ]
    assert day_type(date(2027, 2, 8)) is DayType.WEEKDAY     # nothing was loaded


def test_no_file_leaves_chinese_calendar_alone(tmp_path):
    set_calendar_supplement({date(2027, 2, 8): (True, "春节")})
    assert load_supplement(tmp_path / "absent.csv") == 0
    assert day_type(date(2027, 2, 8)) is DayType.WEEKDAY
    assert day_type(date(2026, 10, 1)) is DayType.HOLIDAY    # the library's own data
