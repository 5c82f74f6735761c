"""What each call plays: the CallPlan for an attempt."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ivr.storage.models import Attempt, Campaign

from .originate import CallPlan
from .policy_config import campaign_policy


def prompt_planner(sounds: dict[str, str], trunk: str = "carrier"):
    """Plays one shipped prompt and reads keys (the first-call flow, `ivr-flow`).
    `sounds`: {"prompt": path, "goodbye": path} as Asterisk sees them."""

    def plan(session: Session, attempt: Attempt) -> CallPlan:
        campaign = session.get(Campaign, attempt.campaign_id)
        policy = campaign_policy(campaign.kind.value, campaign.settings)
        return CallPlan(prompt=sounds["prompt"], goodbye=sounds.get("goodbye", ""),
                        trunk=campaign.trunk or trunk, dial_timeout=policy.dial_timeout,
                        key_timeout=policy.key_timeout, max_seconds=policy.max_call_seconds,
                        caller_id=campaign.caller_id or "")

    return plan
