"""Placing real calls: dialer's Asterisk → PJSIP trunk on loopback → pstn-sim."""
from __future__ import annotations


import pytest
from dialer_helpers import campaign_for
from sqlalchemy import select

from ivr.storage import Attempt
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


