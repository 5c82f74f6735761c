"""The checks made right before a dial, and the day-level sweeps, on both stores."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from dialer_helpers import BUSINESS_HOURS
from sqlalchemy import select

from ivr.dialer import campaigns
from ivr.dialer.claims import claim_due
from ivr.dialer.seed import campaign_with_accounts
from ivr.policy.windows import SHANGHAI
from ivr.storage import Account, Attempt, AttemptStatus, Campaign, CampaignStatus, Contact
from ivr.storage.models import DoNotCall


def _campaign(sessions, numbers, **fields):
    with sessions() as s:
        return campaign_with_accounts(s, "claims", [dict(room=f"1栋{i}", phones=[n], amount_owed=Decimal("100"))
                                                     for i, n in enumerate(numbers)],
                                      now=BUSINESS_HOURS, **fields).id


def _claim(sessions, now=BUSINESS_HOURS, limit=10):
    with sessions() as s:
        return claim_due(s, now, limit=limit, dialer_id="t", trunk_channels=10)


def _attempts(sessions, campaign_id):
    with sessions() as s:
        return s.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id).order_by(Attempt.id)).all()


def test_the_stop_switch_stops_every_claim(sessions):
    _campaign(sessions, ["13640000001"])
    with sessions() as s:
        campaigns.set_dialing_stopped(s, True, actor="supervisor")
        s.commit()
    assert _claim(sessions) == []
    with sessions() as s:
        campaigns.set_dialing_stopped(s, False, actor="supervisor")
        s.commit()
    assert [c.number for c in _claim(sessions)] == ["13640000001"]


def test_paid_and_past_deadline_are_skipped_not_dialed(sessions):
    paid_id = _campaign(sessions, ["13640000011"])
    late_id = _campaign(sessions, ["13640000012"], ends_at=BUSINESS_HOURS - timedelta(minutes=1))
    with sessions() as s:
        account = s.scalars(select(Account).join(Contact).where(Contact.campaign_id == paid_id)).one()
        account.paid_at = BUSINESS_HOURS   # e.g. set by a bulk import, bypassing mark_paid
        s.commit()
    assert _claim(sessions) == []
    assert [(a.status, a.error) for a in _attempts(sessions, paid_id)] == [
        (AttemptStatus.SKIPPED, "paid before dialing")]
    assert _attempts(sessions, late_id)[0].status == AttemptStatus.SKIPPED


def test_caps_count_calls_already_up_and_those_claimed_in_the_same_round(sessions):
    a = _campaign(sessions, ["13640000031", "13640000032", "13640000033", "13640000034"],
                  settings={"caps": {"concurrency": 2}})
    b = _campaign(sessions, ["13640000041", "13640000042", "13640000043"])
    with sessions() as s:
        s.add(DoNotCall(number="13640000033", reason="imported", source="admin"))
        s.commit()
    assert [c.number for c in _claim(sessions, limit=1)] == ["13640000031"]
    with sessions() as s:   # trunk: 3 at once; campaign a: 2 at once, one of them already up
        claimed = claim_due(s, BUSINESS_HOURS, limit=10, dialer_id="t", trunk_channels=3)
    assert [(c.campaign_id, c.number) for c in claimed] == [(a, "13640000032"), (b, "13640000041")]
    assert [(x.number, x.status, x.error) for x in _attempts(sessions, a)] == [
        ("13640000031", AttemptStatus.DIALING, None), ("13640000032", AttemptStatus.DIALING, None),
        ("13640000033", AttemptStatus.SKIPPED, "number on the do-not-call list"),
        ("13640000034", AttemptStatus.QUEUED, None)]
    assert [x.status for x in _attempts(sessions, b)] == [
        AttemptStatus.DIALING, AttemptStatus.QUEUED, AttemptStatus.QUEUED]


def test_outside_the_window_an_attempt_waits_for_the_next_one(sessions):
    campaign_id = _campaign(sessions, ["13640000021"])
    evening = datetime(2026, 11, 23, 21, 30, tzinfo=SHANGHAI)   # past the 21:00 hard guard
    assert _claim(sessions, now=evening) == []
    waiting = _attempts(sessions, campaign_id)[0]
    assert waiting.status == AttemptStatus.QUEUED
    assert waiting.scheduled_at.astimezone(SHANGHAI) == datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI)


def test_a_scheduled_campaign_starts_at_its_time(sessions):
    start = BUSINESS_HOURS + timedelta(hours=1)
    with sessions() as s:
        campaign = campaign_with_accounts(s, "later", [dict(room="2栋1", phones=["13640000031"])],
                                          start=False, start_at=start)
        campaigns.start(s, campaign, BUSINESS_HOURS, actor="operator")
        s.commit()
        assert campaign.status == CampaignStatus.SCHEDULED
        campaign_id = campaign.id
    with sessions() as s:
        assert campaigns.promote_scheduled(s, BUSINESS_HOURS) == 0   # not yet (the dialer's sweep)
        assert campaigns.promote_scheduled(s, start) == 1
        s.commit()
    assert [c.number for c in _claim(sessions, now=start)] == ["13640000031"]
    with sessions() as s:
        assert s.get(Campaign, campaign_id).status == CampaignStatus.RUNNING


def test_a_promise_passed_unpaid_is_broken_and_called_again_firmly(sessions):
    campaign_id = _campaign(sessions, ["13640000041"])
    with sessions() as s:
        first = s.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id)).one()
        first.status, first.disposition = AttemptStatus.DONE, "answered"
        account = s.get(Account, first.account_id)
        account.account_class, account.promised_date, account.promise_status = "A", date(2026, 11, 24), "pending"
        first.contact.status = "done"
        s.commit()
    with sessions() as s:
        assert campaigns.break_promises(s, date(2026, 11, 24), BUSINESS_HOURS) == 0  # not yet
        assert campaigns.break_promises(s, date(2026, 11, 25), BUSINESS_HOURS) == 1
        s.commit()
    rows = _attempts(sessions, campaign_id)
    with sessions() as s:
        account = s.get(Account, rows[0].account_id)
        assert (account.account_class, account.promise_status) == ("B", "broken")
    assert rows[-1].status == AttemptStatus.QUEUED and rows[-1].message_stage == "firm"


def test_a_daily_limit_holds_the_rest_for_tomorrows_first_window(sessions):
    campaign_id = _campaign(sessions, [f"136400001{i}" for i in range(5)],
                            settings={"caps": {"concurrency": 10, "daily_limit": 2}})
    assert len(_claim(sessions)) == 2
    assert _claim(sessions) == []                      # two placed today: no more
    waiting = [a for a in _attempts(sessions, campaign_id) if a.status == AttemptStatus.QUEUED]
    assert len(waiting) == 3
    assert {a.scheduled_at.astimezone(SHANGHAI) for a in waiting} == {datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI)}


def test_a_campaigns_calls_per_second_counts_calls_already_placed(sessions):
    import time
    _campaign(sessions, [f"136400002{i}" for i in range(3)],
              settings={"caps": {"concurrency": 10, "calls_per_second": 1}})
    assert len(_claim(sessions)) == 1
    assert _claim(sessions) == []                      # the next round, the same second
    time.sleep(1.1)
    assert len(_claim(sessions)) == 1
