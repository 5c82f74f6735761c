"""The campaign wizard, listening to the message, the lifecycle buttons and the test call."""
from __future__ import annotations

import re
import wave
from datetime import datetime, time, timedelta, timezone
from io import BytesIO

import pytest
from sqlalchemy import func, select

from admin.campaigns import plan
from ivr.policy import CallWindows, RetryPolicy
from ivr.storage import (Account, Attempt, AttemptStatus, AuditEntry, Campaign, CampaignKind,
                         CampaignStatus, Contact)


def wizard_form(**over) -> dict:
    form = {"name": "十一月物业费催缴", "kind": "arrears", "lang": "zh", "template": "arrears-first",
            "message": "", "var_company": "幸福家园物业服务中心", "var_hotline": "4008001234",
            "start_mode": "now", "weekday_0_start": "09:30", "weekday_0_end": "12:00",
            "weekday_1_start": "15:00", "weekday_1_end": "18:00", "weekend_0_start": "10:30",
            "weekend_0_end": "12:00", "retry_no_answer": "30", "retry_busy": "10", "retry_failed": "60",
            "retry_machine": "120", "retry_max_attempts_per_day": "3", "retry_max_attempts_total": "10",
            "retry_failed_before_unreachable": "3", "retry_max_answered_per_day": "1",
            "caps_concurrency": "8", "caps_calls_per_second": "2", "caps_daily_limit": "0", "trunk": "carrier"}
    form.update(over)
    return form


@pytest.fixture
def create(post_form):
    def run(client, **over):
        return post_form(client, "/campaigns/new", wizard_form(**over), page="/campaigns/new")
    return run


def campaign_id(response) -> int:
    return int(response.location.rstrip("/").split("/")[-1])


def test_a_campaign_is_saved_as_a_draft_with_its_accounts(client_for, create, accounts, db):
    operator = client_for("operator")
    response = create(operator, buildings=["3栋", "5栋"], min_months="2")
    assert response.status_code == 302
    campaign = db.get(Campaign, campaign_id(response))
    assert campaign.status == CampaignStatus.DRAFT and campaign.template == "arrears-first"
    assert campaign.message is None                     # the shipped text, not a copy
    st = campaign.settings
    assert st["filter"] == {"buildings": ["3栋", "5栋"], "areas": [], "min_months": 2, "classes": []}
    assert st["variables"] == {"company": "幸福家园物业服务中心", "hotline": "4008001234"}
    assert st["windows"]["weekday"] == [["09:30", "12:00"], ["15:00", "18:00"]]
    assert st["caps"]["concurrency"] == 8 and st["retry"]["no_answer"] == 30
    rooms = set(db.scalars(select(Account.room).join(Contact, Contact.account_id == Account.id)
                           .where(Contact.campaign_id == campaign.id)))
    assert rooms == {"3栋2单元1501", "3栋2单元1502", "5栋1单元0301"}   # 0302 owes 1 month only
    page = operator.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "张先生您好，这里是幸福家园物业服务中心" in page and "一千二百三十四元五角" in page
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "campaign.create")).detail["contacts"] == 3


def test_settings_become_the_dialers_policy_objects(client_for, create, accounts, db):
    response = create(client_for("operator"), call_on_holidays="y", retry_no_answer="45")
    campaign = db.get(Campaign, campaign_id(response))
    windows = plan.windows_of(campaign.settings)
    assert isinstance(windows, CallWindows) and windows.call_on_holidays
    assert windows.weekday == ((time(9, 30), time(12)), (time(15), time(18)))
    assert windows.weekend == ((time(10, 30), time(12)),)
    retry = plan.retry_policy_of(campaign.settings)
    assert isinstance(retry, RetryPolicy) and retry.no_answer == timedelta(minutes=45)


