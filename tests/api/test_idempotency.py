"""A retried POST never acts twice: same Idempotency-Key and body → the stored response;
same key, other body → 422; notices are unique by external_id as well."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from ivr.storage import Attempt, AuditEntry, Campaign, Contact, IdempotencyRecord, Payment

from .conftest import owners

NOTICE = {"external_id": "outage-2026-11-30-a", "area": "幸福家园", "deadline": "2030-01-01T18:00:00+08:00",
          "variables": {"reason": "管道抢修", "start": "2026-11-30T09:00", "end": "2026-11-30T17:00"}}


def counts(sessions) -> tuple[int, int, int]:
    with sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Campaign, Contact, Attempt))


def test_same_key_same_body_returns_the_first_response_and_creates_nothing(api, sessions):
    assert api.post("/accounts", {"accounts": owners("id", 3)}).status_code == 200
    first = api.post("/notices", NOTICE, idem="notice-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    before = counts(sessions)
    assert before == (1, 3, 3)
    again = api.post("/notices", NOTICE, idem="notice-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert counts(sessions) == before
    with sessions() as s:  # the campaign was started once, not twice
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "campaign.running")) == 1


def test_same_key_different_body_is_refused(api, sessions):
    api.post("/accounts", {"accounts": owners("idb", 2)}, idem="k")
    changed = api.post("/accounts", {"accounts": owners("idc", 2)}, idem="k")
    assert changed.status_code == 422 and changed.json()["error"] == "idempotency_key_reused"
    assert api.get("/accounts/idc-0").status_code == 404
    # the same key on another path is another request, too
    assert api.post("/opt-outs", {"numbers": ["13800000001"]}, idem="k").status_code == 422


def test_keys_are_per_api_key(api, keys, sessions):
    body = {"accounts": owners("pk", 1)}
    assert api.post("/accounts", body, idem="shared").json()["created"] == 1
    other = api.post("/accounts", body, idem="shared", key=keys["admin"])
    assert other.status_code == 200 and "Idempotent-Replayed" not in other.headers
    assert other.json()["updated"] == 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 2


def test_every_post_needs_a_key(api):
    missing = api.post("/accounts", {"accounts": owners("nk", 1)}, idem=None)
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["fields"]
    assert api.post("/accounts", {"accounts": owners("nk", 1)}, idem="has space").status_code == 400
    assert api.get("/accounts/nk-0").status_code == 404


def test_a_notice_is_unique_by_external_id_whatever_the_key(api, sessions):
    api.post("/accounts", {"accounts": owners("ex", 2)})
    assert api.post("/notices", NOTICE).status_code == 201
    before = counts(sessions)
    same = api.post("/notices", NOTICE)  # a fresh Idempotency-Key: a client that lost its key
    assert same.status_code == 200 and same.json()["external_id"] == NOTICE["external_id"]
    assert counts(sessions) == before
    other = api.post("/notices", {**NOTICE, "deadline": "2030-01-02T18:00:00+08:00"})
    assert other.status_code == 409 and other.json()["error"] == "external_id_conflict"
    assert counts(sessions) == before


def test_failed_requests_are_not_stored(api):
    """An error is not remembered: the same key may be retried once the cause is fixed."""
    pay = {"payments": [{"external_id": "pay-9", "account": "late-0", "paid_on": "2026-11-20"}]}
    assert api.post("/payments", pay, idem="pay-9").status_code == 400  # account not there yet
    api.post("/accounts", {"accounts": owners("late", 1)})
    assert api.post("/payments", pay, idem="pay-9").json()["payments"][0]["status"] == "recorded"


def test_concurrent_retries_act_once(api, sessions):
    api.post("/accounts", {"accounts": owners("cc", 2)})
    pay = {"payments": [{"external_id": "pay-cc", "account": "cc-0", "paid_on": "2026-11-20"}]}
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: api.post("/payments", pay, idem="same-payment"), range(6)))
    assert {r.status_code for r in answers} <= {200, 409}, [r.text for r in answers]
    assert any(r.status_code == 200 for r in answers)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
