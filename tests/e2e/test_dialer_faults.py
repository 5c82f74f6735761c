"""Faults: the dialer killed with SIGKILL during live calls, and the dialer's Asterisk
stopped mid-campaign. Every attempt is settled, nobody is dialed twice, no result is lost."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from datetime import timezone

from dialer_helpers import BUSINESS_HOURS, SimCalls, campaign_for
from sqlalchemy import func, select

from ivr.config import PROJECT_DIR
from ivr.storage import Attempt, AttemptStatus
from ivr.telephony.asterisk.site import ami_client
from ivr.telephony.pstn_sim import Behaviour, PstnSim

FAST = {"dial_timeout": 5, "key_timeout": 5, "max_call_seconds": 60}


def _dialing(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(Attempt)
                        .where(Attempt.status == AttemptStatus.DIALING))


def _dialer_process(site, db_url: str) -> subprocess.Popen:
    env = dict(os.environ, IVR_SITE=site.settings.site, IVR_PORT_BASE=str(site.settings.port_base),
               IVR_DATABASE_URL=db_url, IVR_DIALER_ID="fault-test-dialer")
    return subprocess.Popen(
        [str(PROJECT_DIR / ".venv/bin/ivr"), "dialer", "--trunk-channels", "30", "--cps", "20",
         "--until-idle", "1", "--planner", "prompt",
         "--clock-start", BUSINESS_HOURS.strftime("%Y-%m-%dT%H:%M%z")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_sigkill_with_live_calls_loses_nothing_and_dials_nobody_twice(site, db_url, sessions):
    short = [f"1362000{i:04d}" for i in range(12)]   # hang up while the dialer is dead
    long = [f"1362001{i:04d}" for i in range(12)]    # still talking when it comes back
    # A long key timeout keeps the IVR (and so the long calls) up across the restart.
    campaign_id = campaign_for(sessions, short + long, **{**FAST, "key_timeout": 20})
    sim_calls = SimCalls()

    async def scenario():
        pstn = ami_client(site.pstn)
        pstn.on_event("UserEvent", sim_calls.on_event)
        await pstn.start()
        await pstn.wait_ready(20)
        behaviours = {n: Behaviour.answer(1, [(2.0, "1")], hangup_after=5) for n in short}
        behaviours |= {n: Behaviour.answer(1, [(2.0, "1")], hangup_after=18) for n in long}
        await PstnSim(pstn, site.pstn.host_dir / "recordings").script_many(behaviours)

        first = _dialer_process(site, db_url)
        deadline = time.monotonic() + 30
        while await asyncio.to_thread(_dialing, sessions) < 20:
            assert first.poll() is None, first.stdout.read()
            assert time.monotonic() < deadline, "the dialer never had 20 calls up"
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)                 # answered, keys pressed
        live_at_kill = await asyncio.to_thread(_dialing, sessions)
        first.send_signal(signal.SIGKILL)
        first.wait()
        await asyncio.sleep(5)                   # the short calls end while nobody listens

        second = _dialer_process(site, db_url)
        while second.poll() is None:
            await asyncio.sleep(0.2)
        output = second.stdout.read()
        await asyncio.sleep(0.5)
        await pstn.close()
        return live_at_kill, second.returncode, output

    live_at_kill, code, output = asyncio.run(asyncio.wait_for(scenario(), 150))
    assert live_at_kill >= 20
    assert code == 0, output
    assert _dialing(sessions) == 0, "an attempt was left dialing"
    assert sim_calls.calls == {n: 1 for n in short + long}, "someone was dialed twice (or never)"
    with sessions() as s:
        placed = s.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id,
                                                 Attempt.dialed_at.is_not(None))).all()
    assert len(placed) == 24
    by_number = {a.number: a for a in placed}
    for a in placed:
        assert a.status == AttemptStatus.DONE and a.dial_status == "ANSWER", (a.number, a.status, a.error)
        assert a.disposition is not None
    # Calls that ended while the dialer was dead were settled from Asterisk's CDR ...
    assert all(by_number[n].error == "settled from CDR" for n in short), \
        [(n, by_number[n].error, by_number[n].keys) for n in short]
    # ... calls still up when it came back were followed to their end, keys included.
    assert all(by_number[n].error is None and by_number[n].keys == "1" for n in long), \
        [(n, by_number[n].error, by_number[n].keys) for n in long]


def test_asterisk_stopped_mid_campaign_pauses_dialing_and_resumes_without_a_storm(
        site, sessions, run_dialers):
    numbers = [f"1362002{i:04d}" for i in range(10)]
    # An Originate refused by a stopping Asterisk is a failed attempt (nothing dialed); a call
    # already ringing when it stops ends CANCEL, a no-answer. Both are retried after their
    # interval — short here so the test sees them through.
    campaign_id = campaign_for(sessions, numbers, **FAST,
                               retry={"failed": 2 / 60, "unknown": 2 / 60, "no_answer": 2 / 60})
    outage = {}

    async def stop_and_restart_asterisk(dialers):
        while True:
            with sessions() as s:
                done = s.scalar(select(func.count()).select_from(Attempt).where(
                    Attempt.status == AttemptStatus.DONE))
            if done >= 2:
                break
            await asyncio.sleep(0.1)
        await asyncio.to_thread(site.pbx.stop)
        outage["start"] = time.time()            # Asterisk is gone (its AMI with it)
        await asyncio.sleep(4)
        outage["end"] = time.time()
        await asyncio.to_thread(site.pbx.start)

    _, sim = run_dialers(sessions, {n: Behaviour.answer(0.5, [], hangup_after=3) for n in numbers},
                         trunk_channels=3, cps=2, until_idle=1, during=stop_and_restart_asterisk,
                         config={"reconcile_grace": 5})
    with sessions() as s:
        placed = s.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id,
                                                 Attempt.dialed_at.is_not(None))
                           .order_by(Attempt.dialed_at)).all()
    assert _dialing(sessions) == 0
    starts = [a.dialed_at.astimezone(timezone.utc).timestamp() for a in placed]
    # Nothing was claimed while Asterisk was down ...
    assert not [t for t in starts if outage["start"] < t < outage["end"]]
    # ... and afterwards calls resumed at the normal pace (2/s), not in a burst.
    after = [t for t in starts if t >= outage["end"]]
    assert after, "dialing never resumed"
    assert all(b - a >= 0.45 for a, b in zip(after, after[1:]))
    # Every attempt is settled, and every number was reached in the end, whatever the
    # outage cut (calls cut by the outage itself are settled from the CDR or as unknown).
    assert all(a.status in (AttemptStatus.DONE, AttemptStatus.UNKNOWN, AttemptStatus.FAILED)
               for a in placed), [(a.number, a.status, a.error) for a in placed]
    reached = {a.number for a in placed if a.status == AttemptStatus.DONE and a.dial_status == "ANSWER"}
    assert reached == set(numbers)
    assert all(sim.calls[n] >= 1 for n in numbers)
