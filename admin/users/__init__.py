"""Administration: staff users, the audit log, and site settings (trunks, message defaults, the
global stop switch). Administrators only, except each user's own password and language."""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from admin import sysconf
from admin.db import db
from admin.labels import AUDIT_ACTIONS
from admin.security import (DEPARTMENTS, ROLES, Staff, actor, audit, check_password_strength,
                            create_user, hash_password, require, verify_password)
from ivr.dialer import campaigns as lifecycle
from ivr.storage import AuditEntry, StaffUser

bp = Blueprint("users", __name__)


def _password_problem(password: str) -> str | None:
    try:
        check_password_strength(password)
    except ValueError:
        return _("At least 10 characters, mixing letters with digits or symbols.")
    return None


def _read_user_form(creating: bool) -> tuple[dict, dict]:
    f = request.form
    values = {"username": (f.get("username") or "").strip(), "display_name": (f.get("display_name") or "").strip()[:100],
              "role": f.get("role") or "viewer", "department": f.get("department") or "",
              "phone": (f.get("phone") or "").strip()[:32], "locale": f.get("locale") or "zh_CN",
              "active": f.get("active") == "y", "password": f.get("password") or ""}
    errors = {}
    if creating:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{2,64}", values["username"]):
            errors["username"] = _("2–64 letters, digits, dots, dashes or underscores.")
        elif db().scalar(select(StaffUser.id).where(StaffUser.username == values["username"])):
            errors["username"] = _("This user name is taken.")
    if values["role"] not in ROLES:
        errors["role"] = _("Pick a role.")
    if values["department"] and values["department"] not in DEPARTMENTS:
        errors["department"] = _("Pick a department.")
    if values["locale"] not in current_app.config["LANGUAGES"]:
        values["locale"] = "zh_CN"
    if values["phone"] and not re.fullmatch(r"[\d\-+ ]{3,32}", values["phone"]):
        errors["phone"] = _("Digits only.")
    if creating or values["password"]:
        problem = _password_problem(values["password"])
        if problem:
            errors["password"] = problem
    return values, errors


@bp.route("/users/")
@require("admin")
def index():
    users = db().scalars(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.username)).all()
    return render_template("users/index.html", users=users)


@bp.route("/users/new", methods=["GET", "POST"])
@require("admin")
def new():
    values = {"role": "operator", "locale": "zh_CN", "active": True}
    errors: dict = {}
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        values, errors = _read_user_form(creating=True)
        if not errors:
            s = db()
            create_user(s, username=values["username"], password=values["password"], role=values["role"],
                        display_name=values["display_name"], department=values["department"] or None,
                        phone=values["phone"] or None, locale=values["locale"], by=actor())
            s.commit()
            flash(_("User %(name)s created.", name=values["username"]), "success")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", values=values, errors=errors, user=None,
                           form=FlaskForm()), (400 if errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require("admin")
def edit(user_id: int):
    s = db()
    user = s.get(StaffUser, user_id) or abort(404)
    values = {"username": user.username, "display_name": user.display_name, "role": user.role,
              "department": user.department or "", "phone": user.phone_extension or "",
              "locale": user.locale, "active": user.active}
    errors: dict = {}
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        values, errors = _read_user_form(creating=False)
        values["username"] = user.username
        admins = s.scalar(select(func.count()).where(StaffUser.role == "admin", StaffUser.active.is_(True)))
        losing_admin = user.role == "admin" and user.active and (values["role"] != "admin" or not values["active"])
        if losing_admin and admins <= 1:
            errors["role"] = _("This is the last active administrator.")
        if user.id == current_user.id and not values["active"]:
            errors["active"] = _("You cannot deactivate yourself.")
        if not errors:
            changes = {k: values[k] for k in ("role", "department", "active", "locale", "display_name")
                       if (getattr(user, k) or "") != (values[k] or "")}
            user.display_name = values["display_name"] or user.username
            user.role, user.department = values["role"], values["department"] or None
            user.phone_extension, user.locale, user.active = values["phone"] or None, values["locale"], values["active"]
            if values["password"]:
                user.password_hash = hash_password(values["password"])
                audit(s, "user.password", f"user:{user.username}")
            audit(s, "user.update", f"user:{user.username}", **changes)
            s.commit()
            if user.id == current_user.id:  # keep one's own session after a password change
                login_user(Staff.of(user))
            flash(_("Saved."), "success")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", values=values, errors=errors, user=user,
                           form=FlaskForm()), (400 if errors else 200)


