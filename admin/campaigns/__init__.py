"""Campaigns: the list, the wizard, listening to the message, start / pause / resume / cancel,
and a test call to the staff member's own phone."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, send_from_directory, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin import sysconf
from admin.accounts import buildings
from admin.db import db
from admin.i18n import when
from ivr.policy.windows import local_today
from admin.imports.parsing import PhoneError, normalise_phone
from admin.labels import (ACCOUNT_VARIABLES, CAMPAIGN_STATUSES, CAMPAIGN_VARIABLES, VARIABLE_HINTS,
                          label)
from admin.scope import (TEST_ACCOUNT_PREFIX, TEST_CAMPAIGN_NAME, account_scope, campaign_scope,
                         visible_account, visible_campaign)
from admin.security import actor, audit, require
from ivr.dialer import campaigns as lifecycle
from ivr.dialer import recurrence
from ivr.policy.recurrence import RecurrenceError, parse as parse_rule
from ivr.storage import (Account, Attempt, AttemptStatus, Campaign, CampaignKind, CampaignStatus,
                         Contact, Phone)
from ivr.voice import templates
from ivr.voice.cache import AudioCache
from ivr.voice.compose import prepare_message
from ivr.voice.tts import SynthesisError, engine_from_config

from . import plan, recording, wizard

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

ACTIONS = ("start", "pause", "resume", "cancel")


def now() -> datetime:
    return datetime.now(timezone.utc)


def progress(session: Session, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per campaign: contacts and attempts by status."""
    out: dict[int, dict[str, int]] = {cid: {"contacts": 0} for cid in campaign_ids}
    if not campaign_ids:
        return out
    for cid, n in session.execute(select(Contact.campaign_id, func.count()).where(
            Contact.campaign_id.in_(campaign_ids)).group_by(Contact.campaign_id)):
        out[cid]["contacts"] = n
    for cid, status, n in session.execute(select(Attempt.campaign_id, Attempt.status, func.count())
                                          .where(Attempt.campaign_id.in_(campaign_ids))
                                          .group_by(Attempt.campaign_id, Attempt.status)):
        out[cid][status.value] = n
    return out


@bp.route("/")
@require("viewer")
def index():
    s = db()
    status = request.args.get("status") or ""
    stmt = campaign_scope(select(Campaign)).where(Campaign.name != TEST_CAMPAIGN_NAME)
    if status in [st.value for st in CampaignStatus]:
        stmt = stmt.where(Campaign.status == CampaignStatus(status))
    rows = s.scalars(stmt.order_by(Campaign.id.desc()).limit(200)).all()
    return render_template("campaigns/index.html", campaigns=rows, status=status,
                           progress=progress(s, [c.id for c in rows]))


def _form_context(values: dict, errors: dict, campaign: Campaign | None):
    s = db()
    areas = [a for a in s.scalars(account_scope(select(Account.area).distinct()).order_by(Account.area)) if a]
    shipped = {lang: {name: templates.TEMPLATES[lang][name] for name in plan.MESSAGE_TEMPLATES}
               for lang in templates.LANGS}
    return dict(values=values, errors=errors, campaign=campaign, buildings=buildings(), areas=areas,
                trunks=sysconf.trunks(s), shipped=shipped, hints=VARIABLE_HINTS,
                account_variables=ACCOUNT_VARIABLES, campaign_variables=CAMPAIGN_VARIABLES,
                template_names=plan.MESSAGE_TEMPLATES, form=FlaskForm())


