"""Claiming due attempts, with every check that must happen right before a dial.

Runs in one transaction: on PostgreSQL the candidate rows are locked with
`FOR UPDATE SKIP LOCKED`, so several dialers on several machines share one database without
two of them claiming the same attempt; on SQLite the database's single writer does the same.
The claim (queued → dialing) is committed before any Originate is sent.

The dialer claims several times a second, so a claim is two statements: one select that reads
each candidate with everything checked before its dial (the stop switch, the account's payment,
the campaign's deadline, window and settings, the do-not-call list, the channels in use by its
campaign and its trunk, the campaign's calls of the last second), and one conditional UPDATE per
claimed attempt. Both are built once. A campaign with a daily limit costs one count more.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import Select, bindparam, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from ivr.policy.windows import SHANGHAI, is_callable, local_today, next_callable
from ivr.storage.models import (Account, Attempt, AttemptStatus, Campaign, CampaignStatus,
                                ContactStatus, DoNotCall, SystemSetting)

from .campaigns import STOP_SWITCH
from .policy_config import CampaignPolicy, campaign_policy


@dataclass(frozen=True)
class Claim:
    attempt_id: int
    number: str
    campaign_id: int
    trunk: str
    policy: CampaignPolicy


def _skip(attempt: Attempt, contact_reason: str, why: str) -> None:
    attempt.status = AttemptStatus.SKIPPED
    attempt.error = why
    attempt.ended_at = datetime.now(timezone.utc)
    if attempt.contact.status == ContactStatus.ACTIVE:
        attempt.contact.status = ContactStatus.STOPPED
        attempt.contact.stop_reason = contact_reason


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def _candidates_query(locking: bool) -> Select:
    """Due attempts of running campaigns, oldest first, with what the checks read."""
    live, live_campaign = aliased(Attempt), aliased(Campaign)
    in_campaign = (select(func.count()).select_from(live)
                   .where(live.status == AttemptStatus.DIALING, live.campaign_id == Attempt.campaign_id)
                   .scalar_subquery())
    on_trunk = (select(func.count()).select_from(live)
                .join(live_campaign, live.campaign_id == live_campaign.id)
                .where(live.status == AttemptStatus.DIALING, live_campaign.trunk == Campaign.trunk)
                .scalar_subquery())
    # Calls of the last second are still ringing (status dialing): a cheap count of committed
    # claims, so two dialers claiming in the same instant may each place one (as for channels).
    last_second = (select(func.count()).select_from(live)
                   .where(live.status == AttemptStatus.DIALING, live.campaign_id == Attempt.campaign_id,
                          live.dialed_at >= bindparam("since", type_=Attempt.dialed_at.type))
                   .scalar_subquery())
    stop = select(SystemSetting.value).where(SystemSetting.key == STOP_SWITCH).scalar_subquery()
    query = (select(Attempt.id, Attempt.number, Attempt.campaign_id, Campaign.kind, Campaign.settings,
                    Campaign.ends_at, Campaign.trunk, Account.paid_at,
                    exists().where(DoNotCall.number == Attempt.number).label("blocked"),
                    in_campaign.label("live_campaign"), on_trunk.label("live_trunk"),
                    last_second.label("last_second"),
                    stop.label("stop"))
             .join(Campaign, Attempt.campaign_id == Campaign.id)
             .join(Account, Attempt.account_id == Account.id)
             .where(Attempt.status == AttemptStatus.QUEUED,
                    Attempt.scheduled_at <= bindparam("now", type_=Attempt.scheduled_at.type),
                    Campaign.status == CampaignStatus.RUNNING)
             .order_by(Attempt.scheduled_at, Attempt.id).limit(bindparam("rows")))
    if locking:
        query = query.with_for_update(skip_locked=True, of=Attempt)
    return query


_CANDIDATES = {False: _candidates_query(False), True: _candidates_query(True)}

# Conditional, so a second dialer that read the same row (SQLite has no SKIP LOCKED)
# finds it no longer queued and moves on.
_CLAIM = (update(Attempt)
          .where(Attempt.id == bindparam("attempt_id"), Attempt.status == AttemptStatus.QUEUED)
          .values(status=AttemptStatus.DIALING, dialed_at=bindparam("claimed_at"),
                  dialer=bindparam("dialer_id")))


def _stopped(value) -> bool:
    """The stop switch's JSON value, read as `campaigns.dialing_stopped` reads it."""
    return bool(value and value.get("stopped"))


