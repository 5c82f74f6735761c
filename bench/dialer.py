"""Dialer throughput through the real Asterisk pair.

Places N calls at K concurrent channels; each simulated owner answers at once and hangs up
after L seconds. Prints wall time, the ideal (ceil(N/K) x L), their ratio, peak and mean
channels in use, the dialer's CPU seconds per call, and calls per second.

    .venv/bin/python bench/dialer.py [--calls 100] [--channels 20] [--seconds 4]
"""
from __future__ import annotations

import argparse
import asyncio
import math
import resource
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from ivr.config import Settings
from sqlalchemy import func, select

from ivr.dialer.main import simulated_clock
from ivr.dialer.planner import prompt_planner
from ivr.dialer.service import Dialer, DialerConfig
from ivr.policy.windows import SHANGHAI
from ivr.dialer.seed import campaign_with_accounts
from ivr.storage import Attempt, connect, session_factory, upgrade
from ivr.telephony.asterisk import Site
from ivr.telephony.asterisk.site import ami_client
from ivr.telephony.pstn_sim import Behaviour, script_phones


BUSINESS_HOURS = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # policy clock: inside windows


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def bench(site: Site, sessions, numbers: list[str], k: int, seconds: float):
    await script_phones(site, {n: Behaviour.answer(0, [], hangup_after=seconds) for n in numbers})
    pbx = ami_client(site.pbx)
    await pbx.start()
    await pbx.wait_ready(30)
    planner = prompt_planner({"prompt": site.sound("prompts/first-call")}, site.trunk.name)
    # CPS high enough not to be the limit: the ideal below counts channels only.
    dialer = Dialer(pbx, sessions, planner, DialerConfig("bench", trunk_channels=k, cps=max(k, 10)),
                    clock=simulated_clock(BUSINESS_HOURS))
    in_use: list[int] = []

    async def sample():
        while True:
            in_use.append(dialer.live)
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    cpu0, t0 = cpu(), time.monotonic()
    await dialer.run(asyncio.Event(), until_idle=1)
    wall, used = time.monotonic() - t0, cpu() - cpu0
    sampler.cancel()
    await pbx.close()
    return wall, used, in_use


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--channels", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=4.0)
    args = ap.parse_args()
    site = Site(replace(Settings(), site="bench", port_base=35000))
    site.start()
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite'}"
    upgrade(url)
    sessions = session_factory(connect(url))
    numbers = [f"1370000{i:04d}" for i in range(args.calls)]
    with sessions() as s:
        campaign_with_accounts(s, "bench", [dict(phones=[n]) for n in numbers],
                               settings={"caps": {"concurrency": args.channels}, "key_timeout": 30},
                               now=BUSINESS_HOURS)
    try:
        wall, used, in_use = asyncio.run(bench(site, sessions, numbers, args.channels, args.seconds))
    finally:
        site.stop()
    ideal = math.ceil(args.calls / args.channels) * args.seconds
    print(f"calls={args.calls} channels={args.channels} call_seconds={args.seconds}")
    with sessions() as s:
        outcomes = dict(s.execute(select(Attempt.disposition, func.count()).where(
            Attempt.dialed_at.is_not(None)).group_by(Attempt.disposition)).all())
    print(f"outcomes: {outcomes}")
    print(f"wall={wall:.2f}s ideal={ideal:.2f}s ratio={wall / ideal:.3f}")
    print(f"channels in use: peak={max(in_use)} mean={sum(in_use) / len(in_use):.1f}")
    print(f"dialer CPU per call: {used / args.calls * 1000:.2f} ms")
    print(f"calls per second achieved: {args.calls / wall:.2f}")


if __name__ == "__main__":
    main()
