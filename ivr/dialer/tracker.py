"""Placing calls over AMI and following each one to its result.

An Originate is sent once. If the connection drops before Asterisk answers it, the call may
or may not exist: the attempt is left for reconciliation (CoreShowChannels / CDR), never
re-sent, because a re-sent Originate dials a person twice.
"""
from __future__ import annotations

import asyncio
import logging

from ivr.telephony.ami import AMIError, ActionTimeout, ConnectionLost, NotConnected

from .call_result import CallResult, attempt_of
from .originate import CallPlan, originate_action

log = logging.getLogger("ivr.dialer.tracker")

EVENTS = ("UserEvent", "DTMFEnd", "OriginateResponse")


class OriginateRefused(Exception):
    """Asterisk refused the Originate: nothing was dialed; the attempt may be retried."""


class OutcomeUnknown(Exception):
    """The Originate may have been dialed but no result could be observed."""


class CallTracker:
    def __init__(self, client, *, answer_grace: float = 5.0, failure_grace: float = 3.0):
        self.client = client
        self.answer_grace = answer_grace      # wait for IvrCall after IvrDial(ANSWER)
        self.failure_grace = failure_grace    # wait for IvrDial after OriginateResponse Failure
        self._calls: dict[int, tuple[CallResult, asyncio.Future, asyncio.TimerHandle | None]] = {}
        for name in EVENTS:
            client.on_event(name, self._on_event)

    @property
    def live(self) -> int:
        return len(self._calls)

    async def place(self, attempt_id: int, number: str, plan: CallPlan,
                    watchdog: float | None = None) -> CallResult:
        """Dial and wait for the result. Raises OriginateRefused if nothing was dialed,
        OutcomeUnknown if the call may exist but its result was not seen."""
        action = originate_action(attempt_id, number, plan)
        loop = asyncio.get_running_loop()
        result = CallResult(attempt_id)
        future = loop.create_future()
        # Registered before sending: fast events can beat the action's response.
        self._calls[attempt_id] = (result, future, None)
        try:
            try:
                await self.client.send_action(action, timeout=10)
            except (AMIError, NotConnected) as exc:
                raise OriginateRefused(str(exc)) from exc
            except (ConnectionLost, ActionTimeout) as exc:
                raise OutcomeUnknown(f"originate sent, connection lost: {exc}") from exc
            return await self._wait(future, watchdog or plan.dial_timeout + plan.max_seconds + 30)
        finally:
            self._forget(attempt_id)

    async def follow(self, attempt_id: int, watchdog: float) -> CallResult:
        """Track a call that is already up (found live after a dialer restart): its remaining
        events settle it. Raises OutcomeUnknown if they don't come within `watchdog`."""
        future = asyncio.get_running_loop().create_future()
        self._calls[attempt_id] = (CallResult(attempt_id), future, None)
        try:
            return await self._wait(future, watchdog)
        finally:
            self._forget(attempt_id)

    @staticmethod
    async def _wait(future: asyncio.Future, limit: float) -> CallResult:
        try:
            return await asyncio.wait_for(asyncio.shield(future), limit)
        except asyncio.TimeoutError as exc:
            raise OutcomeUnknown(f"no result within {limit}s") from exc

    def _forget(self, attempt_id: int) -> None:
        entry = self._calls.pop(attempt_id, None)
        if entry and entry[2]:
            entry[2].cancel()

    def tracked(self) -> list[int]:
        return list(self._calls)

    def abandon(self, attempt_id: int, why: str) -> None:
        """Stop waiting for a call that is known to have ended unseen (its events were lost
        with the AMI connection): the waiter gets OutcomeUnknown and reconciles instead."""
        entry = self._calls.get(attempt_id)
        if entry and not entry[1].done():
            entry[1].set_exception(OutcomeUnknown(why))

    def _on_event(self, msg) -> None:
        attempt_id = attempt_of(msg)
        entry = self._calls.get(attempt_id) if attempt_id is not None else None
        if entry is None:
            return
        result, future, timer = entry
        result.apply(msg)
        if future.done():
            return
        if result.complete:
            future.set_result(result)
            return
        # Half-reported calls get a short grace, then settle with what is known.
        grace = None
        if result.dial_reported and result.dial_status == "ANSWER":
            grace = self.answer_grace
        elif result.originate_failed and not result.dial_reported:
            grace = self.failure_grace
        if grace is not None and timer is None:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(grace, lambda: future.done() or future.set_result(result))
            self._calls[attempt_id] = (result, future, timer)
