"""Properties that must hold for every instant and every campaign configuration."""

from datetime import date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.policy import (
    AttemptRecord,
    CallWindows,
    Disposition,
    NoCallableTime,
    RetryPolicy,
    is_callable,
    next_attempt,
    next_callable,
    to_shanghai,
    window_end,
)
from ivr.policy import hours_on

ORDINARY_WEEKDAY, ORDINARY_SATURDAY = date(2025, 9, 29), date(2025, 9, 27)


@st.composite
def ranges(draw):
    a, b = draw(st.times()), draw(st.times())
    if a == b:
        b = (datetime.combine(date.min, a) + timedelta(minutes=1)).time()
        if b < a:  # a was 23:59:xx
            a, b = b, a
    return (min(a, b), max(a, b))


windows_configs = st.builds(
    CallWindows,
    weekday=st.lists(ranges(), max_size=4),
    weekend=st.lists(ranges(), max_size=4),
    call_on_holidays=st.booleans(),
)

instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.timezones()
)

# Mostly real campaigns: 2024–2027, Shanghai or UTC input.
recent = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.timezones()
)


@settings(max_examples=400, deadline=None)
@given(at=instants | recent, windows=windows_configs)
def test_next_callable_is_callable_not_earlier_and_within_the_guard(at, windows):
    try:
        result = next_callable(at, windows)
    except NoCallableTime:
        # Only possible when every configured range lies outside 08:00–21:00.
        assert hours_on(ORDINARY_WEEKDAY, windows) == []
        assert hours_on(ORDINARY_SATURDAY, windows) == []
        return
    assert result >= at
    assert is_callable(result, windows)
    assert 8 <= result.hour < 21
    assert result.tzinfo == to_shanghai(at).tzinfo
    if is_callable(at, windows):
        # compare as UTC: PEP 495 makes == between zones False for an
        # ambiguous (repeated-hour) local time, even for the same instant
        assert result.astimezone(timezone.utc) == at.astimezone(timezone.utc)
    else:
        # nothing callable was skipped: the minute before is not callable
        # unless it is before `at` (result is a window start)
        before = result - timedelta(microseconds=1)
        assert before < at or not is_callable(before, windows)


@settings(max_examples=300, deadline=None)
@given(at=recent, windows=windows_configs)
def test_window_end_closes_the_window_containing_at(at, windows):
    end = window_end(at, windows)
    if not is_callable(at, windows):
        assert end is None
        return
    assert end > at
    assert not is_callable(end, windows)
    assert is_callable(end - timedelta(microseconds=1), windows)
    assert end.hour < 21 or (end.hour, end.minute, end.second, end.microsecond) == (21, 0, 0, 0)


dispositions = st.sampled_from(list(Disposition))
history_items = st.builds(
    AttemptRecord,
    started_at=st.datetimes(
        min_value=datetime(2025, 9, 20), max_value=datetime(2025, 10, 12), timezones=st.timezones()
    ),
    disposition=dispositions,
    answered=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    history=st.lists(history_items, max_size=12),
    disposition=dispositions,
    now=st.datetimes(
        min_value=datetime(2025, 9, 20), max_value=datetime(2025, 10, 12), timezones=st.timezones()
    ),
    windows=windows_configs,
)
def test_retry_is_callable_later_and_respects_the_daily_cap(history, disposition, now, windows):
    policy = RetryPolicy()
    d = next_attempt(history, disposition, now, windows, policy)
    if d.stop:
        assert d.retry_at is None
        return
    assert len(history) + 1 < policy.max_attempts_total
    assert d.retry_at > now
    assert is_callable(d.retry_at, windows)
    day = d.retry_at.date()
    same_day = sum(to_shanghai(r.started_at).date() == day for r in history)
    same_day += to_shanghai(now).date() == day
    assert same_day < policy.max_attempts_per_day
