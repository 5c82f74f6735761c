from datetime import date, datetime, timedelta

import pytest

from ivr.policy import (
    SHANGHAI,
    AccountClass,
    AccountState,
    Action,
    AttemptRecord,
    CallWindows,
    MessageStage,
    OwnerAnswer,
    PromiseStatus,
    Response,
    check_promise,
    classify,
    next_action,
    select_stage,
    unanswered_days,
)
from ivr.policy import Disposition as D

W = CallWindows()  # arrears: no holiday calls
OUTAGE_LIKE = CallWindows(call_on_holidays=True)
A, B, C, Dc, E = (AccountClass[x] for x in "ABCDE")


def sh(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def ans(day, response=Response.NONE, promised=None, hour=10):
    return OwnerAnswer(at=sh(2025, 9, day, hour), response=response, promised_date=promised)


# --- classify ---------------------------------------------------------------------


def test_no_answer_yet_is_b_or_c():
    assert classify([]) is B
    assert classify([], all_numbers_unreachable=True) is C


@pytest.mark.parametrize(
    "answer, expected",
    [
        (ans(22, Response.PROMISE, date(2025, 9, 27)), A),
        (ans(22, Response.NONE, date(2025, 9, 27)), A),  # a date is what makes A
        (ans(22, Response.PROMISE), B),  # "I'll pay" without a date is not A
        (ans(22, Response.AWAY), Dc),
        (ans(22, Response.COMPLAINT), E),
        (ans(22, Response.OPT_OUT), E),
        (ans(22, Response.OPT_OUT, date(2025, 9, 27)), E),  # opt-out beats a date
        (ans(22, Response.NONE), B),
    ],
)
def test_classify_by_the_answer(answer, expected):
    assert classify([answer]) is expected


def test_the_latest_answer_decides_whatever_the_list_order():
    answers = [
        ans(24, Response.AWAY),
        ans(20, Response.COMPLAINT),
        ans(22, Response.PROMISE, date(2025, 9, 30)),
    ]
    assert classify(answers) is Dc
    assert classify(answers[1:]) is A
    assert classify([ans(23, Response.NONE), ans(22, Response.PROMISE, date(2025, 9, 30))]) is B


def test_a_concrete_answer_outranks_dead_numbers():
    promise = [ans(22, Response.PROMISE, date(2025, 9, 30))]
    assert classify(promise, all_numbers_unreachable=True) is A
    assert classify([ans(22)], all_numbers_unreachable=True) is C


# --- check_promise ----------------------------------------------------------------


@pytest.mark.parametrize(
    "promised, paid_on, today, expected",
    [
        (date(2025, 9, 27), date(2025, 9, 25), date(2025, 9, 29), PromiseStatus.KEPT),
        (date(2025, 9, 27), date(2025, 9, 27), date(2025, 9, 27), PromiseStatus.KEPT),
        (date(2025, 9, 27), date(2025, 9, 28), date(2025, 9, 29), PromiseStatus.BROKEN),
        (date(2025, 9, 27), None, date(2025, 9, 28), PromiseStatus.BROKEN),
        (date(2025, 9, 27), None, date(2025, 9, 27), PromiseStatus.PENDING),
        (date(2025, 9, 27), None, date(2025, 9, 20), PromiseStatus.PENDING),
        # a payment dated after `today` is not known on `today`
        (date(2025, 9, 27), date(2025, 9, 26), date(2025, 9, 24), PromiseStatus.PENDING),
    ],
)
def test_check_promise(promised, paid_on, today, expected):
    assert check_promise(promised, paid_on, today) is expected


# --- message stage ----------------------------------------------------------------


def test_select_stage():
    assert select_stage(B) is MessageStage.FIRST
    assert select_stage(B, unanswered_days=2) is MessageStage.FIRST
    assert select_stage(B, unanswered_days=3) is MessageStage.FIRM
    assert select_stage(B, unanswered_days=2, firm_after_unanswered_days=2) is MessageStage.FIRM
    assert select_stage(B, promise_broken=True) is MessageStage.FIRM
    assert select_stage(A) is MessageStage.PRE_PROMISE
    assert select_stage(Dc) is MessageStage.REMOTE_PAYMENT
    assert select_stage(Dc, promise_broken=True) is MessageStage.REMOTE_PAYMENT
    assert select_stage(C) is None
    assert select_stage(E) is None


def test_unanswered_days_counts_days_since_the_owner_last_picked_up():
    def r(day, hour, answered):
        disposition = D.ANSWERED if answered else D.NO_ANSWER
        return AttemptRecord(sh(2025, 9, day, hour), disposition, answered)

    history = [r(22, 10, True), r(23, 10, False), r(23, 15, False), r(24, 10, False)]
    assert unanswered_days(history) == 2
    assert unanswered_days(list(reversed(history))) == 2
    assert unanswered_days(history[1:]) == 2
    assert unanswered_days(history + [r(25, 10, True), r(25, 15, False)]) == 0
    assert unanswered_days([]) == 0


# --- next_action: class A ---------------------------------------------------------


def test_promise_gets_a_reminder_the_day_before_inside_the_window():
    # promised Wednesday 2025-09-24, asked on Monday the 22nd → call Tuesday
    f = next_action(AccountState(A, promised_date=date(2025, 9, 24)), date(2025, 9, 22), W)
    assert f.action is Action.CALL
    assert f.account_class is A
    assert f.stage is MessageStage.PRE_PROMISE
    assert f.call_from == sh(2025, 9, 23, 9, 30)
    assert f.call_until == sh(2025, 9, 23, 18, 0)
    assert f.promise is PromiseStatus.PENDING


def test_promise_for_tomorrow_is_reminded_today():
    f = next_action(AccountState(A, promised_date=date(2025, 9, 24)), date(2025, 9, 23), W)
    assert f.action is Action.CALL
    assert f.call_from == sh(2025, 9, 23, 9, 30)


def test_promise_for_monday_is_reminded_on_sunday_with_weekend_hours():
    f = next_action(AccountState(A, promised_date=date(2025, 9, 22)), date(2025, 9, 19), W)
    assert f.call_from == sh(2025, 9, 21, 10, 30)


def test_promise_after_a_makeup_sunday_is_reminded_on_that_working_sunday():
    f = next_action(AccountState(A, promised_date=date(2025, 9, 29)), date(2025, 9, 26), W)
    assert f.call_from == sh(2025, 9, 28, 9, 30)


def test_promise_on_a_holiday_is_reminded_on_the_last_callable_day_before():
    # promised Friday Oct 3 (National Day): Oct 2 and 1 are holidays too → Sept 30
    state = AccountState(A, promised_date=date(2025, 10, 3))
    f = next_action(state, date(2025, 9, 26), W)
    assert f.action is Action.CALL
    assert f.call_from == sh(2025, 9, 30, 9, 30)
    # a campaign that does call on holidays uses Oct 2 with weekend hours
    f = next_action(state, date(2025, 9, 26), OUTAGE_LIKE)
    assert f.call_from == sh(2025, 10, 2, 10, 30)


def test_promise_right_after_a_long_holiday():
    f = next_action(AccountState(A, promised_date=date(2026, 2, 24)), date(2026, 2, 10), W)
    assert f.call_from == sh(2026, 2, 14, 9, 30)  # the worked Saturday before Spring Festival


def test_no_pre_reminder_when_no_callable_day_is_left_before_the_promise():
    # asked during the holiday, promised for the 8th: the 5th–7th are all off
    f = next_action(AccountState(A, promised_date=date(2025, 10, 8)), date(2025, 10, 5), W)
    assert f.action is Action.WAIT
    assert f.call_from is None


def test_promise_due_today_gets_no_pre_reminder():
    f = next_action(AccountState(A, promised_date=date(2025, 9, 24)), date(2025, 9, 24), W)
    assert f.action is Action.WAIT
    assert f.account_class is A
    assert f.promise is PromiseStatus.PENDING


def test_promise_in_the_past_and_unpaid_is_broken_back_to_b_firm():
    f = next_action(AccountState(A, promised_date=date(2025, 9, 24)), date(2025, 9, 25), W)
    assert f.action is Action.CALL
    assert f.account_class is B
    assert f.stage is MessageStage.FIRM
    assert f.promise is PromiseStatus.BROKEN
    assert f.reason == "promise_broken"
    assert f.call_from == sh(2025, 9, 25, 9, 30)


def test_kept_promise_is_done():
    state = AccountState(A, promised_date=date(2025, 9, 24), paid_on=date(2025, 9, 23))
    f = next_action(state, date(2025, 9, 25), W)
    assert f.action is Action.DONE
    assert f.promise is PromiseStatus.KEPT


def test_class_a_needs_a_date():
    with pytest.raises(ValueError):
        next_action(AccountState(A), date(2025, 9, 24), W)


def test_pre_reminder_after_campaign_end_is_not_scheduled():
    state = AccountState(A, promised_date=date(2025, 9, 24))
    f = next_action(state, date(2025, 9, 22), W, campaign_ends=date(2025, 9, 22))
    assert f.action is Action.DONE


# --- next_action: B, C, D, E ------------------------------------------------------


def test_b_is_called_daily_with_the_polite_message_first():
    f = next_action(AccountState(B), date(2025, 9, 29), W)
    assert f.action is Action.CALL
    assert f.stage is MessageStage.FIRST
    assert (f.call_from, f.call_until) == (sh(2025, 9, 29, 9, 30), sh(2025, 9, 29, 18))


def test_b_turns_firm_after_unanswered_days_or_a_broken_promise():
    monday = date(2025, 9, 29)
    assert next_action(AccountState(B, unanswered_days=3), monday, W).stage is MessageStage.FIRM
    assert next_action(AccountState(B, promise_broken=True), monday, W).stage is MessageStage.FIRM


def test_b_during_a_holiday_waits_for_the_next_callable_day():
    f = next_action(AccountState(B), date(2025, 10, 2), W)
    assert f.call_from == sh(2025, 10, 9, 9, 30)


def test_b_stops_when_the_campaign_ends():
    f = next_action(AccountState(B), date(2025, 10, 2), W, campaign_ends=date(2025, 10, 5))
    assert f.action is Action.DONE and f.reason == "campaign_over"
    last_day = date(2025, 9, 29)
    assert next_action(AccountState(B), last_day, W, campaign_ends=last_day).action is Action.CALL


def test_d_is_called_daily_with_remote_payment():
    f = next_action(AccountState(Dc), date(2025, 9, 27), W)
    assert f.action is Action.CALL
    assert f.stage is MessageStage.REMOTE_PAYMENT
    assert f.call_from == sh(2025, 9, 27, 10, 30)


def test_c_goes_to_staff_and_e_to_a_supervisor():
    c = next_action(AccountState(C), date(2025, 9, 29), W)
    e = next_action(AccountState(E), date(2025, 9, 29), W)
    assert (c.action, c.call_from, c.stage) == (Action.STAFF, None, None)
    assert (e.action, e.call_from, e.stage) == (Action.SUPERVISOR, None, None)


@pytest.mark.parametrize("cls", list(AccountClass))
def test_paid_accounts_are_never_chased(cls):
    state = AccountState(cls, promised_date=date(2025, 9, 30), paid_on=date(2025, 9, 28))
    f = next_action(state, date(2025, 9, 29), W)
    assert f.action is Action.DONE and f.reason == "paid"
    # …but a payment recorded for a later date is not known yet
    assert next_action(state, date(2025, 9, 27), W).action is not Action.DONE


def test_follow_up_times_are_shanghai():
    f = next_action(AccountState(B), date(2025, 9, 29), W)
    assert f.call_from.utcoffset() == timedelta(hours=8)
