"""Claiming due attempts, with every check that must happen right before a dial.

Runs in one transaction: on PostgreSQL the candidate rows are locked with
`FOR UPDATE SKIP LOCKED`, so several dialers on several machines share one database without
two of them claiming the same attempt; on SQLite the database's single writer does the same.
The claim (queued → dialing) is committed before any Originate is sent.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ivr.policy.windows import is_callable, next_callable
from ivr.storage.models import (Account, Attempt, AttemptStatus, Campaign, CampaignStatus,
                                ContactStatus, DoNotCall)

from .campaigns import dialing_stopped
from .policy_config import CampaignPolicy, campaign_policy


@dataclass(frozen=True)
class Claim:
    attempt_id: int
    number: str
    campaign_id: int
    trunk: str
    policy: CampaignPolicy


def _live_counts(session: Session) -> tuple[dict[int, int], dict[str, int]]:
    rows = session.execute(
        select(Attempt.campaign_id, Campaign.trunk, func.count())
        .join(Campaign, Attempt.campaign_id == Campaign.id)
        .where(Attempt.status == AttemptStatus.DIALING)
        .group_by(Attempt.campaign_id, Campaign.trunk)).all()
    by_campaign: dict[int, int] = {}
    by_trunk: dict[str, int] = {}
    for campaign_id, trunk, n in rows:
        by_campaign[campaign_id] = by_campaign.get(campaign_id, 0) + n
        by_trunk[trunk] = by_trunk.get(trunk, 0) + n
    return by_campaign, by_trunk


def _skip(attempt: Attempt, contact_reason: str, why: str) -> None:
    attempt.status = AttemptStatus.SKIPPED
    attempt.error = why
    attempt.ended_at = datetime.now(timezone.utc)
    if attempt.contact.status == ContactStatus.ACTIVE:
        attempt.contact.status = ContactStatus.STOPPED
        attempt.contact.stop_reason = contact_reason


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def claim_due(session: Session, now: datetime, *, limit: int, dialer_id: str,
              trunk_channels: int) -> list[Claim]:
    """Claim up to `limit` due attempts. `now` is the policy clock (call windows);
    `trunk_channels` caps concurrent calls per trunk across every dialer on the database."""
    if limit <= 0 or dialing_stopped(session):
        session.rollback()
        return []
    query = (select(Attempt).join(Campaign, Attempt.campaign_id == Campaign.id)
             .where(Attempt.status == AttemptStatus.QUEUED, Attempt.scheduled_at <= now,
                    Campaign.status == CampaignStatus.RUNNING)
             .order_by(Attempt.scheduled_at, Attempt.id).limit(limit * 4))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Attempt)
    candidates = session.scalars(query).all()
    live_campaign, live_trunk = _live_counts(session)
    blocked = set(session.scalars(select(DoNotCall.number).where(
        DoNotCall.number.in_({a.number for a in candidates}))))
    policies: dict[int, CampaignPolicy] = {}
    claimed: list[Claim] = []
    for attempt in candidates:
        campaign = session.get(Campaign, attempt.campaign_id)
        account = session.get(Account, attempt.account_id)
        # Checked at the last moment: a payment or opt-out that arrived after the attempt was
        # queued still stops the call.
        if account.paid_at is not None and campaign.kind.value == "arrears":
            _skip(attempt, "paid", "paid before dialing")
            continue
        if campaign.ends_at is not None and _aware(campaign.ends_at) <= now:
            _skip(attempt, "campaign_over", "past the campaign's deadline")
            continue
        if attempt.number in blocked:
            _skip(attempt, "opted_out", "number on the do-not-call list")
            continue
        policy = policies.setdefault(campaign.id, campaign_policy(campaign.kind.value, campaign.settings))
        if not is_callable(now, policy.windows):
            attempt.scheduled_at = next_callable(now, policy.windows)
            continue
        if live_campaign.get(campaign.id, 0) >= policy.max_channels:
            continue
        if live_trunk.get(campaign.trunk, 0) >= trunk_channels:
            continue
        # Conditional, so a second dialer that read the same row (SQLite has no SKIP LOCKED)
        # finds it no longer queued and moves on.
        won = session.execute(
            update(Attempt).where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.QUEUED)
            .values(status=AttemptStatus.DIALING, dialed_at=datetime.now(timezone.utc),
                    dialer=dialer_id).execution_options(synchronize_session=False)).rowcount
        if won != 1:
            continue
        live_campaign[campaign.id] = live_campaign.get(campaign.id, 0) + 1
        live_trunk[campaign.trunk] = live_trunk.get(campaign.trunk, 0) + 1
        claimed.append(Claim(attempt.id, attempt.number, campaign.id, campaign.trunk, policy))
        if len(claimed) >= limit:
            break
    session.commit()
    return claimed


