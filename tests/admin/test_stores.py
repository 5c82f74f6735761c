"""The admin's database work on both supported stores (SQLite and PostgreSQL, via the db_url
fixture of tests/conftest.py): import, campaign, calls, payments, lists, report and export."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from ivr.policy.windows import local_today
from admin.db import sessions as app_sessions
from ivr.storage import Account, Attempt, AttemptStatus, AuditEntry, Campaign, CampaignStatus, Contact


@pytest.fixture
def store_app(db_url, tmp_path, helpers):
    app = helpers.make_app(db_url, tmp_path)
    for name, role in (("boss", "admin"), ("clerk", "operator")):
        helpers.add_user(app, name, role)
    yield app
    app.extensions["ivr_engine"].dispose()


def test_the_admin_on_both_stores(store_app, helpers, sheets, db_url):
    client = store_app.test_client()
    helpers.login(client, "clerk")

    def post(path, data=None, page="/", **kw):
        return client.post(path, data={**(data or {}), "csrf_token": helpers.token(client, page)}, **kw)

    # import (GBK CSV, duplicate rows merged)
    rows = [sheets.header,
            ["3栋2单元1501", "张伟", "先生", "13800000001", "1234.50", "3", "2026-12-31"],
            ["3栋2单元1501", "张伟", "先生", "13900000001", "1234.50", "3", "2026-12-31"],
            ["5栋1单元0301", "王芳", "女士", "13800000003", "2400", "6", "2026-12-31"]]
    response = post("/imports/", {"kind": "accounts", "file": (io.BytesIO(sheets.csv(rows, "gbk")), "a.csv")},
                    page="/imports/", content_type="multipart/form-data", follow_redirects=True)
    token = helpers.preview_token(response)
    assert post(f"/imports/{token}/save", page=f"/imports/{token}").status_code == 302

    # a campaign, started
    response = post("/campaigns/new", {"name": "催缴", "kind": "arrears", "lang": "zh", "template": "arrears-first",
                                       "var_company": "物业", "weekday_0_start": "09:30", "weekday_0_end": "12:00",
                                       "trunk": "carrier"}, page="/campaigns/new")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    cid = int(response.location.rsplit("/", 1)[-1])
    assert post(f"/campaigns/{cid}/start", page=f"/campaigns/{cid}").status_code == 303

    sessions = app_sessions(store_app)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Account)) == 2
        attempts = s.scalars(select(Attempt).where(Attempt.campaign_id == cid).order_by(Attempt.id)).all()
        assert len(attempts) == 2 and s.get(Campaign, cid).status == CampaignStatus.RUNNING
        first, second = attempts
        first.status, first.disposition, first.choice = AttemptStatus.DONE, "answered", "promise_date"
        first.promised_date = local_today() + timedelta(days=1)
        first.dialed_at = first.ended_at = datetime.now(timezone.utc)
        second.status, second.disposition = AttemptStatus.DONE, "unreachable"
        second.dialed_at = second.ended_at = datetime.now(timezone.utc)
        promised = s.get(Account, first.account_id)
        promised.account_class, promised.promised_date = "A", first.promised_date
        s.commit()
        paid_id, zhang_id = second.account_id, first.account_id

    # the live view's JSON, the lists, marking paid
    state = client.get(f"/live/{cid}/state.json").get_json()
    assert state["done"] == 2 and state["remaining"] == 0 and state["promised"] == 1
    assert {o["code"]: o["count"] for o in state["outcomes"]} == {"answered": 1, "unreachable": 1}
    assert "3栋2单元1501" in client.get("/results/tomorrow").get_data(as_text=True)
    assert post(f"/accounts/{paid_id}/paid", {"amount": "", "paid_on": ""}, page=f"/accounts/{paid_id}").status_code == 302

    # report and export
    page = client.get(f"/reports/?campaign={cid}").get_data(as_text=True)
    assert 'id="r-accounts">2<' in page and 'id="r-promised">1<' in page and 'id="r-rate-now">50.0%<' in page
    export = list(csv.reader(io.StringIO(client.get(f"/reports/export.csv?campaign={cid}").data.decode("utf-8-sig"))))
    assert len(export) == 3 and {r[2] for r in export[1:]} == {"3栋2单元1501", "5栋1单元0301"}
    history = client.get(f"/accounts/{zhang_id}").get_data(as_text=True)
    assert "13800000001" in history and "13900000001" in history and "已接听" in history
    with sessions() as s:
        actions = set(s.scalars(select(AuditEntry.action)))
        assert {"login", "import.accounts", "campaign.create", "campaign.running", "account.paid",
                "export.report"} <= actions
        assert s.scalar(select(func.count()).select_from(Contact).where(Contact.campaign_id == cid)) == 2
