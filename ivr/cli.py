"""The `ivr` command."""
from __future__ import annotations

import asyncio
import json
import logging
import sys

import click

from ivr.config import settings


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what the engine does.")
def main(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")


@main.group()
def asterisk() -> None:
    """Provision and run the Asterisk instances (pbx and pstn-sim)."""


@asterisk.command("setup")
def asterisk_setup() -> None:
    """Find the system Asterisk or build a Debian sid root with one (idempotent)."""
    from ivr.telephony.asterisk import setup

    cfg = settings()
    runtime = setup(cfg.asterisk_root, cfg.debian_mirror)
    where = "system" if not runtime.chrooted else f"chroot {runtime.root}"
    click.echo(f"{runtime.version()} ({where})")


def _site():
    from ivr.telephony.asterisk import Site

    return Site(settings())


async def _wait_ready(site, timeout: float = 30) -> None:
    from ivr.telephony.asterisk.site import ami_client

    for inst in site.instances:
        client = ami_client(inst)
        await client.start()
        try:
            await client.wait_ready(timeout)
        finally:
            await client.close()


@asterisk.command("start")
def asterisk_start() -> None:
    """Start both instances and wait until each reports FullyBooted."""
    site = _site()
    site.start()
    asyncio.run(_wait_ready(site))
    for inst in site.instances:
        click.echo(json.dumps(inst.status()))


@asterisk.command("stop")
def asterisk_stop() -> None:
    site = _site()
    site.stop()
    click.echo("stopped")


@asterisk.command("status")
def asterisk_status() -> None:
    site = _site()
    running = True
    for inst in site.instances:
        status = inst.status()
        running &= status["running"]
        click.echo(json.dumps(status))
    sys.exit(0 if running else 3)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    from ivr.storage import upgrade

    url = settings().db_url()
    upgrade(url)
    click.echo(f"schema up to date: {url.split('@')[-1]}")


@main.command()
@click.option("--trunk-channels", default=30, show_default=True, help="Concurrent calls per trunk.")
@click.option("--cps", default=5.0, show_default=True, help="New calls per second.")
@click.option("--until-idle", type=float, default=None,
              help="Exit when nothing is in flight and nothing is due within this many seconds.")
@click.option("--clock-start", type=click.DateTime(["%Y-%m-%dT%H:%M%z"]), default=None,
              help="Simulated policy clock start (demo/tests), e.g. 2026-11-23T10:00+0800.")
@click.option("--planner", type=click.Choice(["flows", "prompt"]), default="flows", show_default=True,
              help="flows: each campaign's IVR flow; prompt: the shipped prompt and a key read.")
def dialer(trunk_channels: int, cps: float, until_idle: float | None, clock_start, planner: str) -> None:
    """Place calls for every running campaign until stopped (SIGTERM/SIGINT)."""
    from ivr.dialer.main import run

    asyncio.run(run(settings(), trunk_channels=trunk_channels, cps=cps, until_idle=until_idle,
                    clock_start=clock_start, planner=planner))


@main.command()
@click.option("--no-serve", is_flag=True, help="End after the summary (for scripts).")
@click.option("--port", default=8080, show_default=True, type=int, help="Port of the staff admin.")
def demo(no_serve: bool, port: int) -> None:
    """Run a campaign through both Asterisk instances, show each outcome, then serve the staff
    admin with that campaign's results at a printed local URL and a demo login."""
    from ivr.demo import demo_settings, run_demo

    cfg = demo_settings(settings())
    code = run_demo(cfg)
    if code or no_serve:
        sys.exit(code)
    from admin.demo import serve_demo

    serve_demo(cfg, port=port)


from ivr.voice.cli import say  # noqa: E402  (the voice layer's own command)

main.add_command(say)

from admin.cli import admin as _admin_group  # noqa: E402  (the staff admin's commands)

main.add_command(_admin_group)

from admin.api.cli import api as _api_group  # noqa: E402  (API keys, caller-ID allowlist)
from ivr.webhooks.cli import webhooks as _webhooks_group  # noqa: E402  (the delivery worker)

main.add_command(_api_group)
main.add_command(_webhooks_group)
