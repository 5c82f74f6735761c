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
from pathlib import Path

from ivr.config import Settings
from ivr.dialer.originate import CallPlan
from ivr.dialer.runner import run_campaign
from ivr.dialer.seed import campaign_with_accounts
from ivr.storage import connect, session_factory, upgrade
from ivr.telephony.asterisk import Site
from ivr.telephony.asterisk.site import ami_client
from ivr.telephony.pstn_sim import Behaviour, PstnSim


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def bench(site: Site, sessions, campaign_id: int, numbers: list[str], k: int, seconds: float):
    pbx, pstn = ami_client(site.pbx), ami_client(site.pstn)
    await pbx.start()
    await pstn.start()
    await pbx.wait_ready(30)
    await pstn.wait_ready(30)
    await PstnSim(pstn, site.pstn.host_dir / "recordings").script_many(
        {n: Behaviour.answer(0, [], hangup_after=seconds) for n in numbers})
    in_use: list[int] = []
    live = {"n": 0}

    async def sample():
        while True:
            in_use.append(live["n"])
            await asyncio.sleep(0.05)

    def settled(_attempt):
        live["n"] -= 1

    # Count a channel from claim to settle through the runner's own semaphore.
    plan = CallPlan(prompt=site.sound("prompts/first-call"), trunk=site.trunk.name,
                    dial_timeout=10, key_timeout=30, max_seconds=60)

    def plan_for(_contact):
        live["n"] += 1
        return plan

    sampler = asyncio.create_task(sample())
    cpu0, t0 = cpu(), time.monotonic()
    outcomes = await run_campaign(pbx, sessions, campaign_id, plan_for, concurrency=k,
                                  on_settled=settled)
    wall, used = time.monotonic() - t0, cpu() - cpu0
    sampler.cancel()
    await pbx.close()
    await pstn.close()
    return wall, used, outcomes, in_use


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
        campaign_id = campaign_with_accounts(s, "bench", [dict(phones=[n]) for n in numbers]).id
    try:
        wall, used, outcomes, in_use = asyncio.run(
            bench(site, sessions, campaign_id, numbers, args.channels, args.seconds))
    finally:
        site.stop()
    ideal = math.ceil(args.calls / args.channels) * args.seconds
    print(f"calls={args.calls} channels={args.channels} call_seconds={args.seconds}")
    print(f"outcomes: {dict(outcomes)}")
    print(f"wall={wall:.2f}s ideal={ideal:.2f}s ratio={wall / ideal:.3f}")
    print(f"channels in use: peak={max(in_use)} mean={sum(in_use) / len(in_use):.1f}")
    print(f"dialer CPU per call: {used / args.calls * 1000:.2f} ms")
    print(f"calls per second achieved: {args.calls / wall:.2f}")


if __name__ == "__main__":
    main()
