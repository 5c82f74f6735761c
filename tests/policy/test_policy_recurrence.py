"""Recurrence rules: parsing, next occurrence, and what a late sweep may still run."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.policy.recurrence import (MonthlyRule, RecurrenceError, due_run, first_occurrence,
                                   latest_occurrence, next_occurrence, parse)
from ivr.policy.windows import SHANGHAI


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_parse_and_round_trip():
    rule = parse("monthly:5@09:30")
    assert rule == MonthlyRule(5, time(9, 30)) and str(rule) == "monthly:5@09:30"
    assert str(parse(" monthly:28@23:59 ")) == "monthly:28@23:59"


@pytest.mark.parametrize("text, says", [
    ("monthly:29@09:30", "1–28"), ("monthly:0@09:30", "1–28"), ("monthly:31@09:30", "1–28"),
    ("monthly:5@24:00", "not a time of day"), ("monthly:5@09:60", "not a time of day"),
    ("monthly:5@9:30", "expected"), ("weekly:1@09:00", "expected"), ("", "expected"),
    ("monthly:5", "expected"), (None, "string"),
])
def test_bad_rules_are_refused_with_a_clear_error(text, says):
    with pytest.raises(RecurrenceError, match=says):
        parse(text)


def test_next_occurrence_examples():
    rule = parse("monthly:5@09:30")
    assert next_occurrence(rule, sh(2026, 11, 22, 15, 0)) == sh(2026, 12, 5, 9, 30)
    assert next_occurrence(rule, sh(2026, 12, 5, 9, 29)) == sh(2026, 12, 5, 9, 30)
    assert next_occurrence(rule, sh(2026, 12, 5, 9, 30)) == sh(2027, 1, 5, 9, 30)   # strictly after
    assert next_occurrence(rule, sh(2026, 12, 31, 23, 0)) == sh(2027, 1, 5, 9, 30)  # over the year
    assert first_occurrence(rule, sh(2026, 12, 5, 9, 30)) == sh(2026, 12, 5, 9, 30)
    # 01:30 UTC on the 5th is 09:30 in Shanghai; 20:00 UTC on the 4th is already the 5th there
    assert next_occurrence(rule, datetime(2026, 12, 4, 20, 0, tzinfo=timezone.utc)) == sh(2026, 12, 5, 9, 30)
    assert next_occurrence(parse("monthly:28@00:00"), sh(2027, 2, 28, 0, 0)) == sh(2027, 3, 28, 0, 0)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        next_occurrence(parse("monthly:5@09:30"), datetime(2026, 12, 1))


def test_due_run_catches_up_only_the_same_day():
    rule = parse("monthly:5@09:30")
    on_time = due_run(rule, sh(2026, 12, 5, 9, 30), sh(2026, 12, 5, 9, 30, 4))
    assert on_time.run == sh(2026, 12, 5, 9, 30) and on_time.missed == ()
    assert on_time.next_due == sh(2027, 1, 5, 9, 30)
    late = due_run(rule, sh(2026, 12, 5, 9, 30), sh(2026, 12, 5, 20, 59))
    assert late.run == sh(2026, 12, 5, 9, 30)
    next_day = due_run(rule, sh(2026, 12, 5, 9, 30), sh(2026, 12, 6, 8, 0))
    assert next_day.run is None and next_day.missed == (sh(2026, 12, 5, 9, 30),)
    months = due_run(rule, sh(2026, 12, 5, 9, 30), sh(2027, 3, 5, 10, 0))
    assert months.run == sh(2027, 3, 5, 9, 30)
    assert months.missed == (sh(2026, 12, 5, 9, 30), sh(2027, 1, 5, 9, 30), sh(2027, 2, 5, 9, 30))
    with pytest.raises(ValueError, match="not due"):
        due_run(rule, sh(2027, 1, 5, 9, 30), sh(2026, 12, 5, 10, 0))


rules = st.builds(MonthlyRule, day=st.integers(1, 28),
                  at=st.builds(time, hour=st.integers(0, 23), minute=st.integers(0, 59)))
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 1),
                        timezones=st.sampled_from([SHANGHAI, timezone.utc, timezone(timedelta(hours=-7))]))


@given(rules, instants)
def test_next_occurrence_is_the_first_matching_instant_after(rule, at):
    nxt = next_occurrence(rule, at)
    assert nxt > at and nxt.tzinfo == SHANGHAI
    assert (nxt.day, nxt.time()) == (rule.day, rule.at)
    assert nxt - at <= timedelta(days=31)
    # nothing matches in between: the previous occurrence is at or before `at`
    assert latest_occurrence(rule, nxt - timedelta(microseconds=1)) <= at


@given(rules, instants)
def test_occurrences_step_month_by_month(rule, at):
    a = next_occurrence(rule, at)
    b = next_occurrence(rule, a)
    assert (b.year * 12 + b.month) - (a.year * 12 + a.month) == 1
    assert latest_occurrence(rule, b) == b and latest_occurrence(rule, b - timedelta(seconds=1)) == a


@given(rules, instants, st.integers(0, 400 * 24 * 60))
def test_due_run_makes_at_most_one_run_and_accounts_for_every_occurrence(rule, due_from, late_minutes):
    due = first_occurrence(rule, due_from)
    now = due + timedelta(minutes=late_minutes)
    decision = due_run(rule, due, now)
    passed = [*decision.missed, *([decision.run] if decision.run else [])]
    assert sorted(passed) == passed and passed[0] == due          # each passed occurrence once
    assert all(o <= now for o in passed) and decision.next_due > now
    assert next_occurrence(rule, passed[-1]) == decision.next_due  # none skipped silently
    if decision.run is not None:
        assert decision.run == passed[-1] and decision.run.date() == now.astimezone(SHANGHAI).date()
    else:
        assert passed[-1].date() != now.astimezone(SHANGHAI).date()
