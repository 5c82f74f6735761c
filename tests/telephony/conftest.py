"""Telephony test helpers: a plain-asyncio runner and a scripted fake AMI server.

No pytest-asyncio in the venv, so `async def` tests in this folder are run
with asyncio.run() by the hook below, each under a hard timeout. Helpers are
handed out as fixtures (`fake_ami`, `eventually`) so the tests do not depend
on the import mode or sys.path.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from ivr.telephony.ami import Message, Parser

ASYNC_TEST_TIMEOUT = 10.0


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**kwargs), ASYNC_TEST_TIMEOUT))
    return True

TRANSCRIPTS = Path(__file__).parent / "transcripts"
_ACTION_ID = re.compile(rb"^ActionID: (.*?)\r?$", re.M)


def load_transcript(name: str) -> bytes:
    return (TRANSCRIPTS / name).read_bytes()


def _strip_greeting(data: bytes) -> bytes:
    return data.split(b"\r\n", 1)[1] if data.startswith(b"Asterisk Call Manager") else data


_LOGIN_OK, FULLY_BOOTED = (
    block + b"\r\n\r\n"
    for block in _strip_greeting(load_transcript("login_fullybooted.txt")).split(b"\r\n\r\n")[:2]
)


async def eventually(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Poll until predicate() is true; fail the test otherwise."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.01)


Handler = Callable[["Session", Message], "Awaitable[None] | None"]


class Session:
    """The server side of one client connection."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def reply(self, action: Message, response: str = "Success", **headers: str) -> None:
        lines = [f"Response: {response}", f"ActionID: {action.action_id}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def replay(self, name: str, action: Message | None = None, chunk: int | None = None) -> None:
        """Send a transcript, answering `action` (its first ActionID is swapped in).

        `chunk` writes it a few bytes at a time so the client sees split packets.
        """
        data = _strip_greeting(load_transcript(name))
        if action is not None and (m := _ACTION_ID.search(data)):
            data = data.replace(b"ActionID: " + m.group(1) + b"\r\n",
                                b"ActionID: " + action.action_id.encode() + b"\r\n")
        step = chunk or len(data)
        for i in range(0, len(data), step):
            self.send(data[i:i + step])
            await self.writer.drain()
            if chunk:
                await asyncio.sleep(0)

    def drop(self) -> None:
        self.writer.close()


class FakeAMI:
    """Tiny AMI server: greeting, Login/Ping/Logoff built in, other actions scripted."""

    FULLY_BOOTED = FULLY_BOOTED

    def __init__(self, *, username: str = "ivr", secret: str = "s3cret", boot: bool = True) -> None:
        self.username, self.secret, self.boot = username, secret, boot
        self.handlers: dict[str, Handler] = {}
        self.actions: list[Message] = []  # every action, across all connections
        self.sessions: list[Session] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    def on(self, action: str, handler: Handler) -> None:
        self.handlers[action.lower()] = handler

    def count(self, action: str) -> int:
        return sum(1 for a in self.actions if a.get("Action", "").lower() == action.lower())

    async def __aenter__(self) -> FakeAMI:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.close()
        for s in self.sessions:
            s.drop()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(writer)
        self.sessions.append(session)
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        parser = Parser()
        try:
            while data := await reader.read(4096):
                for action in parser.feed(data):
                    self.actions.append(action)
                    handler = self.handlers.get(action.get("Action", "").lower(), self._builtin)
                    result = handler(session, action)
                    if inspect.isawaitable(result):
                        await result
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _builtin(self, session: Session, action: Message) -> None:
        name = action.get("Action", "").lower()
        if name == "login":
            if action.get("Username") == self.username and action.get("Secret") == self.secret:
                session.send(_LOGIN_OK.replace(b"ivr-5f3a9c-1", action.action_id.encode()))
                if self.boot:
                    session.send(FULLY_BOOTED)
            else:  # Asterisk answers, then hangs up on a failed login
                await session.replay("login_failed.txt", action)
                session.drop()
        elif name == "ping":
            session.reply(action, Ping="Pong", Timestamp="1732268551.123456")
        elif name == "logoff":
            session.reply(action, "Goodbye", Message="Thanks for all the fish.")
            session.drop()
        else:
            session.reply(action, "Error", Message="Invalid/unknown command")


@pytest.fixture
def fake_ami() -> type[FakeAMI]:
    """The FakeAMI class: `async with fake_ami(secret=...) as server:`."""
    return FakeAMI


@pytest.fixture(name="eventually")
def eventually_fixture() -> Callable[..., Awaitable[None]]:
    return eventually
