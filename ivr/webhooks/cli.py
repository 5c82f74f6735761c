"""`ivr webhooks work`: the delivery worker. Registered in ivr/cli.py with
`main.add_command(webhooks)`."""
from __future__ import annotations

import click


@click.group()
def webhooks() -> None:
    """Signed webhook events for business systems."""


@webhooks.command("work")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between passes when idle.")
def work(interval: float) -> None:
    """Send queued events until stopped (SIGTERM / Ctrl-C); retries with backoff."""
    from ivr.config import settings

    from .worker import serve

    serve(settings().db_url(), interval=interval)
