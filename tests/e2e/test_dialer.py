"""The campaign dialer through both Asterisk instances: pacing, retries, paid and opted-out
accounts, and two dialers sharing one PostgreSQL database."""
from __future__ import annotations

import asyncio
from datetime import date

from dialer_helpers import BUSINESS_HOURS, campaign_for
from sqlalchemy import select

from ivr.dialer import campaigns
from ivr.storage import Account, Attempt, AttemptStatus
from ivr.telephony.pstn_sim import Behaviour

FAST = {"dial_timeout": 3, "key_timeout": 1, "max_call_seconds": 30}


def attempts_of(sessions, campaign_id):
    with sessions() as s:
        return s.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id)
                         .order_by(Attempt.id)).all()


def test_concurrency_never_above_the_cap_and_cps_honoured(sessions, run_dialers):
    numbers = [f"1361000{i:04d}" for i in range(12)]
    campaign_id = campaign_for(sessions, numbers, **FAST)
    in_use = []

    async def sample(dialers):
        while any(not t.done() for t in asyncio.all_tasks() if t.get_coro().__name__ == "run"):
            in_use.append(dialers[0].live)
            await asyncio.sleep(0.05)

    dialers, sim = run_dialers(sessions, {n: Behaviour.answer(0, [], hangup_after=2) for n in numbers},
                               trunk_channels=4, cps=2, during=sample)
    rows = [a for a in attempts_of(sessions, campaign_id) if a.dialed_at]  # not the follow-ups
    assert len(rows) == 12
    assert all(a.status == AttemptStatus.DONE and a.dial_status == "ANSWER" for a in rows)
    assert max(in_use) == 4 and dialers[0].peak_live <= 4
    assert sim.calls == {n: 1 for n in numbers}
    starts = sorted(a.dialed_at for a in rows)
    # 2 calls per second: consecutive starts at least ~0.5 s apart, so no second holds 3.
    gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 0.45, gaps
    assert all((starts[i + 2] - starts[i]).total_seconds() >= 0.95 for i in range(len(starts) - 2))


def test_a_campaigns_own_calls_per_second_cap(sessions, run_dialers):
    """The wizard's "calls per second" for one campaign, below what the dialer could do."""
    numbers = [f"1361005{i:04d}" for i in range(6)]
    campaign_id = campaign_for(sessions, numbers, **FAST, caps={"concurrency": 10, "calls_per_second": 1})
    run_dialers(sessions, {n: Behaviour.answer(0, [], hangup_after=2.5) for n in numbers},
                trunk_channels=10, cps=10)
    starts = sorted(a.dialed_at for a in attempts_of(sessions, campaign_id) if a.dialed_at)
    assert len(starts) == 6
    # within any one second at most one new call of this campaign
    assert all((b - a).total_seconds() >= 0.95 for a, b in zip(starts, starts[1:])), starts


def test_no_answer_is_retried_after_its_interval(sessions, run_dialers):
    number = "13610010001"
    campaign_id = campaign_for(sessions, [number], **FAST,
                               retry={"no_answer": 4 / 60, "max_attempts_per_day": 2})
    _, sim = run_dialers(sessions, {number: Behaviour.no_answer()}, until_idle=10)
    first, second, *later = attempts_of(sessions, campaign_id)
    assert (first.disposition, second.disposition) == ("no_answer", "no_answer")
    assert second.parent_id == first.id
    gap = (second.dialed_at - first.ended_at).total_seconds()
    assert 3.5 <= gap <= 7, gap
    # The daily cap of 2 moved the third try to the next day's first window.
    assert [a.status for a in later] == [AttemptStatus.QUEUED]
    assert later[0].scheduled_at.astimezone(BUSINESS_HOURS.tzinfo).date() == date(2026, 11, 24)


def test_paid_account_is_dropped_from_a_running_campaign(sessions, run_dialers):
    payer, other = "13610020001", "13610020002"
    campaign_id = campaign_for(sessions, [payer, other], **FAST, retry={"busy": 3 / 60})

    async def pay_after_first_call(dialers):
        while True:
            with sessions() as s:
                first = s.scalars(select(Attempt).where(Attempt.number == payer)
                                  .order_by(Attempt.id)).first()
                if first.status == AttemptStatus.DONE:
                    # The retry is already queued; the payment arrives now.
                    queued = s.scalars(select(Attempt).where(Attempt.number == payer,
                                                             Attempt.status == AttemptStatus.QUEUED)).all()
                    assert queued
                    campaigns.mark_paid(s, s.get(Account, first.account_id), amount=None,
                                        paid_on=date(2026, 11, 23), source="api", actor="test")
                    s.commit()
                    return
            await asyncio.sleep(0.1)

    _, sim = run_dialers(sessions, {payer: Behaviour.busy(), other: Behaviour.busy()},
                         until_idle=6, during=pay_after_first_call)
    rows = attempts_of(sessions, campaign_id)
    payer_rows = [a for a in rows if a.number == payer]
    assert sim.calls[payer] == 1, "a paid account was dialed again"
    assert [a.status for a in payer_rows] == [AttemptStatus.DONE, AttemptStatus.SKIPPED]
    assert sim.calls[other] >= 2  # the unpaid neighbour is still retried


def test_opted_out_number_is_never_dialed(sessions, run_dialers):
    blocked, allowed = "13610030001", "13610030002"
    with sessions() as s:
        campaigns.opt_out(s, blocked, reason="asked by phone", source="admin", actor="test")
        s.commit()
    campaign_id = campaign_for(sessions, [blocked, allowed], **FAST)
    _, sim = run_dialers(sessions, {blocked: Behaviour.answer(0, [], hangup_after=1),
                                    allowed: Behaviour.answer(0, [], hangup_after=1)})
    assert sim.calls[blocked] == 0 and sim.calls[allowed] == 1
    assert [a.number for a in attempts_of(sessions, campaign_id) if a.dialed_at] == [allowed]


def test_two_dialers_on_one_postgresql_never_dial_a_number_twice(db_url, sessions, run_dialers):
    if not db_url.startswith("postgresql"):
        return _sqlite_variant(sessions, run_dialers)
    numbers = [f"1361004{i:04d}" for i in range(24)]
    campaign_id = campaign_for(sessions, numbers, **FAST)
    dialers, sim = run_dialers(sessions, {n: Behaviour.answer(0, [], hangup_after=1) for n in numbers},
                               n_dialers=2, trunk_channels=8, cps=8)
    rows = [a for a in attempts_of(sessions, campaign_id) if a.dialed_at]
    assert sim.calls == {n: 1 for n in numbers}
    assert len(rows) == 24 and all(a.status == AttemptStatus.DONE for a in rows)
    assert {a.dialer for a in rows} == {"test-dialer-0", "test-dialer-1"}


def _sqlite_variant(sessions, run_dialers):
    """The same guarantee on SQLite (one machine, two dialers, conditional claims)."""
    numbers = [f"1361005{i:04d}" for i in range(12)]
    campaign_for(sessions, numbers, **FAST)
    _, sim = run_dialers(sessions, {n: Behaviour.answer(0, [], hangup_after=1) for n in numbers},
                         n_dialers=2, trunk_channels=6, cps=6)
    assert sim.calls == {n: 1 for n in numbers}
