"""Webhook registration and the delivery log (admin scope: a webhook receives owners' data)."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import g
from sqlalchemy import select

from ivr.dialer import campaigns
from ivr.storage.models import Webhook, WebhookDelivery, utcnow
from ivr.webhooks import payloads, ping

from .core import ApiError, body, db, decode_cursor, invalid, not_found, page, path_id, query, route


def webhook_view(hook: Webhook) -> dict:
    return {"id": hook.id, "url": hook.url, "events": list(hook.events or []), "active": hook.active,
            "created_at": payloads.iso(hook.created_at)}


def delivery_view(d: WebhookDelivery) -> dict:
    return {"id": d.id, "webhook_id": d.webhook_id, "event": d.event, "status": d.status, "tries": d.tries,
            "next_try_at": payloads.iso(d.next_try_at), "last_error": d.last_error,
            "response_code": d.response_code, "created_at": payloads.iso(d.created_at),
            "delivered_at": payloads.iso(d.delivered_at), "payload": d.payload or {}}


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises on a bad port
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    if parts.username or parts.password:
        return "must not contain a user name or password (use the signing secret)"
    if parts.fragment:
        return "must not contain a #fragment"
    return None


def _hook(webhook_id: int) -> Webhook:
    hook = db().get(Webhook, path_id(webhook_id, "webhook"))
    if hook is None:
        raise not_found("webhook")
    return hook


@route("/webhooks", ["POST"], "admin")
def create_webhook():
    data = body("WebhookCreate")
    problem = _url_problem(data["url"])
    if problem:
        raise invalid({"url": problem})
    secret = data.get("secret") or "whsec_" + secrets.token_urlsafe(32)
    session = db()
    hook = Webhook(url=data["url"], secret=secret, events=list(data.get("events") or []), active=True,
                   created_at=utcnow())
    session.add(hook)
    session.flush()
    campaigns.audit(session, g.api_caller.actor, "webhook.create", f"webhook:{hook.id}", url=hook.url,
                    events=hook.events)
    return {"webhook": webhook_view(hook), "secret": secret}, 201


@route("/webhooks", ["GET"], "admin")
def list_webhooks():
    return {"webhooks": [webhook_view(h) for h in db().scalars(select(Webhook).order_by(Webhook.id))]}


@route("/webhooks/<int:webhook_id>", ["GET"], "admin")
def get_webhook(webhook_id: int):
    return webhook_view(_hook(webhook_id))


@route("/webhooks/<int:webhook_id>", ["DELETE"], "admin")
def delete_webhook(webhook_id: int):
    hook = _hook(webhook_id)
    if hook.active:
        hook.active = False
        campaigns.audit(db(), g.api_caller.actor, "webhook.delete", f"webhook:{hook.id}", url=hook.url)
    return webhook_view(hook)


@route("/webhooks/<int:webhook_id>/deliveries", ["GET"], "admin")
def list_deliveries(webhook_id: int):
    hook = _hook(webhook_id)
    args = query("listDeliveries")
    limit = args.get("limit", 100)
    stmt = (select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
            .order_by(WebhookDelivery.id.desc()).limit(limit + 1))
    before = decode_cursor(args.get("cursor"))
    if before is not None:
        stmt = stmt.where(WebhookDelivery.id < before)
    rows, cursor = page(list(db().scalars(stmt)), limit, lambda d: d.id)
    return {"deliveries": [delivery_view(d) for d in rows], "next_cursor": cursor}


@route("/webhooks/<int:webhook_id>/ping", ["POST"], "admin")
def ping_webhook(webhook_id: int):
    body("CampaignAction", required=False)
    hook = _hook(webhook_id)
    if not hook.active:
        raise ApiError(409, "webhook_inactive", "this webhook has been deleted")
    delivery = ping(db(), hook)
    return {"delivery_id": delivery.id}, 202