def test_paid_accounts_are_left_out_of_reminders_but_not_out_of_outage_notices(client_for, create, accounts, db):
    db.get(Account, accounts[0]).paid_at = datetime.now(timezone.utc)
    db.commit()
    operator = client_for("operator")
    reminder = db.get(Campaign, campaign_id(create(operator)))
    outage = db.get(Campaign, campaign_id(create(
        operator, kind="outage", template="outage-notice", var_reason="管道维修",
        var_start="2026-12-01 09:00", var_end="2026-12-01 17:00", areas=["幸福家园"])))
    count = lambda c: db.scalar(select(func.count()).where(Contact.campaign_id == c.id))  # noqa: E731
    assert count(reminder) == 4 and count(outage) == 4   # outage: the 幸福家园 estate, paid or not
    text = client_for("viewer").get(f"/campaigns/{outage.id}").get_data(as_text=True)
    assert "因管道维修" in text and "上午九点至下午五点" in text


@pytest.mark.parametrize("over, field, message", [
    ({"template": "custom", "message": "{title}您好，您欠费{amout}。"}, "message", "未知变量 {amout}，是否应为 {amount}？"),
    ({"template": "custom", "message": "您好{room，请交费"}, "message", "有多余的花括号"),
    ({"kind": "outage", "template": "outage-notice"}, "var_reason", "消息需要此项"),
    ({"kind": "outage", "template": "outage-notice", "var_reason": "检修", "var_start": "明天早上",
      "var_end": "2026-12-01 17:00"}, "var_start", "无法朗读"),
    ({"weekday_0_start": "12:00", "weekday_0_end": "09:00"}, "weekday_0_start", "开始须早于结束"),
    ({"weekday_0_start": "21:30", "weekday_0_end": "23:00", "weekday_1_start": "", "weekday_1_end": "",
      "weekend_0_start": "06:00", "weekend_0_end": "07:30"}, "weekday_0_start", "08:00–21:00"),
    ({"retry_no_answer": "abc"}, "retry_no_answer", "请输入 5 到 1440 之间的整数"),
    ({"name": ""}, "name", "便于识别的名称"),
    ({"trunk": "someone-elses"}, "trunk", "中继线路"),
    ({"start_mode": "at", "start_at": "2020-01-01T09:00"}, "start_at", "开始时间已过"),
])
def test_wizard_mistakes_are_reported_on_their_field(client_for, create, accounts, db, over, field, message):
    response = create(client_for("operator"), **over)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page, page[:3000]
    assert "请修改标出的项目" in page
    assert db.scalar(select(func.count()).select_from(Campaign)) == 0


