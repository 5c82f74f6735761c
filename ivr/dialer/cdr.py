"""Reading Asterisk's CDR (cdr_csv Master.csv) for attempts whose events were missed
(pure parsing; the file is read by the caller). The accountcode of every leg is the attempt id."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# cdr_csv column order with loguniqueid and loguserfield on (cdr.conf).
COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
           "lastdata", "start", "answer", "end", "duration", "billsec", "disposition",
           "amaflags", "uniqueid", "userfield")
DIALSTATUS = {"ANSWERED": "ANSWER", "NO ANSWER": "NOANSWER", "BUSY": "BUSY",
              "FAILED": "CHANUNAVAIL", "CONGESTION": "CONGESTION"}


@dataclass(frozen=True)
class CdrOutcome:
    attempt_id: int
    dial_status: str
    keys: str | None
    billsec: int
    start: datetime


def _start(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


def outcomes(text: str, since: dict[int, datetime] | None = None) -> dict[int, CdrOutcome]:
    """The dialing leg (dcontext ivr-dial, to the trunk) of each attempt; keys from the
    IVR leg's userfield. `since` (attempt id → when it was dialed) ignores older records
    with the same accountcode, e.g. from another database the same Asterisk served."""
    dial: dict[int, dict] = {}
    keys: dict[int, str] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < len(COLUMNS):
            continue
        rec = dict(zip(COLUMNS, row))
        if not rec["accountcode"].isdigit():
            continue
        attempt = int(rec["accountcode"])
        if since is not None and (attempt not in since or not rec["start"] or
                                  _start(rec["start"]) < since[attempt] - timedelta(seconds=2)):
            continue
        if rec["userfield"].startswith("keys="):
            keys[attempt] = rec["userfield"][5:]
        if rec["dcontext"] == "ivr-dial" and rec["lastapp"] == "Dial":
            # Several rows can exist for one attempt (each leg); an answered one wins.
            if attempt not in dial or rec["disposition"] == "ANSWERED":
                dial[attempt] = rec
    return {a: CdrOutcome(a, DIALSTATUS.get(r["disposition"], "CHANUNAVAIL"), keys.get(a),
                          int(r["billsec"] or 0), _start(r["start"])) for a, r in dial.items()}
