"""Dialing a campaign's queued attempts at a bounded concurrency (first version of the
dialer: no windows or retries yet — those are the policy layer's job)."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ivr.storage.models import Account, Attempt, AttemptStatus

from .call_result import CallResult
from .originate import CallPlan
from .tracker import CallTracker, OriginateRefused, OutcomeUnknown

log = logging.getLogger("ivr.dialer")


def dialer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def now() -> datetime:
    return datetime.now(timezone.utc)


def claim(session: Session, attempt_id: int, who: str) -> bool:
    """queued → dialing, committed before any Originate is sent. Returns False if another
    dialer (or a paid/opt-out check) got there first."""
    done = session.execute(
        update(Attempt).where(Attempt.id == attempt_id, Attempt.status == AttemptStatus.QUEUED)
        .values(status=AttemptStatus.DIALING, dialed_at=now(), dialer=who))
    session.commit()
    return done.rowcount == 1


def settle(session: Session, attempt_id: int, result: CallResult | None, *,
           status: AttemptStatus = AttemptStatus.DONE, error: str | None = None) -> Attempt:
    attempt = session.get(Attempt, attempt_id)
    ended = now()
    attempt.status = status
    attempt.ended_at = ended
    attempt.error = error
    if result is not None:
        attempt.disposition = result.disposition.value
        attempt.dial_status = result.dial_status
        attempt.hangup_cause = result.hangup_cause
        attempt.stage = result.stage
        attempt.keys = result.keys
        attempt.key_log = result.key_log
        if result.dial_status == "ANSWER":
            attempt.answered_at = ended - timedelta(seconds=result.answered_seconds or 0)
    session.commit()
    return attempt


async def run_campaign(client, sessions: sessionmaker[Session], campaign_id: int,
                       plan_for: Callable[[Account], CallPlan], *, concurrency: int = 10,
                       on_settled: Callable[[Attempt], None] | None = None) -> Counter:
    """Dial every queued attempt of the campaign, at most `concurrency` at once; return the
    count of dispositions."""
    who = dialer_name()
    tracker = CallTracker(client)
    with sessions() as session:
        queued = session.execute(
            select(Attempt.id, Attempt.number, Account)
            .join(Account, Attempt.account_id == Account.id)
            .where(Attempt.campaign_id == campaign_id, Attempt.status == AttemptStatus.QUEUED)
            .order_by(Attempt.scheduled_at, Attempt.id)).all()
    slots = asyncio.Semaphore(concurrency)
    outcomes: Counter = Counter()

    async def one(attempt_id: int, number: str, account: Account) -> None:
        async with slots:
            with sessions() as session:
                if not claim(session, attempt_id, who):
                    return
                try:
                    result = await tracker.place(attempt_id, number, plan_for(account))
                    attempt = settle(session, attempt_id, result)
                except OriginateRefused as exc:
                    attempt = settle(session, attempt_id, None, status=AttemptStatus.FAILED,
                                     error=str(exc))
                    attempt.disposition = "failed"
                    session.commit()
                except OutcomeUnknown as exc:
                    # Counted, never re-dialed blindly; reconciliation may still settle it.
                    attempt = settle(session, attempt_id, None, status=AttemptStatus.UNKNOWN,
                                     error=str(exc))
                outcomes[attempt.disposition or attempt.status.value] += 1
                if on_settled:
                    on_settled(attempt)

    await asyncio.gather(*(one(a_id, num, account) for a_id, num, account in queued))
    return outcomes