def test_listening_to_the_message_gives_a_wav(client_for, post_form, accounts, app):
    operator = client_for("operator")
    response = post_form(operator, "/campaigns/preview", wizard_form(buildings=["7栋"]), page="/campaigns/new")
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    assert data["account"] == "7栋3单元1203 陈静"
    assert data["text"].startswith("陈女士您好，这里是幸福家园物业服务中心")
    audio = operator.get(data["audio"])
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    with wave.open(BytesIO(audio.data)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() / 8000 > 5          # a whole sentence, not a click
    # a message with a mistake answers with the reason, not audio
    bad = post_form(operator, "/campaigns/preview", wizard_form(template="custom", message="{amout}"),
                    page="/campaigns/new")
    assert bad.status_code == 422 and "未知变量" in bad.get_json()["error"]
    # the audio route serves only cache files
    assert operator.get("/campaigns/audio/..%2F..%2Fetc/passwd").status_code == 404
    assert operator.get("/campaigns/audio/zz/x.wav").status_code == 404
    # viewers may listen to saved campaigns but not run the wizard's preview
    assert post_form(client_for("viewer"), "/campaigns/preview", wizard_form(), page="/").status_code == 403


def test_a_saved_campaign_plays_for_a_chosen_account(client_for, create, accounts, db):
    operator = client_for("operator")
    cid = campaign_id(create(operator))
    page = operator.get(f"/campaigns/{cid}?account={accounts[4]}").get_data(as_text=True)
    assert "7栋3单元1203 陈静 将听到" in page and "陈女士您好" in page
    audio = operator.get(f"/campaigns/{cid}/preview.wav?account={accounts[4]}", follow_redirects=True)
    assert audio.status_code == 200 and audio.data[:4] == b"RIFF" and len(audio.data) > 40_000


def test_start_pause_resume_cancel(client_for, create, post_form, accounts, db):
    operator = client_for("operator")
    cid = campaign_id(create(operator))
    started = post_form(operator, f"/campaigns/{cid}/start", page=f"/campaigns/{cid}")
    assert started.status_code == 303 and started.location == f"/live/{cid}"
    campaign = db.get(Campaign, cid)
    assert campaign.status == CampaignStatus.RUNNING and campaign.started_at is not None
    attempts = db.scalars(select(Attempt).where(Attempt.campaign_id == cid)).all()
    assert len(attempts) == 5 and {a.status for a in attempts} == {AttemptStatus.QUEUED}
    assert {a.operator for a in attempts} == {"clerk"}
    assert {a.number for a in attempts if a.account_id == accounts[1]} == {"13800000002"}  # first number

    post_form(operator, f"/campaigns/{cid}/pause", page=f"/campaigns/{cid}")
    db.expire_all()
    assert db.get(Campaign, cid).status == CampaignStatus.PAUSED
    post_form(operator, f"/campaigns/{cid}/resume", page=f"/campaigns/{cid}")
    db.expire_all()
    assert db.get(Campaign, cid).status == CampaignStatus.RUNNING
    post_form(operator, f"/campaigns/{cid}/cancel", page=f"/campaigns/{cid}")
    db.expire_all()
    assert db.get(Campaign, cid).status == CampaignStatus.CANCELLED
    assert {a.status for a in db.scalars(select(Attempt).where(Attempt.campaign_id == cid))} == {AttemptStatus.SKIPPED}

    again = post_form(operator, f"/campaigns/{cid}/start", page=f"/campaigns/{cid}", follow_redirects=True)
    assert "不能执行该操作" in again.get_data(as_text=True)
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.target == f"campaign:{cid}")
                         .order_by(AuditEntry.id)).all()
    assert actions == ["campaign.create", "campaign.running", "campaign.paused", "campaign.running",
                       "campaign.cancelled"]
    assert {e.ip for e in db.scalars(select(AuditEntry).where(AuditEntry.target == f"campaign:{cid}"))} == {"127.0.0.1"}
    # only drafts are edited
    assert operator.get(f"/campaigns/{cid}/edit").status_code == 302


def test_a_campaign_with_a_start_time_is_scheduled(client_for, create, post_form, accounts, db):
    operator = client_for("operator")
    day = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=2)).date()
    cid = campaign_id(create(operator, start_mode="at", start_at=f"{day.isoformat()}T09:30"))
    # 09:30 Beijing time is 01:30 UTC, on both stores
    expected = datetime(day.year, day.month, day.day, 1, 30, tzinfo=timezone.utc)
    assert db.get(Campaign, cid).start_at.replace(tzinfo=timezone.utc) == expected
    assert f'value="{day.isoformat()}T09:30"' in operator.get(f"/campaigns/{cid}/edit").get_data(as_text=True)
    page = post_form(operator, f"/campaigns/{cid}/start", page=f"/campaigns/{cid}", follow_redirects=True)
    assert "已排期" in page.get_data(as_text=True)
    db.expire_all()
    campaign = db.get(Campaign, cid)
    assert campaign.status == CampaignStatus.SCHEDULED
    due = db.scalars(select(Attempt.scheduled_at).where(Attempt.campaign_id == cid)).all()
    assert len(due) == 5 and {d.replace(tzinfo=timezone.utc) for d in due} == {expected}