@bp.route("/new", methods=["GET", "POST"])
@require("operator")
def new():
    s = db()
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        w = wizard.read(request.form, trunks=sysconf.trunks(s), now=now())
        recorded = _recording(w)
        if not w.ok:
            flash(_("Please correct the marked fields."), "error")
            return render_template("campaigns/form.html", **_form_context(w.values, w.errors, None)), 400
        campaign = Campaign(name=w.values["name"], created_by=current_user.id)
        wizard.apply(campaign, w, department=current_user.department)
        campaign.audio_path = recorded
        s.add(campaign)
        s.flush()
        added = sync_contacts(s, campaign)
        audit(s, "campaign.create", f"campaign:{campaign.id}", name=campaign.name, contacts=added)
        s.commit()
        flash(_("Campaign saved as a draft with %(n)d accounts. Listen to the message, then start it.",
                n=added), "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    kind = request.args.get("kind") if request.args.get("kind") in wizard.KINDS else "arrears"
    values = wizard.values_of(None, sysconf.message_defaults(s), kind=kind)
    return render_template("campaigns/form.html", **_form_context(values, {}, None))


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@require("operator")
def edit(campaign_id: int):
    s = db()
    campaign = visible_campaign(campaign_id)
    if campaign.status != CampaignStatus.DRAFT:
        flash(_("Only a draft can be changed. Cancel this campaign and create a new one."), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        w = wizard.read(request.form, trunks=sysconf.trunks(s), now=now())
        recorded = _recording(w)
        if not w.ok:
            flash(_("Please correct the marked fields."), "error")
            return render_template("campaigns/form.html", **_form_context(w.values, w.errors, campaign)), 400
        wizard.apply(campaign, w, department=current_user.department)
        if recorded:
            campaign.audio_path = recorded
        elif request.form.get("remove_recording") == "y":
            campaign.audio_path = None
        added = sync_contacts(s, campaign)
        audit(s, "campaign.update", f"campaign:{campaign.id}", contacts=added)
        s.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/form.html",
                           **_form_context(wizard.values_of(campaign), {}, campaign))


def _recording(w: wizard.WizardInput) -> str | None:
    """The uploaded recording, converted and stored; a problem is reported on its field."""
    try:
        return recording.save_upload(request.files.get("recording"))
    except recording.RecordingRejected as err:
        w.errors["recording"] = str(err)
        return None


@bp.context_processor
def _recording_helpers():
    return {"recording_url": recording.recording_url,
            "recording_max": current_app.config["RECORDING_MAX_SECONDS"]}


def sync_contacts(s: Session, campaign: Campaign) -> int:
    """Make a draft's contacts match its filter; returns how many it has."""
    filt = (campaign.settings or {}).get("filter") or {}
    wanted = list(s.scalars(plan.target_query(filt, campaign.kind.value, campaign.department)))
    wanted_set = set(wanted)
    for contact in s.scalars(select(Contact).where(Contact.campaign_id == campaign.id)):
        if contact.account_id not in wanted_set and not contact.attempts:
            s.delete(contact)
    s.flush()
    lifecycle.add_accounts(s, campaign, wanted)
    return s.scalar(select(func.count()).where(Contact.campaign_id == campaign.id))


def rule_in_words(rule: str | None) -> str | None:
    """"monthly:5@09:30" → 每月5日 09:30 (Day 5 of every month at 09:30 in English)."""
    if not rule:
        return None
    try:
        parsed = parse_rule(rule)
    except RecurrenceError:
        return rule
    return _("Day %(day)d of every month at %(time)s", day=parsed.day, time=parsed.at.strftime("%H:%M"))


def recurring_context(s: Session, campaign: Campaign) -> dict:
    """For a recurring campaign: its rule in words, its next run and its runs; for a run: its
    parent."""
    out: dict = {"parent": s.get(Campaign, campaign.parent_id) if campaign.parent_id else None,
                 "rule_words": rule_in_words(campaign.recurrence), "runs": [], "next_run": None}
    if campaign.recurrence:
        out["runs"] = s.scalars(select(Campaign).where(Campaign.parent_id == campaign.id)
                                .order_by(Campaign.occurrence.desc()).limit(60)).all()
        out["next_run"] = recurrence.next_run(campaign, now())
        out["run_progress"] = progress(s, [r.id for r in out["runs"]])
    return out


def missing_values(s: Session, campaign: Campaign) -> dict[str, int]:
    """Contacts that lack a value the message needs ({due_date} with no due date...)."""
    text = plan.message_text(campaign)
    columns = {"room": Account.room, "area": Account.area, "amount": Account.amount_owed,
               "months": Account.months_owed, "due_date": Account.due_date,
               "promised_date": Account.promised_date}
    given = (campaign.settings or {}).get("variables") or {}
    out = {}
    for name in dict.fromkeys(templates.placeholders(text)):
        if name in columns and name not in given:
            col = columns[name]
            empty = col.is_(None) if name not in ("room", "area") else (col.is_(None) | (col == ""))
            n = s.scalar(select(func.count()).select_from(Contact).join(Account, Contact.account_id == Account.id)
                         .where(Contact.campaign_id == campaign.id, empty))
            if n:
                out[name] = n
    return out


def sample_account(s: Session, campaign: Campaign, account_id: int | None = None) -> Account | None:
    if account_id:
        return visible_account(account_id)
    return s.scalar(select(Account).join(Contact, Contact.account_id == Account.id)
                    .where(Contact.campaign_id == campaign.id).order_by(Contact.id).limit(1))


@bp.route("/<int:campaign_id>")
@require("viewer")
def show(campaign_id: int):
    s = db()
    campaign = visible_campaign(campaign_id)
    sample = sample_account(s, campaign, request.args.get("account", type=int))
    text, error = None, None
    try:
        text = plan.render_for(campaign.settings or {}, plan.message_text(campaign), sample, local_today())
    except templates.TemplateError as err:
        error = wizard._template_error(err)
    contacts = s.execute(select(Contact, Account).join(Account, Contact.account_id == Account.id)
                         .where(Contact.campaign_id == campaign.id).order_by(Contact.id).limit(30)).all()
    return render_template("campaigns/show.html", campaign=campaign, sample=sample, text=text,
                           error=error, progress=progress(s, [campaign.id])[campaign.id],
                           contacts=contacts, missing=missing_values(s, campaign),
                           windows=(campaign.settings or {}).get("windows") or plan.default_windows(),
                           stopped=lifecycle.dialing_stopped(s), form=FlaskForm(),
                           recurring=recurring_context(s, campaign),
                           recording_seconds=recording.seconds(campaign) if campaign.audio_path else None)


@bp.route("/<int:campaign_id>/<any(start, pause, resume, cancel):action>", methods=["POST"])
@require("operator")
def change(campaign_id: int, action: str):
    s = db()
    campaign = visible_campaign(campaign_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    who = actor()
    try:
        if action == "start" and campaign.recurrence:
            # a standing arrangement: nobody is called now; each occurrence starts a run
            first = recurrence.start_arrangement(s, campaign, now(), who)
            message = _("Repeating %(rule)s. The first run starts %(when)s.",
                        rule=rule_in_words(campaign.recurrence), when=when(first))
        elif action == "start":
            if campaign.start_at and campaign.start_at.tzinfo is None:
                campaign.start_at = campaign.start_at.replace(tzinfo=timezone.utc)
            queued = lifecycle.start(s, campaign, now(), who)
            s.execute(Attempt.__table__.update().where(
                Attempt.campaign_id == campaign.id, Attempt.operator.is_(None)).values(operator=who))
            message = (_("Scheduled: %(n)d calls will start at the set time.", n=queued)
                       if campaign.status == CampaignStatus.SCHEDULED else
                       _("Started: %(n)d calls queued.", n=queued))
        elif action == "pause":
            lifecycle.pause(s, campaign, who)
            message = _("Paused. Calls already ringing finish; no new calls are placed.")
        elif action == "resume":
            lifecycle.resume(s, campaign, now(), who)
            message = _("Resumed.")
        else:
            skipped = lifecycle.cancel(s, campaign, now(), who)
            message = _("Cancelled: %(n)d queued calls dropped.", n=skipped)
    except (lifecycle.LifecycleError, RecurrenceError):
        s.rollback()
        flash(_("This campaign is %(status)s and cannot do that now.",
                status=label(CAMPAIGN_STATUSES, campaign.status)), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)
    s.commit()
    flash(message, "success")
    target = url_for("live.show", campaign_id=campaign.id) if (
        action in ("start", "resume") and not campaign.recurrence) \
        else url_for("campaigns.show", campaign_id=campaign.id)
    return redirect(target, 303)


# -- listening to the message -----------------------------------------------------------------

def _cache() -> AudioCache:
    return AudioCache(current_app.config["AUDIO_DIR"])


def synthesize(text: str, variables: dict, lang: str) -> Path:
    engine = engine_from_config(current_app.config["TTS_ENGINE"], lang=lang)
    return prepare_message(text, variables, engine, _cache(), lang=lang, today=local_today())


def audio_url(path: Path) -> str:
    rel = path.resolve().relative_to(_cache().root.resolve())
    return url_for("campaigns.audio", sub=rel.parts[0], name=rel.parts[-1])


@bp.route("/preview", methods=["POST"])
@require("operator")
def preview():
    """The wizard's 试听 button: the message as typed, for a sample account, as text and audio."""
    s = db()
    if not FlaskForm().validate_on_submit():
        abort(400)
    w = wizard.read(request.form, trunks=sysconf.trunks(s), now=now())
    if "message" in w.errors or any(k.startswith("var_") for k in w.errors):
        first = w.errors.get("message") or next(v for k, v in w.errors.items() if k.startswith("var_"))
        return jsonify(error=first), 422
    text = w.message or templates.resolve(w.template, w.settings["lang"])
    account = None
    account_id = request.form.get("account", type=int)
    if account_id:
        account = visible_account(account_id)
    else:
        first_id = s.scalar(plan.target_query(w.settings["filter"], w.values["kind"],
                                              current_user.department).limit(1))
        account = s.get(Account, first_id) if first_id else None
    variables = plan.variables_for(w.settings, account, local_today())
    try:
        spoken = templates.render(text, variables, lang=w.settings["lang"], today=local_today())
        wav = synthesize(text, variables, w.settings["lang"])
    except templates.TemplateError as err:
        return jsonify(error=wizard._template_error(err)), 422
    except SynthesisError as err:
        return jsonify(error=_("Speech synthesis failed: %(err)s", err=str(err)[:200])), 503
    who = (f"{account.room} {account.owner_name}" if account else _("a sample owner (no account matches)"))
    return jsonify(text=spoken, audio=audio_url(wav), account=who)


@bp.route("/<int:campaign_id>/preview.wav")
@require("viewer")
def preview_wav(campaign_id: int):
    s = db()
    campaign = visible_campaign(campaign_id)
    account = sample_account(s, campaign, request.args.get("account", type=int))
    st = campaign.settings or {}
    try:
        wav = synthesize(plan.message_text(campaign), plan.variables_for(st, account, local_today()),
                         st.get("lang", "zh"))
    except templates.TemplateError:
        abort(404)
    except SynthesisError:
        abort(503)
    return redirect(audio_url(wav))


@bp.route("/audio/<sub>/<name>")
@require("viewer")
def audio(sub: str, name: str):
    if not re.fullmatch(r"[0-9a-f]{2}", sub) or not re.fullmatch(r"[A-Za-z0-9_.+-]{1,120}\.wav", name):
        abort(404)
    return send_from_directory(_cache().root / sub, name, mimetype="audio/wav", conditional=True,
                               max_age=3600)


# -- test call --------------------------------------------------------------------------------

def test_campaign(s: Session, who: str) -> Campaign:
    """The running campaign that holds staff test calls (made on first use)."""
    found = s.scalar(select(Campaign).where(Campaign.name == TEST_CAMPAIGN_NAME,
                                            Campaign.status == CampaignStatus.RUNNING)
                     .order_by(Campaign.id.desc()).limit(1))
    if found:
        return found
    campaign = Campaign(name=TEST_CAMPAIGN_NAME, kind=CampaignKind.NOTICE, template="arrears-first",
                        settings={"test_call": True, **plan.default_settings("notice")})
    s.add(campaign)
    s.flush()
    lifecycle.start(s, campaign, now(), who)
    return campaign


def staff_account(s: Session, number: str, kind: str) -> Account:
    ext = f"{TEST_ACCOUNT_PREFIX}{current_user.username}"
    account = s.scalar(select(Account).where(Account.external_id == ext))
    if account is None:
        account = Account(external_id=ext, room=_("Staff test"), owner_name=current_user.display_name,
                          variables={})
        s.add(account)
        s.flush()
    if number not in {p.number for p in account.phones}:
        account.phones.append(Phone(number=number, kind=kind, position=len(account.phones)))
    s.flush()
    return account


@bp.route("/<int:campaign_id>/test-call", methods=["POST"])
@require("operator")
def test_call(campaign_id: int):
    """Queue one call of this campaign's message to the staff member's own phone. The dialer
    places it like any other queued attempt; message_text holds exactly what to say."""
    s = db()
    source = visible_campaign(campaign_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    raw = (request.form.get("number") or current_user.phone or "").strip()
    if re.fullmatch(r"\d{3,8}", raw) and not raw.startswith("1"):
        number, kind = raw, "extension"
    else:
        try:
            parsed = normalise_phone(raw)
            number, kind = parsed.number, parsed.kind
        except PhoneError as err:
            flash(str(err) if raw else _("Enter your phone number for the test call."), "error")
            return redirect(url_for("campaigns.show", campaign_id=source.id))
    st = source.settings or {}
    try:
        # sample values, not a real owner's: the staff phone must not carry anyone's debt
        text = plan.render_for(st, plan.message_text(source), None, local_today())
    except templates.TemplateError as err:
        flash(wizard._template_error(err), "error")
        return redirect(url_for("campaigns.show", campaign_id=source.id))
    campaign = test_campaign(s, actor())
    account = staff_account(s, number, kind)
    lifecycle.add_accounts(s, campaign, [account.id])
    contact = s.scalar(select(Contact).where(Contact.campaign_id == campaign.id,
                                             Contact.account_id == account.id))
    attempt = Attempt(campaign_id=campaign.id, contact_id=contact.id, account_id=account.id,
                      number=number, status=AttemptStatus.QUEUED, scheduled_at=now(),
                      message_stage="test", message_text=text, operator=actor())
    s.add(attempt)
    s.flush()
    audit(s, "campaign.test_call", f"campaign:{source.id}", number=number, attempt=attempt.id,
          test_campaign=campaign.id)
    s.commit()
    flash(_("Test call to %(number)s queued; your phone will ring when the dialer places it.",
            number=number), "success")
    return redirect(url_for("campaigns.show", campaign_id=source.id))
