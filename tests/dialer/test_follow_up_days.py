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


def _campaign_status(sessions, attempt_id: int):
    from ivr.storage import Campaign
    with sessions() as s:
        return s.get(Campaign, s.get(Attempt, attempt_id).campaign_id).status.value


def _settle_answered(sessions, attempt_id: int) -> None:
    from ivr.dialer.settle import finish_if_idle
    with sessions() as s:
        attempt = s.get(Attempt, attempt_id)
        assert schedule_next(s, attempt, BUSINESS_HOURS) is None
        finish_if_idle(s, attempt.campaign_id, BUSINESS_HOURS)
        s.commit()


def test_a_campaign_waits_for_a_promise_and_calls_again_when_it_is_broken(sessions):
    from ivr.dialer import campaigns
    attempt_id = _answered(sessions, "A", date(2026, 11, 24))   # promised tomorrow
    _settle_answered(sessions, attempt_id)
    assert _campaign_status(sessions, attempt_id) == "running"   # held: nothing queued, a promise due
    with sessions() as s:
        assert campaigns.break_promises(s, date(2026, 11, 25), BUSINESS_HOURS) == 1
        s.commit()
        queued = s.scalars(select(Attempt).where(Attempt.status == AttemptStatus.QUEUED)).all()
        assert [a.number for a in queued] == ["13640000071"]
        assert queued[0].message_stage == "firm" or queued[0].contact.message_stage == "firm"


def test_a_kept_promise_lets_the_held_campaign_complete(sessions):
    from ivr.dialer import campaigns
    from ivr.dialer.settle import finish_idle_campaigns
    attempt_id = _answered(sessions, "A", date(2026, 11, 24))
    _settle_answered(sessions, attempt_id)
    with sessions() as s:
        assert finish_idle_campaigns(s, BUSINESS_HOURS) == 0       # still waiting
        account = s.get(Account, s.get(Attempt, attempt_id).account_id)
        campaigns.mark_paid(s, account, amount=None, paid_on=date(2026, 11, 24), source="import", actor="t")
        assert finish_idle_campaigns(s, BUSINESS_HOURS) == 1
        s.commit()
    assert _campaign_status(sessions, attempt_id) == "completed"


def test_already_paid_stops_the_calls_until_staff_check_and_a_rejection_resumes_them(sessions):
    from ivr.dialer import campaigns
    from ivr.dialer.settle import finish_if_idle
    from ivr.storage import Contact
    attempt_id = _answered(sessions, "B")
    with sessions() as s:
        attempt = s.get(Attempt, attempt_id)
        attempt.account.paid_claim_at = BUSINESS_HOURS          # pressed 3: "already paid"
        assert schedule_next(s, attempt, BUSINESS_HOURS) is None   # no call tomorrow (以免误催)
        assert attempt.contact.stop_reason == "paid_claim"
        assert finish_if_idle(s, attempt.campaign_id, BUSINESS_HOURS) is False   # waits for staff
        s.commit()
    with sessions() as s:
        account = s.get(Account, s.get(Attempt, attempt_id).account_id)
        assert campaigns.claim_rejected(s, account, BUSINESS_HOURS) == 1      # no payment found
        s.commit()
        contact = s.scalars(select(Contact)).one()
        assert contact.status.value == "active" and account.paid_claim_at is None
        assert [a.status for a in contact.attempts] == [AttemptStatus.DONE, AttemptStatus.QUEUED]
