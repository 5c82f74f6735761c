"""Accounts in bulk by external id, with phones and amounts; input safety: injection strings
in phone fields refused with 400 (nothing stored, nothing queued), errors naming fields,
size limits."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from admin.api.phones import PhoneError, normalise
from ivr.storage import Account, Attempt, DoNotCall, Phone

from .conftest import make_app, owners, serving, Api

INJECTIONS = ["13800000001&PJSIP/evil", "1;System(rm -rf /)", "13800000001\r\nAction: Originate",
              "13800000001\n", "138${EXTEN}", "13800000001,,9", "13800000001@carrier", "Local/1@ivr-dial",
              "１３８００００００01", "13800000001 & 1", "\u0000"]


@pytest.mark.parametrize("raw", INJECTIONS)
def test_injection_strings_are_not_phone_numbers(raw):
    with pytest.raises(PhoneError):
        normalise(raw)


@pytest.mark.parametrize("raw,digits,kind", [
    ("13800000001", "13800000001", "mobile"), ("+86 138 0000 0001", "13800000001", "mobile"),
    ("0086-138-0000-0001", "13800000001", "mobile"), ("021-6000 0001", "02160000001", "landline"),
    ("(010) 6000 0001", "01060000001", "landline"), ("0755-8888 8888", "075588888888", "landline")])
def test_chinese_numbers_are_normalised_to_digits(raw, digits, kind):
    assert normalise(raw) == (digits, kind)


@pytest.mark.parametrize("raw", ["4008001234", "95588", "12345", "+1 650 253 0000", "+852 2123 4567",
                                 "138000000011", "14000000000"])
def test_numbers_that_are_not_callable_chinese_numbers_are_refused(raw):
    with pytest.raises(PhoneError):
        normalise(raw)


def test_bulk_upsert_creates_then_updates_by_external_id(api, sessions):
    made = api.post("/accounts", {"accounts": owners("u", 3)})
    assert made.status_code == 200 and made.json()["created"] == 3
    update = {"accounts": [
        {"external_id": "u-0", "amount_owed": "99.90", "phones": ["+86 139 0000 0001", "021-6000 0001",
                                                                 "13900000001"]},
        {"external_id": "u-9", "room": "5栋101", "area": "幸福家园", "phones": []}]}
    changed = api.post("/accounts", update).json()
    assert (changed["created"], changed["updated"]) == (1, 1)
    assert [a["created"] for a in changed["accounts"]] == [False, True]
    acc = api.get("/accounts/u-0").json()
    assert acc["amount_owed"] == "99.90" and acc["months_owed"] == 3 and acc["room"] == "3栋2单元1500"
    assert [(p["number"], p["kind"]) for p in acc["phones"]] == [("13900000001", "mobile"),
                                                              ("02160000001", "landline")]
    assert api.get("/accounts/u-9").json()["phones"] == []
    # clearing with null, leaving out leaves alone
    assert api.post("/accounts", {"accounts": [{"external_id": "u-0", "amount_owed": None}]}).status_code == 200
    acc = api.get("/accounts/u-0").json()
    assert acc["amount_owed"] is None and len(acc["phones"]) == 2
    listed = api.get("/accounts", params={"area": "幸福家园", "limit": 2}).json()
    assert [a["external_id"] for a in listed["accounts"]] == ["u-0", "u-1"]
    rest = api.get("/accounts", params={"area": "幸福家园", "limit": 2, "cursor": listed["next_cursor"]}).json()
    assert [a["external_id"] for a in rest["accounts"]] == ["u-2", "u-9"] and rest["next_cursor"] is None


def test_phone_state_survives_an_update(api, sessions):
    api.post("/accounts", {"accounts": owners("ps", 1)})
    with sessions() as s:
        phone = s.scalar(select(Phone).where(Phone.number == "13800000001"))
        from ivr.storage import utcnow
        phone.unreachable_at = utcnow()
        s.commit()
    api.post("/accounts", {"accounts": [{"external_id": "ps-0", "phones": ["13900000009", "13800000001"]}]})
    phones = api.get("/accounts/ps-0").json()["phones"]
    assert [(p["number"], p["unreachable"]) for p in phones] == [("13900000009", False), ("13800000001", True)]


@pytest.mark.parametrize("raw", INJECTIONS[:4])
def test_injection_in_a_phone_field_is_400_and_nothing_is_stored(api, sessions, raw):
    body = {"accounts": owners("inj", 2)}
    body["accounts"][1]["phones"] = ["13900000002", raw]
    refused = api.post("/accounts", body)
    assert refused.status_code == 400
    assert "accounts[1].phones[1]" in refused.json()["fields"]
    optout = api.post("/opt-outs", {"numbers": ["13900000002", raw]})
    assert optout.status_code == 400 and "numbers[1]" in optout.json()["fields"]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Account)) == 0
        assert s.scalar(select(func.count()).select_from(DoNotCall)) == 0
        assert s.scalar(select(func.count()).select_from(Attempt)) == 0


def test_caller_id_only_from_the_allowlist(api, sessions):
    from admin.api.campaigns import set_caller_id_allowlist

    with sessions() as s:
        set_caller_id_allowlist(s, ["02160000000"], actor="admin")
        s.commit()
    assert api.post("/campaigns", {"name": "a", "caller_id": "02160000000"}).status_code == 201
    for bad in ("02160000009", "0216000000;1", "02160000000&PJSIP/x", "95588\n"):
        refused = api.post("/campaigns", {"name": "b", "caller_id": bad})
        assert refused.status_code == 400 and "caller_id" in refused.json()["fields"], bad


def test_errors_name_the_fields(api):
    bad = api.post("/accounts", {"accounts": [
        {"external_id": "ok-1", "amount_owed": 12.5, "due_date": "30/11/2026", "months_owed": -1,
         "colour": "red"},
        {"room": "x" * 65},
        {"external_id": "ok-1"}]})
    assert bad.status_code == 400
    fields = bad.json()["fields"]
    assert set(fields) >= {"accounts[0].amount_owed", "accounts[0].due_date", "accounts[0].months_owed",
                           "accounts[0].colour", "accounts[1].external_id", "accounts[1].room"}
    assert fields["accounts[1].external_id"] == "is required"
    assert "1234.50" in fields["accounts[0].amount_owed"] or "string" in fields["accounts[0].amount_owed"]
    dup = api.post("/accounts", {"accounts": [{"external_id": "d"}, {"external_id": "d"}]})
    assert dup.json()["fields"] == {"accounts[1].external_id": "repeats accounts[0]"}
    assert api.post("/accounts", {"accounts": []}).json()["fields"] == {"accounts": "must have at least 1 item(s)"}
    assert api.get("/attempts", params={"limit": "many"}).json()["fields"] == {"limit": "must be a whole number"}
    assert "cursor" in api.get("/attempts", params={"cursor": "bogus"}).json()["fields"]
    typo = api.get("/attempts", params={"campain_id": 3})  # not silently "all attempts"
    assert typo.status_code == 400 and typo.json()["fields"] == {"campain_id": "unknown query parameter"}


def test_body_must_be_json_and_not_too_large(db_url, keys):
    app = make_app(db_url)
    app.config["API_MAX_BODY"] = 20_000

    @app.errorhandler(413)  # the staff admin has HTML error pages like this one
    def html_page(_err):
        return "<h1>File too large</h1>", 413

    with serving(app) as url:
        api = Api(url, keys["write"])
        try:
            h = api.headers(idem="k-1")
            garbled = api.http.post("/accounts", content=b'{"accounts": [', headers={**h, "Content-Type": "application/json"})
            assert garbled.status_code == 400 and garbled.json()["error"] == "invalid_request"
            deep = api.http.post("/accounts", content=b"[" * 5000 + b"]" * 5000,
                                 headers={**h, "Content-Type": "application/json"})
            assert deep.status_code == 400 and deep.json()["fields"] == {"body": "nested too deeply"}
            form = api.http.post("/accounts", content=b"accounts=1", headers={**h, "Content-Type": "text/plain"})
            assert form.status_code == 415
            huge = api.post("/accounts", {"accounts": owners("big", 200)})
            assert huge.status_code == 413 and huge.json()["error"] == "too_large"
            assert api.get("/accounts/big-0").status_code == 404
        finally:
            api.close()


def test_unknown_paths_and_methods_answer_in_json(api):
    missing = api.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = api.http.put("/accounts", headers=api.headers())
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, POST"
    assert api.get("/campaigns/99999999999").status_code == 404
    assert api.get("/accounts/..%2F..").status_code == 404
