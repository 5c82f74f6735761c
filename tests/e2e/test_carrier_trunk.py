"""A carrier trunk with a password: the dialer's Asterisk registers with digest auth and
answers the challenge on every call. The simulated network plays a carrier that demands it
(IVR_TRUNK_USERNAME / IVR_TRUNK_PASSWORD / IVR_TRUNK_REGISTER set, IVR_TRUNK_HOST not)."""
from __future__ import annotations

import secrets
import socket
import time
from dataclasses import replace

import pytest
from dialer_helpers import campaign_for, fresh_site
from sqlalchemy import select

from ivr.storage import Attempt, connect, session_factory, upgrade
from ivr.telephony.pstn_sim import Behaviour

USERNAME = "02161230001"


@pytest.fixture(scope="module")
def site(settings):
    """A site of its own (other ports) whose trunk needs a password; overrides the shared
    `site` for this module, so `run_dialers` dials through it."""
    base = settings.port_base + 3200
    cfg = replace(settings, site=f"carrier{settings.port_base}", port_base=base,
                  trunk_username=USERNAME, trunk_password=secrets.token_urlsafe(12), trunk_register=True)
    yield from fresh_site(cfg)


def _registration(site) -> str:
    return site.pbx.cli("pjsip show registrations")


def test_the_trunk_registers_with_its_password(site):
    give_up = time.monotonic() + 20
    while "Registered" not in _registration(site) and time.monotonic() < give_up:
        time.sleep(0.5)
    shown = _registration(site)
    assert "carrier-registration" in shown and "Registered" in shown, shown
    contacts = site.pstn.cli(f"pjsip show aor {USERNAME}")
    assert f"sip:{USERNAME}@127.0.0.1:{site.pbx.spec.sip_port}" in contacts, contacts


def test_the_carrier_challenges_anyone_without_the_password(site):
    """A REGISTER without credentials, from the dialer's own address, is refused with 401."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        port, tag = sock.getsockname()[1], secrets.token_hex(4)
        request = (f"REGISTER sip:127.0.0.1:{site.pstn.spec.sip_port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{tag};rport\r\n"
                   "Max-Forwards: 70\r\n"
                   f"From: <sip:{USERNAME}@127.0.0.1>;tag={tag}\r\n"
                   f"To: <sip:{USERNAME}@127.0.0.1>\r\n"
                   f"Call-ID: {tag}@127.0.0.1\r\nCSeq: 1 REGISTER\r\n"
                   f"Contact: <sip:{USERNAME}@127.0.0.1:{port}>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n")
        sock.sendto(request.encode(), ("127.0.0.1", site.pstn.spec.sip_port))
        reply = sock.recv(4096).decode(errors="replace")
    assert reply.startswith("SIP/2.0 401"), reply.splitlines()[0]


def test_a_call_through_the_password_trunk_is_answered_and_keyed(site, tmp_path, run_dialers):
    url = f"sqlite:///{tmp_path / 'ivr.sqlite'}"
    upgrade(url)
    engine = connect(url)
    sessions = session_factory(engine)
    number = "13910000001"
    campaign_id = campaign_for(sessions, [number], dial_timeout=6, key_timeout=3)
    run_dialers(sessions, {number: Behaviour.answer(0.5, [(1.5, "1")])}, until_idle=1)
    with sessions() as s:
        attempt = s.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id)).first()
        assert (attempt.disposition, attempt.dial_status, attempt.keys) == ("answered", "ANSWER", "1"), \
            (attempt.disposition, attempt.dial_status, attempt.error)
    engine.dispose()
