"""Running the dialer against a site's pbx: used by `ivr dialer`, the demo and the tests."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time
from datetime import datetime

from ivr.config import Settings
from ivr.policy.calendar_file import load_supplement
from ivr.storage import connect, session_factory, upgrade
from ivr.telephony.asterisk import Site
from ivr.telephony.asterisk.site import ami_client

from .flow_planner import flow_planner
from .planner import prompt_planner
from .service import Dialer, DialerConfig, wall_clock


def simulated_clock(start: datetime):
    """Policy time that starts at `start` and runs at real speed: lets the demo and tests
    dial inside call windows whatever the hour is here. Evidence timestamps stay real."""
    t0 = time.monotonic()
    from datetime import timedelta

    return lambda: start + timedelta(seconds=time.monotonic() - t0)


def dialer_id() -> str:
    return os.environ.get("IVR_DIALER_ID") or socket.gethostname()


async def run(settings: Settings, *, trunk_channels: int = 30, cps: float = 5.0,
              until_idle: float | None = None, clock_start: datetime | None = None,
              site: Site | None = None, on_settled=None, stop: asyncio.Event | None = None,
              planner: str = "flows") -> Dialer:
    """planner: "flows" — each campaign's IVR flow with its owners' own audio (production);
    "prompt" — the shipped first-call prompt and a key read (simple broadcast, tests)."""
    site = site or Site(settings)
    load_supplement(settings.holidays_path())
    url = settings.db_url()
    upgrade(url)
    sessions = session_factory(connect(url))
    client = ami_client(site.pbx)
    config = DialerConfig(dialer_id=dialer_id(), trunk_channels=trunk_channels, cps=cps,
                          cdr_path=site.pbx.host_dir / "log/cdr-csv/Master.csv")
    clock = simulated_clock(clock_start) if clock_start else wall_clock
    if planner == "flows":
        plan = flow_planner(site, settings.tts_engine, clock=clock)
    else:
        plan = prompt_planner({"prompt": site.sound("prompts/first-call"),
                               "goodbye": site.sound("prompts/goodbye")}, site.trunk.name)
    dialer = Dialer(client, sessions, plan, config, clock=clock, on_settled=on_settled)
    stop = stop or asyncio.Event()
    if threading.current_thread() is threading.main_thread():   # signals reach the main thread only
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    await client.start()
    try:
        await dialer.run(stop, until_idle=until_idle)
    finally:
        await client.close()
    return dialer
