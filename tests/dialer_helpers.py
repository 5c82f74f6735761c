"""Helpers for tests that run the dialer against the real Asterisk pair."""
from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime

from ivr.dialer.seed import campaign_with_accounts
from ivr.policy.windows import SHANGHAI

# Policy time for these tests: a Monday morning inside the call windows (not a holiday).
BUSINESS_HOURS = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


class SimCalls:
    """Counts the calls each simulated phone received (its `SimCall` hangup events)."""

    def __init__(self):
        self.calls: Counter = Counter()

    def on_event(self, msg) -> None:
        if msg.get("UserEvent") == "SimCall":
            self.calls[msg.get("Number")] += 1


def campaign_for(sessions, numbers, **settings) -> int:
    with sessions() as s:
        return campaign_with_accounts(s, "dialer test", [dict(room="1栋101", phones=[n]) for n in numbers],
                                      settings=settings, now=BUSINESS_HOURS).id


def fresh_site(settings):
    """A site's instances started afresh, for a fixture to yield from; stopped after."""
    from ivr.telephony.asterisk import Site

    site = Site(settings)
    site.stop()
    # What the simulated phones heard in earlier runs must not count in this one.
    shutil.rmtree(site.pstn.host_dir / "recordings", ignore_errors=True)
    site.start()
    yield site
    site.stop()
