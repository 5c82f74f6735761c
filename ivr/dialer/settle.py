"""Settling a finished attempt and deciding what happens next, in one transaction.

The rules are the pure policy (ivr.policy): retry intervals and caps by disposition, the
account's class A–E and its follow-up day. This module only reads and writes rows.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from ivr import webhooks
from ivr.flows import interpret, owner_answer
from ivr.policy.classify import AccountClass, AccountState, Action, Response, classify, next_action
from ivr.webhooks import payloads
from ivr.policy.disposition import Disposition
from ivr.policy.retry import AttemptRecord, Reason, next_attempt
from ivr.policy.windows import next_callable, to_shanghai
from ivr.storage.models import (Account, Attempt, AttemptStatus, Campaign, CampaignStatus, Contact,
                                ContactStatus, DoNotCall, Phone, utcnow)

from . import campaigns
from .call_result import CallResult
from .policy_config import CampaignPolicy, campaign_policy


def record_result(attempt: Attempt, result: CallResult | None, status: AttemptStatus,
                  error: str | None = None, disposition: str | None = None) -> None:
    ended = utcnow()
    attempt.status = status
    attempt.ended_at = ended
    attempt.error = error
    if result is not None:
        attempt.disposition = result.disposition.value
        attempt.dial_status = result.dial_status
        attempt.hangup_cause = result.hangup_cause
        attempt.stage = result.stage
        attempt.keys = result.keys
        attempt.key_log = result.key_log
        if result.dial_status == "ANSWER":
            attempt.answered_at = ended - timedelta(seconds=result.answered_seconds or 0)
    if disposition:
        attempt.disposition = disposition


_HISTORY = select(Attempt.scheduled_at, Attempt.disposition, Attempt.answered_at).where(
    Attempt.contact_id == bindparam("contact_id"), Attempt.number == bindparam("number"),
    Attempt.id != bindparam("attempt_id"),
    Attempt.status.in_([AttemptStatus.DONE, AttemptStatus.UNKNOWN, AttemptStatus.FAILED]))


def _history(session: Session, attempt: Attempt) -> list[AttemptRecord]:
    # On the session's connection, so without autoflush: the attempt being settled is left
    # out of its own history, and what is pending (that attempt, its contact and account)
    # cannot change which rows this reads; everything is written in one flush at commit.
    earlier = session.connection().execute(_HISTORY, {
        "contact_id": attempt.contact_id, "number": attempt.number, "attempt_id": attempt.id})
    return [AttemptRecord(scheduled_at, Disposition(disposition or "unknown"), answered_at is not None)
            for scheduled_at, disposition, answered_at in earlier]


def _queue(session: Session, parent: Attempt, number: str, at: datetime, stage: str | None) -> Attempt:
    child = Attempt(campaign_id=parent.campaign_id, contact_id=parent.contact_id,
                    account_id=parent.account_id, parent_id=parent.id, number=number,
                    scheduled_at=at, message_stage=stage or parent.message_stage)
    session.add(child)
    return child


def _stop(contact: Contact, reason: str, done: bool = False) -> None:
    contact.status = ContactStatus.DONE if done else ContactStatus.STOPPED
    contact.stop_reason = reason


def stop_contact(attempt: Attempt, reason: str) -> None:
    _stop(attempt.contact, reason)


def apply_flow_outcome(session: Session, attempt: Attempt, result: CallResult, now: datetime) -> None:
    """What the owner answered, onto the attempt (evidence) and the account (class A–E)."""
    if not result.steps and result.stage is None:
        return
    outcome = interpret(result, to_shanghai(now).date())
    # an outage notice has no menu choice: its answer is the acknowledgement (key 2)
    attempt.choice = outcome.choice or ("acknowledged" if outcome.acknowledged else None)
    attempt.promised_date = outcome.promised_date
    attempt.voice_message = outcome.voice_message
    account = attempt.account
    answer = owner_answer(outcome, now)
    if outcome.wrong_person:
        account.note = ((account.note or "") + f"\n{attempt.number}: answered by someone else").strip()
    if outcome.choice == "already_paid":
        account.paid_claim_at = utcnow()                     # staff verify before marking paid
    # A voice message is listed for staff from the attempt itself (results → complaints).
    if answer.response is Response.NONE:
        return
    account.account_class = classify([answer]).value
    if answer.promised_date is not None:
        account.promised_date = answer.promised_date
        account.promise_status = "pending"
        webhooks.emit(session, "promise.made", payloads.promise_event(account, attempt))
    if answer.response is Response.AWAY:
        attempt.contact.message_stage = "remote_payment"


def _next_number(session: Session, account: Account, after: str) -> str | None:
    phones = [p.number for p in account.phones if p.unreachable_at is None]
    blocked = set(session.scalars(select(DoNotCall.number).where(DoNotCall.number.in_(phones))))
    numbers = [n for n in phones if n not in blocked]
    if after in numbers:
        rest = numbers[numbers.index(after) + 1:]
        return rest[0] if rest else None
    return numbers[0] if numbers else None


def schedule_next(session: Session, attempt: Attempt, now: datetime,
                  policy: CampaignPolicy | None = None) -> Attempt | None:
    """Queue the follow-up of a settled attempt, or close the account's part in the campaign.
    `now` is the policy clock."""
    contact, account = attempt.contact, attempt.account
    campaign = session.get(Campaign, attempt.campaign_id)
    policy = policy or campaign_policy(campaign.kind.value, campaign.settings)
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
        return None
    if account.paid_at is not None and campaign.kind.value == "arrears":
        _stop(contact, "paid", done=True)
        return None
    disposition = Disposition(attempt.disposition or "unknown")
    if disposition is Disposition.OPTED_OUT:
        campaigns.opt_out(session, attempt.number, reason="keypress 9", source="keypress",
                          actor="dialer")
        account.account_class = AccountClass.E.value
        _stop(contact, "opted_out")
        return None
    decision = next_attempt(_history(session, attempt), disposition, now, policy.windows,
                            policy.retry, campaign_ends_at=campaign.ends_at)
    if decision.retry_at is not None:
        return _queue(session, attempt, attempt.number, decision.retry_at, contact.message_stage)
    if decision.reason in (Reason.UNREACHABLE, Reason.WRONG_PERSON):
        phone = session.scalar(select(Phone).where(Phone.account_id == account.id,
                                                   Phone.number == attempt.number))
        if phone is not None and decision.reason is Reason.UNREACHABLE:
            phone.unreachable_at = utcnow()
        other = _next_number(session, account, attempt.number)
        if other:
            return _queue(session, attempt, other, next_callable(now, policy.windows), None)
        if decision.reason is Reason.UNREACHABLE:
            account.account_class = AccountClass.C.value   # staff must find a new number
        _stop(contact, decision.reason.value)
        return None
    if decision.reason is Reason.ANSWERED and policy.daily_follow_up:
        return _follow_up(session, attempt, account, contact, now, policy, campaign)
    _stop(contact, decision.reason.value, done=decision.reason is Reason.ANSWERED)
    return None


def _follow_up(session, attempt, account, contact, now, policy, campaign) -> Attempt | None:
    """After an answered call the account's class decides the next day it is called:
    A the day before the promised date, B and D daily, C and E never automatically."""
    if account.paid_claim_at is not None and account.paid_at is None:
        # "I have already paid": nobody calls again until staff have checked (以免误催);
        # a rejected claim puts the owner back in the campaign (campaigns.claim_rejected).
        _stop(contact, "paid_claim")
        return None
    cls = AccountClass(account.account_class or "B")
    state = AccountState(cls, promised_date=account.promised_date,
                         promise_broken=account.promise_status == "broken")
    # Never the day of this answered call (1 answered call a day): an owner who just
    # promised to pay tomorrow is not rung back today with "明天是您承诺的交费日期".
    today = to_shanghai(now).date() + timedelta(days=1)
    ends = to_shanghai(campaign.ends_at).date() if campaign.ends_at else None
    plan = next_action(state, today, policy.windows, campaign_ends=ends)
    if plan.action is Action.CALL and plan.call_from is not None:
        stage = plan.stage.value if plan.stage else None
        contact.message_stage = stage or contact.message_stage
        return _queue(session, attempt, attempt.number, plan.call_from, stage)
    _stop(contact, plan.reason, done=plan.action in (Action.DONE, Action.WAIT))
    return None


def finish_if_idle(session: Session, campaign_id: int, now: datetime) -> bool:
    """A running campaign with nothing queued or in flight is complete, unless it still waits
    for an owner (campaigns.awaiting_owners) and has not reached its end."""
    campaign = session.get(Campaign, campaign_id)
    if campaign.status != CampaignStatus.RUNNING:
        return False
    busy = session.scalar(select(Attempt.id).where(
        Attempt.campaign_id == campaign_id,
        Attempt.status.in_([AttemptStatus.QUEUED, AttemptStatus.DIALING])).limit(1))
    if busy is not None or _awaiting_owner(session, campaign, now):
        return False
    campaigns.complete(session, campaign, datetime.now(timezone.utc), actor="dialer")
    return True


def _awaiting_owner(session: Session, campaign: Campaign, now: datetime) -> bool:
    if campaign.kind.value != "arrears" or (campaign.ends_at is not None and campaign.ends_at <= now):
        return False
    return session.scalar(campaigns.awaiting_owners(campaign.id).limit(1)) is not None


def finish_idle_campaigns(session: Session, now: datetime) -> int:
    """The sweep's check for campaigns that were held for a promise now kept (paid) or past
    their end: nothing else would settle them."""
    idle = session.scalars(select(Campaign.id).where(
        Campaign.status == CampaignStatus.RUNNING, Campaign.recurrence.is_(None),
        ~select(Attempt.id).where(Attempt.campaign_id == Campaign.id, Attempt.status.in_(
            [AttemptStatus.QUEUED, AttemptStatus.DIALING])).exists())).all()
    return sum(finish_if_idle(session, campaign_id, now) for campaign_id in idle)


def _with_campaign(*related):
    return (select(Attempt, Campaign).join(Campaign, Attempt.campaign_id == Campaign.id)
            .options(*(joinedload(r) for r in related)).where(Attempt.id == bindparam("attempt_id")))


_FOR_PLAN = _with_campaign(Attempt.account)
_FOR_SETTLE = _with_campaign(Attempt.contact, Attempt.account)


def load_for_plan(session: Session, attempt_id: int) -> tuple[Attempt, Campaign]:
    """The attempt, its account and its campaign in one statement. Keep the campaign referenced
    while planning: the session's identity map is weak, and the planner gets it by id."""
    return tuple(session.execute(_FOR_PLAN, {"attempt_id": attempt_id}).one())


