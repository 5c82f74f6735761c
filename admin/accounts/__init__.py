"""Accounts: the list, one account's full history, what staff change on it, and its evidence
record (催缴记录) for the legal file."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from admin import exports
from admin.db import db
from admin.i18n import aware, SHANGHAI
from ivr.policy.windows import local_today
from admin.imports.parsing import PhoneError, normalise_phone
from admin.labels import ATTEMPT_STATUSES, CHOICES, DISPOSITIONS, STAGES, label
from admin.scope import account_scope, visible_account
from admin.security import actor, audit, local_url, require
from ivr.dialer import campaigns as lifecycle
from ivr.storage import Account, Attempt, AuditEntry, Campaign, DoNotCall, Payment, Phone

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def _filters():
    q = (request.args.get("q") or "").strip()[:100]
    building = (request.args.get("building") or "").strip()[:32]
    klass = request.args.get("class") or ""
    paid = request.args.get("paid") or ""
    stmt = account_scope(select(Account))
    if q:
        like = f"%{q}%"
        phone_match = select(Phone.account_id).where(Phone.number.like(like))
        stmt = stmt.where(or_(Account.room.like(like), Account.owner_name.like(like),
                              Account.external_id.like(like), Account.id.in_(phone_match)))
    if building:
        stmt = stmt.where(Account.building == building)
    if klass in ("A", "B", "C", "D", "E"):
        stmt = stmt.where(Account.account_class == klass)
    if paid == "paid":
        stmt = stmt.where(Account.paid_at.is_not(None))
    elif paid == "unpaid":
        stmt = stmt.where(Account.paid_at.is_(None))
    return stmt, dict(q=q, building=building, klass=klass, paid=paid)


def buildings() -> list[str]:
    return [b for b in db().scalars(account_scope(select(Account.building).distinct())
                                    .order_by(Account.building)) if b]


@bp.route("/")
@require("viewer")
def index():
    s = db()
    stmt, args = _filters()
    page = max(1, request.args.get("page", 1, type=int))
    size = current_app.config["PAGE_SIZE"]
    total = s.scalar(stmt.with_only_columns(func.count(Account.id)).order_by(None))
    rows = s.scalars(stmt.options(selectinload(Account.phones))
                     .order_by(Account.building, Account.room, Account.id)
                     .offset((page - 1) * size).limit(size)).all()
    return render_template("accounts/index.html", accounts=rows, total=total, page=page,
                           pages=max(1, -(-total // size)), args=args, buildings=buildings())


def history(account_id: int) -> list[tuple[Attempt, str]]:
    s = db()
    return s.execute(select(Attempt, Campaign.name).join(Campaign, Attempt.campaign_id == Campaign.id)
                     .where(Attempt.account_id == account_id)
                     .order_by(Attempt.scheduled_at.desc(), Attempt.id.desc())).all()


@bp.route("/<int:account_id>")
@require("viewer")
def show(account_id: int):
    s = db()
    account = visible_account(account_id)
    blocked = set(s.scalars(select(DoNotCall.number).where(
        DoNotCall.number.in_([p.number for p in account.phones]))))
    payments = s.scalars(select(Payment).where(Payment.account_id == account.id)
                         .order_by(Payment.paid_on.desc(), Payment.id.desc())).all()
    changes = s.scalars(select(AuditEntry).where(AuditEntry.target == f"account:{account.id}")
                        .order_by(AuditEntry.id.desc()).limit(20)).all()
    return render_template("accounts/show.html", account=account, attempts=history(account.id),
                           payments=payments, blocked=blocked, changes=changes,
                           today=local_today(), form=FlaskForm())


def _back(account: Account):
    return redirect(local_url(request.form.get("next"))
                    or url_for("accounts.show", account_id=account.id))


@bp.route("/<int:account_id>/paid", methods=["POST"])
@require("operator")
def mark_paid(account_id: int):
    s = db()
    account = visible_account(account_id)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    amount_text = (request.form.get("amount") or "").strip().replace(",", "")
    try:
        amount = Decimal(amount_text).quantize(Decimal("0.01")) if amount_text else None
        if amount is not None and amount <= 0:
            raise InvalidOperation
    except InvalidOperation:
        flash(_("The amount is not a number."), "error")
        return _back(account)
    try:
        paid_on = date.fromisoformat(request.form.get("paid_on") or local_today().isoformat())
    except ValueError:
        flash(_("The payment date is not a date."), "error")
        return _back(account)
    if paid_on > local_today():
        flash(_("The payment date is in the future."), "error")
        return _back(account)
    lifecycle.mark_paid(s, account, amount=amount, paid_on=paid_on, source="admin", actor=actor())
    if account.paid_claim_at is not None and account.paid_at is not None:
        account.paid_claim_at = None
    s.commit()
    if account.paid_at is not None:
        flash(_("%(room)s is marked paid; it will not be called again.", room=account.room), "success")
    else:
        flash(_("Partial payment recorded for %(room)s.", room=account.room), "success")
    return _back(account)


@bp.route("/<int:account_id>/class", methods=["POST"])
@require("operator")
def change_class(account_id: int):
    s = db()
    account = visible_account(account_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    new = request.form.get("account_class", "")
    if new not in ("A", "B", "C", "D", "E"):
        abort(400)
    promised = request.form.get("promised_date") or ""
    if new == "A":
        try:
            account.promised_date = date.fromisoformat(promised) if promised else account.promised_date
        except ValueError:
            flash(_("The promised date is not a date."), "error")
            return _back(account)
        if account.promised_date is None:
            flash(_("Class A needs the date the owner promised to pay."), "error")
            return _back(account)
        account.promise_status = "pending"
    old = account.account_class
    account.account_class = new
    audit(s, "account.class", f"account:{account.id}", previous=old, new=new,
          reason=(request.form.get("reason") or "")[:200])
    s.commit()
    flash(_("Class changed to %(cls)s.", cls=new), "success")
    return _back(account)


@bp.route("/<int:account_id>/note", methods=["POST"])
@require("operator")
def note(account_id: int):
    s = db()
    account = visible_account(account_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    account.note = (request.form.get("note") or "").strip()[:4000] or None
    if "complaint" in request.form:
        account.complaint = (request.form.get("complaint") or "").strip()[:4000] or None
    audit(s, "account.note", f"account:{account.id}")
    s.commit()
    flash(_("Saved."), "success")
    return _back(account)


@bp.route("/<int:account_id>/phones", methods=["POST"])
@require("operator")
def phones(account_id: int):
    """Fix a number (replace), add one, or put one on the do-not-call list."""
    s = db()
    account = visible_account(account_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    action = request.form.get("action")
    phone_id = request.form.get("phone_id", type=int)
    phone = next((p for p in account.phones if p.id == phone_id), None)
    if action in ("replace", "add"):
        try:
            new = normalise_phone(request.form.get("number") or "")
        except PhoneError as err:
            flash(str(err), "error")
            return _back(account)
        if any(p.number == new.number for p in account.phones if p is not phone):
            flash(_("This account already has %(number)s.", number=new.number), "error")
            return _back(account)
        if action == "replace":
            if phone is None:
                abort(404)
            old = phone.number
            phone.number, phone.kind, phone.unreachable_at = new.number, new.kind, None
            audit(s, "account.phone", f"account:{account.id}", old=old, new=new.number)
        else:
            pos = max((p.position for p in account.phones), default=-1) + 1
            account.phones.append(Phone(number=new.number, kind=new.kind, position=pos))
            audit(s, "account.phone", f"account:{account.id}", added=new.number)
        if account.account_class == "C":
            account.account_class = "B"  # a fixed number makes the account callable again
        s.commit()
        flash(_("Phone number saved: %(number)s", number=new.number), "success")
    elif action == "opt_out":
        if phone is None:
            abort(404)
        lifecycle.opt_out(s, phone.number, reason=(request.form.get("reason") or "staff")[:200],
                          source="staff", actor=actor())
        s.commit()
        flash(_("%(number)s will not be called again.", number=phone.number), "success")
    else:
        abort(400)
    return _back(account)


# -- voice messages -----------------------------------------------------------------------

AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".gsm": "audio/x-gsm"}


def allowed_audio(path_text: str) -> Path | None:
    """The recording's real path if it lies under one of VOICE_MESSAGE_DIRS and is audio. A path
    as Asterisk sees it inside the sid chroot (/var/lib/ivr/run/...) is looked up below
    ASTERISK_ROOT too."""
    candidates = [Path(path_text)]
    root = current_app.config.get("ASTERISK_ROOT")
    if root and path_text.startswith("/"):
        candidates.append(Path(root) / path_text.lstrip("/"))
    for candidate in candidates:
        try:
            path = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if path.suffix.lower() not in AUDIO_TYPES or not path.is_file():
            continue
        for allowed in current_app.config["VOICE_MESSAGE_DIRS"]:
            try:
                path.relative_to(Path(allowed).resolve())
                return path
            except (ValueError, OSError):
                continue
    return None


@bp.route("/attempts/<int:attempt_id>/voice")
@require("viewer")
def voice(attempt_id: int):
    attempt = db().get(Attempt, attempt_id)
    if attempt is None or not attempt.voice_message:
        abort(404)
    visible_account(attempt.account_id)
    path = allowed_audio(attempt.voice_message)
    if path is None:
        abort(404)
    return send_file(path, mimetype=AUDIO_TYPES[path.suffix.lower()], conditional=True)


# -- evidence record (催缴记录) -----------------------------------------------------------

def evidence_rows(account: Account):
    rows = []
    for attempt, campaign_name in reversed(history(account.id)):
        when = attempt.dialed_at or attempt.scheduled_at
        rows.append([
            aware(when).astimezone(SHANGHAI).replace(tzinfo=None) if when else None,
            attempt.number, campaign_name, attempt.operator or "", attempt.dialer or "",
            label(DISPOSITIONS, attempt.disposition) if attempt.disposition else
            label(ATTEMPT_STATUSES, attempt.status.value), attempt.dial_status or "",
            attempt.hangup_cause if attempt.hangup_cause is not None else "",
            label(STAGES, attempt.stage) if attempt.stage else "",
            attempt.key_log or attempt.keys or "", label(CHOICES, attempt.choice) if attempt.choice else "",
            attempt.promised_date, attempt.message_text or "",
            Path(attempt.voice_message).name if attempt.voice_message else "",
        ])
    return rows


def evidence_header():
    return [_("Time (Beijing)"), _("Number dialed"), _("Campaign"), _("Started by"), _("Dialer"),
            _("Outcome"), _("Dial status"), _("Q.850 cause"), _("How far"), _("Keys pressed"),
            _("Owner's answer"), _("Promised date"), _("Message played"), _("Voice message file")]


@bp.route("/<int:account_id>/evidence")
@require("viewer")
def evidence(account_id: int):
    s = db()
    account = visible_account(account_id)
    fmt = request.args.get("format")
    payments = s.scalars(select(Payment).where(Payment.account_id == account.id)
                         .order_by(Payment.paid_on)).all()
    if fmt in ("csv", "xlsx"):
        audit(s, "export.evidence", f"account:{account.id}", format=fmt)
        s.commit()
        name = f"催缴记录-{account.room or account.id}.{fmt}"
        rows = evidence_rows(account)
        if fmt == "csv":
            return exports.csv_response(name, evidence_header(), rows)
        info = [[_("Room"), account.room], [_("Owner"), account.owner_name],
                [_("Amount owed"), account.amount_owed], [_("Months owed"), account.months_owed],
                [_("Due date"), account.due_date], [_("Phones"), "、".join(p.number for p in account.phones)],
                [_("Exported by"), current_user.username],
                [_("Exported at (Beijing)"), datetime.now(SHANGHAI).replace(tzinfo=None)]]
        return exports.xlsx_response(name, [(_("Account"), [_("Field"), _("Value")], info),
                                            (_("Contact attempts"), evidence_header(), rows)])
    audit(s, "export.evidence", f"account:{account.id}", format="html")
    s.commit()
    return render_template("accounts/evidence.html", account=account, attempts=history(account.id)[::-1],
                           payments=payments, generated=datetime.now(SHANGHAI))
