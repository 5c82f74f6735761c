"""Folding a call's AMI events into its result (pure: no I/O).

A call reports through three UserEvents sent by the dialplan (dialplans/pbx):
IvrDial from the dialing half when it hangs up (DIALSTATUS, Q.850 cause), IvrKeys when the
flow has read the owner's keys, IvrCall from the IVR half when it hangs up (how far the
owner got). Flows may also report steps with `UserEvent IvrStep` (Step, Value), read by the
flow layer (ivr.flows). DTMFEnd events on the IVR half log every key as pressed, '#' included.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ivr.policy.disposition import Disposition, map_dial_result

_UNIQUEID = re.compile(r"^attempt-(\d+)-a$")
_ACTIONID = re.compile(r"^attempt-(\d+)$")


def attempt_of(msg) -> int | None:
    """The attempt id an event belongs to, or None for events of other calls."""
    name = msg.get("Event", "")
    if name == "UserEvent":
        value = msg.get("Attempt", "")
        return int(value) if value.isdigit() else None
    if name in ("DTMFEnd", "DTMFBegin"):
        match = _UNIQUEID.match(msg.get("Uniqueid", ""))
    elif name == "OriginateResponse":
        match = _ACTIONID.match(msg.get("ActionID", ""))
    else:
        return None
    return int(match.group(1)) if match else None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


@dataclass
class CallResult:
    attempt_id: int
    dial_status: str | None = None
    hangup_cause: int | None = None
    stage: str | None = None
    keys: str | None = None
    key_log: str = ""
    answered_seconds: int | None = None
    originate_failed: bool = False
    dial_reported: bool = False
    flow_reported: bool = False
    steps: list[tuple[str, str]] = field(default_factory=list)  # (Step, Value) in order

    def apply(self, msg) -> None:
        name = msg.get("Event", "")
        if name == "UserEvent":
            kind = msg.get("UserEvent", "")
            if kind == "IvrDial":
                self.dial_reported = True
                self.dial_status = msg.get("DialStatus", "") or None
                self.hangup_cause = _int(msg.get("HangupCause"))
                self.answered_seconds = _int(msg.get("AnsweredTime"))
            elif kind == "IvrKeys":
                self.keys = msg.get("Keys", "")
            elif kind == "IvrStep":
                self.steps.append((msg.get("Step", ""), msg.get("Value", "")))
            elif kind == "IvrCall":
                self.flow_reported = True
                self.stage = msg.get("Stage", "") or None
                if self.keys is None and msg.get("Keys"):
                    self.keys = msg.get("Keys")
        elif name == "DTMFEnd" and msg.get("Direction", "") == "Received":
            self.key_log += msg.get("Digit", "")
        elif name == "OriginateResponse" and msg.get("Response", "") == "Failure":
            self.originate_failed = True

    @property
    def complete(self) -> bool:
        """Both halves have reported (the IVR half only exists if the call was answered)."""
        if not self.dial_reported:
            return False
        return self.dial_status != "ANSWER" or self.flow_reported

    @property
    def disposition(self) -> Disposition:
        if not self.dial_reported and self.originate_failed:
            return Disposition.FAILED
        return map_dial_result(self.dial_status, self.hangup_cause,
                               self.stage if self.dial_status == "ANSWER" else None)
