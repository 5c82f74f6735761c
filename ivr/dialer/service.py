"""`ivr dialer`: the process that places calls for every running campaign.

A loop: when AMI is ready and the stop switch is off, claim as many due attempts as the free
channels and the calls-per-second budget allow, place each one, settle it and queue its
follow-up. On start (and after each AMI reconnect) attempts left `dialing` by this dialer are
reconciled against Asterisk's live channels and its CDR — never re-dialed blindly.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from ivr.storage.models import Attempt, AttemptStatus, Campaign, CampaignStatus

from ivr.policy.windows import to_shanghai

from . import campaigns, cdr, recurrence
from .call_result import CallResult
from .claims import Claim, claim_due
from .originate import CallPlan
from .pacing import TokenBucket
from .settle import finish_idle_campaigns, load_for_plan, settle_attempt
from .tracker import CallTracker, OriginateRefused, OutcomeUnknown

log = logging.getLogger("ivr.dialer")

Planner = Callable[[Session, Attempt], CallPlan]


@dataclass
class DialerConfig:
    dialer_id: str
    trunk_channels: int = 30        # concurrent calls per trunk (the carrier's limit)
    cps: float = 5.0                # new calls per second per dialer
    poll_interval: float = 0.25
    cdr_path: Path | None = None    # Master.csv of the pbx, for reconciliation
    reconcile_grace: float = 60.0   # past dial timeout + this, an unseen call is `unknown`
    dial_timeout: int = 30
    reconcile_every: float = 2.0    # at most this often while something waits for its CDR
    sweep_every: float = 5.0        # scheduled campaigns due to start
    promise_check_every: float = 300.0


def wall_clock() -> datetime:
    return datetime.now(timezone.utc)


class Dialer:
    def __init__(self, client, sessions: sessionmaker[Session], planner: Planner,
                 config: DialerConfig, clock: Callable[[], datetime] = wall_clock,
                 on_settled: Callable[[Attempt], None] | None = None):
        self.client, self.sessions, self.planner = client, sessions, planner
        self.config, self.clock, self.on_settled = config, clock, on_settled
        self.tracker = CallTracker(client)
        # Burst of one: calls are spaced 1/cps apart, so no 1-second window exceeds the cap.
        self.bucket = TokenBucket(config.cps, burst=1.0, now=time.monotonic())
        self.tasks: set[asyncio.Task] = set()
        self.peak_live = 0
        self._reconcile_needed = asyncio.Event()
        self._reconcile_needed.set()            # on start: anything left from a crash?
        self._last_reconcile = float("-inf")
        self._last_sweep = float("-inf")
        self._last_promise_check = float("-inf")
        self._wake = asyncio.Event()
        self._claimed_at: dict[int, float] = {}    # attempt id → monotonic claim time
        self._lost_at: float | None = None
        client.on_connect(self._reconcile_needed.set)
        client.on_disconnect(self._on_disconnect)

    def _on_disconnect(self) -> None:
        self._lost_at = time.monotonic()

    @property
    def live(self) -> int:
        return len(self.tasks)

    # -- main loop -------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, until_idle: float | None = None) -> None:
        """Dial until `stop` is set, or — with `until_idle` — until nothing is in flight and
        nothing is due within `until_idle` seconds of policy time."""
        while not stop.is_set():
            if not self.client.ready:
                await asyncio.sleep(self.config.poll_interval)   # no dialing without AMI
                continue
            if self._reconcile_needed.is_set() and (
                    time.monotonic() - self._last_reconcile >= self.config.reconcile_every):
                self._reconcile_needed.clear()
                self._last_reconcile = time.monotonic()
                await self.reconcile()
            if time.monotonic() - self._last_sweep >= self.config.sweep_every:
                self._last_sweep = time.monotonic()
                await asyncio.to_thread(self._sweep)
            self._wake.clear()
            # No budget (every channel busy, or no CPS token yet): nothing to ask the database.
            claimed = await asyncio.to_thread(self._claim) if self._budget() > 0 else []
            for claim in claimed:
                self._claimed_at[claim.attempt_id] = time.monotonic()
                self._track(self._call(claim))
            self.peak_live = max(self.peak_live, self.live)
            if (until_idle is not None and not claimed and not self.tasks
                    and not self._reconcile_needed.is_set()
                    and await asyncio.to_thread(self._idle, until_idle)):
                return
            await self._pause(claimed)
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    def _track(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        self._wake.set()                  # a slot is free: claim again at once

    async def _pause(self, claimed: list[Claim]) -> None:
        """Until the next claim is worth making: a freed slot wakes us at once; otherwise the
        next CPS token, or the poll interval for attempts that become due."""
        token = self.bucket.wait_time(time.monotonic())
        if self.live >= self.config.trunk_channels:
            timeout = 1.0
        elif claimed or token > 0:
            timeout = max(token, 0.01)
        else:
            timeout = self.config.poll_interval
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    def _budget(self) -> int:
        return min(self.bucket.available(time.monotonic()), self.config.trunk_channels - self.live)

    def _claim(self) -> list[Claim]:
        budget = self._budget()
        with self.sessions() as session:
            claimed = claim_due(session, self.clock(), limit=budget, dialer_id=self.config.dialer_id,
                                trunk_channels=self.config.trunk_channels)
        if claimed:
            self.bucket.take(len(claimed), time.monotonic())
        return claimed

    def _sweep(self) -> None:
        """Bookkeeping off the per-call path: scheduled campaigns whose time has come start;
        now and then, promises whose date passed unpaid are broken."""
        now = self.clock()
        with self.sessions() as session:
            campaigns.promote_scheduled(session, now)
            if time.monotonic() - self._last_promise_check >= self.config.promise_check_every:
                self._last_promise_check = time.monotonic()
                campaigns.break_promises(session, to_shanghai(now).date(), now)
                finish_idle_campaigns(session, now)   # held for promises since kept, or past their end
            session.commit()
            recurrence.start_due_runs(session, now)   # recurring campaigns' runs (commits each)

    def _idle(self, horizon: float) -> bool:
        due_by = self.clock() + timedelta(seconds=horizon)
        with self.sessions() as session:
            busy = select(Attempt.id).join(Campaign, Attempt.campaign_id == Campaign.id).where(
                Campaign.status == CampaignStatus.RUNNING,
                or_(Attempt.status == AttemptStatus.DIALING,
                    (Attempt.status == AttemptStatus.QUEUED) & (Attempt.scheduled_at <= due_by)))
            return session.scalar(busy.limit(1)) is None

    def _plan(self, attempt_id: int) -> CallPlan:
        with self.sessions() as session:
            # The campaign is held while planning: the planner gets it from the session by id.
            attempt, _campaign = load_for_plan(session, attempt_id)
            return self.planner(session, attempt)

    async def _call(self, claim: Claim) -> None:
        try:
            # In a thread: preparing an owner's audio may synthesise speech.
            plan = await asyncio.to_thread(self._plan, claim.attempt_id)
        except Exception as exc:  # a message that cannot be made: nothing was dialed
            log.error("attempt %s: no call plan: %s", claim.attempt_id, exc)
            await asyncio.to_thread(self._settle, claim.attempt_id, None, AttemptStatus.SKIPPED,
                                    f"message could not be prepared: {exc}")
            self._claimed_at.pop(claim.attempt_id, None)
            return
        try:
            result = await self.tracker.place(claim.attempt_id, claim.number, plan)
        except OriginateRefused as exc:
            await asyncio.to_thread(self._settle, claim.attempt_id, None, AttemptStatus.FAILED,
                                    str(exc), "failed")
            return
        except OutcomeUnknown as exc:
            # The call may exist: look for it in Asterisk before giving up on it.
            log.warning("attempt %s: %s; reconciling", claim.attempt_id, exc)
            self._reconcile_needed.set()
            return
        finally:
            self._claimed_at.pop(claim.attempt_id, None)
        await asyncio.to_thread(self._settle, claim.attempt_id, result, AttemptStatus.DONE, said=plan.said)

    def _settle(self, attempt_id: int, result: CallResult | None, status: AttemptStatus,
                error: str | None = None, disposition: str | None = None, said: str = "") -> None:
        with self.sessions() as session:
            attempt = settle_attempt(session, attempt_id, result, status, self.clock(), error, disposition,
                                     said)
            if attempt is None:
                return                                   # settled elsewhere (reconciliation)
            if self.on_settled:
                self.on_settled(attempt)

    # -- crash safety ----------------------------------------------------------------
    async def reconcile(self) -> None:
        """Settle every attempt this dialer left `dialing` that nobody is tracking."""
        with self.sessions() as session:
            stale = session.execute(select(Attempt.id, Attempt.dialed_at).where(
                Attempt.status == AttemptStatus.DIALING,
                Attempt.dialer == self.config.dialer_id)).all()
        tracked = set(self.tracker.tracked())
        stale = [(a, d) for a, d in stale if a not in tracked]
        lost_at = self._lost_at
        if not stale and lost_at is None:
            return
        _, channels = await self.client.send_list_action({"Action": "CoreShowChannels"}, timeout=10)
        live = {c.get("Uniqueid", "") for c in channels}
        if lost_at is not None:
            # Calls placed before the AMI loss that are gone now ended while we could not
            # hear them (Asterisk may even have restarted): settle them from the CDR.
            self._lost_at = None
            for attempt_id in tracked:
                if (self._claimed_at.get(attempt_id, lost_at) < lost_at and not
                        {f"attempt-{attempt_id}-a", f"attempt-{attempt_id}-b"} & live):
                    self.tracker.abandon(attempt_id, "ended while AMI was down")
        since = {a: _aware(d) for a, d in stale if d}
        finished = cdr.outcomes(self.config.cdr_path.read_text(), since) if (
            self.config.cdr_path and self.config.cdr_path.exists()) else {}
        for attempt_id, dialed_at in stale:
            if {f"attempt-{attempt_id}-a", f"attempt-{attempt_id}-b"} & live:
                log.info("attempt %s still live after restart: following it", attempt_id)
                self._track(self._follow(attempt_id))
            elif attempt_id in finished:
                await asyncio.to_thread(self._settle_from_cdr, finished[attempt_id])
            elif dialed_at and wall_clock() - _aware(dialed_at) > timedelta(
                    seconds=self.config.dial_timeout + self.config.reconcile_grace):
                await asyncio.to_thread(self._settle, attempt_id, None, AttemptStatus.UNKNOWN,
                                        "no live channel and no CDR after restart", "unknown")
            else:
                self._reconcile_needed.set()             # the CDR may not be written yet

    async def _follow(self, attempt_id: int) -> None:
        try:
            result = await self.tracker.follow(attempt_id, watchdog=360)
        except OutcomeUnknown:
            self._reconcile_needed.set()
            return
        await asyncio.to_thread(self._settle, attempt_id, result, AttemptStatus.DONE)

    def _settle_from_cdr(self, outcome: cdr.CdrOutcome) -> None:
        result = CallResult(outcome.attempt_id, dial_status=outcome.dial_status,
                            keys=outcome.keys, dial_reported=True, flow_reported=True,
                            stage="completed" if outcome.keys is not None else None)
        self._settle(outcome.attempt_id, result, AttemptStatus.DONE, "settled from CDR")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
