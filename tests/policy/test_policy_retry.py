from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ivr.policy import (
    SHANGHAI,
    AttemptRecord,
    CallWindows,
    Reason,
    RetryPolicy,
    next_attempt,
    number_unreachable,
)
from ivr.policy import Disposition as D
from ivr.policy.windows import shift

W = CallWindows()
P = RetryPolicy()
NY = ZoneInfo("America/New_York")


def sh(y, m, d, hh=0, mm=0, ss=0):
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def rec(at, disposition, answered=False):
    return AttemptRecord(started_at=at, disposition=disposition, answered=answered)


def decide(disposition, now, history=(), windows=W, policy=P, **kw):
    return next_attempt(list(history), disposition, now, windows, policy, **kw)


# Monday 2025-09-29 is an ordinary working day; Tuesday 09-30 too.
MON = (2025, 9, 29)


def test_no_answer_before_noon_lands_at_the_afternoon_window():
    d = decide(D.NO_ANSWER, sh(*MON, 11, 55))
    assert not d.stop
    assert d.retry_at == sh(*MON, 15, 0)
    assert d.reason is Reason.INTERVAL


def test_no_answer_inside_the_window_is_plus_30_minutes():
    assert decide(D.NO_ANSWER, sh(*MON, 10, 0)).retry_at == sh(*MON, 10, 30)


def test_busy_is_plus_10_minutes_inside_the_window():
    assert decide(D.BUSY, sh(*MON, 10, 0)).retry_at == sh(*MON, 10, 10)


def test_failed_is_plus_60_minutes():
    assert decide(D.FAILED, sh(*MON, 15, 5)).retry_at == sh(*MON, 16, 5)


def test_machine_is_plus_two_hours_by_default_and_configurable():
    assert decide(D.MACHINE, sh(*MON, 15, 10)).retry_at == sh(*MON, 17, 10)
    quick = RetryPolicy(machine=timedelta(minutes=20))
    assert decide(D.MACHINE, sh(*MON, 15, 10), policy=quick).retry_at == sh(*MON, 15, 30)


def test_intervals_are_configurable():
    p = RetryPolicy(no_answer=timedelta(minutes=45), busy=timedelta(minutes=5))
    assert decide(D.NO_ANSWER, sh(*MON, 10), policy=p).retry_at == sh(*MON, 10, 45)
    assert decide(D.BUSY, sh(*MON, 10), policy=p).retry_at == sh(*MON, 10, 5)


def test_retry_after_the_last_window_goes_to_the_next_working_day():
    assert decide(D.NO_ANSWER, sh(*MON, 17, 45)).retry_at == sh(2025, 9, 30, 9, 30)
    # Tuesday 09-30 evening: Oct 1–8 are holidays, arrears calls resume Oct 9
    assert decide(D.NO_ANSWER, sh(2025, 9, 30, 17, 45)).retry_at == sh(2025, 10, 9, 9, 30)


# --- hung up early -------------------------------------------------------------


def test_hung_up_early_retries_in_the_next_window_not_the_same_one():
    d = decide(D.HUNG_UP_EARLY, sh(*MON, 9, 40))
    assert d.retry_at == sh(*MON, 15, 0)
    assert d.reason is Reason.NEXT_WINDOW


def test_hung_up_early_in_the_last_window_goes_to_next_morning():
    assert decide(D.HUNG_UP_EARLY, sh(*MON, 15, 30)).retry_at == sh(2025, 9, 30, 9, 30)


def test_hung_up_early_just_after_a_window_closed():
    # the call started at 11:59 and ended at 12:01
    assert decide(D.HUNG_UP_EARLY, sh(*MON, 12, 1)).retry_at == sh(*MON, 15, 0)


def test_hung_up_early_does_not_use_up_the_answered_cap():
    history = [rec(sh(*MON, 9, 40), D.HUNG_UP_EARLY, answered=True)]
    d = decide(D.NO_ANSWER, sh(*MON, 15, 0), history)
    assert d.retry_at == sh(*MON, 15, 30)


