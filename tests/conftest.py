"""Shared fixtures. Real parts only: the tests start two real Asterisk instances (site
"test", its own ports) and use SQLite and the machine's PostgreSQL. A part that cannot
start fails the tests loudly; nothing is skipped."""
from __future__ import annotations

import asyncio
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from dialer_helpers import BUSINESS_HOURS, SimCalls, fresh_site

from ivr.config import PROJECT_DIR, Settings
from ivr.dialer.main import simulated_clock
from ivr.dialer.planner import prompt_planner
from ivr.dialer.service import Dialer, DialerConfig
from ivr.telephony.asterisk.site import ami_client
from ivr.telephony.pstn_sim import PstnSim
from ivr.storage import Base, connect, session_factory, upgrade

TEST_PORT_BASE = int(os.environ.get("IVR_TEST_PORT_BASE", "25000"))


def postgres_url() -> str:
    url = os.environ.get("IVR_TEST_POSTGRES_URL")
    if url:
        return url
    # One database per test port base, like the Asterisk site: parallel runs don't collide.
    proc = subprocess.run([str(PROJECT_DIR / "scripts/postgres.sh"), f"ivr_test{TEST_PORT_BASE}"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"PostgreSQL could not be started: {proc.stderr.strip()}")
    os.environ["IVR_TEST_POSTGRES_URL"] = proc.stdout.strip()
    return os.environ["IVR_TEST_POSTGRES_URL"]


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    var = tmp_path_factory.mktemp("var")
    # The site name carries the port base: two test runs on different bases never share
    # (or stop) each other's Asterisk.
    return replace(Settings(), site=f"test{TEST_PORT_BASE}", port_base=TEST_PORT_BASE, var_dir=var,
                   database_url="")


@pytest.fixture(scope="session")
def site(settings):
    """Both Asterisk instances, freshly started for this run and stopped after it."""
    yield from fresh_site(settings)


def _reset_postgres(url: str) -> None:
    engine = connect(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """An empty database at the newest schema, on each of the two supported stores."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ivr.sqlite'}"
    else:
        url = postgres_url()
        _reset_postgres(url)
    upgrade(url)
    return url


@pytest.fixture
def sessions(db_url):
    engine = connect(db_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = PROJECT_DIR / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


# -- the dialer service, in process (e2e, admin and API tests) ------------------------------

@pytest.fixture
def run_dialers(site):
    """run_dialers(sessions, behaviours, n_dialers=1, ...) -> (dialers, SimCalls).
    Scripts the simulated phones, runs n in-process dialers (own AMI connection and dialer
    id each) until nothing is due within `until_idle` s of policy time."""

    def run(sessions, behaviours: dict, *, n_dialers: int = 1, trunk_channels: int = 10,
            cps: float = 10, until_idle: float = 1, clock_start=BUSINESS_HOURS, during=None,
            config: dict | None = None):
        sim_calls = SimCalls()

        async def scenario():
            pstn = ami_client(site.pstn)
            pstn.on_event("UserEvent", sim_calls.on_event)
            await pstn.start()
            await pstn.wait_ready(20)
            await PstnSim(pstn, site.pstn.host_dir / "recordings").script_many(behaviours)
            clock = simulated_clock(clock_start)
            planner = prompt_planner({"prompt": site.sound("prompts/first-call"),
                                      "goodbye": site.sound("prompts/goodbye")}, site.trunk.name)
            dialers, clients = [], []
            for i in range(n_dialers):
                client = ami_client(site.pbx)
                await client.start()
                await client.wait_ready(20)
                cfg = DialerConfig(dialer_id=f"test-dialer-{i}", trunk_channels=trunk_channels,
                                   cps=cps, cdr_path=site.pbx.host_dir / "log/cdr-csv/Master.csv",
                                   **(config or {}))
                dialers.append(Dialer(client, sessions, planner, cfg, clock=clock))
                clients.append(client)
            stop = asyncio.Event()
            runs = [asyncio.create_task(d.run(stop, until_idle=until_idle)) for d in dialers]
            if during:
                await during(dialers)
            await asyncio.gather(*runs)
            await asyncio.sleep(0.5)   # the sim's last hangup events
            for client in clients:
                await client.close()
            await pstn.close()
            return dialers

        dialers = asyncio.run(asyncio.wait_for(scenario(), 240))
        return dialers, sim_calls

    return run

