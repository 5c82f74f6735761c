"""Webhooks: emit() writes the outbox in the caller's transaction; the worker POSTs signed
events to a real local receiver, retries with exponential backoff after a failure, gives up
after MAX_TRIES, never sends one try twice, and the delivery log is readable through the API."""
from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from ivr.storage import Attempt, Webhook, WebhookDelivery, utcnow
from ivr.webhooks import emit, payloads, signing, worker

from .conftest import owners


def register(admin_api, url: str, events: list[str] | None = None) -> tuple[int, str]:
    made = admin_api.post("/webhooks", {"url": url, **({"events": events} if events is not None else {})})
    assert made.status_code == 201, made.text
    return made.json()["webhook"]["id"], made.json()["secret"]


def test_emit_queues_one_delivery_per_subscribed_active_webhook(sessions):
    with sessions() as s:
        s.add_all([Webhook(url="http://a/", secret="s" * 16, events=["attempt.finished"]),
                   Webhook(url="http://b/", secret="s" * 16, events=[]),
                   Webhook(url="http://c/", secret="s" * 16, events=[], active=False)])
        s.commit()
        assert emit(s, "attempt.finished", {"amount": Decimal("12.50"), "on": date(2026, 11, 30)}) == 2
        assert emit(s, "opt_out.recorded", {"number": "13800000001"}) == 1
        s.rollback()  # the caller's transaction: rolled back, nothing is sent
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
        emit(s, "promise.made", {"amount": Decimal("12.50"), "on": date(2026, 11, 30)})
        s.commit()
        assert s.scalar(select(WebhookDelivery)).payload == {"amount": "12.50", "on": "2026-11-30"}
        with pytest.raises(ValueError):
            emit(s, "attempt.done", {})


def test_signature_check():
    body = b'{"event":"ping"}'
    now = 1_790_000_000
    headers = {"X-IVR-Timestamp": str(now), "X-IVR-Signature": signing.signature("k" * 20, now, body)}
    assert signing.verify("k" * 20, headers, body, now=now + 10)
    assert not signing.verify("k" * 20, headers, body + b" ", now=now)          # body changed
    assert not signing.verify("x" * 20, headers, body, now=now)                 # other secret
    assert not signing.verify("k" * 20, headers, body, now=now + 3600)          # replayed later
    assert not signing.verify("k" * 20, {**headers, "X-IVR-Timestamp": str(now + 1)}, body, now=now)


def test_delivered_signed_and_retried_with_backoff_after_a_500(api, admin_api, receiver, sessions):
    hook_id, secret = register(admin_api, receiver.url, ["attempt.finished"])
    api.post("/accounts", {"accounts": owners("w", 1)})
    cid = api.post("/campaigns", {"name": "w", "accounts": ["w-0"], "start": True}).json()["id"]
    with sessions() as s:  # what the dialer does when a call ends
        attempt = s.scalar(select(Attempt).where(Attempt.campaign_id == cid))
        attempt.disposition = "answered"
        assert emit(s, "attempt.finished", payloads.attempt_event(s, attempt)) == 1
        s.commit()
        attempt_id = attempt.id
    receiver.script = [500, 503]
    t0 = utcnow() + timedelta(seconds=1)
    with sessions() as s, httpx.Client() as client:
        assert worker.deliver_due(s, t0, client) == 1
        first = s.scalar(select(WebhookDelivery))
        assert (first.status, first.tries, first.response_code) == ("pending", 1, 500)
        assert first.last_error.startswith("HTTP 500")
        assert worker.deliver_due(s, t0 + timedelta(seconds=9), client) == 0    # not yet: 10 s backoff
        assert worker.deliver_due(s, t0 + timedelta(seconds=10), client) == 1   # 503 → 20 s
        assert worker.deliver_due(s, t0 + timedelta(seconds=29), client) == 0
        assert worker.deliver_due(s, t0 + timedelta(seconds=30), client) == 1   # 200
        s.expire_all()
        done = s.scalar(select(WebhookDelivery))
        assert (done.status, done.tries, done.response_code, done.last_error) == ("delivered", 3, 200, None)
        done_id = done.id
        assert worker.deliver_due(s, t0 + timedelta(hours=1), client) == 0
    got = receiver.wait_for(3)
    assert len(got) == 3
    assert {r.headers["X-IVR-Delivery"] for r in got} == {str(done_id)}   # one event, three tries
    assert len({r.body for r in got}) == 1
    for r in got:
        assert signing.verify(secret, r.headers, r.body), r.headers
        assert r.headers["X-IVR-Event"] == "attempt.finished"
    event = got[0].json
    assert event["event"] == "attempt.finished" and event["id"] == done_id
    assert event["data"]["attempt"] == {**api.get(f"/attempts/{attempt_id}").json(), "disposition": "answered"}
    log = admin_api.get(f"/webhooks/{hook_id}/deliveries").json()["deliveries"]
    assert [(d["event"], d["status"], d["tries"]) for d in log] == [("attempt.finished", "delivered", 3)]


