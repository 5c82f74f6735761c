"""Per-account history and actions, the lists to act on, reports, and the exports."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from admin.exports import safe
from ivr.policy.windows import local_today
from ivr.dialer import campaigns as lifecycle
from ivr.storage import Account, Attempt, AttemptStatus, AuditEntry, Campaign, DoNotCall, Payment

NOW = datetime.now(timezone.utc)


@pytest.fixture
def called(db, accounts, tmp_path):
    """A started campaign over the five accounts, its calls settled as the dialer would."""
    campaign = Campaign(name="十一月催缴", settings={})
    db.add(campaign)
    db.flush()
    lifecycle.add_accounts(db, campaign, accounts)
    lifecycle.start(db, campaign, NOW - timedelta(days=2), "clerk")
    db.flush()
    recording = tmp_path / "recordings" / "msg-1.wav"
    recording.parent.mkdir()
    recording.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 100)
    tomorrow, last_week = local_today() + timedelta(days=1), local_today() - timedelta(days=7)
    outcomes = {
        accounts[0]: dict(disposition="answered", dial_status="ANSWER", hangup_cause=16, stage="completed",
                          keys="1", key_log="1", choice="promise_3_days", promised_date=tomorrow),
        accounts[1]: dict(disposition="answered", dial_status="ANSWER", hangup_cause=16, stage="completed",
                          keys="2", key_log="2" + last_week.strftime("%m%d") + "#", choice="promise_date",
                          promised_date=last_week),
        accounts[2]: dict(disposition="unreachable", dial_status="CHANUNAVAIL", hangup_cause=1),
        accounts[3]: dict(disposition="answered", dial_status="ANSWER", hangup_cause=16, stage="completed",
                          keys="3", key_log="3", choice="already_paid"),
        accounts[4]: dict(disposition="answered", dial_status="ANSWER", hangup_cause=16, stage="completed",
                          keys="8", key_log="8#", choice="voice_message", voice_message=str(recording)),
    }
    for attempt in db.scalars(select(Attempt).where(Attempt.campaign_id == campaign.id)):
        attempt.status, attempt.dialed_at, attempt.ended_at = AttemptStatus.DONE, NOW - timedelta(hours=1), NOW
        attempt.message_text, attempt.operator = "张先生您好，这里是物业服务中心。", "clerk"
        for key, value in outcomes[attempt.account_id].items():
            setattr(attempt, key, value)
    first, second, third, fourth, fifth = (db.get(Account, a) for a in accounts)
    first.account_class, first.promised_date, first.promise_status = "A", tomorrow, "pending"
    second.account_class, second.promised_date, second.promise_status = "A", last_week, "broken"
    third.account_class = "C"
    third.phones[0].unreachable_at = NOW
    fourth.paid_claim_at = NOW
    fifth.account_class, fifth.complaint = "E", "电梯坏了三个月没人修"
    db.commit()
    return campaign


def test_the_lists_to_act_on(client_for, called, accounts):
    viewer = client_for("viewer")
    expected = {"tomorrow": "3栋2单元1501", "broken": "3栋2单元1502", "unreachable": "5栋1单元0301",
                "claims": "5栋1单元0302", "complaints": "7栋3单元1203"}
    for name, room in expected.items():
        page = viewer.get(f"/results/{name}").get_data(as_text=True)
        table = page[page.index('id="action-list"'):]
        assert room in table, name
        others = set(expected.values()) - {room}
        assert not any(other in table for other in others if name != "complaints"), name
    complaints = viewer.get("/results/complaints").get_data(as_text=True)
    assert "电梯坏了三个月没人修" in complaints and "/accounts/attempts/" in complaints
    home = viewer.get("/").get_data(as_text=True)
    assert re.search(r"明日承诺交费</a><span class=\"count \">1<", home)


def test_a_paid_claim_is_confirmed_or_rejected(client_for, called, accounts, post_form, db):
    operator = client_for("operator")
    response = post_form(operator, f"/results/claims/{accounts[3]}/reject", {"reason": "未查到"},
                         page="/results/claims", follow_redirects=True)
    assert "已驳回 5栋1单元0302" in response.get_data(as_text=True)
    db.expire_all()
    account = db.get(Account, accounts[3])
    assert account.paid_claim_at is None and "未查到" in account.note
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "account.claim_rejected")).actor == "clerk"


def test_account_history_shows_every_attempt(client_for, called, accounts):
    page = client_for("viewer").get(f"/accounts/{accounts[1]}").get_data(as_text=True)
    history = page[page.index('class="table history"'):]
    assert "十一月催缴" in history and "13800000002" in history and "已接听" in history
    assert "ANSWER" in history and "原因码 16" in history and "听完整条消息" in history
    assert "承诺交费日期" in history and "张先生您好，这里是物业服务中心。" in history


def test_voice_messages_play_only_from_the_recordings_folder(client_for, called, accounts, db):
    viewer = client_for("viewer")
    attempt = db.scalar(select(Attempt).where(Attempt.account_id == accounts[4]))
    page = viewer.get(f"/accounts/{accounts[4]}").get_data(as_text=True)
    assert f'<audio controls preload="none" src="/accounts/attempts/{attempt.id}/voice">' in page
    audio = viewer.get(f"/accounts/attempts/{attempt.id}/voice")
    assert audio.status_code == 200 and audio.mimetype == "audio/wav" and audio.data.startswith(b"RIFF")
    attempt.voice_message = "/etc/passwd"
    db.commit()
    assert viewer.get(f"/accounts/attempts/{attempt.id}/voice").status_code == 404
    attempt.voice_message = str(Path(attempt.voice_message).parent / ".." / "etc" / "shadow.wav")
    db.commit()
    assert viewer.get(f"/accounts/attempts/{attempt.id}/voice").status_code == 404


def test_mark_paid_class_note_and_phone_fixes(client_for, called, accounts, post_form, db):
    operator = client_for("operator")
    page = f"/accounts/{accounts[0]}"
    future = (local_today() + timedelta(days=3)).isoformat()
    refused = post_form(operator, f"{page}/paid", {"amount": "", "paid_on": future}, page=page, follow_redirects=True)
    assert "交费日期不能晚于今天" in refused.get_data(as_text=True)
    partial = post_form(operator, f"{page}/paid", {"amount": "200", "paid_on": ""}, page=page, follow_redirects=True)
    assert "已记录 3栋2单元1501 的部分交费" in partial.get_data(as_text=True)
    full = post_form(operator, f"{page}/paid", {"amount": "", "paid_on": ""}, page=page, follow_redirects=True)
    assert 'id="paid-state">已交费<' in full.get_data(as_text=True)
    db.expire_all()
    account = db.get(Account, accounts[0])
    assert account.paid_at is not None
    assert [p.source for p in db.scalars(select(Payment).where(Payment.account_id == account.id))] == ["admin", "admin"]

    # class A needs a date
    page2 = f"/accounts/{accounts[2]}"
    no_date = post_form(operator, f"{page2}/class", {"account_class": "A"}, page=page2, follow_redirects=True)
    assert "A 类需要填写业主承诺的交费日期" in no_date.get_data(as_text=True)
    post_form(operator, f"{page2}/class", {"account_class": "D"}, page=page2)
    post_form(operator, f"{page2}/note", {"note": "业主长期在外地，周末回来", "complaint": ""}, page=page2)
    # the dead number is replaced: the account can be called again
    third = db.get(Account, accounts[2])
    db.refresh(third)
    phone_id = third.phones[0].id
    fixed = post_form(operator, f"{page2}/phones", {"action": "replace", "phone_id": phone_id, "number": "139 0000 0003"},
                      page=page2, follow_redirects=True)
    assert "号码已保存：13900000003" in fixed.get_data(as_text=True)
    added = post_form(operator, f"{page2}/phones", {"action": "add", "number": "0571-87000000"}, page=page2)
    assert added.status_code == 302
    db.expire_all()
    third = db.get(Account, accounts[2])
    assert third.account_class == "D" and third.note == "业主长期在外地，周末回来"
    assert [(p.number, p.kind, p.unreachable_at) for p in third.phones] == [
        ("13900000003", "mobile", None), ("057187000000", "landline", None)]
    bad = post_form(operator, f"{page2}/phones", {"action": "add", "number": "12345"}, page=page2, follow_redirects=True)
    assert "不是有效的电话号码" in bad.get_data(as_text=True)
    changes = db.scalars(select(AuditEntry.action).where(AuditEntry.target == f"account:{accounts[2]}")).all()
    assert changes == ["account.class", "account.note", "account.phone", "account.phone"]


def test_opt_out_from_the_account_page(client_for, db, accounts, post_form):
    campaign = Campaign(name="x", settings={})
    db.add(campaign)
    db.flush()
    lifecycle.add_accounts(db, campaign, accounts[:2])
    lifecycle.start(db, campaign, NOW, "clerk")
    db.commit()
    account = db.get(Account, accounts[1])
    landline = next(p for p in account.phones if p.number == "02160000002")
    mobile = next(p for p in account.phones if p.number == "13800000002")
    operator = client_for("operator")
    page = f"/accounts/{accounts[1]}"
    post_form(operator, f"{page}/phones", {"action": "opt_out", "phone_id": mobile.id, "reason": "业主要求"}, page=page)
    assert db.scalar(select(DoNotCall).where(DoNotCall.number == "13800000002")).source == "staff"
    db.expire_all()
    assert db.scalar(select(Attempt.status).where(Attempt.number == "13800000002")) == AttemptStatus.SKIPPED
    assert "免打扰" in operator.get(page).get_data(as_text=True)
    assert landline.number == "02160000002"


def test_viewer_cannot_change_accounts(client_for, accounts, post_form, db):
    viewer = client_for("viewer")
    page = f"/accounts/{accounts[0]}"
    assert post_form(viewer, f"{page}/paid", {"amount": ""}, page=page).status_code == 403
    assert post_form(viewer, f"{page}/class", {"account_class": "E"}, page=page).status_code == 403
    assert "标记已交费" not in viewer.get(page).get_data(as_text=True)
    db.expire_all()
    assert db.get(Account, accounts[0]).paid_at is None


def test_report_figures_and_charts(client_for, called, accounts, db):
    lifecycle.mark_paid(db, db.get(Account, accounts[0]), amount=None, paid_on=local_today(), source="admin",
                        actor="clerk")
    db.commit()
    page = client_for("viewer").get(f"/reports/?campaign={called.id}").get_data(as_text=True)
    figure = lambda name: re.search(rf'id="{name}">([^<]+)<', page).group(1)  # noqa: E731
    assert figure("r-accounts") == "5"
    assert figure("r-reached") == "4"       # answered: 1501, 1502, 0302, 1203
    assert figure("r-promised") == "2"
    assert figure("r-paid-amount") == "¥1,234.50"
    assert figure("r-rate-now") == "20.0%"
    assert page.count('<svg class="chart"') == 4
    assert "未兑现" in page and "已兑现" in page and "收费率变化" in page
    groups = page[page.index('id="group-table"'):]
    assert re.search(r"<td>3栋</td><td class=\"num\">2</td>", groups)
    by_area = client_for("viewer").get(f"/reports/?campaign={called.id}&group=area").get_data(as_text=True)
    assert "<td>幸福家园</td>" in by_area and "<td>阳光小区</td>" in by_area


def test_exports_escape_formulas(client_for, db, accounts):
    account = db.get(Account, accounts[0])
    account.owner_name = '=HYPERLINK("x")'
    account.note = "+86 then -1 and @SUM(A1)"
    db.commit()
    viewer = client_for("viewer")
    response = viewer.get("/reports/export.csv?campaign=all")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["小区", "楼栋", "房号", "业主"]
    row = next(r for r in rows if r[2] == "3栋2单元1501")
    assert row[3] == "'=HYPERLINK(\"x\")" and row[-1] == "'+86 then -1 and @SUM(A1)"
    assert row[5] == "1234.50"                 # numbers stay numbers

    workbook = load_workbook(io.BytesIO(viewer.get("/reports/export.xlsx?campaign=all").data))
    sheet = workbook["账户"]
    cell = next(r[3] for r in sheet.iter_rows(min_row=2) if r[2].value == "3栋2单元1501")
    assert cell.value == "'=HYPERLINK(\"x\")" and cell.data_type == "s"
    amount = next(r[5] for r in sheet.iter_rows(min_row=2) if r[2].value == "3栋2单元1501")
    assert amount.value == 1234.5 and amount.data_type == "n"
    assert workbook["汇总"]["A2"].value == "合计"
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "export.report")).actor == "reader"


@pytest.mark.parametrize("value, out", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"),
                                        ("\t=1", "'\t=1"), ("＝1", "'＝1"), ("张伟", "张伟"), (12, 12), (None, None)])
def test_formula_escaping(value, out):
    assert safe(value) == out


def test_evidence_record(client_for, called, accounts, db):
    viewer = client_for("viewer")
    page = viewer.get(f"/accounts/{accounts[1]}/evidence").get_data(as_text=True)
    assert "<h1 class=\"center\">催缴记录</h1>" in page
    table = page[page.index("evidence-table"):]
    assert "13800000002" in table and "十一月催缴" in table and "clerk" in table and "ANSWER / Q.850 16" in table
    assert "张先生您好，这里是物业服务中心。" in table
    rows = list(csv.reader(io.StringIO(viewer.get(f"/accounts/{accounts[1]}/evidence?format=csv").data.decode("utf-8-sig"))))
    assert rows[0][0] == "时间（北京时间）" and rows[1][1] == "13800000002" and rows[1][3] == "clerk"
    workbook = load_workbook(io.BytesIO(viewer.get(f"/accounts/{accounts[1]}/evidence?format=xlsx").data))
    assert workbook["账户"]["B2"].value == "3栋2单元1502"
    assert workbook["联系记录"]["B2"].value == "13800000002"
    exported = db.scalars(select(AuditEntry.detail).where(AuditEntry.action == "export.evidence")).all()
    assert [d["format"] for d in exported] == ["html", "csv", "xlsx"]
