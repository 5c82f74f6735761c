"""A recurring campaign in the admin: starting it calls nobody, its page shows the rule in words,
the next run and the runs the dialer's sweep started, each a link to its own page."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from admin.scope import TEST_ACCOUNT_PREFIX
from ivr.dialer import recurrence
from ivr.policy.windows import SHANGHAI
from ivr.storage import Account, Attempt, AuditEntry, Campaign, CampaignStatus, Contact


def wizard_form(**over) -> dict:
    form = {"name": "十一月物业费催缴", "kind": "arrears", "lang": "zh", "template": "arrears-first",
            "message": "", "var_company": "幸福家园物业服务中心", "var_hotline": "4008001234",
            "start_mode": "now", "weekday_0_start": "09:30", "weekday_0_end": "12:00",
            "weekend_0_start": "10:30", "weekend_0_end": "12:00", "trunk": "carrier"}
    return {**form, **over}


def campaign_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.location.rstrip("/").split("/")[-1])


def test_the_dialer_and_the_admin_agree_on_test_accounts():
    assert recurrence.STAFF_TEST_PREFIX == TEST_ACCOUNT_PREFIX


def test_a_recurring_campaign_starts_runs_and_its_page_lists_them(client_for, post_form, accounts, db):
    operator = client_for("operator")
    created = post_form(operator, "/campaigns/new", wizard_form(
        name="每月5日催缴", buildings=["3栋"], recurrence="monthly", recurrence_day="5",
        recurrence_time="09:30"), page="/campaigns/new")
    cid = campaign_id(created)
    assert db.get(Campaign, cid).recurrence == "monthly:5@09:30"

    started = post_form(operator, f"/campaigns/{cid}/start", page=f"/campaigns/{cid}")
    assert started.status_code == 303 and started.location == f"/campaigns/{cid}"   # no live view
    db.expire_all()
    parent = db.get(Campaign, cid)
    assert parent.status == CampaignStatus.RUNNING
    assert db.scalar(select(Attempt.id).where(Attempt.campaign_id == cid)) is None   # nobody called now
    first = parent.next_run_at.astimezone(SHANGHAI)
    assert (first.day, first.strftime("%H:%M")) == (5, "09:30")

    page = operator.get(f"/campaigns/{cid}").get_data(as_text=True)
    assert "每月5日 09:30" in page and first.strftime("%Y-%m-%d 09:30") in page
    assert "还没有批次" in page

    # the dialer's sweep at the occurrence; an owner in 3栋 paid meanwhile
    db.get(Account, accounts[0]).paid_at = parent.next_run_at - timedelta(days=1)
    db.commit()
    [run_id] = recurrence.start_due_runs(db, parent.next_run_at + timedelta(seconds=3))
    run = db.get(Campaign, run_id)
    rooms = set(db.scalars(select(Account.room).join(Contact, Contact.account_id == Account.id)
                           .where(Contact.campaign_id == run_id)))
    assert rooms == {"3栋2单元1502"}

    page = operator.get(f"/campaigns/{cid}").get_data(as_text=True)
    assert f'href="/campaigns/{run_id}"' in page and run.name in page
    assert run.name == f"每月5日催缴 {first.date().isoformat()}"
    run_page = operator.get(f"/campaigns/{run_id}").get_data(as_text=True)
    assert "本批次属于" in run_page and f'href="/campaigns/{cid}"' in run_page

    english = operator.get(f"/campaigns/{cid}?lang=en").get_data(as_text=True)
    assert "Day 5 of every month at 09:30" in english and "Runs" in english
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.target == f"campaign:{cid}")
                         .order_by(AuditEntry.id)).all()
    assert actions == ["campaign.create", "campaign.running", "campaign.run_started"]


def test_a_bad_day_is_refused_by_the_wizard(client_for, post_form, accounts):
    response = post_form(client_for("operator"), "/campaigns/new", wizard_form(
        recurrence="monthly", recurrence_day="31", recurrence_time="09:30"), page="/campaigns/new")
    assert response.status_code == 400
