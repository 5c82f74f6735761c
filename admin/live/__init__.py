"""The live view: calls in progress, done and remaining, outcomes so far and the latest
attempts, refreshed from the database every two seconds by /live/<id>/state.json (the page
works without JavaScript too; it then shows the state at load time)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, render_template, url_for
from flask_babel import format_datetime
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.db import db
from admin.i18n import short_when
from admin.labels import ATTEMPT_STATUSES, CAMPAIGN_STATUSES, DISPOSITIONS, DISPOSITION_TONE, CHOICES, label
from admin.scope import TEST_CAMPAIGN_NAME, campaign_scope, visible_campaign
from admin.security import require
from ivr.dialer import campaigns as lifecycle
from ivr.storage import Account, Attempt, AttemptStatus, Campaign, CampaignStatus, Contact

bp = Blueprint("live", __name__, url_prefix="/live")

LATEST = 15


def state(s: Session, campaign: Campaign) -> dict:
    by_status = dict(s.execute(select(Attempt.status, func.count()).where(Attempt.campaign_id == campaign.id)
                               .group_by(Attempt.status)).all())
    counts = {st.value: by_status.get(st, 0) for st in AttemptStatus}
    outcomes = s.execute(select(Attempt.disposition, func.count())
                         .where(Attempt.campaign_id == campaign.id, Attempt.disposition.is_not(None))
                         .group_by(Attempt.disposition).order_by(func.count().desc())).all()
    contacts = s.scalar(select(func.count()).where(Contact.campaign_id == campaign.id)) or 0
    promised = s.scalar(select(func.count()).where(Attempt.campaign_id == campaign.id,
                                                   Attempt.promised_date.is_not(None))) or 0
    awaiting = s.scalar(select(func.count()).select_from(
        lifecycle.awaiting_owners(campaign.id).subquery())) or 0
    latest = s.execute(select(Attempt, Account.room, Account.owner_name)
                       .join(Account, Attempt.account_id == Account.id)
                       .where(Attempt.campaign_id == campaign.id, Attempt.status != AttemptStatus.QUEUED)
                       .order_by(func.coalesce(Attempt.ended_at, Attempt.dialed_at).desc(), Attempt.id.desc())
                       .limit(LATEST)).all()
    settled = counts["done"] + counts["failed"] + counts["unknown"] + counts["skipped"]
    total = settled + counts["queued"] + counts["dialing"]
    return {
        "campaign": campaign.id,
        "updated": format_datetime(datetime.now(timezone.utc), "HH:mm:ss"),   # Beijing time
        "status": campaign.status.value,
        "status_label": label(CAMPAIGN_STATUSES, campaign.status),
        "contacts": contacts,
        "in_progress": counts["dialing"],
        "remaining": counts["queued"],
        "done": settled,
        "total": total,
        "percent": round(100 * settled / total, 1) if total else 0.0,
        "promised": promised,
        "awaiting": awaiting,
        "statuses": counts,
        "outcomes": [{"code": d, "label": label(DISPOSITIONS, d), "tone": DISPOSITION_TONE.get(d, "muted"),
                      "count": n} for d, n in outcomes],
        "latest": [{
            "id": a.id, "room": room, "owner": owner, "number": a.number,
            "time": short_when(a.ended_at or a.dialed_at),
            "status": a.status.value, "status_label": label(ATTEMPT_STATUSES, a.status),
            "disposition": a.disposition or "", "tone": DISPOSITION_TONE.get(a.disposition or "", "muted"),
            "disposition_label": label(DISPOSITIONS, a.disposition) if a.disposition else "",
            "keys": a.key_log or a.keys or "",
            "choice": label(CHOICES, a.choice) if a.choice else "",
            "promised_date": a.promised_date.isoformat() if a.promised_date else "",
            "account_url": url_for("accounts.show", account_id=a.account_id),
        } for a, room, owner in latest],
    }


@bp.route("/")
@require("viewer")
def index():
    s = db()
    campaigns = s.scalars(campaign_scope(select(Campaign)).where(
        Campaign.status.in_([CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.SCHEDULED]),
        Campaign.name != TEST_CAMPAIGN_NAME).order_by(Campaign.id.desc())).all()
    return render_template("live/index.html", campaigns=[(c, state(s, c)) for c in campaigns],
                           stopped=lifecycle.dialing_stopped(s))


@bp.route("/<int:campaign_id>")
@require("viewer")
def show(campaign_id: int):
    s = db()
    campaign = visible_campaign(campaign_id)
    from flask_wtf import FlaskForm
    return render_template("live/show.html", campaign=campaign, state=state(s, campaign),
                           stopped=lifecycle.dialing_stopped(s), form=FlaskForm())


@bp.route("/<int:campaign_id>/state.json")
@require("viewer")
def state_json(campaign_id: int):
    s = db()
    campaign = visible_campaign(campaign_id)
    data = state(s, campaign)
    data["stopped"] = lifecycle.dialing_stopped(s)
    return data
