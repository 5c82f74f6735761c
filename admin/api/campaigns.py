"""Campaigns (from a template; start, pause, resume, cancel; status with counts) and notices
(one call creates and starts an outage or general notice)."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from flask import g
from sqlalchemy import select

from ivr.dialer import campaigns
from ivr.dialer import recurrence
from ivr.dialer.campaigns import LifecycleError
from ivr.storage.models import (Account, Campaign, CampaignKind, CampaignStatus, SystemSetting, utcnow)
from ivr.voice import templates
from ivr.voice.templates import TemplateError
from ivr.webhooks import payloads
from ivr.webhooks.counts import campaign_counts

from .accounts import EXTERNAL_ID, chunks
from .core import ApiError, body, db, decode_cursor, invalid, not_found, page, path_id, query, route, to_utc

CALLER_IDS = "caller_id_allowlist"  # SystemSetting: {"numbers": ["02160000000", ...]}
DEFAULT_TEMPLATE = {"arrears": "arrears-first", "outage": "outage-notice", "notice": None}
# Placeholders filled from each account (and its own variables) when the call is made.
PER_ACCOUNT = {"title", "room", "area", "amount", "months", "due_date", "promised_date"}


def caller_id_allowlist(session) -> list[str]:
    setting = session.get(SystemSetting, CALLER_IDS)
    return [str(n) for n in (setting.value or {}).get("numbers", [])] if setting else []


def set_caller_id_allowlist(session, numbers: list[str], *, actor: str) -> None:
    """For the staff admin / CLI: the caller IDs campaigns may present (digits only)."""
    clean = [n for n in (str(n).strip() for n in numbers) if n]
    if any(not n.isdigit() or not 3 <= len(n) <= 20 for n in clean):
        raise ValueError("caller IDs are 3–20 digits")
    setting = session.get(SystemSetting, CALLER_IDS) or SystemSetting(key=CALLER_IDS)
    setting.value = {"numbers": clean}
    session.add(setting)
    campaigns.audit(session, actor, "setting.caller_ids", CALLER_IDS, numbers=clean)


def view(session, campaign: Campaign) -> dict:
    return payloads.campaign(campaign, campaign_counts(session, campaign.id))


def content_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def target_accounts(session, data: dict, errors: dict[str, str]) -> list[int]:
    """Account ids named by external id, and/or all accounts of an area (optionally only some
    buildings), in a stable order, each once."""
    ids: list[int] = []
    if data.get("accounts"):
        found: dict[str, int] = {}
        for chunk in chunks(list(dict.fromkeys(data["accounts"]))):
            found.update((ext, id_) for ext, id_ in session.execute(
                select(Account.external_id, Account.id).where(Account.external_id.in_(chunk))))
        for i, ext in enumerate(data["accounts"]):
            if ext in found:
                ids.append(found[ext])
            else:
                errors.setdefault(f"accounts[{i}]", "no account with this external id")
    if "area" in data:
        stmt = select(Account.id).where(Account.area == data["area"]).order_by(Account.id)
        if data.get("buildings"):
            stmt = stmt.where(Account.building.in_(data["buildings"]))
        in_area = list(session.scalars(stmt))
        if not in_area:
            errors["area"] = "no accounts in this area" + (" and these buildings" if data.get("buildings") else "")
        ids += in_area
    elif data.get("buildings"):
        errors["buildings"] = "only together with area"
    return list(dict.fromkeys(ids))


def message_for(data: dict, kind: str, errors: dict[str, str]) -> tuple[str, str | None, str | None]:
    """(template name, custom message or None, the text to check) for a campaign body."""
    if "template" in data and "message" in data:
        errors["message"] = "give a template or a message, not both"
        return "", None, None
    if "message" in data:
        text = data["message"]
        try:
            templates.validate(templates.resolve(text))
        except TemplateError as exc:
            errors["message"] = str(exc)
            return "", None, None
        return DEFAULT_TEMPLATE[kind] or "custom", text, text
    name = data.get("template") or DEFAULT_TEMPLATE[kind]
    if name is None:
        errors["template"] = "a general notice needs a template or a message"
        return "", None, None
    return name, None, templates.resolve(name)


def check_variables(text: str | None, variables: dict, errors: dict[str, str]) -> None:
    for name, value in variables.items():
        try:
            templates.spoken_values("{" + name + "}", {name: value})
        except TemplateError as exc:
            errors[f"variables.{name}"] = str(exc)
    if text is None:
        return
    missing = [n for n in templates.required_variables(text) if n not in variables and n not in PER_ACCOUNT]
    if missing:
        errors["variables"] = "the message needs " + ", ".join("{" + n + "}" for n in missing)


def check_caller_id(session, data: dict, errors: dict[str, str]) -> None:
    if "caller_id" in data and data["caller_id"] not in caller_id_allowlist(session):
        errors["caller_id"] = "not on the configured caller ID allowlist"


def times(data: dict, now: datetime, errors: dict[str, str], *, ends: str = "ends_at") -> tuple:
    start_at = ends_at = None
    try:
        if "start_at" in data:
            start_at = to_utc(data["start_at"], "start_at")
        if ends in data:
            ends_at = to_utc(data[ends], ends)
    except ApiError as exc:
        errors.update(exc.fields or {})
        return None, None
    if ends_at is not None and ends_at <= now:
        errors[ends] = "must be in the future"
    elif ends_at is not None and start_at is not None and ends_at <= start_at:
        errors[ends] = "must be after start_at"
    return start_at, ends_at


def _existing(session, external_id: str | None, request_hash: str) -> Campaign | None:
    """The campaign already made with this external id (same content), 409 if it differs."""
    if external_id is None:
        return None
    found = session.scalar(select(Campaign).where(Campaign.external_id == external_id))
    if found is not None and (found.settings or {}).get("request_hash") != request_hash:
        raise ApiError(409, "external_id_conflict",
                       f"external_id {external_id!r} is already used by a different campaign")
    return found


def _create(data: dict, kind: str, *, name: str, start: bool, ends_field: str) -> tuple[dict, int]:
    session, now, actor = db(), utcnow(), g.api_caller.actor
    request_hash = content_hash(data)
    existing = _existing(session, data.get("external_id"), request_hash)
    if existing is not None:
        return view(session, existing), 200
    errors: dict[str, str] = {}
    template, message, text = message_for(data, kind, errors)
    variables = dict(data.get("variables") or {})
    check_variables(text, variables, errors)
    check_caller_id(session, data, errors)
    start_at, ends_at = times(data, now, errors, ends=ends_field)
    account_ids = target_accounts(session, data, errors)
    if errors:
        raise invalid(errors)
    campaign = Campaign(name=name, kind=CampaignKind(kind), external_id=data.get("external_id"),
                        template=template, message=message, caller_id=data.get("caller_id"),
                        start_at=start_at, ends_at=ends_at, created_at=now,
                        settings={"variables": variables, "created_via": actor, "request_hash": request_hash})
    session.add(campaign)
    session.flush()
    campaigns.audit(session, actor, "campaign.create", f"campaign:{campaign.id}", via="api", kind=kind,
                    external_id=campaign.external_id, accounts=len(account_ids))
    campaigns.add_accounts(session, campaign, account_ids)
    if start:
        campaigns.start(session, campaign, now, actor)
    session.flush()
    return view(session, campaign), 201


@route("/campaigns", ["POST"], "write")
def create_campaign():
    data = body("CampaignCreate")
    return _create(data, data.get("kind", "arrears"), name=data["name"], start=bool(data.get("start")),
                   ends_field="ends_at")


@route("/notices", ["POST"], "write")
def create_notice():
    data = body("NoticeCreate")
    if "accounts" not in data and "area" not in data:
        raise invalid({"accounts": "give accounts or an area", "area": "give accounts or an area"})
    kind = data.get("kind", "outage")
    name = data.get("name") or f"{'停水通知' if kind == 'outage' else '通知'} {data['external_id']}"
    return _create(data, kind, name=name, start=True, ends_field="deadline")


@route("/notices/<external_id>", ["GET"], "read")
def get_notice(external_id: str):
    session = db()
    campaign = None
    if EXTERNAL_ID.fullmatch(external_id) and len(external_id) <= 64:
        campaign = session.scalar(select(Campaign).where(Campaign.external_id == external_id))
    if campaign is None:
        raise not_found("notice")
    return view(session, campaign)


@route("/campaigns", ["GET"], "read")
def list_campaigns():
    args = query("listCampaigns")
    limit = args.get("limit", 100)
    stmt = select(Campaign).order_by(Campaign.id.desc()).limit(limit + 1)
    if "status" in args:
        stmt = stmt.where(Campaign.status == CampaignStatus(args["status"]))
    if "kind" in args:
        stmt = stmt.where(Campaign.kind == CampaignKind(args["kind"]))
    before = decode_cursor(args.get("cursor"))
    if before is not None:
        stmt = stmt.where(Campaign.id < before)
    session = db()
    rows, cursor = page(list(session.scalars(stmt)), limit, lambda c: c.id)
    return {"campaigns": [view(session, c) for c in rows], "next_cursor": cursor}


def _campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, path_id(campaign_id, "campaign"))
    if campaign is None:
        raise not_found("campaign")
    return campaign


@route("/campaigns/<int:campaign_id>", ["GET"], "read")
def get_campaign(campaign_id: int):
    return view(db(), _campaign(campaign_id))


@route("/campaigns/<int:campaign_id>/accounts", ["POST"], "write")
def add_campaign_accounts(campaign_id: int):
    data = body("CampaignAccountsAdd")
    session, now = db(), utcnow()
    campaign = _campaign(campaign_id)
    if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        raise ApiError(409, "campaign_finished", f"the campaign is {campaign.status.value}")
    errors: dict[str, str] = {}
    if "accounts" not in data and "area" not in data:
        errors["accounts"] = "give accounts or an area"
    ids = target_accounts(session, data, errors)
    if errors:
        raise invalid(errors)
    added = campaigns.add_accounts(session, campaign, ids)
    queued = 0
    if campaign.recurrence:
        pass   # a standing arrangement calls nobody itself; each run recomputes its accounts
    elif campaign.status == CampaignStatus.RUNNING:
        queued = campaigns.seed_first_attempts(session, campaign, now)
    elif campaign.status == CampaignStatus.SCHEDULED:
        queued = campaigns.seed_first_attempts(session, campaign, campaign.start_at or now)
    campaigns.audit(session, g.api_caller.actor, "campaign.add_accounts", f"campaign:{campaign.id}",
                    added=added, queued=queued)
    session.flush()
    return {"campaign": view(session, campaign), "queued": queued, "skipped": 0}


def _change(campaign_id: int, action: str):
    body("CampaignAction", required=False)
    session, now, actor = db(), utcnow(), g.api_caller.actor
    campaign = _campaign(campaign_id)
    queued = skipped = 0
    try:
        if action == "start" and campaign.recurrence:
            # a standing arrangement (made in the admin): its runs call, at each occurrence
            recurrence.start_arrangement(session, campaign, now, actor)
        elif action == "start":
            queued = campaigns.start(session, campaign, now, actor)
        elif action == "pause":
            campaigns.pause(session, campaign, actor)
        elif action == "resume":
            campaigns.resume(session, campaign, now, actor)
        else:
            skipped = campaigns.cancel(session, campaign, now, actor)
    except LifecycleError as exc:
        raise ApiError(409, "invalid_transition", str(exc)) from None
    session.flush()
    return {"campaign": view(session, campaign), "queued": queued, "skipped": skipped}


@route("/campaigns/<int:campaign_id>/start", ["POST"], "write")
def start_campaign(campaign_id: int):
    return _change(campaign_id, "start")


@route("/campaigns/<int:campaign_id>/pause", ["POST"], "write")
def pause_campaign(campaign_id: int):
    return _change(campaign_id, "pause")


@route("/campaigns/<int:campaign_id>/resume", ["POST"], "write")
def resume_campaign(campaign_id: int):
    return _change(campaign_id, "resume")


@route("/campaigns/<int:campaign_id>/cancel", ["POST"], "write")
def cancel_campaign(campaign_id: int):
    return _change(campaign_id, "cancel")
