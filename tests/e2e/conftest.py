"""Placing real calls: dialer's Asterisk → PJSIP trunk on loopback → pstn-sim."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from ivr.dialer.originate import CallPlan
from ivr.dialer.runner import run_campaign
from ivr.dialer.seed import campaign_with_accounts
from ivr.storage import Attempt
from ivr.telephony.asterisk.site import ami_client
from ivr.telephony.pstn_sim import Behaviour, PstnSim


def make_campaign(sessions, numbers: list[str]) -> int:
    with sessions() as s:
        return campaign_with_accounts(
            s, "test", [dict(room="3栋1501", phones=[n]) for n in numbers]).id


@pytest.fixture
def place_calls(site):
    """place_calls(sessions, {number: Behaviour}) -> {number: settled Attempt}."""

    def run(sessions, behaviours: dict[str, Behaviour], concurrency: int = 10, **plan) -> dict:
        campaign_id = make_campaign(sessions, list(behaviours))
        plan = CallPlan(prompt=site.sound("prompts/first-call"), goodbye=site.sound("prompts/goodbye"),
                        trunk=site.trunk.name, **{"dial_timeout": 6, "key_timeout": 3, **plan})

        async def scenario():
            pbx, pstn = ami_client(site.pbx), ami_client(site.pstn)
            await pbx.start()
            await pstn.start()
            try:
                await pbx.wait_ready(20)
                await pstn.wait_ready(20)
                await PstnSim(pstn, site.pstn.host_dir / "recordings").script_many(behaviours)
                await run_campaign(pbx, sessions, campaign_id, lambda _c: plan,
                                   concurrency=concurrency)
            finally:
                await pbx.close()
                await pstn.close()

        asyncio.run(asyncio.wait_for(scenario(), 120))
        with sessions() as s:
            rows = s.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id)).all()
            return {a.number: a for a in rows}

    return run


@pytest.fixture
def sim(site):
    return PstnSim(None, site.pstn.host_dir / "recordings")


# -- the dialer service, in process ------------------------------------------------------
from dialer_helpers import BUSINESS_HOURS, SimCalls  # noqa: E402

from ivr.dialer.main import simulated_clock  # noqa: E402
from ivr.dialer.planner import prompt_planner  # noqa: E402
from ivr.dialer.service import Dialer, DialerConfig  # noqa: E402

@pytest.fixture
def run_dialers(site):
    """run_dialers(sessions, behaviours, n_dialers=1, ...) -> (dialers, SimCalls).
    Scripts the simulated phones, runs n in-process dialers (own AMI connection and dialer
    id each) until nothing is due within `until_idle` s of policy time."""

    def run(sessions, behaviours: dict, *, n_dialers: int = 1, trunk_channels: int = 10,
            cps: float = 10, until_idle: float = 1, clock_start=BUSINESS_HOURS, during=None,
            config: dict | None = None):
        sim_calls = SimCalls()

        async def scenario():
            pstn = ami_client(site.pstn)
            pstn.on_event("UserEvent", sim_calls.on_event)
            await pstn.start()
            await pstn.wait_ready(20)
            await PstnSim(pstn, site.pstn.host_dir / "recordings").script_many(behaviours)
            clock = simulated_clock(clock_start)
            planner = prompt_planner({"prompt": site.sound("prompts/first-call"),
                                      "goodbye": site.sound("prompts/goodbye")}, site.trunk.name)
            dialers, clients = [], []
            for i in range(n_dialers):
                client = ami_client(site.pbx)
                await client.start()
                await client.wait_ready(20)
                cfg = DialerConfig(dialer_id=f"test-dialer-{i}", trunk_channels=trunk_channels,
                                   cps=cps, cdr_path=site.pbx.host_dir / "log/cdr-csv/Master.csv",
                                   **(config or {}))
                dialers.append(Dialer(client, sessions, planner, cfg, clock=clock))
                clients.append(client)
            stop = asyncio.Event()
            runs = [asyncio.create_task(d.run(stop, until_idle=until_idle)) for d in dialers]
            if during:
                await during(dialers)
            await asyncio.gather(*runs)
            await asyncio.sleep(0.5)   # the sim's last hangup events
            for client in clients:
                await client.close()
            await pstn.close()
            return dialers

        dialers = asyncio.run(asyncio.wait_for(scenario(), 240))
        return dialers, sim_calls

    return run

