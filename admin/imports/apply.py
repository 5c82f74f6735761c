"""Matching checked rows to the accounts already in the database, and saving them.

`plan_*` only reads: it is what the preview shows (new / updated / errors). `apply_*` writes
everything in the caller's transaction; the caller commits once, so an import is all or
nothing. Accounts are matched by the billing account number when the file has one, else by
room (and estate, when the file has an estate column); a room that exists in several estates
while the file names none is an error, not a guess.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.policy.windows import local_today
from admin.scope import TEST_ACCOUNT_PREFIX
from ivr.dialer import campaigns as lifecycle
from ivr.storage import Account, Payment, Phone

from .parsing import Checked, ParsedAccount, ParsedPayment, RowError, room_key


@dataclass
class Index:
    by_ext: dict[str, int] = field(default_factory=dict)
    by_key: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_room: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    paid: dict[int, object] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> Index:
        idx = cls()
        rows = session.execute(select(Account.id, Account.area, Account.room, Account.external_id,
                                      Account.paid_at))
        for id_, area, room, ext, paid_at in rows:
            if ext and ext.startswith(TEST_ACCOUNT_PREFIX):
                continue
            if ext:
                idx.by_ext[ext] = id_
            key = room_key(area, room)
            idx.by_key[key].append(id_)
            idx.by_room[key[1]].append(id_)
            if paid_at is not None:
                idx.paid[id_] = paid_at
        return idx

    def find(self, area: str, room: str, ext: str | None) -> tuple[int | None, bool]:
        """(account id or None, ambiguous)."""
        if ext and ext in self.by_ext:
            return self.by_ext[ext], False
        if not room:
            return None, False
        key = room_key(area, room)
        ids = self.by_key.get(key, []) if area else self.by_room.get(key[1], [])
        if len(ids) > 1:
            return None, True
        return (ids[0] if ids else None), False


@dataclass
class Plan:
    new: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    targets: list[int | None] = field(default_factory=list)  # per record: account id or None


def plan_accounts(session: Session, checked: Checked, *, new_period: bool) -> Plan:
    idx = Index.load(session)
    plan = Plan(errors=list(checked.errors), warnings=list(checked.warnings))
    still_paid = []
    for rec in checked.records:
        target, ambiguous = idx.find(rec.area, rec.room, rec.external_id)
        if ambiguous:
            plan.errors.append(RowError(rec.rows[0], "", _(
                "Room %(room)s exists in several estates; add an estate column to the file",
                room=rec.room), rec.room))
        plan.targets.append(target)
        if target is None:
            plan.new += 1
        else:
            plan.updated += 1
            if target in idx.paid and not new_period:
                still_paid.append(rec.room or rec.external_id or "")
    if still_paid:
        plan.warnings.append(_(
            "%(n)d accounts in the file are already marked paid and stay paid (e.g. %(rooms)s). "
            "Tick \"new billing period\" if they owe again.", n=len(still_paid),
            rooms="、".join(still_paid[:5])))
    return plan


def apply_accounts(session: Session, checked: Checked, plan: Plan, *, new_period: bool,
                   department: str | None) -> dict[str, int]:
    created = updated = phones_added = reopened = 0
    for rec, target in zip(checked.records, plan.targets):
        rec: ParsedAccount
        if target is None:
            account = Account(room=rec.room, area=rec.area, building=rec.building,
                              owner_name=rec.owner_name, title=rec.title,
                              amount_owed=rec.amount_owed, months_owed=rec.months_owed,
                              due_date=rec.due_date, external_id=rec.external_id, note=rec.note,
                              department=department, variables={})
            session.add(account)
            created += 1
        else:
            account = session.get(Account, target)
            for name in ("room", "area", "building", "owner_name", "title", "amount_owed",
                         "months_owed", "due_date", "external_id"):
                value = getattr(rec, name)
                if value not in (None, ""):
                    setattr(account, name, value)
            if rec.note:
                account.note = rec.note if not account.note or rec.note in account.note \
                    else f"{account.note}\n{rec.note}"
            if new_period and account.paid_at is not None:
                account.paid_at = None
                account.paid_amount = None
                account.promised_date = None
                account.promise_status = None
                account.paid_claim_at = None
                reopened += 1
            updated += 1
        have = {p.number for p in account.phones}
        position = max((p.position for p in account.phones), default=-1) + 1
        for phone in rec.phones:
            if phone.number in have:
                continue
            account.phones.append(Phone(number=phone.number, kind=phone.kind, position=position))
            have.add(phone.number)
            position += 1
            phones_added += 1
    session.flush()
    return {"created": created, "updated": updated, "phones_added": phones_added,
            "reopened": reopened, "merged_rows": checked.merged}


def plan_payments(session: Session, checked: Checked) -> Plan:
    idx = Index.load(session)
    plan = Plan(errors=list(checked.errors), warnings=list(checked.warnings))
    receipts = [r.receipt for r in checked.records if r.receipt]
    known = set(session.scalars(select(Payment.external_id).where(Payment.external_id.in_(receipts)))) \
        if receipts else set()
    skipped = []
    for rec in checked.records:
        rec: ParsedPayment
        target, ambiguous = idx.find(rec.area, rec.room, rec.external_id)
        if ambiguous:
            plan.errors.append(RowError(rec.row, "", _(
                "Room %(room)s exists in several estates; add an estate column to the file",
                room=rec.room), rec.room))
        elif target is None:
            plan.errors.append(RowError(rec.row, "", _("No account with room %(room)s",
                                                       room=rec.room or rec.external_id), rec.room))
        if rec.receipt and rec.receipt in known:
            skipped.append(rec.receipt)
            target = None
        plan.targets.append(target)
        if target is not None:
            plan.updated += 1
    if skipped:
        plan.warnings.append(_("%(n)d payments were imported before (receipts %(list)s) and are skipped.",
                               n=len(skipped), list="、".join(skipped[:5])))
    return plan


def apply_payments(session: Session, checked: Checked, plan: Plan, *, actor: str) -> dict[str, int]:
    paid = 0
    for rec, target in zip(checked.records, plan.targets):
        if target is None:
            continue
        account = session.get(Account, target)
        lifecycle.mark_paid(session, account, amount=rec.amount, paid_on=rec.paid_on or local_today(),
                            source="import", actor=actor, external_id=rec.receipt)
        paid += 1
    session.flush()
    return {"paid": paid}
