"""End to end: a notice posted with an API key starts real calls through both Asterisk
instances (pbx → PJSIP trunk → pstn-sim), and the results come back through the API and as a
signed webhook to a local receiver.

Needs `running_dialer` (provided with the dialer, not here): the real dialer service running,
for as long as the test runs, against this test's database (`db_url`) and the test site's pbx
(`site`), claiming due attempts of every running campaign within a second or two whatever the
hour (call windows must not hold these calls back), and calling
`ivr.webhooks.emit(session, "attempt.finished", ivr.webhooks.payloads.attempt_event(session, attempt))`
in the transaction that settles each attempt. It is stopped (calls finished) at teardown."""
from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from ivr.telephony.pstn_sim import Behaviour, script_phones
from ivr.webhooks import signing, worker

from .conftest import owners

CALLS_TIMEOUT = 120


def script(site, behaviours: dict[str, Behaviour]) -> None:
    asyncio.run(asyncio.wait_for(script_phones(site, behaviours), 60))


@pytest.fixture
def webhook_worker(sessions):
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(sessions,), kwargs={"stop": stop, "interval": 0.2},
                              daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)


def test_a_notice_posted_with_a_key_calls_owners_and_reports_back(
        db_url, site, running_dialer, api, admin_api, receiver, webhook_worker):
    tag = "1" if db_url.startswith("sqlite") else "2"  # numbers per store, so sim state never mixes
    answers, busy = f"1372000{tag}001", f"1372000{tag}002"
    # The notice cannot be interrupted: the owner keeps pressing 2 (acknowledge) every 2 s, and
    # the first press after it ends is taken, so the call ends soon after the notice.
    script(site, {answers: Behaviour.answer(0.5, [(1.0 + 2 * i, "2") for i in range(30)]),
                  busy: Behaviour.busy()})
    hook = admin_api.post("/webhooks", {"url": receiver.url, "events": ["attempt.finished"]}).json()
    area = f"e2e小区{tag}"
    people = owners(f"e2e{tag}", 2, area=area, first_number=int(answers))
    assert api.post("/accounts", {"accounts": people}).status_code == 200
    # nothing that is not a phone number ever gets near Asterisk
    assert api.post("/accounts", {"accounts": [{"external_id": "evil", "area": area,
                                                "phones": [f"{answers}&PJSIP/evil"]}]}).status_code == 400

    deadline = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    notice = {"external_id": f"outage-e2e-{tag}", "area": area, "deadline": deadline,
              "variables": {"reason": "管道抢修", "start": "2026-11-30T09:00", "end": "2026-11-30T17:00"}}
    posted = api.post("/notices", notice, idem=f"notice-e2e-{tag}")
    assert posted.status_code == 201, posted.text
    campaign = posted.json()
    assert campaign["status"] == "running" and campaign["counts"]["attempts_queued"] == 2
    retried = api.post("/notices", notice, idem=f"notice-e2e-{tag}")
    assert retried.headers.get("Idempotent-Replayed") == "true" and retried.json()["id"] == campaign["id"]

    # results through the API
    by_number: dict[str, dict] = {}
    give_up = time.monotonic() + CALLS_TIMEOUT
    while time.monotonic() < give_up and len(by_number) < 2:
        done = api.get("/attempts", params={"campaign_id": campaign["id"], "status": "done"}).json()["attempts"]
        by_number = {a["number"]: a for a in done}
        time.sleep(0.5)
    assert set(by_number) == {answers, busy}, api.get("/attempts", params={"campaign_id": campaign["id"]}).json()
    picked_up, engaged = by_number[answers], by_number[busy]
    assert (picked_up["disposition"], picked_up["dial_status"]) == ("answered", "ANSWER")
    assert picked_up["answered_at"] is not None and picked_up["account_external_id"] == f"e2e{tag}-0"
    assert picked_up["choice"] == "acknowledged"          # the owner's 2 after the notice
    assert "管道抢修" in picked_up["message_text"]         # what they were told, as evidence
    assert (engaged["disposition"], engaged["dial_status"], engaged["hangup_cause"]) == ("busy", "BUSY", 17)
    assert picked_up["campaign_external_id"] == notice["external_id"]
    status = api.get(f"/notices/{notice['external_id']}").json()["counts"]
    assert status["dispositions"].get("answered") == 1 and status["dispositions"].get("busy", 0) >= 1
    assert status["accounts_reached"] == 1

    # and through a signed webhook, one event per settled attempt
    wanted = {picked_up["id"], engaged["id"]}
    events: dict[int, dict] = {}
    give_up = time.monotonic() + 30
    while time.monotonic() < give_up and not wanted <= set(events):
        for request in receiver.wait_for(len(receiver.requests) + 1, timeout=1):
            assert signing.verify(hook["secret"], request.headers, request.body), request.headers
            attempt = request.json["data"]["attempt"]
            events[attempt["id"]] = attempt
    assert wanted <= set(events), events
    for sent in (picked_up, engaged):
        event = events[sent["id"]]
        for field in ("status", "disposition", "dial_status", "hangup_cause", "number", "account_external_id",
                      "campaign_external_id"):
            assert event[field] == sent[field], field
