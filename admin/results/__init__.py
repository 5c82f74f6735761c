"""Lists to act on the next morning: tomorrow's promised payers, broken promises, unreachable
numbers, complaints and voice messages, and "already paid" claims to verify."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from admin.db import db
from ivr.policy.windows import local_today
from admin.scope import account_scope, visible_account
from admin.security import audit, require
from ivr.dialer import campaigns as lifecycle
from ivr.storage import Account, Attempt, Phone

bp = Blueprint("results", __name__, url_prefix="/results")

LISTS = {
    "tomorrow": (_l("Promised to pay tomorrow"),
                 _l("Call or check these the day before: they gave a date (class A).")),
    "broken": (_l("Broken promises"),
               _l("The promised date has passed and no payment is recorded.")),
    "unreachable": (_l("Unreachable numbers"),
                    _l("Empty or wrong numbers (class C): find a new number or visit.")),
    "complaints": (_l("Complaints and voice messages"),
                   _l("Owners who complained or left a message: hand to a supervisor (class E).")),
    "claims": (_l("\"Already paid\" claims"),
               _l("The owner says they paid: check the payment, then mark paid or reject the claim.")),
}


def _voice_exists():
    return exists().where(Attempt.account_id == Account.id, Attempt.voice_message.is_not(None))


def list_query(name: str) -> Select:
    today = local_today()
    stmt = account_scope(select(Account))
    if name == "tomorrow":
        return stmt.where(Account.paid_at.is_(None), Account.promised_date == today + timedelta(days=1))
    if name == "broken":
        return stmt.where(Account.paid_at.is_(None), or_(
            Account.promise_status == "broken",
            (Account.promised_date.is_not(None)) & (Account.promised_date < today)))
    if name == "unreachable":
        dead = exists().where(Phone.account_id == Account.id, Phone.unreachable_at.is_not(None))
        return stmt.where(Account.paid_at.is_(None), or_(Account.account_class == "C", dead))
    if name == "complaints":
        return stmt.where(or_(Account.complaint.is_not(None), _voice_exists(), Account.account_class == "E"))
    if name == "claims":
        return stmt.where(Account.paid_claim_at.is_not(None), Account.paid_at.is_(None))
    raise KeyError(name)


def list_counts(s: Session) -> dict[str, int]:
    return {name: s.scalar(list_query(name).with_only_columns(func.count(Account.id)).order_by(None))
            for name in LISTS}


@bp.route("/")
@require("viewer")
def index():
    return redirect(url_for("results.show", name="tomorrow"))


@bp.route("/<any(tomorrow, broken, unreachable, complaints, claims):name>")
@require("viewer")
def show(name: str):
    s = db()
    order = {"tomorrow": Account.room, "broken": Account.promised_date,
             "unreachable": Account.building, "complaints": Account.updated_at.desc(),
             "claims": Account.paid_claim_at}[name]
    counts = list_counts(s)
    size = 100
    pages = max(1, -(-counts[name] // size))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    accounts = s.scalars(list_query(name).options(selectinload(Account.phones))
                         .order_by(order, Account.id).offset((page - 1) * size).limit(size)).all()
    ids = [a.id for a in accounts]
    voices: dict[int, Attempt] = {}
    last: dict[int, Attempt] = {}
    if ids:
        for attempt in s.scalars(select(Attempt).where(Attempt.account_id.in_(ids),
                                                        Attempt.voice_message.is_not(None))
                                 .order_by(Attempt.id)):
            voices[attempt.account_id] = attempt
        latest_ids = select(func.max(Attempt.id)).where(Attempt.account_id.in_(ids),
                                                        Attempt.disposition.is_not(None)).group_by(Attempt.account_id)
        for attempt in s.scalars(select(Attempt).where(Attempt.id.in_(latest_ids))):
            last[attempt.account_id] = attempt
    return render_template("results/list.html", name=name, lists=LISTS, counts=counts,
                           accounts=accounts, voices=voices, last=last, today=local_today(),
                           page=page, pages=pages, form=FlaskForm())


@bp.route("/claims/<int:account_id>/reject", methods=["POST"])
@require("operator")
def reject_claim(account_id: int):
    s = db()
    account = visible_account(account_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    reason = (request.form.get("reason") or "").strip()[:200]
    resumed = lifecycle.claim_rejected(s, account, datetime.now(timezone.utc))
    stamp = _("Paid claim rejected: %(reason)s", reason=reason or _("no payment found"))
    account.note = f"{account.note}\n{stamp}" if account.note else stamp
    audit(s, "account.claim_rejected", f"account:{account.id}", reason=reason, resumed=resumed)
    s.commit()
    flash(_("Claim rejected for %(room)s; the account stays in the campaign.", room=account.room), "success")
    return redirect(url_for("results.show", name="claims"))
