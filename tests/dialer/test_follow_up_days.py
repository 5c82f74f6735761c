"""Which day an answered owner is called next (the follow-up by class), on both stores."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from dialer_helpers import BUSINESS_HOURS   # Monday 2026-11-23 10:00 Shanghai
from sqlalchemy import select

from ivr.dialer.seed import campaign_with_accounts
from ivr.dialer.settle import schedule_next
from ivr.policy.windows import SHANGHAI
from ivr.storage import Account, Attempt, AttemptStatus


def _answered(sessions, account_class: str, promised: date | None = None) -> int:
    with sessions() as s:
        campaign = campaign_with_accounts(s, "follow-up", [dict(room="1栋1", phones=["13640000071"],
                                                                amount_owed=Decimal("100"))],
                                          now=BUSINESS_HOURS)
        attempt = s.scalars(select(Attempt).where(Attempt.campaign_id == campaign.id)).one()
        attempt.status, attempt.disposition = AttemptStatus.DONE, "answered"
        attempt.dial_status, attempt.answered_at = "ANSWER", BUSINESS_HOURS
        account = s.get(Account, attempt.account_id)
        account.account_class, account.promised_date = account_class, promised
        account.promise_status = "pending" if promised else None
        s.commit()
        return attempt.id


def _next(sessions, attempt_id: int) -> Attempt | None:
    with sessions() as s:
        queued = schedule_next(s, s.get(Attempt, attempt_id), BUSINESS_HOURS)
        s.commit()
        if queued is not None:
            s.refresh(queued)
            s.expunge(queued)
        return queued


@pytest.mark.parametrize("promised, reminder", [
    (date(2026, 11, 26), datetime(2026, 11, 25, 9, 30, tzinfo=SHANGHAI)),   # the day before
    (date(2026, 11, 25), datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI)),
    (date(2026, 11, 24), None),   # tomorrow: the owner was just called; no second call today
])
def test_a_promise_is_reminded_the_day_before_never_the_same_day(sessions, promised, reminder):
    queued = _next(sessions, _answered(sessions, "A", promised))
    if reminder is None:
        assert queued is None
    else:
        assert queued.scheduled_at.astimezone(SHANGHAI) == reminder
        assert queued.message_stage == "pre_promise"


def test_not_settled_is_called_the_next_callable_day(sessions):
    queued = _next(sessions, _answered(sessions, "B"))
    assert queued.scheduled_at.astimezone(SHANGHAI) == datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI)


def test_refused_is_not_called_again(sessions):
    assert _next(sessions, _answered(sessions, "E")) is None
