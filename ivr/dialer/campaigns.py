"""Campaign lifecycle and the account changes that must reach the dialer at once.

draft → scheduled → running ⇄ paused → completed / cancelled. The admin, the HTTP API and
the CLI all change campaigns through these functions, which write the audit log in the same
transaction; the dialer reads the result on its next claim, so changes take effect on the next
dial, not after a restart. Callers commit.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from ivr import webhooks
from ivr.storage.models import (Account, Attempt, AttemptStatus, AuditEntry, Campaign, CampaignKind,
                                CampaignStatus, Contact, ContactStatus, DoNotCall, Payment,
                                SystemSetting, utcnow)
from ivr.webhooks import payloads

S = CampaignStatus
TRANSITIONS: dict[CampaignStatus, set[CampaignStatus]] = {
    S.DRAFT: {S.SCHEDULED, S.RUNNING, S.CANCELLED},
    S.SCHEDULED: {S.RUNNING, S.PAUSED, S.CANCELLED},
    S.RUNNING: {S.PAUSED, S.COMPLETED, S.CANCELLED},
    S.PAUSED: {S.RUNNING, S.CANCELLED},
    S.COMPLETED: set(),
    S.CANCELLED: set(),
}
STOP_SWITCH = "dialing_stopped"


class LifecycleError(ValueError):
    """A change the campaign's state does not allow (e.g. starting a cancelled campaign)."""


def audit(session: Session, actor: str, action: str, target: str | None = None, **detail) -> None:
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))


def _move(session: Session, campaign: Campaign, to: CampaignStatus, actor: str) -> None:
    if to not in TRANSITIONS[campaign.status]:
        raise LifecycleError(f"campaign {campaign.id} is {campaign.status.value}; cannot become {to.value}")
    audit(session, actor, f"campaign.{to.value}", f"campaign:{campaign.id}", previous=campaign.status.value)
    campaign.status = to


def add_accounts(session: Session, campaign: Campaign, account_ids: list[int]) -> int:
    """Put accounts in the campaign once each (duplicates are merged, never double-called)."""
    have = set(session.scalars(select(Contact.account_id).where(Contact.campaign_id == campaign.id)))
    new = [a for a in dict.fromkeys(account_ids) if a not in have]
    session.add_all(Contact(campaign_id=campaign.id, account_id=a) for a in new)
    session.flush()
    return len(new)


def seed_first_attempts(session: Session, campaign: Campaign, at: datetime) -> int:
    """Queue a first attempt, on the account's first callable number, for every active contact
    that has none pending. Paid and do-not-call accounts are left out here and checked again
    before every dial."""
    pending = select(Attempt.contact_id).where(
        Attempt.campaign_id == campaign.id,
        Attempt.status.in_([AttemptStatus.QUEUED, AttemptStatus.DIALING]))
    rows = session.execute(
        select(Contact, Account).join(Account, Contact.account_id == Account.id)
        .where(Contact.campaign_id == campaign.id, Contact.status == ContactStatus.ACTIVE,
               Contact.id.not_in(pending))).all()
    blocked = set(session.scalars(select(DoNotCall.number)))
    queued = 0
    for contact, account in rows:
        if account.paid_at is not None and campaign.kind == CampaignKind.ARREARS:
            contact.status, contact.stop_reason = ContactStatus.STOPPED, "paid"
            continue
        numbers = [p.number for p in account.phones if p.unreachable_at is None and p.number not in blocked]
        if not numbers:
            contact.status, contact.stop_reason = ContactStatus.STOPPED, "no_number"
            continue
        session.add(Attempt(campaign_id=campaign.id, contact_id=contact.id, account_id=account.id,
                            number=numbers[0], scheduled_at=at, message_stage=contact.message_stage))
        queued += 1
    session.flush()
    return queued


def start(session: Session, campaign: Campaign, now: datetime, actor: str) -> int:
    """Start now, or schedule for campaign.start_at. Returns the number of attempts queued."""
    if campaign.start_at and campaign.start_at > now and campaign.status == S.DRAFT:
        _move(session, campaign, S.SCHEDULED, actor)
        return seed_first_attempts(session, campaign, campaign.start_at)
    _move(session, campaign, S.RUNNING, actor)
    campaign.started_at = campaign.started_at or now
    return seed_first_attempts(session, campaign, now)


def pause(session: Session, campaign: Campaign, actor: str) -> None:
    _move(session, campaign, S.PAUSED, actor)


def resume(session: Session, campaign: Campaign, now: datetime, actor: str) -> None:
    _move(session, campaign, S.RUNNING, actor)


def cancel(session: Session, campaign: Campaign, now: datetime, actor: str) -> int:
    """Cancel: queued attempts are skipped (calls already up finish normally)."""
    _move(session, campaign, S.CANCELLED, actor)
    campaign.finished_at = now
    skipped = _skip(session, Attempt.campaign_id == campaign.id, "campaign cancelled")
    webhooks.emit(session, "campaign.finished", payloads.campaign_event(session, campaign))
    return skipped


def complete(session: Session, campaign: Campaign, now: datetime, actor: str = "system") -> None:
    _move(session, campaign, S.COMPLETED, actor)
    campaign.finished_at = now
    webhooks.emit(session, "campaign.finished", payloads.campaign_event(session, campaign))


