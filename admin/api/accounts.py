"""Accounts (bulk upsert by external id, with phones and amounts) and payments."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import g
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ivr.dialer import campaigns
from ivr.storage.models import Account, Attempt, AttemptStatus, Payment, Phone, utcnow
from ivr.webhooks import payloads

from .core import body, db, decode_cursor, invalid, not_found, page, query, route
from .openapi import SCHEMAS
from .phones import PhoneError, normalise
from .schema import _compiled

PLAIN_FIELDS = ("room", "building", "area", "owner_name", "title", "department", "months_owed", "note")
EXTERNAL_ID = _compiled(SCHEMAS["ExternalId"]["pattern"])


def chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def accounts_by_external_id(session, external_ids: list[str]) -> dict[str, Account]:
    found: dict[str, Account] = {}
    for chunk in chunks(list(dict.fromkeys(external_ids))):
        for account in session.scalars(select(Account).where(Account.external_id.in_(chunk))
                                       .options(selectinload(Account.phones))):
            found[account.external_id] = account
    return found


def normalise_phones(raw_numbers: list[str], field: str, errors: dict[str, str]) -> list[tuple[str, str]]:
    numbers: dict[str, str] = {}
    for j, raw in enumerate(raw_numbers):
        try:
            digits, kind = normalise(raw)
        except PhoneError as exc:
            errors[f"{field}[{j}]"] = str(exc)
            continue
        numbers.setdefault(digits, kind)  # "+86 138…" and "138…" are one number
    return list(numbers.items())


def _set_phones(account: Account, numbers: list[tuple[str, str]]) -> None:
    """Replace the account's numbers, keeping what is known about those that stay
    (e.g. marked unreachable)."""
    current = {p.number: p for p in account.phones}
    phones = []
    for position, (digits, kind) in enumerate(numbers):
        phone = current.get(digits) or Phone(number=digits)
        phone.kind, phone.position = kind, position
        phones.append(phone)
    account.phones = phones


@route("/accounts", ["POST"], "write")
def upsert_accounts():
    items = body("AccountsUpsert")["accounts"]
    errors: dict[str, str] = {}
    first: dict[str, int] = {}
    phones: dict[int, list[tuple[str, str]]] = {}
    for i, item in enumerate(items):
        ext = item["external_id"]
        if ext in first:
            errors[f"accounts[{i}].external_id"] = f"repeats accounts[{first[ext]}]"
        first.setdefault(ext, i)
        if "phones" in item:
            phones[i] = normalise_phones(item["phones"], f"accounts[{i}].phones", errors)
        if item.get("amount_owed") is not None and Decimal(item["amount_owed"]) > Decimal("9999999999.99"):
            errors[f"accounts[{i}].amount_owed"] = "too large"
    if errors:
        raise invalid(errors)
    session, now = db(), utcnow()
    existing = accounts_by_external_id(session, list(first))
    results, created = [], 0
    for i, item in enumerate(items):
        account = existing.get(item["external_id"])
        is_new = account is None
        if is_new:
            account = Account(external_id=item["external_id"], created_at=now, variables={}, phones=[])
            session.add(account)
            created += 1
        for field in PLAIN_FIELDS:
            if field in item:
                setattr(account, field, item[field])
        if "amount_owed" in item:
            account.amount_owed = Decimal(item["amount_owed"]) if item["amount_owed"] is not None else None
        if "due_date" in item:
            account.due_date = date.fromisoformat(item["due_date"]) if item["due_date"] else None
        if "variables" in item:
            account.variables = dict(item["variables"])
        if i in phones:
            _set_phones(account, phones[i])
        account.updated_at = now
        results.append((item["external_id"], account, is_new))
    session.flush()
    campaigns.audit(session, g.api_caller.actor, "account.upsert", None, created=created,
                    updated=len(items) - created, external_ids=[r[0] for r in results][:50])
    return {"created": created, "updated": len(items) - created,
            "accounts": [{"external_id": ext, "id": acc.id, "created": new} for ext, acc, new in results]}


@route("/accounts", ["GET"], "read")
def list_accounts():
    args = query("listAccounts")
    limit = args.get("limit", 100)
    stmt = select(Account).options(selectinload(Account.phones)).order_by(Account.id).limit(limit + 1)
    if "area" in args:
        stmt = stmt.where(Account.area == args["area"])
    if "building" in args:
        stmt = stmt.where(Account.building == args["building"])
    if "class" in args:
        stmt = stmt.where(Account.account_class == args["class"])
    after = decode_cursor(args.get("cursor"))
    if after is not None:
        stmt = stmt.where(Account.id > after)
    rows, cursor = page(list(db().scalars(stmt)), limit, lambda a: a.id)
    return {"accounts": [payloads.account(a) for a in rows], "next_cursor": cursor}


@route("/accounts/<external_id>", ["GET"], "read")
def get_account(external_id: str):
    if not EXTERNAL_ID.fullmatch(external_id) or len(external_id) > 64:
        raise not_found("account")
    account = accounts_by_external_id(db(), [external_id]).get(external_id)
    if account is None:
        raise not_found("account")
    return payloads.account(account)


@route("/payments", ["POST"], "write")
def post_payments():
    items = body("PaymentsCreate")["payments"]
    session = db()
    errors: dict[str, str] = {}
    accounts = accounts_by_external_id(session, [p["account"] for p in items])
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        if item["account"] not in accounts:
            errors[f"payments[{i}].account"] = "no account with this external id"
        if item["external_id"] in first:
            errors[f"payments[{i}].external_id"] = f"repeats payments[{first[item['external_id']]}]"
        first.setdefault(item["external_id"], i)
        if item.get("amount") is not None and Decimal(item["amount"]) <= 0:
            errors[f"payments[{i}].amount"] = "must be more than 0 (leave it out for paid in full)"
    if errors:
        raise invalid(errors)
    known = set()
    for chunk in chunks(list(first)):
        known.update(session.scalars(select(Payment.external_id).where(Payment.external_id.in_(chunk))))
    results = []
    for item in items:
        account = accounts[item["account"]]
        status, skipped = "duplicate", 0
        if item["external_id"] not in known:
            queued = session.scalar(select(func.count()).select_from(Attempt).where(
                Attempt.account_id == account.id, Attempt.status == AttemptStatus.QUEUED))
            amount = Decimal(item["amount"]) if item.get("amount") is not None else None
            campaigns.mark_paid(session, account, amount=amount, paid_on=date.fromisoformat(item["paid_on"]),
                                source="api", actor=g.api_caller.actor, external_id=item["external_id"])
            session.flush()
            still = session.scalar(select(func.count()).select_from(Attempt).where(
                Attempt.account_id == account.id, Attempt.status == AttemptStatus.QUEUED))
            status, skipped = "recorded", queued - still
        results.append({"external_id": item["external_id"], "account": item["account"], "status": status,
                        "account_paid": account.paid_at is not None,
                        "paid_amount": payloads.money(account.paid_amount), "attempts_skipped": skipped})
    return {"payments": results}
