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
