"""Campaigns and notices through the API; payments and opt-outs reaching the dialer's next
claim; attempts and results with filters and cursors."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from dialer_helpers import BUSINESS_HOURS

from ivr.dialer.claims import claim_due
from ivr.storage import Account, Attempt, AttemptStatus

from .conftest import owners

OUTAGE = {"reason": "管道抢修", "start": "2026-11-30T09:00", "end": "2026-11-30T17:00"}


def queued_attempts(sessions, campaign_id: int) -> dict[str, Attempt]:
    with sessions() as s:
        rows = s.execute(select(Account.external_id, Attempt).join(Account, Account.id == Attempt.account_id)
                         .where(Attempt.campaign_id == campaign_id)).all()
        return {ext: a for ext, a in rows}


def test_campaign_from_a_template_start_pause_resume_cancel(api, sessions):
    api.post("/accounts", {"accounts": owners("c", 3)})
    draft = api.post("/campaigns", {"name": "十一月物业费", "template": "arrears-firm",
                                    "accounts": ["c-0", "c-1", "c-2"],
                                    "variables": {"company": "幸福家园物业", "hotline": "02160000000"}})
    assert draft.status_code == 201, draft.text
    campaign = draft.json()
    assert (campaign["status"], campaign["template"], campaign["counts"]["contacts"]) == ("draft", "arrears-firm", 3)
    assert campaign["counts"]["attempts"] == 0 and campaign["variables"]["company"] == "幸福家园物业"
    cid = campaign["id"]
    started = api.post(f"/campaigns/{cid}/start").json()
    assert started["queued"] == 3 and started["campaign"]["status"] == "running"
    assert started["campaign"]["counts"]["attempts_queued"] == 3
    assert api.post(f"/campaigns/{cid}/pause").json()["campaign"]["status"] == "paused"
    again = api.post(f"/campaigns/{cid}/pause")
    assert again.status_code == 409 and again.json()["error"] == "invalid_transition"
    assert api.post(f"/campaigns/{cid}/resume").json()["campaign"]["status"] == "running"
    cancelled = api.post(f"/campaigns/{cid}/cancel").json()
    assert cancelled["skipped"] == 3 and cancelled["campaign"]["status"] == "cancelled"
    assert cancelled["campaign"]["counts"]["attempts_skipped"] == 3
    assert api.post(f"/campaigns/{cid}/start").status_code == 409
    assert api.post(f"/campaigns/{cid}/accounts", {"accounts": ["c-0"]}).status_code == 409
    assert api.post("/campaigns/424242/start").status_code == 404
    status = api.get(f"/campaigns/{cid}").json()
    assert status["status"] == "cancelled" and status["finished_at"] is not None
    assert [c["id"] for c in api.get("/campaigns", params={"status": "cancelled"}).json()["campaigns"]] == [cid]


def test_adding_accounts_to_a_running_campaign_queues_them(api, sessions):
    api.post("/accounts", {"accounts": owners("r", 3)})
    cid = api.post("/campaigns", {"name": "r", "accounts": ["r-0"], "start": True}).json()["id"]
    added = api.post(f"/campaigns/{cid}/accounts", {"accounts": ["r-0", "r-1", "r-2"]}).json()
    assert added["queued"] == 2 and added["campaign"]["counts"]["contacts"] == 3
    assert set(queued_attempts(sessions, cid)) == {"r-0", "r-1", "r-2"}


def test_template_and_variable_errors_are_named(api):
    api.post("/accounts", {"accounts": owners("t", 1)})
    typo = api.post("/campaigns", {"name": "x", "message": "{title}您好，请于{due_dat}前交费"})
    assert typo.status_code == 400 and "due_date" in typo.json()["fields"]["message"]
    missing = api.post("/notices", {"external_id": "n-missing", "accounts": ["t-0"],
                                    "deadline": "2030-01-01T00:00:00Z", "variables": {"reason": "检修"}})
    assert missing.status_code == 400 and "{start}" in missing.json()["fields"]["variables"]
    bad_when = api.post("/notices", {"external_id": "n-when", "accounts": ["t-0"], "deadline": "2030-01-01T00:00:00Z",
                                     "variables": {**OUTAGE, "start": "明天上午"}})
    assert "variables.start" in bad_when.json()["fields"]
    past = api.post("/notices", {"external_id": "n-past", "accounts": ["t-0"], "deadline": "2020-01-01T00:00:00Z",
                                 "variables": OUTAGE})
    assert past.json()["fields"] == {"deadline": "must be in the future"}
    naive = api.post("/notices", {"external_id": "n-naive", "accounts": ["t-0"], "deadline": "2030-01-01T00:00:00",
                                  "variables": OUTAGE})
    assert "deadline" in naive.json()["fields"]
    nowhere = api.post("/notices", {"external_id": "n-none", "area": "不存在小区", "deadline": "2030-01-01T00:00:00Z",
                                    "variables": OUTAGE})
    assert nowhere.json()["fields"] == {"area": "no accounts in this area"}
    unknown = api.post("/notices", {"external_id": "n-unk", "accounts": ["t-0", "nobody"],
                                    "deadline": "2030-01-01T00:00:00Z", "variables": OUTAGE})
    assert unknown.json()["fields"] == {"accounts[1]": "no account with this external id"}
    general = api.post("/notices", {"external_id": "n-gen", "kind": "notice", "accounts": ["t-0"],
                                    "deadline": "2030-01-01T00:00:00Z"})
    assert "template" in general.json()["fields"]


def test_a_notice_for_an_area_is_created_and_started_in_one_call(api, sessions):
    api.post("/accounts", {"accounts": owners("a", 3) + owners("b", 1, area="别的小区", first_number=13900000001)})
    api.post("/accounts", {"accounts": [{"external_id": "a-2", "building": "5栋"}]})
    made = api.post("/notices", {"external_id": "outage-1", "area": "幸福家园", "buildings": ["3栋"],
                                 "deadline": "2030-01-01T18:00:00+08:00", "variables": OUTAGE})
    assert made.status_code == 201, made.text
    notice = made.json()
    assert (notice["kind"], notice["status"], notice["template"]) == ("outage", "running", "outage-notice")
    assert notice["ends_at"] == "2030-01-01T10:00:00+00:00"
    assert notice["counts"]["contacts"] == 2 and notice["counts"]["attempts_queued"] == 2
    assert set(queued_attempts(sessions, notice["id"])) == {"a-0", "a-1"}
    assert api.get("/notices/outage-1").json()["id"] == notice["id"]
    assert api.get("/notices/outage-2").status_code == 404
    general = api.post("/notices", {"external_id": "water-fee-info", "kind": "notice", "accounts": ["b-0"],
                                    "message": "{title}您好，这里是{company}，本月起水费账单改为电子账单。",
                                    "deadline": "2030-01-01T18:00:00+08:00"}).json()
    assert general["kind"] == "notice" and general["message"].startswith("{title}")
    assert general["counts"]["attempts_queued"] == 1


def claimed_now(s) -> set[int]:
    """What the dialer's next claim takes (policy time inside the call windows)."""
    return {c.attempt_id for c in claim_due(s, BUSINESS_HOURS, limit=50, dialer_id="dialer-test",
                                            trunk_channels=50)}


