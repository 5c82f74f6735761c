"""AMI client/connection tests against the in-test FakeAMI server (see conftest)."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.telephony.ami import (
    ActionTimeout,
    AMIClient,
    AMIConnection,
    AMIError,
    AuthenticationFailed,
    ConnectionLost,
    NotConnected,
    backoff_delay,
)


FAST = {"min_backoff": 0.01, "max_backoff": 0.05, "action_timeout": 1.0, "ping_interval": 0}
ORIGINATE_BUSY = {
    "Action": "Originate", "ActionID": "ivr-job7-att12", "Channel": "Local/13900139000@ivr-dial",
    "Context": "ivr-answered", "Exten": "s", "Priority": 1, "CallerID": '"自来水公司" <4008001234>',
    "Timeout": 45000, "Async": True, "Variable": ["IVR_JOB=7", "IVR_ATTEMPT=12"],
}


def make_client(server: Any, **kw: float) -> AMIClient:
    return AMIClient("127.0.0.1", server.port, "ivr", "s3cret", name="test", **{**FAST, **kw})


async def started(server: Any, **kw: float) -> AMIClient:
    client = make_client(server, **kw)
    await client.start()
    await client.wait_ready(2)
    return client


def noop(session, action) -> None:  # the server never answers this action
    return None


# -- login / readiness -------------------------------------------------------------


async def test_login_success_ready_only_after_fully_booted(fake_ami, eventually) -> None:
    async with fake_ami(boot=False) as server:
        client = make_client(server)
        seen_ready_in_callback: list[bool] = []
        client.on_connect(lambda: seen_ready_in_callback.append(client.ready))
        await client.start()
        await eventually(lambda: server.count("Login") == 1)
        # other events (not FullyBooted) do not make it ready either
        server.sessions[0].send(b"Event: PeerStatus\r\nPrivilege: system,all\r\nChannelType: PJSIP\r\n"
                                b"Peer: PJSIP/trunk\r\nPeerStatus: Reachable\r\n\r\n")
        await asyncio.sleep(0.05)  # login reply and event processed, still no FullyBooted
        assert not client.ready and seen_ready_in_callback == []
        with pytest.raises(NotConnected):
            await client.send_action({"Action": "Ping"})
        with pytest.raises(asyncio.TimeoutError):
            await client.wait_ready(0.05)

        server.sessions[0].send(server.FULLY_BOOTED)
        await client.wait_ready(1)
        assert client.ready and seen_ready_in_callback == [True]
        assert (await client.send_action({"Action": "Ping"}))["Ping"] == "Pong"
        login = server.actions[0]
        assert (login["Username"], login["Secret"], login["Events"]) == ("ivr", "s3cret", "on")
        await client.close()
        assert not client.ready


async def test_connection_login_failure_raises(fake_ami) -> None:
    async with fake_ami(secret="other") as server:
        conn = AMIConnection("127.0.0.1", server.port, "ivr", "s3cret", action_timeout=1.0, ping_interval=0)
        with pytest.raises(AuthenticationFailed) as err:
            await conn.connect()
        assert err.value.response["Message"] == "Authentication failed"
        assert conn.closed.is_set()
        with pytest.raises(ConnectionLost):
            await conn.send_action({"Action": "Ping"})


async def test_client_login_failure_keeps_retrying_never_ready(fake_ami, eventually, caplog) -> None:
    async with fake_ami(secret="other") as server:
        client = make_client(server)
        await client.start()
        await eventually(lambda: server.count("Login") >= 3)
        assert not client.ready
        with pytest.raises(asyncio.TimeoutError):
            await client.wait_ready(0.05)
        await client.close()
    assert "login refused" in caplog.text


# -- request/response ---------------------------------------------------------------


async def test_responses_matched_by_action_id_out_of_order(fake_ami) -> None:
    async with fake_ami() as server:
        held = []

        def getvar(session, action) -> None:
            held.append(action)
            if len(held) == 2:  # answer the second one first
                for a in reversed(held):
                    session.reply(a, Variable=a["Variable"], Value=f"value-of-{a['Variable']}")

        server.on("Getvar", getvar)
        client = await started(server)
        first, second = await asyncio.gather(
            client.send_action({"Action": "Getvar", "Variable": "FIRST"}),
            client.send_action({"Action": "Getvar", "Variable": "SECOND", "ActionID": "mine-42"}),
        )
        assert first["Value"] == "value-of-FIRST" and second["Value"] == "value-of-SECOND"
        assert second.action_id == "mine-42" and held[1].action_id == "mine-42"  # used as is
        assert held[0].action_id not in (None, "mine-42")
        await client.close()


async def test_error_response_raises_amierror(fake_ami) -> None:
    async with fake_ami() as server:
        client = await started(server)
        with pytest.raises(AMIError) as err:
            await client.send_action({"Action": "NoSuchAction"})
        assert err.value.response["Response"] == "Error"
        assert str(err.value) == "Invalid/unknown command"
        await client.close()


async def test_list_action_collects_events_until_complete(fake_ami) -> None:
    async with fake_ami() as server:
        server.on("CoreShowChannels", lambda s, a: s.replay("coreshowchannels.txt", a, chunk=7))
        client = await started(server)
        dispatched: list[str] = []
        client.on_event("*", lambda m: dispatched.append(m.name))
        resp, events = await client.send_list_action({"Action": "CoreShowChannels"})
        assert resp["Message"] == "Channels will follow"
        assert [e["Channel"] for e in events] == ["PJSIP/trunk-0000000e", "PJSIP/trunk-0000000f"]
        assert all(e.action_id == resp.action_id for e in events)
        await client.send_action({"Action": "Ping"})  # barrier: everything before it was routed
        assert dispatched == []  # list items belong to the action, not to event handlers
        await client.close()


async def test_action_timeout_leaves_no_pending_and_late_reply_is_ignored(fake_ami) -> None:
    async with fake_ami() as server:
        def late(session, action) -> None:
            asyncio.get_running_loop().call_later(0.2, session.reply, action)

        server.on("Getvar", late)
        conn = AMIConnection("127.0.0.1", server.port, "ivr", "s3cret", action_timeout=1.0, ping_interval=0)
        await conn.connect()
        with pytest.raises(ActionTimeout):
            await conn.send_action({"Action": "Getvar", "Variable": "X"}, timeout=0.05)
        assert conn.pending_count == 0
        await asyncio.sleep(0.3)  # the late response arrives and is dropped
        assert (await conn.send_action({"Action": "Ping"}))["Ping"] == "Pong"
        assert not conn.closed.is_set() and conn.pending_count == 0
        await conn.close()


# -- connection loss / reconnect ----------------------------------------------------


async def test_drop_fails_all_pending_reconnects_and_never_resends(fake_ami, eventually) -> None:
    async with fake_ami() as server:
        server.on("Getvar", noop)
        server.on("Originate", lambda session, action: session.drop())  # PBX dies mid-action
        client = await started(server)
        events = []
        client.on_connect(lambda: events.append("connect"))
        client.on_disconnect(lambda: events.append("disconnect"))

        getvar = asyncio.create_task(client.send_action({"Action": "Getvar", "Variable": "X"}, timeout=5))
        await eventually(lambda: server.count("Getvar") == 1)
        with pytest.raises(ConnectionLost):
            await client.send_action(ORIGINATE_BUSY, timeout=5)
        with pytest.raises(ConnectionLost):
            await getvar  # failed at once, long before its 5 s timeout
        assert not client.ready

        await client.wait_ready(2)
        assert (await client.send_action({"Action": "Ping"}))["Ping"] == "Pong"
        assert len(server.sessions) == 2
        assert server.count("Originate") == 1 and server.count("Getvar") == 1  # never re-sent
        assert events == ["disconnect", "connect"]
        await client.close()


async def test_ping_timeout_detects_half_open_connection(fake_ami, eventually, caplog) -> None:
    async with fake_ami() as server:
        def ping(session, action) -> None:
            if session is not server.sessions[0]:  # first connection is "half-open"
                session.reply(action, Ping="Pong")

        server.on("Ping", ping)
        client = await started(server, ping_interval=0.1, action_timeout=0.2)
        await eventually(lambda: len(server.sessions) == 2)
        await client.wait_ready(2)
        assert "ping timed out" in caplog.text
        await client.close()


async def test_send_action_while_disconnected_raises_not_connected() -> None:
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = AMIClient("127.0.0.1", port, "ivr", "s3cret", **FAST)
    with pytest.raises(NotConnected):
        await client.send_action({"Action": "Ping"})  # not even started
    await client.start()
    await asyncio.sleep(0.1)  # several failed connect attempts
    with pytest.raises(NotConnected):
        await client.send_list_action({"Action": "CoreShowChannels"})
    assert not client.ready
    await client.close()


async def test_close_logs_off_fails_pending_and_stops_reconnecting(fake_ami, eventually) -> None:
    async with fake_ami() as server:
        server.on("Getvar", noop)
        client = await started(server)
        lost = []
        client.on_disconnect(lambda: lost.append(True))
        pending = asyncio.create_task(client.send_action({"Action": "Getvar", "Variable": "X"}, timeout=5))
        await eventually(lambda: server.count("Getvar") == 1)
        await client.close()
        with pytest.raises(ConnectionLost):
            await pending
        assert server.count("Logoff") == 1 and lost == [True] and not client.ready
        await asyncio.sleep(0.1)
        assert len(server.sessions) == 1
        with pytest.raises(NotConnected):
            await client.send_action({"Action": "Ping"})


# -- events ---------------------------------------------------------------------------


async def test_events_dispatched_to_sync_and_async_callbacks(fake_ami, caplog) -> None:
    async with fake_ami() as server:
        server.on("Originate", lambda s, a: s.replay("originate_busy.txt", a, chunk=64))
        client = make_client(server)
        names: list[str] = []
        user_events = []
        hangups: list[str] = []
        done = asyncio.Event()

        def boom(msg) -> None:
            raise RuntimeError("bad sync callback")

        async def async_boom(msg) -> None:
            raise RuntimeError("bad async callback")

        async def on_hangup(msg) -> None:
            await asyncio.sleep(0)
            hangups.append(msg["Cause"])
            if len(hangups) == 3:
                done.set()

        client.on_event("*", boom)  # registered first: must not stop the others
        client.on_event("*", lambda m: names.append(m.name))
        client.on_event("UserEvent", user_events.append)
        client.on_event("Hangup", on_hangup)
        client.on_event("OriginateResponse", async_boom)
        await client.start()
        await client.wait_ready(2)

        resp = await client.send_action(ORIGINATE_BUSY)
        assert resp["Message"] == "Originate successfully queued"
        await asyncio.wait_for(done.wait(), 2)
        assert names[0] == "FullyBooted" and names.count("Newchannel") == 3
        assert names[-3:] == ["OriginateResponse", "Hangup", "Hangup"]
        (user,) = user_events
        assert (user["UserEvent"], user["Attempt"], user["DialStatus"], user["HangupCause"]) == (
            "IvrDial", "12", "BUSY", "17")
        assert user["CallerIDName"] == "自来水公司"
        assert hangups == ["17", "17", "17"]
        assert client.ready  # the raising callbacks did not kill the reader
        await client.close()
    assert "bad sync callback" in caplog.text and "bad async callback" in caplog.text


async def test_reader_survives_long_idle_period(fake_ami) -> None:
    # asterisk-ami's reader thread gives up after 3 idle seconds; ours must not.
    async with fake_ami() as server:
        client = await started(server)  # ping disabled: nothing at all on the wire
        got = asyncio.Event()
        client.on_event("UserEvent", lambda m: got.set())
        await asyncio.sleep(3.3)
        server.sessions[0].send(b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: IvrDial\r\n\r\n")
        await asyncio.wait_for(got.wait(), 1)
        assert client.ready
        await client.close()


async def test_state_changes_are_logged(fake_ami, caplog) -> None:
    caplog.set_level(logging.INFO, logger="ivr.ami.test")
    async with fake_ami() as server:
        server.on("Getvar", lambda s, a: s.drop())
        client = await started(server)
        with pytest.raises(ConnectionLost):
            await client.send_action({"Action": "Getvar", "Variable": "X"})
        await client.wait_ready(2)
        await client.close()
    text = [r.getMessage() for r in caplog.records if r.name == "ivr.ami.test"]
    for needle in ("connecting to", "logged in", "ready (FullyBooted)", "connection lost",
                   "reconnecting in", "closed"):
        assert any(needle in line for line in text), needle


# -- backoff ----------------------------------------------------------------------------


def test_backoff_doubles_from_min_and_is_capped() -> None:
    delays = [backoff_delay(n, 0.5, 60.0, rand=lambda: 0.5) for n in range(10)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert backoff_delay(10_000, 0.5, 60.0, rand=lambda: 0.5) == 60.0  # no overflow


def test_backoff_jitter_spreads_but_stays_in_bounds() -> None:
    assert backoff_delay(3, 0.5, 60.0, rand=lambda: 0.0) == pytest.approx(3.2)
    assert backoff_delay(3, 0.5, 60.0, rand=lambda: 1.0) == pytest.approx(4.8)
    assert backoff_delay(20, 0.5, 60.0, rand=lambda: 0.0) == pytest.approx(48.0)  # still jittered at cap
    assert backoff_delay(0, 0.5, 60.0, rand=lambda: 0.0) == 0.5  # never below min


@given(attempt=st.integers(min_value=0, max_value=10_000), r=st.floats(min_value=0, max_value=1))
def test_backoff_always_within_min_max(attempt: int, r: float) -> None:
    assert 0.5 <= backoff_delay(attempt, 0.5, 60.0, rand=lambda: r) <= 60.0


def test_bad_configuration_refused_at_construction() -> None:
    with pytest.raises(ValueError):
        backoff_delay(0, 5.0, 1.0)
    with pytest.raises(ValueError):
        AMIClient("h", 1, "u", "s", min_backoff=0)
    with pytest.raises(ValueError):  # would inject a second action into every Login
        AMIClient("h", 1, "u", "s\r\nAction: Command")
