"""Building the Originate for an attempt (pure: no I/O)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_DIGITS = re.compile(r"^[0-9]{3,20}$")


def action_id(attempt_id: int) -> str:
    return f"attempt-{attempt_id}"


@dataclass(frozen=True)
class CallPlan:
    """What the dialplan needs to know to run one call."""
    prompt: str                     # sound path as Asterisk sees it, without extension
    goodbye: str = ""
    trunk: str = "carrier"
    dial_timeout: int = 30          # seconds the phone may ring
    max_digits: int = 0             # 0: read until # or the key timeout
    key_timeout: int = 5
    max_seconds: int = 300          # hard cap on an answered call
    caller_id: str = ""
    context: str = "ivr-flow"       # the flow the answered owner enters (dialplans/pbx)
    variables: dict[str, str] = field(default_factory=dict)  # flow-specific, e.g. IVR_ROOM_AUDIO
    said: str = ""                  # the message's words, kept on the attempt as evidence


def originate_action(attempt_id: int, number: str, plan: CallPlan) -> dict:
    """Originate a Local channel whose ;2 half dials the trunk (ivr-dial) and whose ;1 half
    runs the IVR (ivr-flow). The attempt id is the ActionID, the channels' unique ids and a
    channel variable, so every event of the call can be tied back to its attempt row."""
    if not _DIGITS.match(number):
        raise ValueError(f"refusing to dial {number!r}: digits only")
    variables = [
        f"IVR_ATTEMPT={attempt_id}", f"IVR_TRUNK={plan.trunk}", f"IVR_DIAL_TIMEOUT={plan.dial_timeout}",
        f"IVR_PROMPT={plan.prompt}", f"IVR_GOODBYE={plan.goodbye}", f"IVR_MAX_DIGITS={plan.max_digits}",
        f"IVR_KEY_TIMEOUT={plan.key_timeout}", f"IVR_MAX_SECONDS={plan.max_seconds}",
    ]
    for name, value in plan.variables.items():
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name) or any(c in str(value) for c in "\r\n"):
            raise ValueError(f"bad flow variable {name!r}")
        variables.append(f"{name}={value}")
    action = {
        "Action": "Originate",
        "ActionID": action_id(attempt_id),
        "Channel": f"Local/{number}@ivr-dial/n",
        "Context": plan.context,
        "Exten": "s",
        "Priority": "1",
        "Async": "true",
        # Longer than the ring time: Dial's own timeout must decide NOANSWER, not this.
        "Timeout": str((plan.dial_timeout + 15) * 1000),
        "Account": str(attempt_id),
        "ChannelId": f"attempt-{attempt_id}-a",
        "OtherChannelId": f"attempt-{attempt_id}-b",
        "Variable": variables,
    }
    if plan.caller_id:
        action["CallerID"] = plan.caller_id
    return action