def test_editing_a_draft_changes_its_accounts(client_for, create, post_form, accounts, db):
    operator = client_for("operator")
    cid = campaign_id(create(operator, buildings=["3栋"]))
    assert db.scalar(select(func.count()).where(Contact.campaign_id == cid)) == 2
    form = operator.get(f"/campaigns/{cid}/edit").get_data(as_text=True)
    assert 'value="3栋" checked' in form
    response = post_form(operator, f"/campaigns/{cid}/edit", wizard_form(name="改名", buildings=["7栋"]),
                         page=f"/campaigns/{cid}/edit")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Campaign, cid).name == "改名"
    assert db.scalars(select(Contact.account_id).where(Contact.campaign_id == cid)).all() == [accounts[4]]


def test_a_test_call_is_queued_for_the_staff_members_own_phone(client_for, create, post_form, accounts, db):
    operator = client_for("operator")
    cid = campaign_id(create(operator))
    page = operator.get(f"/campaigns/{cid}").get_data(as_text=True)
    assert 'value="13900000000"' in page           # the user's own number is offered
    response = post_form(operator, f"/campaigns/{cid}/test-call", {"number": "13900000000"},
                         page=f"/campaigns/{cid}", follow_redirects=True)
    assert "已向 13900000000 发起测试呼叫申请" in response.get_data(as_text=True)
    test = db.scalar(select(Campaign).where(Campaign.name == "test call"))
    assert test.status == CampaignStatus.RUNNING and test.kind == CampaignKind.NOTICE
    (attempt,) = db.scalars(select(Attempt).where(Attempt.campaign_id == test.id)).all()
    assert attempt.status == AttemptStatus.QUEUED and attempt.number == "13900000000"
    assert attempt.operator == "clerk" and attempt.message_stage == "test"
    assert attempt.message_text.startswith("张先生您好，这里是幸福家园物业服务中心")
    # the source campaign is untouched and the staff account is no owner
    assert db.get(Campaign, cid).status == CampaignStatus.DRAFT
    assert "员工测试" not in operator.get("/accounts/").get_data(as_text=True)
    assert "test call" not in operator.get("/campaigns/").get_data(as_text=True)
    # a second test call reuses the test campaign
    post_form(operator, f"/campaigns/{cid}/test-call", {"number": "13900000000"}, page=f"/campaigns/{cid}")
    assert db.scalar(select(func.count()).select_from(Campaign).where(Campaign.name == "test call")) == 1
    assert db.scalar(select(func.count()).where(Attempt.campaign_id == test.id)) == 2
    bad = post_form(operator, f"/campaigns/{cid}/test-call", {"number": "12345"}, page=f"/campaigns/{cid}",
                    follow_redirects=True)
    assert "不是有效的电话号码" in bad.get_data(as_text=True)


def test_missing_values_are_flagged_before_starting(client_for, create, accounts, db):
    db.get(Account, accounts[0]).due_date = None
    db.commit()
    operator = client_for("operator")
    cid = campaign_id(create(operator))
    page = operator.get(f"/campaigns/{cid}").get_data(as_text=True)
    assert "部分账户缺少消息所需的数据" in page and re.search(r"\{due_date\}</code> 1 户", page)


def test_global_stop_switch(client_for, post_form, db):
    admin = client_for("admin")
    post_form(admin, "/settings/", {"what": "dialing", "stop": "1"}, page="/settings/")
    from ivr.dialer import campaigns as lifecycle
    assert lifecycle.dialing_stopped(db)
    assert "全部外呼已停止" in client_for("viewer").get("/live/").get_data(as_text=True)
    post_form(admin, "/settings/", {"what": "dialing", "stop": "0"}, page="/settings/")
    db.expire_all()
    assert not lifecycle.dialing_stopped(db)


def test_site_settings_feed_the_wizard(client_for, post_form):
    admin = client_for("admin")
    post_form(admin, "/settings/", {"what": "site", "trunks": "carrier, backup-1", "company": "阳光水务",
                                    "hotline": "96116", "channel": ""}, page="/settings/")
    form = client_for("operator").get("/campaigns/new").get_data(as_text=True)
    assert 'value="阳光水务"' in form and re.search(r"<option\s*>backup-1</option>", form)