def _skip(session: Session, where, reason: str) -> int:
    result = session.execute(update(Attempt).where(where, Attempt.status == AttemptStatus.QUEUED)
                             .values(status=AttemptStatus.SKIPPED, error=reason, ended_at=utcnow()))
    return result.rowcount


def set_dialing_stopped(session: Session, stopped: bool, actor: str) -> None:
    """The global stop switch: no dialer places a new call while it is on."""
    setting = session.get(SystemSetting, STOP_SWITCH) or SystemSetting(key=STOP_SWITCH)
    setting.value = {"stopped": stopped, "by": actor}
    session.add(setting)
    audit(session, actor, "dialing.stop" if stopped else "dialing.resume")


def dialing_stopped(session: Session) -> bool:
    setting = session.get(SystemSetting, STOP_SWITCH)
    return bool(setting and setting.value.get("stopped"))


def mark_paid(session: Session, account: Account, *, amount: Decimal | None, paid_on: date,
              source: str, actor: str, external_id: str | None = None) -> None:
    """A paid account is dropped from every campaign before its next dial."""
    session.add(Payment(account_id=account.id, amount=amount if amount is not None else
                        (account.amount_owed or Decimal("0")), paid_on=paid_on, source=source,
                        external_id=external_id))
    owed = account.amount_owed or Decimal("0")
    paid_total = (account.paid_amount or Decimal("0")) + (amount if amount is not None else owed)
    account.paid_amount = paid_total
    if amount is None or paid_total >= owed:
        account.paid_at = utcnow()
        # Only arrears reminders stop: a paid owner still hears about a water outage.
        arrears = select(Campaign.id).where(Campaign.kind == CampaignKind.ARREARS)
        session.execute(update(Contact).where(Contact.account_id == account.id,
                                              Contact.campaign_id.in_(arrears),
                                              Contact.status == ContactStatus.ACTIVE)
                        .values(status=ContactStatus.STOPPED, stop_reason="paid"))
        _skip(session, (Attempt.account_id == account.id) & Attempt.campaign_id.in_(arrears), "paid")
    audit(session, actor, "account.paid", f"account:{account.id}", source=source,
          amount=str(amount) if amount is not None else None)


def opt_out(session: Session, number: str, *, reason: str, source: str, actor: str) -> None:
    """Put a number on the do-not-call list; queued calls to it are dropped."""
    if session.scalar(select(DoNotCall).where(DoNotCall.number == number)) is None:
        session.add(DoNotCall(number=number, reason=reason, source=source))
    _skip(session, Attempt.number == number, "opted out")
    audit(session, actor, "number.opt_out", f"number:{number}", reason=reason, source=source)
    webhooks.emit(session, "opt_out.recorded", payloads.opt_out_event(number, reason=reason, source=source))


def promote_scheduled(session: Session, now: datetime) -> int:
    """Scheduled campaigns whose start time has come begin running (their attempts were
    queued for that time when they were scheduled)."""
    due = session.scalars(select(Campaign).where(Campaign.status == S.SCHEDULED,
                                                 Campaign.start_at <= now)).all()
    for campaign in due:
        _move(session, campaign, S.RUNNING, "scheduler")
        campaign.started_at = campaign.started_at or now
    return len(due)


def break_promises(session: Session, today: date, now: datetime) -> int:
    """Promises whose date has passed unpaid are broken: the account goes back to class B and
    is called again, from the next window, with the firmer message (DOMAIN.md)."""
    broken = session.scalars(select(Account).where(
        Account.promise_status == "pending", Account.promised_date < today,
        Account.paid_at.is_(None))).all()
    for account in broken:
        account.promise_status = "broken"
        account.account_class = "B"
        webhooks.emit(session, "promise.broken", payloads.promise_event(account))
        audit(session, "scheduler", "promise.broken", f"account:{account.id}",
              promised=str(account.promised_date))
        contacts = session.scalars(select(Contact).join(Campaign).where(
            Contact.account_id == account.id, Campaign.status == S.RUNNING,
            Campaign.kind == CampaignKind.ARREARS)).all()
        for contact in contacts:
            contact.status, contact.stop_reason, contact.message_stage = ContactStatus.ACTIVE, None, "firm"
            seed_first_attempts(session, contact.campaign, now)
    return len(broken)


def claim_rejected(session: Session, account: Account, now: datetime) -> int:
    """Staff found no payment behind an owner's "already paid": calls resume in the running
    arrears campaigns that paused them for the check. Returns the calls queued."""
    account.paid_claim_at = None
    contacts = session.scalars(select(Contact).join(Campaign).where(
        Contact.account_id == account.id, Contact.stop_reason == "paid_claim",
        Campaign.status == S.RUNNING, Campaign.kind == CampaignKind.ARREARS)).all()
    queued = 0
    for contact in contacts:
        contact.status, contact.stop_reason = ContactStatus.ACTIVE, None
        queued += seed_first_attempts(session, contact.campaign, now)
    return queued


def awaiting_owners(campaign_id: int) -> Select:
    """Contacts of a campaign it must wait for before it is complete: an unpaid owner whose
    promised date is still to come (broken, they are called again) or whose "already paid"
    staff have not checked yet. Count it, or test it with .limit(1)."""
    return (select(Contact.id).join(Account, Contact.account_id == Account.id)
            .where(Contact.campaign_id == campaign_id, Account.paid_at.is_(None),
                   or_(Account.promise_status == "pending", Account.paid_claim_at.is_not(None))))
