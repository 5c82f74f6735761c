"""The JSON shapes of attempts, accounts and campaigns, shared by the HTTP API's responses and
the webhook events, so a result reads the same whichever way it reached the business system.

Times are ISO 8601 with an offset (UTC), dates YYYY-MM-DD, money decimal strings ("1234.50").
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy.orm import Session

from ivr.storage.models import Account, Attempt, Campaign


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive datetimes; everything is stored in UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def attempt(a: Attempt, *, account_external_id: str | None,
            campaign_external_id: str | None) -> dict:
    return {
        "id": a.id,
        "campaign_id": a.campaign_id,
        "campaign_external_id": campaign_external_id,
        "account_id": a.account_id,
        "account_external_id": account_external_id,
        "parent_id": a.parent_id,
        "number": a.number,
        "status": a.status.value if a.status is not None else None,
        "disposition": a.disposition,
        "dial_status": a.dial_status,
        "hangup_cause": a.hangup_cause,
        "stage": a.stage,
        "keys": a.keys,
        "choice": a.choice,
        "promised_date": day(a.promised_date),
        "message_stage": a.message_stage,
        "message_text": a.message_text,
        "has_voice_message": bool(a.voice_message),
        "scheduled_at": iso(a.scheduled_at),
        "dialed_at": iso(a.dialed_at),
        "answered_at": iso(a.answered_at),
        "ended_at": iso(a.ended_at),
        "error": a.error,
    }


def account(acc: Account) -> dict:
    return {
        "id": acc.id,
        "external_id": acc.external_id,
        "room": acc.room,
        "building": acc.building,
        "area": acc.area,
        "owner_name": acc.owner_name,
        "title": acc.title,
        "department": acc.department,
        "amount_owed": money(acc.amount_owed),
        "months_owed": acc.months_owed,
        "due_date": day(acc.due_date),
        "paid_at": iso(acc.paid_at),
        "paid_amount": money(acc.paid_amount),
        "class": acc.account_class,
        "promised_date": day(acc.promised_date),
        "promise_status": acc.promise_status,
        "complaint": acc.complaint,
        "note": acc.note,
        "variables": dict(acc.variables or {}),
        "phones": [{"number": p.number, "kind": p.kind, "unreachable": p.unreachable_at is not None}
                   for p in acc.phones],
        "updated_at": iso(acc.updated_at),
    }


# -- webhook event payloads (what the dialer passes to ivr.webhooks.emit) ---------------------

def attempt_event(session: Session, a: Attempt) -> dict:
    """`attempt.finished`: the settled attempt, as GET /api/v1/attempts/{id} shows it."""
    acc = session.get(Account, a.account_id)
    camp = session.get(Campaign, a.campaign_id)
    return {"attempt": attempt(a, account_external_id=acc.external_id if acc else None,
                               campaign_external_id=camp.external_id if camp else None)}


def promise_event(acc: Account, a: Attempt | None = None) -> dict:
    """`promise.made` (a is the call it was made on) and `promise.broken` (a is None)."""
    return {"account_id": acc.id, "account_external_id": acc.external_id,
            "promised_date": day(acc.promised_date), "promise_status": acc.promise_status,
            "amount_owed": money(acc.amount_owed), "class": acc.account_class,
            "attempt_id": a.id if a is not None else None,
            "campaign_id": a.campaign_id if a is not None else None}


def opt_out_event(number: str, *, reason: str, source: str,
                  account_external_ids: Sequence[str] = ()) -> dict:
    """`opt_out.recorded`: a number put on the do-not-call list (keypress 9, staff or API)."""
    return {"number": number, "reason": reason, "source": source,
            "account_external_ids": list(account_external_ids)}


def campaign_event(session: Session, c: Campaign) -> dict:
    """`campaign.finished`: the campaign (completed or cancelled) with its counts."""
    from ivr.webhooks.counts import campaign_counts

    return {"campaign": campaign(c, campaign_counts(session, c.id))}


def campaign(c: Campaign, counts: dict) -> dict:
    settings = c.settings or {}
    return {
        "id": c.id,
        "external_id": c.external_id,
        "name": c.name,
        "kind": c.kind.value,
        "status": c.status.value,
        "template": c.template,
        "message": c.message,
        "variables": dict(settings.get("variables") or {}),
        "caller_id": c.caller_id,
        "start_at": iso(c.start_at),
        "ends_at": iso(c.ends_at),
        "created_at": iso(c.created_at),
        "started_at": iso(c.started_at),
        "finished_at": iso(c.finished_at),
        "counts": counts,
    }
