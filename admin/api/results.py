"""Attempts and their results (filters, cursor pagination) and opt-outs."""
from __future__ import annotations

from flask import g
from sqlalchemy import func, select

from ivr.dialer import campaigns
from ivr.storage.models import Account, Attempt, AttemptStatus, Campaign, DoNotCall
from ivr.webhooks import payloads

from .accounts import normalise_phones
from .core import body, db, decode_cursor, invalid, not_found, page, path_id, query, route


def _attempts(stmt):
    return [payloads.attempt(a, account_external_id=acc_ext, campaign_external_id=camp_ext)
            for a, acc_ext, camp_ext in db().execute(stmt)]


def _base():
    return (select(Attempt, Account.external_id, Campaign.external_id)
            .join(Account, Account.id == Attempt.account_id)
            .join(Campaign, Campaign.id == Attempt.campaign_id))


@route("/attempts", ["GET"], "read")
def list_attempts():
    args = query("listAttempts")
    limit = args.get("limit", 100)
    stmt = _base().order_by(Attempt.id).limit(limit + 1)
    if "campaign_id" in args:
        stmt = stmt.where(Attempt.campaign_id == args["campaign_id"])
    if "account" in args:
        stmt = stmt.where(Account.external_id == args["account"])
    if "class" in args:
        stmt = stmt.where(Account.account_class == args["class"])
    if "status" in args:
        stmt = stmt.where(Attempt.status == AttemptStatus(args["status"]))
    if "disposition" in args:
        stmt = stmt.where(Attempt.disposition == args["disposition"])
    if "since" in args:
        stmt = stmt.where(Attempt.ended_at >= args["since"])
    if "until" in args:
        stmt = stmt.where(Attempt.ended_at < args["until"])
    after = decode_cursor(args.get("cursor"))
    if after is not None:
        stmt = stmt.where(Attempt.id > after)
    rows, cursor = page(_attempts(stmt), limit, lambda a: a["id"])
    return {"attempts": rows, "next_cursor": cursor}


@route("/attempts/<int:attempt_id>", ["GET"], "read")
def get_attempt(attempt_id: int):
    rows = _attempts(_base().where(Attempt.id == path_id(attempt_id, "attempt")))
    if not rows:
        raise not_found("attempt")
    return rows[0]


@route("/opt-outs", ["POST"], "write")
def post_opt_outs():
    data = body("OptOutCreate")
    errors: dict[str, str] = {}
    numbers = normalise_phones(data["numbers"], "numbers", errors)
    if errors:
        raise invalid(errors)
    session, reason = db(), data.get("reason") or "api"
    results = []
    for number, _kind in numbers:
        existed = session.scalar(select(DoNotCall.id).where(DoNotCall.number == number)) is not None
        queued = session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.number == number, Attempt.status == AttemptStatus.QUEUED))
        campaigns.opt_out(session, number, reason=reason, source="api", actor=g.api_caller.actor)
        session.flush()
        results.append({"number": number, "created": not existed, "attempts_skipped": queued})
    return {"opt_outs": results}


@route("/opt-outs", ["GET"], "read")
def list_opt_outs():
    args = query("listOptOuts")
    limit = args.get("limit", 100)
    stmt = select(DoNotCall).order_by(DoNotCall.id).limit(limit + 1)
    after = decode_cursor(args.get("cursor"))
    if after is not None:
        stmt = stmt.where(DoNotCall.id > after)
    rows, cursor = page(list(db().scalars(stmt)), limit, lambda d: d.id)
    return {"opt_outs": [{"number": d.number, "reason": d.reason, "source": d.source,
                          "created_at": payloads.iso(d.created_at)} for d in rows],
            "next_cursor": cursor}