# --- final outcomes --------------------------------------------------------------


@pytest.mark.parametrize(
    "disposition, reason",
    [
        (D.ANSWERED, Reason.ANSWERED),
        (D.OPTED_OUT, Reason.OPTED_OUT),
        (D.WRONG_PERSON, Reason.WRONG_PERSON),
        (D.UNREACHABLE, Reason.UNREACHABLE),
    ],
)
def test_final_outcomes_stop(disposition, reason):
    d = decide(disposition, sh(*MON, 10))
    assert d.stop and d.retry_at is None
    assert d.reason is reason


def test_disposition_may_be_passed_as_its_string_value():
    assert decide("busy", sh(*MON, 10)).retry_at == sh(*MON, 10, 10)


# --- congestion → unreachable ---------------------------------------------------


def test_third_consecutive_failure_marks_the_number_unreachable():
    history = [rec(sh(*MON, 9, 30), D.FAILED), rec(sh(*MON, 10, 30), D.FAILED)]
    d = decide(D.FAILED, sh(*MON, 11, 30), history)
    assert d.stop and d.reason is Reason.UNREACHABLE
    assert number_unreachable(history + [rec(sh(*MON, 11, 30), D.FAILED)], P)


def test_two_failures_still_retry():
    history = [rec(sh(*MON, 9, 30), D.FAILED)]
    d = decide(D.FAILED, sh(*MON, 10, 30), history)
    assert d.retry_at == sh(*MON, 11, 30)
    assert not number_unreachable(history + [rec(sh(*MON, 10, 30), D.FAILED)], P)


def test_failures_must_be_consecutive_but_unknown_does_not_break_the_run():
    broken_run = [rec(sh(*MON, 9, 30), D.FAILED), rec(sh(*MON, 10, 30), D.NO_ANSWER)]
    assert not decide(D.FAILED, sh(2025, 9, 30, 9, 30), broken_run).stop
    with_unknown = [rec(sh(*MON, 9, 30), D.FAILED), rec(sh(*MON, 10, 30), D.UNKNOWN)]
    # history order does not matter: it is sorted by start time
    with_unknown.reverse()
    d = decide(D.FAILED, sh(2025, 9, 30, 9, 30), with_unknown + [rec(sh(*MON, 15), D.FAILED)])
    assert d.reason is Reason.UNREACHABLE


def test_unreachable_threshold_is_configurable():
    p = RetryPolicy(failed_before_unreachable=1)
    assert decide(D.FAILED, sh(*MON, 10), policy=p).reason is Reason.UNREACHABLE


def test_number_unreachable_after_unallocated_or_wrong_person():
    assert number_unreachable([rec(sh(*MON, 10), D.UNREACHABLE)], P)
    assert number_unreachable([rec(sh(*MON, 10), D.WRONG_PERSON, True)], P)
    assert not number_unreachable([rec(sh(*MON, 10), D.NO_ANSWER)], P)
    assert not number_unreachable([], P)


# --- caps ----------------------------------------------------------------------


def test_daily_cap_of_three_moves_to_next_days_first_window():
    history = [rec(sh(*MON, 9, 30), D.NO_ANSWER), rec(sh(*MON, 10, 0), D.NO_ANSWER)]
    d = decide(D.NO_ANSWER, sh(*MON, 10, 30), history)
    assert d.retry_at == sh(2025, 9, 30, 9, 30)
    assert d.reason is Reason.CAP_DAILY


def test_daily_cap_on_a_friday_lands_on_saturday_weekend_hours():
    fri = (2025, 9, 19)
    history = [rec(sh(*fri, 9, 30), D.BUSY), rec(sh(*fri, 9, 40), D.BUSY)]
    d = decide(D.BUSY, sh(*fri, 9, 50), history)
    assert d.retry_at == sh(2025, 9, 20, 10, 30)
    assert d.reason is Reason.CAP_DAILY


