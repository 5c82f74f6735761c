"""Recurring campaigns: the standing arrangement and the runs it starts.

A campaign with a recurrence rule ("monthly:5@09:30") is an arrangement, not a call list:
starting it (`start_arrangement`) dials nobody; it records the first occurrence in
`next_run_at`. At each occurrence the dialer's sweep (`start_due_runs`) starts a *run*: a new
campaign (`parent_id`, `occurrence`) with the parent's kind, message, settings, trunk, windows
and policies, whose accounts are the parent's filter recomputed at that moment — paid accounts
(arrears), and accounts whose every number is on the do-not-call list, are left out — started
through the same lifecycle code as the admin's Start button.

Never two runs for one occurrence: the parent's `next_run_at` is advanced by a conditional
UPDATE (`WHERE next_run_at = <the occurrence>`) in the transaction that creates the run, so of
two dialers sweeping at once only one advances it (PostgreSQL: the second UPDATE waits for the
first to commit, then matches no row); the unique index on (parent_id, occurrence) backs it up.

Only a running parent makes runs; an occurrence that passes while it is paused or scheduled is
recorded as missed (audit log). A dialer that was down at an occurrence starts it when it comes
back the same Shanghai day, never later and never more than one (ivr.policy.recurrence.due_run).
A run stops calling when the next occurrence comes (its `ends_at`), so an owner is never in two
runs' calls at once; when the parent's own end date is past its next occurrence, it completes.
"""
from __future__ import annotations

import copy
import logging
from datetime import datetime

from sqlalchemy import Select, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.policy.recurrence import RecurrenceError, due_run, first_occurrence, parse
from ivr.policy.windows import to_shanghai
from ivr.storage.models import (Account, Attempt, Campaign, CampaignKind, CampaignStatus, DoNotCall,
                                Phone)

from . import campaigns as lifecycle

log = logging.getLogger("ivr.dialer.recurrence")

ACTOR = "scheduler"
# Accounts the admin makes for staff test calls (admin.scope.TEST_ACCOUNT_PREFIX): never targeted.
STAFF_TEST_PREFIX = "staff-test:"
S = CampaignStatus


# -- who a campaign's filter selects -----------------------------------------------------------

def target_accounts(filt: dict, kind: str, department: str | None) -> Select:
    """Account ids a campaign with this filter calls (the wizard's filter, Campaign.settings
    ["filter"]). Arrears reminders never include a paid account; outage and other notices go to
    everyone in the area."""
    stmt = select(Account.id).where(or_(Account.external_id.is_(None),
                                        ~Account.external_id.startswith(STAFF_TEST_PREFIX)))
    if kind == CampaignKind.ARREARS.value:
        stmt = stmt.where(Account.paid_at.is_(None))
    if filt.get("buildings"):
        stmt = stmt.where(Account.building.in_(filt["buildings"]))
    if filt.get("areas"):
        stmt = stmt.where(Account.area.in_(filt["areas"]))
    if filt.get("min_months"):
        stmt = stmt.where(Account.months_owed >= int(filt["min_months"]))
    if filt.get("classes"):
        stmt = stmt.where(Account.account_class.in_(filt["classes"]))
    if department:
        stmt = stmt.where(or_(Account.department == department, Account.department.is_(None)))
    return stmt.order_by(Account.building, Account.room, Account.id)


def run_accounts(session: Session, parent: Campaign) -> list[int]:
    """The parent's selection now, without accounts that opted out: every number they have is
    on the do-not-call list (an account with no number at all stays, and is stopped as
    `no_number` when the run starts, so staff see it)."""
    filt = (parent.settings or {}).get("filter") or {}
    callable_phone = exists().where(Phone.account_id == Account.id,
                                    Phone.number.not_in(select(DoNotCall.number)))
    any_phone = exists().where(Phone.account_id == Account.id)
    stmt = target_accounts(filt, parent.kind.value, parent.department).where(
        or_(callable_phone, ~any_phone))
    return list(session.scalars(stmt))


# -- the arrangement ---------------------------------------------------------------------------

def start_arrangement(session: Session, campaign: Campaign, now: datetime, actor: str) -> datetime:
    """Start a recurring campaign (the admin's Start button for a campaign with a rule): no call
    is placed now; the first run comes at the first occurrence at or after its start time.
    Returns that occurrence. Callers commit."""
    rule = parse(campaign.recurrence or "")
    if campaign.status != S.DRAFT:
        raise lifecycle.LifecycleError(f"campaign {campaign.id} is {campaign.status.value}; cannot start")
    start_at = campaign.start_at
    later = start_at is not None and start_at > now
    campaign.next_run_at = first_occurrence(rule, start_at if later else now)
    lifecycle._move(session, campaign, S.SCHEDULED if later else S.RUNNING, actor)
    if not later:
        campaign.started_at = campaign.started_at or now
    return campaign.next_run_at


def next_run(campaign: Campaign, now: datetime) -> datetime | None:
    """When the arrangement's next run is due (Shanghai time), or None: not started, stopped,
    a bad rule, or past its end date."""
    if not campaign.recurrence or campaign.status in (S.COMPLETED, S.CANCELLED):
        return None
    try:
        rule = parse(campaign.recurrence)
    except RecurrenceError:
        return None
    at = campaign.next_run_at or first_occurrence(rule, max(now, campaign.start_at or now))
    if campaign.ends_at is not None and at > campaign.ends_at:
        return None
    return to_shanghai(at)


