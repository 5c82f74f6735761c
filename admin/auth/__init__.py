"""Sign in and out, and the home page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from admin.db import db
from ivr.policy.windows import calendar_known_until, local_today
from admin.scope import campaign_scope, account_scope
from admin.security import Staff, audit, hash_password, local_url, needs_rehash, verify_password
from ivr.dialer import campaigns as lifecycle
from ivr.storage import Account, Attempt, Campaign, CampaignStatus, StaffUser

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    return local_url(target) or url_for("auth.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("auth.home"))
    form = LoginForm()
    if request.method == "POST":
        if form.validate_on_submit():
            s = db()
            name = form.username.data.strip()
            user = s.scalar(select(StaffUser).where(StaffUser.username == name))
            ok = verify_password(user.password_hash if user else None, form.password.data)
            if ok and user is not None and user.active:
                if needs_rehash(user.password_hash):
                    user.password_hash = hash_password(form.password.data)
                lifecycle.audit(s, user.username, "login", f"user:{user.username}")
                s.commit()
                session.clear()
                login_user(Staff.of(user))
                session.permanent = True
                return redirect(_safe_next(request.args.get("next")))
            lifecycle.audit(s, name[:64] or "?", "login.failed", f"user:{name[:64]}")
            s.commit()
        flash(_("Wrong user name or password."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    s = db()
    audit(s, "logout", f"user:{current_user.username}")
    s.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


def _login_key() -> str:
    name = (request.form.get("username") or "").strip().lower()[:64]
    return f"{request.remote_addr}|{name}"


def throttle_login(app: Flask, limiter: Limiter) -> None:
    """Failed sign-ins per (address, user name), and per address over all names. Only
    failures (401) count, so a busy office behind one address is not locked out by success."""
    failed = lambda response: response.status_code == 401  # noqa: E731
    view = app.view_functions["auth.login"]
    view = limiter.limit(app.config["LOGIN_LIMIT"], key_func=_login_key, methods=["POST"],
                         deduct_when=failed, scope="login-user")(view)
    view = limiter.limit(app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
                         deduct_when=failed, scope="login-address")(view)
    app.view_functions["auth.login"] = view


@bp.route("/")
@login_required
def home():
    s = db()
    acc = account_scope(select(func.count(Account.id), func.sum(Account.amount_owed))
                        .where(Account.paid_at.is_(None)))
    unpaid, owed = s.execute(acc).one()
    total = s.scalar(account_scope(select(func.count(Account.id))))
    active = s.scalars(campaign_scope(select(Campaign).where(Campaign.status.in_(
        [CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.SCHEDULED])))
        .order_by(Campaign.id.desc()).limit(10)).all()
    recent = s.scalars(campaign_scope(select(Campaign)).order_by(Campaign.id.desc()).limit(8)).all()
    since = datetime.now(timezone.utc) - timedelta(hours=24)
    calls_today = s.scalar(select(func.count(Attempt.id)).where(Attempt.dialed_at >= since))
    from admin.results import list_counts
    return render_template("home.html", unpaid=unpaid, owed=owed or 0, total=total or 0,
                           active=active, recent=recent, calls_today=calls_today or 0,
                           lists=list_counts(s), today=local_today(),
                           stopped=lifecycle.dialing_stopped(s), calendar_until=calendar_until())


def calendar_until():
    """The last day whose holidays are known, when that is less than two months away: calls
    after it would treat Spring Festival as ordinary days."""
    until = calendar_known_until()
    return until if until < local_today() + timedelta(days=60) else None