def test_two_attempts_today_still_allow_a_third():
    history = [rec(sh(*MON, 9, 30), D.NO_ANSWER)]
    assert decide(D.NO_ANSWER, sh(*MON, 10, 0), history).retry_at == sh(*MON, 10, 30)


def test_yesterdays_attempts_do_not_count_today():
    history = [rec(sh(2025, 9, 26, h), D.NO_ANSWER) for h in (10, 15, 16)]
    assert decide(D.NO_ANSWER, sh(*MON, 10, 0), history).retry_at == sh(*MON, 10, 30)


def test_daily_cap_is_checked_on_the_day_the_retry_lands():
    # Monday is full after this third try, but the retry lands on Tuesday
    # anyway, so it is an ordinary interval retry, not a cap.
    history = [rec(sh(*MON, 15, 0), D.NO_ANSWER), rec(sh(*MON, 16, 0), D.NO_ANSWER)]
    d = decide(D.NO_ANSWER, sh(*MON, 17, 45), history)
    assert d.retry_at == sh(2025, 9, 30, 9, 30)
    assert d.reason is Reason.INTERVAL


def test_daily_cap_is_configurable():
    p = RetryPolicy(max_attempts_per_day=5)
    history = [rec(sh(*MON, 9, 30), D.NO_ANSWER), rec(sh(*MON, 10, 0), D.NO_ANSWER)]
    assert decide(D.NO_ANSWER, sh(*MON, 10, 30), history, policy=p).retry_at == sh(*MON, 11)


def test_only_one_answered_reminder_a_day():
    # The owner was reached this morning (the call was lost to a crash after
    # answer, so it might have been heard); a later busy signal waits for tomorrow.
    history = [rec(sh(*MON, 9, 35), D.UNKNOWN, answered=True)]
    d = decide(D.BUSY, sh(*MON, 10, 0), history)
    assert d.retry_at == sh(2025, 9, 30, 9, 30)
    assert d.reason is Reason.CAP_ANSWERED


def test_answered_cap_is_configurable():
    p = RetryPolicy(max_answered_per_day=2)
    history = [rec(sh(*MON, 9, 35), D.UNKNOWN, answered=True)]
    assert decide(D.BUSY, sh(*MON, 10, 0), history, policy=p).retry_at == sh(*MON, 10, 10)


def test_total_cap_per_campaign():
    days = [(2025, 9, 22), (2025, 9, 23), (2025, 9, 24)]
    nine = [rec(sh(*d, h), D.NO_ANSWER) for d in days for h in (10, 15, 16)]
    d = decide(D.NO_ANSWER, sh(*MON, 10), nine)
    assert d.stop and d.reason is Reason.CAP_TOTAL
    assert not decide(D.NO_ANSWER, sh(*MON, 10), nine[:-1]).stop
    five = RetryPolicy(max_attempts_total=5)
    assert decide(D.NO_ANSWER, sh(*MON, 10), nine[:4], policy=five).reason is Reason.CAP_TOTAL


# --- unknown outcomes ------------------------------------------------------------


def test_unknown_counts_against_the_daily_cap():
    history = [rec(sh(*MON, 9, 30), D.UNKNOWN), rec(sh(*MON, 10, 30), D.UNKNOWN)]
    d = decide(D.NO_ANSWER, sh(*MON, 11, 0), history)
    assert d.reason is Reason.CAP_DAILY
    assert d.retry_at == sh(2025, 9, 30, 9, 30)


def test_unknown_counts_against_the_total_cap():
    history = [rec(sh(2025, 9, 22, 10) + timedelta(hours=i), D.UNKNOWN) for i in range(9)]
    assert decide(D.UNKNOWN, sh(*MON, 10), history).reason is Reason.CAP_TOTAL


def test_unknown_is_not_redialed_before_its_interval():
    d = decide(D.UNKNOWN, sh(*MON, 10, 0))
    assert d.retry_at == sh(*MON, 11, 0)
    assert d.retry_at >= sh(*MON, 10, 0) + max(P.no_answer, P.busy, P.failed)
    assert decide(D.UNKNOWN, sh(*MON, 11, 30)).retry_at == sh(*MON, 15, 0)