def test_a_payment_stops_the_next_call(api, sessions):
    """Paid during a running campaign: the queued attempt is skipped, so the dialer's claim
    (queued → dialing) finds nothing to dial. Partly paid: the call still goes out."""
    api.post("/accounts", {"accounts": owners("p", 3)})
    cid = api.post("/campaigns", {"name": "p", "accounts": ["p-0", "p-1", "p-2"], "start": True}).json()["id"]
    attempts = queued_attempts(sessions, cid)
    paid = api.post("/payments", {"payments": [
        {"external_id": "bill-1", "account": "p-0", "paid_on": "2026-11-21"},
        {"external_id": "bill-2", "account": "p-1", "amount": "200.00", "paid_on": "2026-11-21"}]})
    assert paid.status_code == 200, paid.text
    full, part = paid.json()["payments"]
    assert (full["status"], full["account_paid"], full["attempts_skipped"]) == ("recorded", True, 1)
    assert (part["account_paid"], part["paid_amount"], part["attempts_skipped"]) == (False, "200.00", 0)
    with sessions() as s:
        claimed = claimed_now(s)
        assert attempts["p-0"].id not in claimed
        assert s.get(Attempt, attempts["p-0"].id).status == AttemptStatus.SKIPPED
        assert attempts["p-1"].id in claimed  # partly paid: still called
    account = api.get("/accounts/p-0").json()
    assert account["paid_at"] is not None and account["paid_amount"] == "1234.50"
    # the same payment reported again (by a billing system that lost the response): not twice
    again = api.post("/payments", {"payments": [{"external_id": "bill-1", "account": "p-0",
                                                 "paid_on": "2026-11-21"}]})
    assert again.json()["payments"][0]["status"] == "duplicate"
    counts = api.get(f"/campaigns/{cid}").json()["counts"]
    assert counts["accounts_paid"] == 1 and counts["stop_reasons"] == {"paid": 1}
    assert counts["amount_paid"] == "1434.50"