def settle_attempt(session: Session, attempt_id: int, result: CallResult | None,
                   status: AttemptStatus, now: datetime, error: str | None = None,
                   disposition: str | None = None, said: str = "") -> Attempt | None:
    """Settle a `dialing` attempt and queue what follows, in one transaction (committed here).
    Returns None if it was settled elsewhere (reconciliation). `now` is the policy clock.

    The attempt, its contact, account and campaign are read in one statement and held for the
    whole transaction, so the steps below find them in the session instead of reading them
    again."""
    attempt, campaign = session.execute(_FOR_SETTLE, {"attempt_id": attempt_id}).one()
    if attempt.status != AttemptStatus.DIALING:
        return None
    record_result(attempt, result, status, error, disposition)
    if said and attempt.answered_at is not None:   # evidence of what the owner was told
        attempt.message_text = said
    if result is not None:
        apply_flow_outcome(session, attempt, result, now)
    if status == AttemptStatus.SKIPPED:
        stop_contact(attempt, "message_error")
        child = None
    else:
        child = schedule_next(session, attempt, now)
    with session.no_autoflush:                   # the webhook list does not depend on this call
        webhooks.emit(session, "attempt.finished", lambda: payloads.attempt_event(session, attempt))
    if child is None:                            # a queued follow-up keeps the campaign busy
        finish_if_idle(session, campaign.id, now)
    session.commit()
    return attempt
