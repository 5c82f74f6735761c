"""One AMI TCP session: login, ActionID matching, list actions, keepalive.

A connection is single-use: once lost it stays closed and every pending
action fails with ConnectionLost. Reconnecting is the supervisor's job, and
nothing is ever re-sent: a re-sent Originate dials a person twice.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any

from .errors import ActionTimeout, AMIError, AuthenticationFailed, ConnectionLost
from .parser import Message, Parser, serialize

__all__ = ["AMIConnection", "new_action_id"]

_IDS = itertools.count(1)
# Per-process prefix: IDs stay unique across reconnects and across several
# processes sharing one Asterisk, which also makes Asterisk logs greppable.
_ID_PREFIX = secrets.token_hex(3)


def new_action_id() -> str:
    return f"ivr-{_ID_PREFIX}-{next(_IDS)}"


class _Pending:
    __slots__ = ("future", "collect", "response", "events")

    def __init__(self, future: asyncio.Future[tuple[Message, list[Message]]], collect: bool) -> None:
        self.future = future
        self.collect = collect
        self.response: Message | None = None
        self.events: list[Message] = []

    def resolve(self, response: Message) -> None:
        if not self.future.done():
            self.future.set_result((response, self.events))

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


class AMIConnection:
    """A single logged-in AMI session over TCP."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        on_event: Callable[[Message], None] | None = None,
        on_close: Callable[[str], None] | None = None,
        action_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
        connect_timeout: float = 10.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.host, self.port = host, port
        self._username, self._secret = username, secret
        self._on_event = on_event
        self._on_close = on_close
        self.action_timeout = action_timeout
        self._ping_interval = ping_interval
        self._connect_timeout = connect_timeout
        self._log = logger or logging.getLogger("ivr.ami")
        self._parser = Parser()
        self._pending: dict[str, _Pending] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.closed = asyncio.Event()
        self.close_reason: str | None = None

    @property
    def greeting(self) -> str | None:
        return self._parser.greeting

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    async def connect(self) -> None:
        """Open the socket and log in. Raises ConnectionLost/AuthenticationFailed/ActionTimeout."""
        try:
            reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self._connect_timeout
            )
        except (OSError, asyncio.TimeoutError) as exc:
            self._lost(f"cannot connect to {self.host}:{self.port}: {exc!r}")
            raise ConnectionLost(self.close_reason) from exc
        self._tasks.append(asyncio.create_task(self._read_loop(reader), name=f"ami-read-{self.host}"))
        login = {"Action": "Login", "Username": self._username, "Secret": self._secret, "Events": "on"}
        try:
            await self.send_action(login)
        except AMIError as exc:
            await self.close("login refused")
            raise AuthenticationFailed(exc.response) from None
        except BaseException:
            await self.close("login did not complete")
            raise
        if self._ping_interval and self._ping_interval > 0:
            self._tasks.append(asyncio.create_task(self._ping_loop(), name=f"ami-ping-{self.host}"))

    async def send_action(self, action: Mapping[str, Any], timeout: float | None = None) -> Message:
        """Send one action, return its response; `Response: Error` raises AMIError."""
        response, _ = await self._request(action, timeout, collect=False)
        return response

    async def send_list_action(
        self, action: Mapping[str, Any], timeout: float | None = None
    ) -> tuple[Message, list[Message]]:
        """Send an action answered by `EventList: start` + events + `EventList: Complete`.

        Returns the response and the item events (the Complete event excluded);
        the timeout covers the whole list.
        """
        return await self._request(action, timeout, collect=True)

    async def _request(
        self, action: Mapping[str, Any], timeout: float | None, collect: bool
    ) -> tuple[Message, list[Message]]:
        if self._writer is None or self.closed.is_set():
            raise ConnectionLost(self.close_reason or "not connected")
        action = dict(action)
        id_key = next((k for k in action if k.lower() == "actionid"), None)
        if id_key is None:
            action_id = action["ActionID"] = new_action_id()
        else:
            action_id = str(action[id_key])
        if action_id in self._pending:
            raise ValueError(f"ActionID {action_id!r} is already pending")
        data = serialize(action)  # may raise ValueError before anything is registered
        timeout = self.action_timeout if timeout is None else timeout
        future: asyncio.Future[tuple[Message, list[Message]]] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(future, collect)
        try:
            async with asyncio.timeout(timeout):  # covers drain() too: a stuck peer can block it
                self._writer.write(data)
                await self._writer.drain()
                return await future
        except TimeoutError:
            raise ActionTimeout(
                f"{action.get('Action')} (ActionID {action_id}) got no response within {timeout}s"
            ) from None
        except (ConnectionError, OSError) as exc:
            self._lost(f"write failed: {exc!r}")
            raise ConnectionLost(self.close_reason) from exc
        finally:
            self._pending.pop(action_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # mark retrieved: no "never retrieved" noise

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        # No idle timeout on purpose: an AMI socket may be silent for hours.
        # Liveness is checked by the ping loop instead.
        reason = "connection closed by Asterisk"
        try:
            while data := await reader.read(65536):
                for msg in self._parser.feed(data):
                    self._route(msg)
        except (ConnectionError, OSError) as exc:
            reason = f"read failed: {exc!r}"
        self._lost(reason)

    def _route(self, msg: Message) -> None:
        action_id = msg.action_id
        pending = self._pending.get(action_id) if action_id is not None else None
        if msg.is_response:
            if pending is None or pending.response is not None:
                self._log.debug("dropping response for unknown/expired ActionID %s", action_id)
            elif not msg.ok:
                pending.fail(AMIError(msg))
            elif pending.collect and msg.get("EventList", "").lower() == "start":
                pending.response = msg
            else:
                pending.resolve(msg)
            return
        if not msg.is_event:
            self._log.debug("ignoring message that is neither event nor response: %r", msg)
            return
        if pending is not None and pending.collect and pending.response is not None:
            if msg.get("EventList", "").lower() == "complete":
                pending.resolve(pending.response)
            else:
                pending.events.append(msg)
            return
        if self._on_event is not None:
            try:
                self._on_event(msg)
            except Exception:  # a bad callback must never kill the reader
                self._log.exception("event callback failed for %s", msg.name)

    async def _ping_loop(self) -> None:
        # Half-open TCP (PBX rebooted, NAT entry expired) never shows up as
        # EOF; an unanswered Ping is the only way to notice it.
        assert self._ping_interval
        while not self.closed.is_set():
            await asyncio.sleep(self._ping_interval)
            try:
                await self.send_action({"Action": "Ping"})
            except ActionTimeout:
                self._lost("ping timed out (half-open connection?)")
                return
            except ConnectionLost:
                return
            except AMIError as exc:
                self._log.warning("ping refused: %s", exc)

    def _lost(self, reason: str) -> None:
        """Idempotent teardown; fails every pending action at once."""
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        for pending in self._pending.values():
            pending.fail(ConnectionLost(reason))
        self._pending.clear()
        if self._writer is not None:
            self._writer.close()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        if self._on_close is not None:
            try:
                self._on_close(reason)
            except Exception:
                self._log.exception("close callback failed")

    async def close(self, reason: str = "closed by client") -> None:
        """Close without Logoff (the client sends Logoff first when it can)."""
        self._lost(reason)
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._writer is not None:
            with suppress(Exception):
                await asyncio.wait_for(self._writer.wait_closed(), 1.0)