def test_an_opt_out_drops_queued_calls_to_that_number(api, sessions):
    api.post("/accounts", {"accounts": owners("o", 2)})
    cid = api.post("/campaigns", {"name": "o", "accounts": ["o-0", "o-1"], "start": True}).json()["id"]
    attempts = queued_attempts(sessions, cid)
    out = api.post("/opt-outs", {"numbers": ["+86 138-0000-0001"], "reason": "本人要求"}).json()
    assert out["opt_outs"] == [{"number": "13800000001", "created": True, "attempts_skipped": 1}]
    with sessions() as s:
        assert attempts["o-0"].id not in claimed_now(s)
    listed = api.get("/opt-outs").json()["opt_outs"]
    assert [(o["number"], o["reason"], o["source"]) for o in listed] == [("13800000001", "本人要求", "api")]
    assert api.post("/opt-outs", {"numbers": ["13800000001"]}).json()["opt_outs"][0]["created"] is False


def test_attempts_filtered_by_campaign_account_class_and_time_with_cursors(api, sessions):
    api.post("/accounts", {"accounts": owners("f", 4)})
    one = api.post("/campaigns", {"name": "one", "accounts": ["f-0", "f-1", "f-2"], "start": True}).json()["id"]
    two = api.post("/campaigns", {"name": "two", "accounts": ["f-3"], "start": True}).json()["id"]
    base = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
    with sessions() as s:  # settle them as the dialer would
        for i, attempt in enumerate(s.scalars(select(Attempt).where(Attempt.campaign_id == one).order_by(Attempt.id))):
            attempt.status, attempt.disposition = AttemptStatus.DONE, ["answered", "busy", "no_answer"][i]
            attempt.dialed_at, attempt.ended_at = base + timedelta(hours=i), base + timedelta(hours=i, minutes=1)
        s.scalar(select(Account).where(Account.external_id == "f-0")).account_class = "A"
        s.commit()
    all_one = api.get("/attempts", params={"campaign_id": one}).json()
    assert [a["account_external_id"] for a in all_one["attempts"]] == ["f-0", "f-1", "f-2"]
    assert all_one["attempts"][0]["disposition"] == "answered" and all_one["next_cursor"] is None
    assert [a["account_external_id"] for a in api.get("/attempts", params={"account": "f-3"}).json()["attempts"]] == ["f-3"]
    assert [a["account_external_id"] for a in api.get("/attempts", params={"class": "A"}).json()["attempts"]] == ["f-0"]
    window = api.get("/attempts", params={"since": "2026-11-21T11:00:00+08:00",
                                          "until": "2026-11-21T12:30:00+08:00"}).json()["attempts"]
    assert [a["disposition"] for a in window] == ["busy", "no_answer"]
    exclusive = api.get("/attempts", params={"since": "2026-11-21T11:01:00+08:00",
                                             "until": "2026-11-21T12:01:00+08:00"}).json()["attempts"]
    assert [a["disposition"] for a in exclusive] == ["busy"]  # since inclusive, until exclusive
    assert [a["campaign_id"] for a in api.get("/attempts", params={"status": "queued"}).json()["attempts"]] == [two]
    assert len(api.get("/attempts", params={"disposition": "busy"}).json()["attempts"]) == 1
    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = api.get("/attempts", params=params).json()
        seen += [a["id"] for a in page["attempts"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 4 and seen == sorted(seen)
    single = api.get(f"/attempts/{seen[0]}").json()
    assert single["number"] == "13800000001" and single["ended_at"] == "2026-11-21T02:01:00+00:00"
    assert api.get("/attempts/987654").status_code == 404


def test_starting_a_recurring_campaign_calls_nobody_until_its_first_run(api, sessions):
    """A rule set in the admin: starting it through the API arranges the runs, as the admin's
    Start button does; it queues no call itself, nor for accounts added later."""
    from ivr.storage import Campaign

    api.post("/accounts", {"accounts": owners("m", 2)})
    cid = api.post("/campaigns", {"name": "每月催缴", "accounts": ["m-0"]}).json()["id"]
    with sessions() as s:
        s.get(Campaign, cid).recurrence = "monthly:5@09:30"
        s.commit()
    started = api.post(f"/campaigns/{cid}/start").json()
    assert started["queued"] == 0 and started["campaign"]["status"] in ("running", "scheduled")
    assert api.post(f"/campaigns/{cid}/accounts", {"accounts": ["m-1"]}).json()["queued"] == 0
    assert queued_attempts(sessions, cid) == {}
    with sessions() as s:
        assert s.get(Campaign, cid).next_run_at is not None
