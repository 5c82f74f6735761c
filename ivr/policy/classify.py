"""Account classes A–E (seed 000, 催缴分类) and the follow-up each one gets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Sequence

from .retry import AttemptRecord
from .windows import SEARCH_DAYS, CallWindows, to_shanghai, windows_on

# Unanswered days in a row before the reminder turns firmer.
FIRM_AFTER_UNANSWERED_DAYS = 3


class AccountClass(str, Enum):
    A = "A"  # 近期交纳: gave a concrete payment date → remind the day before
    B = "B"  # 暂未明确: no answer / no date yet → call daily
    C = "C"  # 无法联系: every number dead → staff find a new number or visit
    D = "D"  # 异地: away for long → call daily with how to pay remotely
    E = "E"  # 特殊拒交: refuses over a complaint, or opted out → supervisor


class Response(str, Enum):
    """What the owner told the IVR (keypress, or a voice message staff marked)."""

    NONE = "none"  # listened, gave nothing usable
    PROMISE = "promise"  # chose a payment date (promised_date holds it)
    AWAY = "away"  # away from home, wants to pay remotely
    COMPLAINT = "complaint"  # refuses because of a complaint
    OPT_OUT = "opt_out"  # do not call me again


@dataclass(frozen=True)
class OwnerAnswer:
    at: datetime  # aware
    response: Response = Response.NONE
    promised_date: date | None = None
    note: str | None = None  # complaint text or recorded voice-message reference


class PromiseStatus(str, Enum):
    KEPT = "kept"
    BROKEN = "broken"
    PENDING = "pending"


class MessageStage(str, Enum):
    FIRST = "first"  # polite first reminder
    FIRM = "firm"  # after a broken promise or several unanswered days
    PRE_PROMISE = "pre_promise"  # "you said you would pay tomorrow…"
    REMOTE_PAYMENT = "remote_payment"  # how to pay by transfer / online


class Action(str, Enum):
    CALL = "call"
    WAIT = "wait"  # promise pending, nothing to dial
    STAFF = "staff"  # class C: on the list of numbers to fix / visits
    SUPERVISOR = "supervisor"  # class E: on the supervisor's list
    DONE = "done"  # paid, or the campaign is over


@dataclass(frozen=True)
class AccountState:
    account_class: AccountClass
    promised_date: date | None = None
    paid_on: date | None = None  # arrears settled on this date, None while unpaid
    promise_broken: bool = False  # an earlier promise was broken
    unanswered_days: int = 0  # see unanswered_days()


@dataclass(frozen=True)
class FollowUp:
    action: Action
    account_class: AccountClass  # may differ from the input: a broken A is back in B
    reason: str
    stage: MessageStage | None = None  # message to play when action is CALL
    call_from: datetime | None = None  # first window start of the calling day
    call_until: datetime | None = None  # last window end of that day; lapses after
    promise: PromiseStatus | None = None


def classify(
    answers: Sequence[OwnerAnswer], *, all_numbers_unreachable: bool = False
) -> AccountClass:
    """Class from the owner's latest answer; C/B when nothing usable was said."""
    if answers:
        latest = max(answers, key=lambda a: a.at)
        # An opt-out is a request not to be phoned; no class that dials may
        # override it, not even a date given in the same call.
        if latest.response is Response.OPT_OUT:
            return AccountClass.E
        if latest.promised_date is not None:
            return AccountClass.A
        if latest.response is Response.AWAY:
            return AccountClass.D
        if latest.response is Response.COMPLAINT:
            return AccountClass.E
    return AccountClass.C if all_numbers_unreachable else AccountClass.B


def check_promise(promised_date: date, paid_on: date | None, today: date) -> PromiseStatus:
    """Kept = paid by the promised date (inclusive).  A payment dated after
    `today` is not known yet, so the check can be replayed for any past day."""
    paid = paid_on is not None and paid_on <= today
    if paid and paid_on <= promised_date:
        return PromiseStatus.KEPT
    if today > promised_date:
        return PromiseStatus.BROKEN
    return PromiseStatus.PENDING


