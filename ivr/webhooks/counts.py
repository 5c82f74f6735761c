"""A campaign's progress in numbers: the "status with counts" of the API and the
`campaign.finished` event."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from ivr.storage.models import Account, Attempt, AttemptStatus, Contact, ContactStatus

from .payloads import money


def campaign_counts(session: Session, campaign_id: int) -> dict:
    contacts = dict(session.execute(
        select(Contact.status, func.count()).where(Contact.campaign_id == campaign_id)
        .group_by(Contact.status)).all())
    attempts = dict(session.execute(
        select(Attempt.status, func.count()).where(Attempt.campaign_id == campaign_id)
        .group_by(Attempt.status)).all())
    dispositions = dict(session.execute(
        select(Attempt.disposition, func.count())
        .where(Attempt.campaign_id == campaign_id, Attempt.disposition.is_not(None))
        .group_by(Attempt.disposition)).all())
    reached = session.scalar(
        select(func.count(distinct(Attempt.account_id)))
        .where(Attempt.campaign_id == campaign_id, Attempt.answered_at.is_not(None))) or 0
    promised = session.scalar(
        select(func.count(distinct(Attempt.account_id)))
        .where(Attempt.campaign_id == campaign_id, Attempt.promised_date.is_not(None))) or 0
    paid, owed, paid_amount = session.execute(
        select(func.count(Account.paid_at), func.sum(Account.amount_owed), func.sum(Account.paid_amount))
        .join(Contact, Contact.account_id == Account.id)
        .where(Contact.campaign_id == campaign_id)).one()
    stopped_reasons = dict(session.execute(
        select(Contact.stop_reason, func.count())
        .where(Contact.campaign_id == campaign_id, Contact.status == ContactStatus.STOPPED,
               Contact.stop_reason.is_not(None))
        .group_by(Contact.stop_reason)).all())

    def c(table: dict, key) -> int:
        return int(table.get(key, 0))

    return {
        "contacts": sum(contacts.values()),
        "contacts_active": c(contacts, ContactStatus.ACTIVE),
        "contacts_done": c(contacts, ContactStatus.DONE),
        "contacts_stopped": c(contacts, ContactStatus.STOPPED),
        "stop_reasons": {str(k): int(v) for k, v in stopped_reasons.items()},
        "attempts": sum(attempts.values()),
        "attempts_queued": c(attempts, AttemptStatus.QUEUED),
        "attempts_dialing": c(attempts, AttemptStatus.DIALING),
        "attempts_done": c(attempts, AttemptStatus.DONE),
        "attempts_failed": c(attempts, AttemptStatus.FAILED),
        "attempts_skipped": c(attempts, AttemptStatus.SKIPPED),
        "attempts_unknown": c(attempts, AttemptStatus.UNKNOWN),
        "dispositions": {str(k): int(v) for k, v in dispositions.items()},
        "accounts_reached": int(reached),
        "accounts_promised": int(promised),
        "accounts_paid": int(paid or 0),
        "amount_owed": money(Decimal(owed or 0)),
        "amount_paid": money(Decimal(paid_amount or 0)),
    }
