"""Public AMI facade: a supervisor task owning the reconnect loop + event fan-out.

State machine (each transition logged on `ivr.ami.<name>`):
    connecting -> logged in -> ready (FullyBooted seen) -> lost -> backoff -> connecting
Only `ready` accepts actions; a lost connection fails its pending actions
with ConnectionLost and nothing is replayed on the next connection.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from typing import Any

from .connection import AMIConnection
from .errors import AMIException, AuthenticationFailed, NotConnected
from .parser import Message, serialize

__all__ = ["AMIClient", "backoff_delay"]

EventCallback = Callable[[Message], "Awaitable[None] | None"]
StateCallback = Callable[[], "Awaitable[None] | None"]

# Asterisk sends FullyBooted right after login only if the user may read the
# "system" class; warn after this long so a bad manager.conf is obvious.
_BOOT_WARN_AFTER = 10.0
_STABLE_AFTER_CAP = 30.0


def backoff_delay(
    attempt: int,
    min_backoff: float,
    max_backoff: float,
    *,
    jitter: float = 0.2,
    rand: Callable[[], float] = random.random,
) -> float:
    """Delay before reconnect `attempt` (0-based): doubling from min, capped at max.

    +/- `jitter` spreads reconnects of many workers after a PBX restart; the
    result always stays within [min_backoff, max_backoff].
    """
    if not 0 < min_backoff <= max_backoff:
        raise ValueError("need 0 < min_backoff <= max_backoff")
    base = min(max_backoff, min_backoff * 2.0 ** min(max(attempt, 0), 64))
    delay = base * (1.0 + jitter * (2.0 * rand() - 1.0))
    return max(min_backoff, min(max_backoff, delay))


class AMIClient:
    """Self-reconnecting AMI client; see module docstring.

    `ping_interval` <= 0 disables the keepalive Ping (tests only: without it a
    half-open TCP connection is never noticed). State callbacks take no
    arguments; event callbacks get the Message. Async callbacks run as tasks.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        name: str = "pbx",
        min_backoff: float = 0.5,
        max_backoff: float = 60.0,
        action_timeout: float = 10.0,
        ping_interval: float = 20.0,
    ) -> None:
        backoff_delay(0, min_backoff, max_backoff)  # validate early
        serialize({"Username": username, "Secret": secret})  # CR/LF: fail now, not in the loop
        self.host, self.port, self.name = host, port, name
        self._username, self._secret = username, secret
        self.min_backoff, self.max_backoff = min_backoff, max_backoff
        self.action_timeout = action_timeout
        self.ping_interval = ping_interval
        self.log = logging.getLogger(f"ivr.ami.{name}")
        self._handlers: dict[str, list[EventCallback]] = {}
        self._on_connect: list[StateCallback] = []
        self._on_disconnect: list[StateCallback] = []
        self._conn: AMIConnection | None = None
        self._ready = False
        self._logged_in = False  # both flags are per connection, reset on each attempt
        self._booted = False
        self._ready_since = 0.0
        self._ready_event = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._callback_tasks: set[asyncio.Future[Any]] = set()

    # -- registration ---------------------------------------------------------
    def on_event(self, name: str, callback: EventCallback) -> None:
        """Call `callback(msg)` for events named `name` ("*" = all); sync or async."""
        self._handlers.setdefault(name.lower(), []).append(callback)

    def on_connect(self, callback: StateCallback) -> None:
        """Call `callback()` each time a connection becomes ready (login + FullyBooted)."""
        self._on_connect.append(callback)

    def on_disconnect(self, callback: StateCallback) -> None:
        """Call `callback()` each time a ready connection is lost (or closed)."""
        self._on_disconnect.append(callback)

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        """Start the supervisor task; returns at once."""
        if self._task is None:
            self._closing = False
            self._task = asyncio.create_task(self._supervise(), name=f"ami-{self.name}")

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until ready; raises asyncio.TimeoutError."""
        await asyncio.wait_for(self._ready_event.wait(), timeout)

    @property
    def ready(self) -> bool:
        conn = self._conn
        return self._ready and conn is not None and not conn.closed.is_set()

    async def close(self) -> None:
        """Log off if possible, stop reconnecting, fail pending actions."""
        task, self._task = self._task, None
        if task is None:
            return
        self._closing = True
        conn = self._conn
        if conn is not None and self.ready:
            with suppress(AMIException):
                await conn.send_action({"Action": "Logoff"}, timeout=min(self.action_timeout, 2.0))
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        self.log.info("closed")

    # -- actions -------------------------------------------------------------------
    async def send_action(self, action: Mapping[str, Any], timeout: float | None = None) -> Message:
        """Send one action. NotConnected / ConnectionLost / ActionTimeout / AMIError."""
        return await self._ready_conn().send_action(action, timeout)

    async def send_list_action(
        self, action: Mapping[str, Any], timeout: float | None = None
    ) -> tuple[Message, list[Message]]:
        """Send a list action (CoreShowChannels, Status, DBGet...); see AMIConnection."""
        return await self._ready_conn().send_list_action(action, timeout)

    def _ready_conn(self) -> AMIConnection:
        conn = self._conn
        if not self.ready or conn is None:
            raise NotConnected(f"AMI {self.name} is not ready")
        return conn

    # -- supervisor ----------------------------------------------------------------
    async def _supervise(self) -> None:
        attempt = 0
        conn: AMIConnection | None = None
        try:
            while not self._closing:
                conn = self._new_connection()
                self.log.info("connecting to %s:%s", self.host, self.port)
                try:
                    await conn.connect()
                except AuthenticationFailed as exc:
                    self.log.error("login refused for user %r: %s", self._username, exc)
                except AMIException as exc:
                    self.log.warning("connect failed: %s", exc)
                except Exception:  # a bug must not end the reconnect loop silently
                    self.log.exception("unexpected error while connecting")
                else:
                    self.log.info("logged in (%s)", conn.greeting)
                    self._logged_in = True
                    if self._booted:  # FullyBooted came in the same read as the login reply
                        self._become_ready()
                    await self._wait_closed(conn)
                    uptime = asyncio.get_running_loop().time() - self._ready_since if self._ready_since else 0.0
                    if uptime >= min(_STABLE_AFTER_CAP, self.max_backoff):
                        attempt = 0  # it was a healthy connection, not a flapping one
                if self._closing:
                    break
                delay = backoff_delay(attempt, self.min_backoff, self.max_backoff)
                attempt += 1
                self.log.info("reconnecting in %.2fs (attempt %d)", delay, attempt)
                await asyncio.sleep(delay)
        finally:
            if conn is not None:
                await conn.close("client closed")

    def _new_connection(self) -> AMIConnection:
        conn: AMIConnection

        def on_event(msg: Message) -> None:
            self._on_conn_event(conn, msg)

        def on_close(reason: str) -> None:
            self._on_conn_close(conn, reason)

        conn = AMIConnection(
            self.host, self.port, self._username, self._secret,
            on_event=on_event, on_close=on_close,
            action_timeout=self.action_timeout, ping_interval=self.ping_interval,
            connect_timeout=self.action_timeout, logger=self.log,
        )
        self._conn = conn  # before connect(): FullyBooted may arrive with the login reply
        self._logged_in = self._booted = False
        self._ready_since = 0.0
        return conn

    async def _wait_closed(self, conn: AMIConnection) -> None:
        try:
            await asyncio.wait_for(conn.closed.wait(), _BOOT_WARN_AFTER)
        except asyncio.TimeoutError:
            if not self._ready:
                self.log.warning("no FullyBooted event yet: Asterisk still booting, or the "
                                 "AMI user lacks read=system?")
            await conn.closed.wait()

    # Both hooks are called synchronously by the connection (its reader, or
    # its teardown), so `ready` flips before a failed action's caller resumes.
    def _on_conn_event(self, conn: AMIConnection, msg: Message) -> None:
        if msg.name == "FullyBooted" and conn is self._conn and not self._booted:
            self._booted = True
            if self._logged_in:  # else the supervisor does it once connect() returns
                self._become_ready()
        callbacks = self._handlers.get((msg.name or "").lower(), []) + self._handlers.get("*", [])
        for cb in callbacks:
            self._call(cb, msg)

    def _become_ready(self) -> None:
        if self._conn is None or self._conn.closed.is_set():
            return  # lost between login and now: stay not-ready
        self._ready = True
        self._ready_since = asyncio.get_running_loop().time()
        self._ready_event.set()
        self.log.info("ready (FullyBooted)")
        for cb in self._on_connect:
            self._call(cb)

    def _on_conn_close(self, conn: AMIConnection, reason: str) -> None:
        if conn is not self._conn:
            return
        was_ready = self._ready
        self._ready = False
        self._ready_event.clear()
        if self._logged_in:  # failures during connect() are logged by the supervisor
            (self.log.info if self._closing else self.log.warning)("connection lost: %s", reason)
        if was_ready:
            for cb in self._on_disconnect:
                self._call(cb)

    def _call(self, cb: Callable[..., Any], *args: Any) -> None:
        """Run a user callback; exceptions are logged, never propagated."""
        try:
            result = cb(*args)
        except Exception:
            self.log.exception("callback %r failed", cb)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._callback_tasks.add(task)
            task.add_done_callback(self._callback_done)

    def _callback_done(self, task: asyncio.Future[Any]) -> None:
        self._callback_tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.log.error("async callback failed", exc_info=exc)