# -- the sweep ---------------------------------------------------------------------------------

def start_due_runs(session: Session, now: datetime) -> list[int]:
    """The dialer's sweep step: start the run of every recurring campaign whose occurrence has
    come. Each parent is handled in its own transaction (this function commits, and rolls back
    a parent that fails), so one broken arrangement never holds up the others: call it with
    nothing pending in the session. Returns the ids of the runs started."""
    due = session.scalars(select(Campaign.id).where(
        Campaign.recurrence.is_not(None), Campaign.parent_id.is_(None),
        Campaign.status.in_([S.SCHEDULED, S.RUNNING, S.PAUSED]),
        or_(Campaign.next_run_at.is_(None), Campaign.next_run_at <= now))
        .order_by(Campaign.id)).all()
    started = []
    for parent_id in due:
        try:
            run_id = _advance(session, parent_id, now)
            session.commit()
        except IntegrityError:
            session.rollback()           # another dialer made this run first
            continue
        except Exception:
            session.rollback()
            log.exception("recurring campaign %s: no run started", parent_id)
            continue
        if run_id is not None:
            started.append(run_id)
            log.info("recurring campaign %s: run %s started", parent_id, run_id)
    return started


def _claim_occurrence(session: Session, parent: Campaign, due: datetime | None,
                      next_due: datetime) -> bool:
    """Move the parent's next_run_at from `due` to `next_due`, unless someone else already did
    (or its status changed meanwhile). True when this transaction owns the occurrence."""
    current = Campaign.next_run_at.is_(None) if due is None else Campaign.next_run_at == due
    result = session.execute(update(Campaign).where(Campaign.id == parent.id, current,
                                                    Campaign.status == parent.status)
                             .values(next_run_at=next_due)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.rollback()
        return False
    parent.next_run_at = next_due
    return True


def _advance(session: Session, parent_id: int, now: datetime) -> int | None:
    parent = session.get(Campaign, parent_id, populate_existing=True)
    try:
        rule = parse(parent.recurrence or "")
    except RecurrenceError as err:
        # Only a hand-edited row gets here (the wizard writes valid rules): stop it, visibly.
        lifecycle.audit(session, ACTOR, "campaign.recurrence_invalid", f"campaign:{parent.id}",
                        rule=parent.recurrence, error=str(err))
        if parent.status != S.PAUSED:
            lifecycle.pause(session, parent, ACTOR)
        parent.next_run_at = None
        log.error("campaign %s: %s; paused", parent.id, err)
        return None
    due = parent.next_run_at
    if due is None:   # started by some other path: the first occurrence from now on
        start_from = max(now, parent.start_at) if parent.start_at else now
        _claim_occurrence(session, parent, None, first_occurrence(rule, start_from))
        return None
    if due > now:     # another dialer advanced it after our query: nothing is due
        return None
    decision = due_run(rule, due, now)
    if not _claim_occurrence(session, parent, due, decision.next_due):
        return None
    ends = parent.ends_at
    run_at = decision.run if parent.status == S.RUNNING else None
    passed = [*decision.missed, *([decision.run] if decision.run and run_at is None else [])]
    if ends is not None:
        passed = [o for o in passed if o <= ends]
        run_at = run_at if run_at is not None and run_at <= ends else None
    if passed:
        reason = "dialer not running" if parent.status == S.RUNNING else parent.status.value
        lifecycle.audit(session, ACTOR, "campaign.run_missed", f"campaign:{parent.id}",
                        occurrences=[o.isoformat() for o in passed], reason=reason)
    run_id = _start_run(session, parent, run_at, decision.next_due, now) if run_at else None
    if ends is not None and decision.next_due > ends and parent.status == S.RUNNING:
        lifecycle.complete(session, parent, now, ACTOR)   # no occurrence left before its end
    return run_id


def _start_run(session: Session, parent: Campaign, occurrence: datetime, next_due: datetime,
               now: datetime) -> int:
    local = to_shanghai(occurrence)
    ends = min(at for at in (parent.ends_at, next_due) if at is not None)
    run = Campaign(name=f"{parent.name[:189]} {local.date().isoformat()}", kind=parent.kind,
                   department=parent.department, template=parent.template, message=parent.message,
                   audio_path=parent.audio_path, trunk=parent.trunk, caller_id=parent.caller_id,
                   settings=copy.deepcopy(parent.settings or {}), created_by=parent.created_by,
                   parent_id=parent.id, occurrence=occurrence, ends_at=ends)
    session.add(run)
    session.flush()                 # the unique (parent_id, occurrence) index speaks here
    accounts = run_accounts(session, parent)
    lifecycle.add_accounts(session, run, accounts)
    queued = lifecycle.start(session, run, now, ACTOR)
    session.execute(update(Attempt).where(Attempt.campaign_id == run.id, Attempt.operator.is_(None))
                    .values(operator=ACTOR).execution_options(synchronize_session=False))
    lifecycle.audit(session, ACTOR, "campaign.run_started", f"campaign:{parent.id}", run=run.id,
                    occurrence=local.isoformat(), accounts=len(accounts), queued=queued)
    if queued == 0:
        lifecycle.complete(session, run, now, ACTOR)   # nobody left to call this time
    return run.id