def select_stage(
    account_class: AccountClass,
    *,
    promise_broken: bool = False,
    unanswered_days: int = 0,
    firm_after_unanswered_days: int = FIRM_AFTER_UNANSWERED_DAYS,
) -> MessageStage | None:
    """Message to play for a class; None for classes that are not dialed (C, E)."""
    if account_class is AccountClass.A:
        return MessageStage.PRE_PROMISE
    if account_class is AccountClass.D:
        return MessageStage.REMOTE_PAYMENT
    if account_class is AccountClass.B:
        if promise_broken or unanswered_days >= firm_after_unanswered_days:
            return MessageStage.FIRM
        return MessageStage.FIRST
    return None


def unanswered_days(history: Sequence[AttemptRecord]) -> int:
    """Shanghai dates with attempts on them since the owner last picked up."""
    ordered = sorted(history, key=lambda r: r.started_at)
    last = max((i for i, r in enumerate(ordered) if r.answered), default=-1)
    days = {to_shanghai(r.started_at).date() for r in ordered[last + 1 :]}
    if last >= 0:
        days.discard(to_shanghai(ordered[last].started_at).date())
    return len(days)


def _call_day(day: date, windows: CallWindows) -> tuple[datetime, datetime] | None:
    spans = windows_on(day, windows)
    return (spans[0][0], spans[-1][1]) if spans else None


def next_action(
    state: AccountState,
    today: date,
    windows: CallWindows,
    *,
    campaign_ends: date | None = None,
    firm_after_unanswered_days: int = FIRM_AFTER_UNANSWERED_DAYS,
) -> FollowUp:
    """The day-level plan for an account as of `today` (a Shanghai date).

    The retry policy decides re-dials within a day; this decides which day an
    account is called at all, and with which message.
    """
    cls = state.account_class
    promise = None
    if state.promised_date is not None:
        promise = check_promise(state.promised_date, state.paid_on, today)
    # Never chase someone who has paid (以免误催), whatever their class.
    if state.paid_on is not None and state.paid_on <= today:
        return FollowUp(Action.DONE, cls, "paid", promise=promise)

    if cls is AccountClass.C:
        return FollowUp(Action.STAFF, cls, "unreachable", promise=promise)
    if cls is AccountClass.E:
        return FollowUp(Action.SUPERVISOR, cls, "refused", promise=promise)

    broken = state.promise_broken or promise is PromiseStatus.BROKEN
    if cls is AccountClass.A:
        if state.promised_date is None:
            raise ValueError("class A needs a promised_date")
        if promise is PromiseStatus.BROKEN:
            cls = AccountClass.B  # broken promise: back to daily calls, firmer tone
        else:
            return _pre_promise(state.promised_date, today, windows, campaign_ends, promise)

    # B and D: call every callable day from today on.
    stage = select_stage(
        cls,
        promise_broken=broken,
        unanswered_days=state.unanswered_days,
        firm_after_unanswered_days=firm_after_unanswered_days,
    )
    reason = "promise_broken" if promise is PromiseStatus.BROKEN else "daily"
    for offset in range(SEARCH_DAYS + 1):
        day = today + timedelta(days=offset)
        if campaign_ends is not None and day > campaign_ends:
            return FollowUp(Action.DONE, cls, "campaign_over", promise=promise)
        span = _call_day(day, windows)
        if span:
            return FollowUp(Action.CALL, cls, reason, stage, *span, promise=promise)
    return FollowUp(Action.DONE, cls, "no_window", promise=promise)


def _pre_promise(
    promised: date,
    today: date,
    windows: CallWindows,
    campaign_ends: date | None,
    promise: PromiseStatus | None,
) -> FollowUp:
    """Class A: one reminder the day before the promised date (seed 001: 预缴费前一天回访).

    If that day cannot be called (a holiday for an arrears campaign), use the last
    callable day before it, but never a day already past.
    """
    a = AccountClass.A
    if promised <= today:
        return FollowUp(Action.WAIT, a, "promise_due", promise=promise)
    day = promised - timedelta(days=1)
    while day >= today and (promised - day).days <= SEARCH_DAYS:
        span = _call_day(day, windows)
        if span:
            if campaign_ends is not None and day > campaign_ends:
                return FollowUp(Action.DONE, a, "campaign_over", promise=promise)
            stage = MessageStage.PRE_PROMISE
            return FollowUp(Action.CALL, a, "pre_promise", stage, *span, promise=promise)
        day -= timedelta(days=1)
    return FollowUp(Action.WAIT, a, "no_day_before_promise", promise=promise)