# --- campaign end, dead windows, bad input ----------------------------------------


def test_retry_after_campaign_end_stops():
    d = decide(D.NO_ANSWER, sh(*MON, 17, 45), campaign_ends_at=sh(*MON, 23, 59))
    assert d.stop and d.reason is Reason.CAMPAIGN_OVER
    d = decide(D.NO_ANSWER, sh(*MON, 10), campaign_ends_at=sh(*MON, 23, 59))
    assert d.retry_at == sh(*MON, 10, 30)


def test_windows_with_no_callable_time_stop_instead_of_crashing():
    never = CallWindows(weekday=[(time(22), time(23))], weekend=[])
    d = decide(D.NO_ANSWER, sh(*MON, 10), windows=never)
    assert d.stop and d.reason is Reason.NO_WINDOW


def test_shift_adds_elapsed_time_not_wall_clock_time():
    ny = datetime(2025, 3, 9, 1, 30, tzinfo=NY)  # spring-forward night in New York
    assert shift(ny, timedelta(hours=2)) == sh(2025, 3, 9, 16, 30)
    assert shift(ny, timedelta(hours=2)).tzinfo is SHANGHAI


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        decide(D.NO_ANSWER, datetime(2025, 9, 29, 10))


@pytest.mark.parametrize("field", ["no_answer", "busy", "failed", "machine", "unknown"])
def test_policy_rejects_non_positive_intervals(field):
    with pytest.raises(ValueError):
        RetryPolicy(**{field: timedelta(0)})


def test_policy_rejects_zero_caps():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts_per_day=0)


# --- DST-free arithmetic ----------------------------------------------------------



def test_same_instant_in_any_zone_gives_the_same_retry_on_a_us_dst_change_day():
    # 2025-03-09: New York springs forward at 02:00.  01:30 EST = 06:30 UTC =
    # 14:30 Shanghai (Sunday).  Machine +2h must be two elapsed hours: 16:30
    # Shanghai, not New York wall-clock 03:30 EDT (= 15:30 Shanghai).
    ny = datetime(2025, 3, 9, 1, 30, tzinfo=NY)
    utc = datetime(2025, 3, 9, 6, 30, tzinfo=timezone.utc)
    assert ny == utc
    results = {decide(D.MACHINE, at).retry_at for at in (ny, utc, utc.astimezone(SHANGHAI))}
    assert results == {sh(2025, 3, 9, 16, 30)}
    (result,) = results
    assert result.utcoffset() == timedelta(hours=8)


def test_ambiguous_new_york_fall_back_hour_is_read_by_fold():
    # 2025-11-02 01:30 happens twice in New York; fold=1 is the EST one (06:30 UTC).
    first = datetime(2025, 11, 2, 1, 30, tzinfo=NY)  # EDT, 05:30 UTC = 13:30 Shanghai
    second = datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=NY)  # EST, 14:30 Shanghai
    assert decide(D.MACHINE, first).retry_at == sh(2025, 11, 2, 15, 30)
    assert decide(D.MACHINE, second).retry_at == sh(2025, 11, 2, 16, 30)
    assert decide(D.MACHINE, second).retry_at == decide(
        D.MACHINE, datetime(2025, 11, 2, 6, 30, tzinfo=timezone.utc)
    ).retry_at


def test_history_in_other_zones_is_counted_on_its_shanghai_day():
    # 2025-09-28 20:00 New York = 2025-09-29 08:00 Shanghai: it is a Monday attempt.
    history = [
        rec(datetime(2025, 9, 28, 20, 0, tzinfo=NY), D.NO_ANSWER),
        rec(datetime(2025, 9, 29, 1, 45, tzinfo=timezone.utc), D.NO_ANSWER),
    ]
    d = decide(D.NO_ANSWER, sh(*MON, 10, 30), history)
    assert d.reason is Reason.CAP_DAILY
