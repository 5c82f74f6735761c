"""Placing real calls: dialer's Asterisk → PJSIP trunk on loopback → pstn-sim."""
from __future__ import annotations

import asyncio

import pytest
from dialer_helpers import BUSINESS_HOURS, SimCalls, campaign_for
from sqlalchemy import select

from ivr.dialer.main import simulated_clock
from ivr.dialer.planner import prompt_planner
from ivr.dialer.service import Dialer, DialerConfig
from ivr.storage import Attempt
from ivr.telephony.asterisk.site import ami_client
from ivr.telephony.pstn_sim import Behaviour, PstnSim


@pytest.fixture
def place_calls(run_dialers):
    """place_calls(sessions, {number: Behaviour}, **campaign_settings) -> {number: first
    attempt}: one campaign through the real dialer service and the first-call prompt flow."""

    def run(sessions, behaviours: dict[str, Behaviour], **settings) -> dict:
        campaign_id = campaign_for(sessions, list(behaviours), **settings)
        run_dialers(sessions, behaviours, until_idle=1)
        with sessions() as s:
            rows = s.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id,
                                                   Attempt.dialed_at.is_not(None))
                             .order_by(Attempt.id)).all()
        first: dict = {}
        for attempt in rows:
            first.setdefault(attempt.number, attempt)
        return first

    return run


@pytest.fixture
def sim(site):
    return PstnSim(None, site.pstn.host_dir / "recordings")


# -- the dialer service, in process ------------------------------------------------------

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