def _placed_today(conn, campaign_id: int, wall: datetime) -> int:
    """Calls the campaign placed since midnight, Shanghai time (by the wall clock)."""
    midnight = datetime.combine(local_today(wall), time(0), SHANGHAI).astimezone(timezone.utc)
    return conn.execute(select(func.count()).select_from(Attempt).where(
        Attempt.campaign_id == campaign_id, Attempt.dialed_at >= midnight)).scalar_one()


def claim_due(session: Session, now: datetime, *, limit: int, dialer_id: str,
              trunk_channels: int) -> list[Claim]:
    """Claim up to `limit` due attempts. `now` is the policy clock (call windows);
    `trunk_channels` caps concurrent calls per trunk across every dialer on the database."""
    if limit <= 0:
        session.rollback()
        return []
    conn = session.connection()
    wall = datetime.now(timezone.utc)
    rows = conn.execute(_CANDIDATES[conn.dialect.name == "postgresql"],
                        {"now": now, "rows": limit * 4, "since": wall - timedelta(seconds=1)}).all()
    if rows and _stopped(rows[0].stop):
        session.rollback()
        return []
    policies: dict[int, CampaignPolicy] = {}
    live_campaign: dict[int, int] = {}
    live_trunk: dict[str, int] = {}
    last_second: dict[int, int] = {}
    today: dict[int, int] = {}
    claimed: list[Claim] = []
    for row in rows:
        # Checked at the last moment: a payment or opt-out that arrived after the attempt was
        # queued still stops the call.
        if row.paid_at is not None and row.kind.value == "arrears":
            _skip(session.get(Attempt, row.id), "paid", "paid before dialing")
            continue
        if row.ends_at is not None and _aware(row.ends_at) <= now:
            _skip(session.get(Attempt, row.id), "campaign_over", "past the campaign's deadline")
            continue
        if row.blocked:
            _skip(session.get(Attempt, row.id), "opted_out", "number on the do-not-call list")
            continue
        policy = policies.get(row.campaign_id)
        if policy is None:
            policy = policies[row.campaign_id] = campaign_policy(row.kind.value, row.settings)
        if not is_callable(now, policy.windows):
            session.get(Attempt, row.id).scheduled_at = next_callable(now, policy.windows)
            continue
        # Every row was read in one statement: the first row of a campaign (trunk) carries
        # the count before this round; calls claimed in this round are added to it.
        in_campaign = live_campaign.setdefault(row.campaign_id, row.live_campaign)
        on_trunk = live_trunk.setdefault(row.trunk, row.live_trunk)
        if in_campaign >= policy.max_channels or on_trunk >= trunk_channels:
            continue
        recent = last_second.setdefault(row.campaign_id, row.last_second)
        if policy.calls_per_second and recent >= max(1, int(policy.calls_per_second)):
            continue
        if policy.daily_limit:
            if row.campaign_id not in today:
                today[row.campaign_id] = _placed_today(conn, row.campaign_id, wall)
            if today[row.campaign_id] >= policy.daily_limit:   # the rest wait for tomorrow's window
                tomorrow = datetime.combine(local_today(now) + timedelta(days=1), time(0), SHANGHAI)
                session.get(Attempt, row.id).scheduled_at = next_callable(tomorrow, policy.windows)
                continue
        won = conn.execute(_CLAIM, {"attempt_id": row.id, "claimed_at": datetime.now(timezone.utc),
                                    "dialer_id": dialer_id}).rowcount
        if won != 1:
            continue
        live_campaign[row.campaign_id] = in_campaign + 1
        live_trunk[row.trunk] = on_trunk + 1
        last_second[row.campaign_id] = recent + 1
        if row.campaign_id in today:
            today[row.campaign_id] += 1
        claimed.append(Claim(row.id, row.number, row.campaign_id, row.trunk, policy))
        if len(claimed) >= limit:
            break
    session.commit()
    return claimed
