"""Placing real calls: dialer's Asterisk → PJSIP trunk on loopback → pstn-sim."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from ivr.dialer.originate import CallPlan
from ivr.dialer.runner import run_campaign
from ivr.storage import Attempt, Campaign, CampaignStatus, Contact
from ivr.telephony.asterisk.site import ami_client
from ivr.telephony.pstn_sim import Behaviour, PstnSim


def make_campaign(sessions, numbers: list[str]) -> int:
    with sessions() as s:
        campaign = Campaign(name="test", status=CampaignStatus.RUNNING)
        s.add(campaign)
        s.flush()
        for number in numbers:
            contact = Contact(campaign_id=campaign.id, phone=number, room="3栋1501")
            s.add(contact)
            s.flush()
            s.add(Attempt(campaign_id=campaign.id, contact_id=contact.id, number=number))
        s.commit()
        return campaign.id


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
