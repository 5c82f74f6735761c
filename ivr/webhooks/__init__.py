"""Webhooks: signed HTTP events for business systems.

Events are written to an outbox (`webhook_delivery` rows) by `emit`, inside the caller's
transaction, so an event exists exactly when the change that caused it was committed. A
separate worker (`ivr.webhooks.worker`) sends them with retries and exponential backoff, so a
slow or dead receiver never blocks dialing.

    from ivr.webhooks import emit, payloads
    emit(session, "attempt.finished", payloads.attempt_event(session, attempt))
    session.commit()
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.storage.models import Webhook, WebhookDelivery, utcnow

ATTEMPT_FINISHED = "attempt.finished"
PROMISE_MADE = "promise.made"
PROMISE_BROKEN = "promise.broken"
OPT_OUT = "opt_out.recorded"
CAMPAIGN_FINISHED = "campaign.finished"
PING = "ping"  # sent only to one webhook, on request (POST /api/v1/webhooks/{id}/ping)

# What a webhook may subscribe to (an empty subscription means all of these).
EVENTS: tuple[str, ...] = (ATTEMPT_FINISHED, PROMISE_MADE, PROMISE_BROKEN, OPT_OUT, CAMPAIGN_FINISHED)


def _default(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:  # SQLite hands back naive UTC
            value = value.replace(tzinfo=timezone.utc)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON-serialisable in a webhook payload: {type(value).__name__}")


def jsonable(payload: dict) -> dict:
    """The payload as plain JSON values (dates ISO 8601, money as decimal strings)."""
    return json.loads(json.dumps(payload, default=_default, ensure_ascii=False))


def emit(session: Session, event: str, payload: dict | Callable[[], dict]) -> int:
    """Queue `event` for every active webhook subscribed to it, in the caller's transaction
    (the caller commits). Returns how many deliveries were queued. `payload` may be a function:
    it is then built only when some webhook wants the event (the dialer settles every call)."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}; one of {', '.join(EVENTS)}")
    hooks = [hook for hook in session.scalars(select(Webhook).where(Webhook.active.is_(True))
                                              .order_by(Webhook.id))
             if not hook.events or event in hook.events]
    if not hooks:
        return 0
    data = jsonable(payload() if callable(payload) else payload)
    now = utcnow()
    for hook in hooks:
        session.add(WebhookDelivery(webhook_id=hook.id, event=event, payload=data, next_try_at=now,
                                    created_at=now))
    return len(hooks)


def ping(session: Session, webhook: Webhook) -> WebhookDelivery:
    """Queue a test event for one webhook (whatever it subscribes to)."""
    now = utcnow()
    delivery = WebhookDelivery(webhook_id=webhook.id, event=PING, payload={"webhook_id": webhook.id},
                               next_try_at=now, created_at=now)
    session.add(delivery)
    session.flush()
    return delivery


def redeliver(session: Session, delivery: WebhookDelivery) -> None:
    """Send a failed (or delivered) event again on the worker's next pass."""
    delivery.status = "pending"
    delivery.next_try_at = utcnow()
    delivery.tries = 0


__all__ = ["ATTEMPT_FINISHED", "CAMPAIGN_FINISHED", "EVENTS", "OPT_OUT", "PING", "PROMISE_BROKEN",
           "PROMISE_MADE", "emit", "jsonable", "ping", "redeliver"]
