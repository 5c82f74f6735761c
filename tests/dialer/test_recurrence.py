"""Recurring campaigns on both stores: the sweep starts one run per occurrence, with the
parent's selection recomputed then (paid and opted-out accounts left out)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from ivr.dialer import campaigns, recurrence
from ivr.dialer.claims import claim_due
from ivr.dialer.service import Dialer, DialerConfig
from ivr.policy.windows import SHANGHAI
from ivr.storage import (Account, Attempt, AttemptStatus, AuditEntry, Campaign, CampaignKind,
                         CampaignStatus, Contact, Phone, connect, session_factory)

CREATED = datetime(2026, 11, 22, 15, 0, tzinfo=SHANGHAI)
DEC_5 = datetime(2026, 12, 5, 9, 30, tzinfo=SHANGHAI)        # a Saturday
SETTINGS = {"lang": "zh", "variables": {"company": "幸福家园物业"},
            "filter": {"buildings": ["3栋"], "areas": [], "min_months": 0, "classes": []},
            "windows": {"weekday": [["09:30", "12:00"]], "weekend": [["10:30", "12:00"]],
                        "call_on_holidays": False},
            "retry": {"no_answer": 30}, "caps": {"concurrency": 4}}


def _account(s, room, *numbers, building="3栋", **fields):
    account = Account(room=room, building=building, owner_name="业主", amount_owed=Decimal("100"),
                      months_owed=2, variables={},
                      phones=[Phone(number=n, position=i) for i, n in enumerate(numbers)], **fields)
    s.add(account)
    s.flush()
    return account


def _arrangement(sessions, rule="monthly:5@09:30", *, start=True, accounts=True, **fields) -> int:
    with sessions() as s:
        if accounts:
            _account(s, "3栋101", "13650000001")
            _account(s, "5栋101", "13650000002", building="5栋")   # outside the filter
        parent = Campaign(name="每月催缴 3栋", kind=CampaignKind.ARREARS, recurrence=rule,
                          settings=SETTINGS, trunk="carrier", caller_id="4008001234", **fields)
        s.add(parent)
        s.flush()
        if start:
            recurrence.start_arrangement(s, parent, CREATED, actor="clerk")
        s.commit()
        return parent.id


def _sweep(sessions, now) -> list[int]:
    with sessions() as s:
        return recurrence.start_due_runs(s, now)


def _runs(sessions, parent_id):
    with sessions() as s:
        return s.scalars(select(Campaign).where(Campaign.parent_id == parent_id).order_by(Campaign.id)).all()


def _rooms(sessions, campaign_id):
    with sessions() as s:
        return sorted(s.scalars(select(Account.room).join(Contact, Contact.account_id == Account.id)
                                .where(Contact.campaign_id == campaign_id)))


def _missed(sessions, parent_id):
    with sessions() as s:
        return [e.detail for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "campaign.run_missed", AuditEntry.target == f"campaign:{parent_id}"))]


def test_starting_an_arrangement_calls_nobody_and_waits_for_the_first_occurrence(sessions):
    parent_id = _arrangement(sessions)
    with sessions() as s:
        parent = s.get(Campaign, parent_id)
        assert parent.status == CampaignStatus.RUNNING
        assert parent.next_run_at.astimezone(SHANGHAI) == DEC_5
        assert s.scalar(select(Attempt.id).where(Attempt.campaign_id == parent_id)) is None


def test_a_run_is_started_once_at_the_occurrence_not_before(sessions):
    parent_id = _arrangement(sessions)
    assert _sweep(sessions, DEC_5 - timedelta(minutes=1)) == []
    [run_id] = _sweep(sessions, DEC_5)
    assert _sweep(sessions, DEC_5 + timedelta(seconds=5)) == []
    assert _sweep(sessions, DEC_5 + timedelta(days=1)) == []
    with sessions() as s:
        run, parent = s.get(Campaign, run_id), s.get(Campaign, parent_id)
        assert run.name == "每月催缴 3栋 2026-12-05" and run.parent_id == parent_id
        assert run.occurrence.astimezone(SHANGHAI) == DEC_5 and run.recurrence is None
        assert (run.kind, run.trunk, run.caller_id, run.settings) == (
            CampaignKind.ARREARS, "carrier", "4008001234", SETTINGS)
        assert run.status == CampaignStatus.RUNNING
        # the run stops calling when the next one would start: nobody is in two runs' calls
        assert run.ends_at.astimezone(SHANGHAI) == datetime(2027, 1, 5, 9, 30, tzinfo=SHANGHAI)
        assert parent.next_run_at.astimezone(SHANGHAI) == datetime(2027, 1, 5, 9, 30, tzinfo=SHANGHAI)
        attempts = s.scalars(select(Attempt).where(Attempt.campaign_id == run_id)).all()
        assert [(a.number, a.status, a.operator) for a in attempts] == [
            ("13650000001", AttemptStatus.QUEUED, "scheduler")]
    assert _rooms(sessions, run_id) == ["3栋101"]
    [january] = _sweep(sessions, datetime(2027, 1, 5, 9, 30, 2, tzinfo=SHANGHAI))
    assert [r.id for r in _runs(sessions, parent_id)] == [run_id, january]


def test_the_selection_is_recomputed_without_paid_or_opted_out_accounts(sessions):
    parent_id = _arrangement(sessions)
    with sessions() as s:
        paid = _account(s, "3栋102", "13650000003")
        opted = _account(s, "3栋103", "13650000004")
        both = _account(s, "3栋104", "13650000005", "13650000006")   # one number opted out
        _account(s, "3栋105", "13650000007")                          # joins after the start
        s.commit()
        campaigns.mark_paid(s, paid, amount=None, paid_on=DEC_5.date(), source="admin", actor="clerk")
        campaigns.opt_out(s, "13650000004", reason="keypress", source="keypress", actor="dialer")
        campaigns.opt_out(s, "13650000005", reason="staff", source="admin", actor="clerk")
        assert opted.id and both.id
        s.commit()
    [run_id] = _sweep(sessions, DEC_5)
    assert _rooms(sessions, run_id) == ["3栋101", "3栋104", "3栋105"]
    with sessions() as s:
        numbers = sorted(s.scalars(select(Attempt.number).where(Attempt.campaign_id == run_id)))
    assert numbers == ["13650000001", "13650000006", "13650000007"]


def test_a_paused_or_cancelled_arrangement_makes_no_runs(sessions):
    paused_id, cancelled_id = _arrangement(sessions), _arrangement(sessions, accounts=False)
    with sessions() as s:
        campaigns.pause(s, s.get(Campaign, paused_id), actor="clerk")
        campaigns.cancel(s, s.get(Campaign, cancelled_id), CREATED, actor="clerk")
        s.commit()
    assert _sweep(sessions, DEC_5 + timedelta(minutes=1)) == []
    assert _runs(sessions, paused_id) == [] and _runs(sessions, cancelled_id) == []
    assert _missed(sessions, paused_id) == [{"occurrences": [DEC_5.isoformat()], "reason": "paused"}]
    with sessions() as s:   # resumed later the same day: this month's occurrence stays skipped
        campaigns.resume(s, s.get(Campaign, paused_id), DEC_5, actor="clerk")
        s.commit()
    assert _sweep(sessions, DEC_5 + timedelta(hours=2)) == []
    assert len(_sweep(sessions, datetime(2027, 1, 5, 9, 30, tzinfo=SHANGHAI))) == 1


def test_a_dialer_back_the_same_day_starts_that_days_run(sessions):
    parent_id = _arrangement(sessions)
    [run_id] = _sweep(sessions, DEC_5 + timedelta(hours=5))     # down at 09:30, back at 14:30
    with sessions() as s:
        assert s.get(Campaign, run_id).occurrence.astimezone(SHANGHAI) == DEC_5
    assert _missed(sessions, parent_id) == []


def test_a_dialer_back_the_next_day_does_not_make_it_up(sessions):
    parent_id = _arrangement(sessions)
    assert _sweep(sessions, DEC_5 + timedelta(days=1)) == []
    assert _runs(sessions, parent_id) == []
    assert _missed(sessions, parent_id) == [{"occurrences": [DEC_5.isoformat()], "reason": "dialer not running"}]
    with sessions() as s:
        assert s.get(Campaign, parent_id).next_run_at.astimezone(SHANGHAI) == DEC_5.replace(year=2027, month=1)


def test_months_missed_make_one_run_at_most(sessions):
    parent_id = _arrangement(sessions)
    march = datetime(2027, 3, 5, 15, 0, tzinfo=SHANGHAI)       # down from November, back 5 March
    [run_id] = _sweep(sessions, march)
    with sessions() as s:
        assert s.get(Campaign, run_id).occurrence.astimezone(SHANGHAI) == march.replace(hour=9, minute=30)
    assert _missed(sessions, parent_id)[0]["occurrences"] == [
        DEC_5.isoformat(), DEC_5.replace(year=2027, month=1).isoformat(),
        DEC_5.replace(year=2027, month=2).isoformat()]
    assert len(_runs(sessions, parent_id)) == 1


def test_two_concurrent_sweeps_make_one_run(db_url):
    engines = [connect(db_url), connect(db_url)]
    factories = [session_factory(e) for e in engines]
    try:
        parent_id = _arrangement(factories[0])
        for round_ in range(3):
            occurrence = DEC_5.replace(month=12 if round_ == 0 else round_, year=2026 if round_ == 0 else 2027)
            barrier = threading.Barrier(2)
            made: list[list[int]] = []

            def sweep(factory):
                with factory() as s:
                    barrier.wait()
                    made.append(recurrence.start_due_runs(s, occurrence + timedelta(seconds=1)))

            threads = [threading.Thread(target=sweep, args=(f,)) for f in factories]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert sorted(len(m) for m in made) == [0, 1]
        assert len(_runs(factories[0], parent_id)) == 3
    finally:
        for e in engines:
            e.dispose()


def test_a_stale_sweep_cannot_take_an_occurrence_already_taken(db_url):
    """The conditional UPDATE: a dialer that read the parent before another one advanced it
    matches no row, so it makes no run."""
    engines = [connect(db_url), connect(db_url)]
    first, second = (session_factory(e) for e in engines)
    try:
        parent_id = _arrangement(first)
        with first() as stale:
            parent = stale.get(Campaign, parent_id)
            due = parent.next_run_at
            assert len(_sweep(second, DEC_5)) == 1
            assert recurrence._claim_occurrence(stale, parent, due, DEC_5 + timedelta(days=31)) is False
    finally:
        for e in engines:
            e.dispose()
    assert len(_runs(first, parent_id)) == 1


def test_a_later_start_and_an_end_date(sessions):
    parent_id = _arrangement(sessions, start=False, start_at=datetime(2026, 12, 5, 9, 30, tzinfo=SHANGHAI),
                             ends_at=datetime(2027, 1, 31, 23, 59, tzinfo=SHANGHAI))
    with sessions() as s:
        parent = s.get(Campaign, parent_id)
        recurrence.start_arrangement(s, parent, CREATED, actor="clerk")
        s.commit()
        assert parent.status == CampaignStatus.SCHEDULED and parent.next_run_at.astimezone(SHANGHAI) == DEC_5
    with sessions() as s:   # the sweep promotes it first, as the dialer's does
        campaigns.promote_scheduled(s, DEC_5)
        s.commit()
    assert len(_sweep(sessions, DEC_5)) == 1
    [january] = _sweep(sessions, DEC_5.replace(year=2027, month=1))
    with sessions() as s:   # no occurrence is left before the end date: the arrangement completes
        assert s.get(Campaign, parent_id).status == CampaignStatus.COMPLETED
        assert s.get(Campaign, january).ends_at.astimezone(SHANGHAI).date().isoformat() == "2027-01-31"


def test_a_run_with_nobody_left_to_call_completes_at_once(sessions):
    parent_id = _arrangement(sessions)
    with sessions() as s:
        for account in s.scalars(select(Account)):
            account.paid_at = CREATED
        s.commit()
    [run_id] = _sweep(sessions, DEC_5)
    with sessions() as s:
        assert s.get(Campaign, run_id).status == CampaignStatus.COMPLETED
    assert len(_runs(sessions, parent_id)) == 1


def test_the_dialers_sweep_starts_runs_and_the_run_is_dialed(sessions):
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)

    class NoAmi:
        ready = False

        def on_connect(self, cb): ...
        def on_disconnect(self, cb): ...
        def on_event(self, name, cb): ...

    parent_id = _arrangement(sessions, rule="monthly:7@10:00")
    dialer = Dialer(NoAmi(), sessions, planner=None, config=DialerConfig(dialer_id="t"), clock=lambda: monday)
    dialer._sweep()
    [run] = _runs(sessions, parent_id)
    with sessions() as s:
        claimed = claim_due(s, monday, limit=5, dialer_id="t", trunk_channels=5)
    assert [c.number for c in claimed] == ["13650000001"]
    with sessions() as s:
        assert s.scalar(select(Attempt.campaign_id).where(Attempt.number == "13650000001")) == run.id


def test_a_bad_rule_written_by_hand_pauses_the_arrangement(sessions):
    parent_id = _arrangement(sessions, accounts=False)
    with sessions() as s:
        s.get(Campaign, parent_id).recurrence = "monthly:31@09:30"
        s.commit()
    assert _sweep(sessions, DEC_5) == []
    with sessions() as s:
        assert s.get(Campaign, parent_id).status == CampaignStatus.PAUSED
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "campaign.recurrence_invalid"))
        assert "1–28" in entry.detail["error"]