@bp.route("/me", methods=["GET", "POST"])
@login_required
def me():
    s = db()
    user = s.get(StaffUser, current_user.id)
    errors: dict = {}
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        locale = request.form.get("locale")
        if locale in current_app.config["LANGUAGES"]:
            user.locale = locale
            session["lang"] = locale
        phone = (request.form.get("phone") or "").strip()
        if phone and not re.fullmatch(r"[\d\-+ ]{3,32}", phone):
            errors["phone"] = _("Digits only.")
        new = request.form.get("new_password") or ""
        if new:
            if not verify_password(user.password_hash, request.form.get("current_password") or ""):
                errors["current_password"] = _("The current password is wrong.")
            elif _password_problem(new):
                errors["new_password"] = _password_problem(new)
        if not errors:
            user.phone_extension = phone or None
            if new:
                user.password_hash = hash_password(new)
                audit(s, "user.password", f"user:{user.username}")
            s.commit()
            login_user(Staff.of(user))
            flash(_("Saved."), "success")
            return redirect(url_for("users.me"))
    return render_template("users/me.html", user=user, errors=errors, form=FlaskForm()), (400 if errors else 200)


@bp.route("/audit/")
@require("admin")
def audit_log():
    s = db()
    stmt = select(AuditEntry)
    action = request.args.get("action") or ""
    who = (request.args.get("actor") or "").strip()[:100]
    target = (request.args.get("target") or "").strip()[:200]
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if who:
        stmt = stmt.where(AuditEntry.actor == who)
    if target:
        stmt = stmt.where(AuditEntry.target == target)
    page = max(1, request.args.get("page", 1, type=int))
    size = current_app.config["PAGE_SIZE"]
    total = s.scalar(stmt.with_only_columns(func.count(AuditEntry.id)).order_by(None))
    entries = s.scalars(stmt.order_by(AuditEntry.id.desc()).offset((page - 1) * size).limit(size)).all()
    actions = [a for a in s.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))]
    return render_template("users/audit.html", entries=entries, total=total, page=page,
                           pages=max(1, -(-total // size)), actions=actions,
                           args={"action": action, "actor": who, "target": target}, names=AUDIT_ACTIONS)


@bp.route("/settings/", methods=["GET", "POST"])
@require("admin")
def settings():
    s = db()
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        what = request.form.get("what")
        if what == "dialing":
            stop = request.form.get("stop") == "1"
            lifecycle.set_dialing_stopped(s, stop, actor())
            s.commit()
            flash(_("All dialing is stopped.") if stop else _("Dialing resumed."), "success")
        elif what == "site":
            names = [n.strip() for n in re.split(r"[,，\s]+", request.form.get("trunks") or "") if n.strip()]
            if not names or not all(re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", n) for n in names):
                flash(_("Trunk names: letters, digits, dashes; separate them with commas."), "error")
                return redirect(url_for("users.settings"))
            sysconf.put(s, sysconf.TRUNKS, {"names": names})
            defaults = {k: (request.form.get(k) or "").strip()[:200] for k in ("company", "hotline", "channel")}
            sysconf.put(s, sysconf.MESSAGE_DEFAULTS, {k: v for k, v in defaults.items() if v})
            audit(s, "settings.update", "settings", trunks=names, **defaults)
            s.commit()
            flash(_("Saved."), "success")
        return redirect(url_for("users.settings"))
    return render_template("users/settings.html", stopped=lifecycle.dialing_stopped(s),
                           trunks=sysconf.trunks(s), defaults=sysconf.message_defaults(s),
                           form=FlaskForm())