def test_backoff_grows_to_an_hour_and_gives_up(sessions, admin_api):
    assert [worker.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert worker.backoff(20) == timedelta(hours=1)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    register(admin_api, dead)
    with sessions() as s:
        emit(s, "campaign.finished", {"campaign": {"id": 1}})
        s.commit()
    now = utcnow() + timedelta(seconds=1)
    with sessions() as s, httpx.Client() as client:
        for _ in range(worker.MAX_TRIES):
            assert worker.deliver_due(s, now, client, timeout=2) == 1
            s.expire_all()
            now = s.scalar(select(WebhookDelivery)).next_try_at
        s.expire_all()
        failed = s.scalar(select(WebhookDelivery))
        assert (failed.status, failed.tries, failed.response_code) == ("failed", worker.MAX_TRIES, None)
        assert "ConnectError" in failed.last_error
        assert worker.deliver_due(s, now + timedelta(days=1), client) == 0


def test_a_deleted_webhook_gets_nothing_more(admin_api, receiver, sessions):
    hook_id, _ = register(admin_api, receiver.url)
    with sessions() as s:
        emit(s, "promise.broken", {"account_external_id": "x"})
        s.commit()
    assert admin_api.delete(f"/webhooks/{hook_id}").json()["active"] is False
    with sessions() as s, httpx.Client() as client:
        assert worker.deliver_due(s, utcnow() + timedelta(seconds=1), client) == 0
        assert s.scalar(select(WebhookDelivery)).status == "cancelled"
        assert emit(s, "promise.broken", {}) == 0
    assert receiver.requests == []
    assert admin_api.post(f"/webhooks/{hook_id}/ping").status_code == 409


def test_two_workers_never_send_the_same_try_twice(admin_api, receiver, sessions):
    register(admin_api, receiver.url)
    with sessions() as s:
        for i in range(8):
            emit(s, "opt_out.recorded", {"number": f"1380000000{i}"})
        s.commit()
    now = utcnow() + timedelta(seconds=1)

    def one_worker(_):
        with sessions() as s, httpx.Client() as client:
            return worker.deliver_due(s, now, client)

    with ThreadPoolExecutor(3) as pool:
        tried = sum(pool.map(one_worker, range(3)))
    assert tried == 8
    assert sorted(int(r.headers["X-IVR-Delivery"]) for r in receiver.wait_for(8)) == list(range(1, 9))
    with sessions() as s:
        assert set(s.scalars(select(WebhookDelivery.status))) == {"delivered"}


def test_the_worker_loop_delivers_a_ping_requested_through_the_api(admin_api, receiver, sessions):
    hook_id, secret = register(admin_api, receiver.url, ["campaign.finished"])
    stop = threading.Event()
    loop = threading.Thread(target=worker.run, args=(sessions,), kwargs={"stop": stop, "interval": 0.1})
    loop.start()
    try:
        queued = admin_api.post(f"/webhooks/{hook_id}/ping")
        assert queued.status_code == 202
        got = receiver.wait_for(1, timeout=10)
        assert got and got[0].json["event"] == "ping" and signing.verify(secret, got[0].headers, got[0].body)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            log = admin_api.get(f"/webhooks/{hook_id}/deliveries").json()["deliveries"]
            if log and log[0]["status"] == "delivered":
                break
            time.sleep(0.1)
        assert log[0]["id"] == queued.json()["delivery_id"] and log[0]["status"] == "delivered"
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()


def test_webhook_urls_are_checked(admin_api):
    for url, field in [("ftp://example.com/x", "url"), ("http://user:pw@example.com/x", "url"),
                       ("http://example.com:99999/x", "url"), ("javascript:alert(1)", "url")]:
        refused = admin_api.post("/webhooks", {"url": url})
        assert refused.status_code == 400 and field in refused.json()["fields"], url
    assert admin_api.post("/webhooks", {"url": "https://billing.example.com/ivr", "events": ["nope"]}).status_code == 400
    made = admin_api.post("/webhooks", {"url": "https://billing.example.com/ivr", "secret": "a-shared-secret-123"})
    assert made.json()["secret"] == "a-shared-secret-123"
    assert "secret" not in admin_api.get(f"/webhooks/{made.json()['webhook']['id']}").json()
