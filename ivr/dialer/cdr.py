"""Reading Asterisk's CDR (cdr_csv Master.csv) for attempts whose events were missed
(pure parsing; the file is read by the caller). The accountcode of every leg is the attempt id."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

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


def outcomes(text: str) -> dict[int, CdrOutcome]:
    """The dialing leg (dcontext ivr-dial, to the trunk) of each attempt; keys from the
    IVR leg's userfield."""
    dial: dict[int, dict] = {}
    keys: dict[int, str] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < len(COLUMNS):
            continue
        rec = dict(zip(COLUMNS, row))
        if not rec["accountcode"].isdigit():
            continue
        attempt = int(rec["accountcode"])
        if rec["userfield"].startswith("keys="):
            keys[attempt] = rec["userfield"][5:]
        if rec["dcontext"] == "ivr-dial" and rec["lastapp"] == "Dial":
            # Several rows can exist for one attempt (each leg); an answered one wins.
            if attempt not in dial or rec["disposition"] == "ANSWERED":
                dial[attempt] = rec
    return {a: CdrOutcome(a, DIALSTATUS.get(r["disposition"], "CHANUNAVAIL"), keys.get(a),
                          int(r["billsec"] or 0)) for a, r in dial.items()}
