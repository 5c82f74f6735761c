"""Sending queued webhook deliveries: signed POSTs, retries with exponential backoff.

Runs as its own process (`ivr webhooks work`), never inside the dialer, so a slow receiver
cannot delay a call. Several workers may run at once: each delivery is claimed with a
conditional UPDATE (committed before the POST) that pushes its next try a lease into the
future, so two workers never send the same try, and a worker that dies mid-send leaves the
delivery to be retried after the lease. Delivery is therefore at least once: receivers
deduplicate on the X-IVR-Delivery header (the delivery id).

No database transaction is open while a request is in flight: on SQLite that would hold
the write lock the dialer needs.
"""
from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ivr.storage.models import Webhook, WebhookDelivery, utcnow

from . import signing
from .payloads import iso

log = logging.getLogger("ivr.webhooks")

PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"
MAX_TRIES = 12                       # 10 s, 20 s, 40 s … then hourly: about 6 hours in all
BASE_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(hours=1)
LEASE = timedelta(seconds=120)       # longer than any request may take
TIMEOUT = 10.0                       # seconds per request
BATCH = 50
USER_AGENT = "ivr-webhooks/1"


def backoff(tries: int) -> timedelta:
    """Wait after the `tries`-th failed try: 10 s, 20 s, 40 s, … capped at an hour."""
    return min(BASE_DELAY * (2 ** max(tries - 1, 0)), MAX_DELAY)


def request_for(delivery_id: int, event: str, created_at: datetime, payload: dict, secret: str,
                timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one try (the body is exactly the bytes that were signed)."""
    body = json.dumps({"id": delivery_id, "event": event, "created_at": iso(created_at), "data": payload},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.EVENT_HEADER: event,
        signing.DELIVERY_HEADER: str(delivery_id),
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature(secret, timestamp, body),
    }
    return body, headers


def deliver_due(session: Session, now: datetime, client: httpx.Client, *, limit: int = BATCH,
                timeout: float = TIMEOUT) -> int:
    """Try every pending delivery due at `now` (at most `limit`). Returns how many were tried.

    2xx → delivered. Anything else (other status, timeout, refused connection) → retried after
    `backoff(tries)`, and marked failed after MAX_TRIES. Deliveries of a deleted (inactive)
    webhook are cancelled. Commits as it goes."""
    due = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.tries)
        .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_try_at <= now)
        .order_by(WebhookDelivery.next_try_at, WebhookDelivery.id).limit(limit)).all()
    session.rollback()  # end the read before any network I/O
    tried = 0
    for delivery_id, tries in due:
        claimed = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == PENDING,
                   WebhookDelivery.tries == tries)
            .values(tries=tries + 1, next_try_at=now + LEASE))
        session.commit()
        if claimed.rowcount != 1:
            continue  # another worker has it
        delivery = session.get(WebhookDelivery, delivery_id)
        session.refresh(delivery)
        hook = session.get(Webhook, delivery.webhook_id)
        if hook is None or not hook.active:
            delivery.status, delivery.last_error = CANCELLED, "webhook deleted"
            session.commit()
            continue
        url, secret = hook.url, hook.secret
        body, headers = request_for(delivery.id, delivery.event, delivery.created_at,
                                    delivery.payload, secret)
        session.rollback()  # nothing open while the request is in flight
        code, error = None, None
        try:
            response = client.post(url, content=body, headers=headers, timeout=timeout)
            code = response.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        delivery = session.get(WebhookDelivery, delivery_id)
        delivery.response_code = code
        if error is None:
            delivery.status, delivery.delivered_at, delivery.last_error = DELIVERED, utcnow(), None
        else:
            delivery.last_error = error
            if delivery.tries >= MAX_TRIES:
                delivery.status = FAILED
            else:
                delivery.next_try_at = now + backoff(delivery.tries)
            log.info("webhook delivery %s to %s failed (try %s): %s", delivery_id, url,
                     delivery.tries, error)
        session.commit()
        tried += 1
    return tried


def run(sessions: sessionmaker[Session], *, stop: threading.Event | None = None,
        interval: float = 1.0, client: httpx.Client | None = None,
        clock: Callable[[], datetime] = utcnow) -> None:
    """Deliver until `stop` is set: a pass whenever the last one found work, otherwise every
    `interval` seconds. A failing pass (database down) is logged and retried."""
    stop = stop or threading.Event()
    own = client is None
    client = client or httpx.Client(follow_redirects=False, trust_env=False)
    try:
        while not stop.is_set():
            tried = 0
            try:
                with sessions() as session:
                    tried = deliver_due(session, clock(), client)
            except Exception:  # noqa: BLE001 — keep the worker alive; the rows stay queued
                log.exception("webhook delivery pass failed")
                stop.wait(min(interval * 5, 30))
                continue
            if tried == 0:
                stop.wait(interval)
    finally:
        if own:
            client.close()


def serve(database_url: str, *, interval: float = 1.0) -> None:
    """The `ivr webhooks work` command: run until SIGTERM / SIGINT."""
    from ivr.storage import connect, session_factory

    engine = connect(database_url)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log.info("webhook worker started")
    try:
        run(session_factory(engine), stop=stop, interval=interval)
    finally:
        engine.dispose()
