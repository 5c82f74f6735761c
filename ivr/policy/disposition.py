"""What happened on one call attempt, and how to read it off Asterisk."""

from __future__ import annotations

from enum import Enum


class Disposition(str, Enum):
    ANSWERED = "answered"  # the owner heard the whole message
    BUSY = "busy"  # line busy, or the owner rejected the call
    NO_ANSWER = "no_answer"  # rang out, or the phone is switched off (关机)
    UNREACHABLE = "unreachable"  # empty / unallocated / unroutable number (空号, 错号)
    FAILED = "failed"  # network congestion or channel unavailable: try again later
    MACHINE = "machine"  # answering machine / voicemail
    HUNG_UP_EARLY = "hung_up_early"  # answered, hung up before the message ended
    OPTED_OUT = "opted_out"  # asked not to be called again
    WRONG_PERSON = "wrong_person"  # the number does not belong to the owner
    UNKNOWN = "unknown"  # dialer lost track of the call (crash) and could not reconcile


# Q.850 causes that settle the outcome whatever DIALSTATUS says: Asterisk folds
# many causes into CONGESTION/CHANUNAVAIL, but the cause says *why*.
_CAUSES: dict[int, Disposition] = {
    1: Disposition.UNREACHABLE,  # unallocated number (空号)
    3: Disposition.UNREACHABLE,  # no route to destination
    22: Disposition.UNREACHABLE,  # number changed
    28: Disposition.UNREACHABLE,  # invalid number format
    17: Disposition.BUSY,  # user busy
    # Call rejected: the owner pressed "decline".  Treated like busy (a person is
    # there, just not now) rather than as a refusal.
    21: Disposition.BUSY,
    18: Disposition.NO_ANSWER,  # no user responding
    19: Disposition.NO_ANSWER,  # no answer from user (alerted)
    # Subscriber absent = phone switched off.  Seed 000 puts 关机 in class B
    # (retry), only *long-term* 关机 in C, so it must not count toward unreachable.
    20: Disposition.NO_ANSWER,
    34: Disposition.FAILED,  # no circuit/channel available
    38: Disposition.FAILED,  # network out of order
    41: Disposition.FAILED,  # temporary failure
    42: Disposition.FAILED,  # switching equipment congestion
}

_DIAL_STATUSES: dict[str, Disposition] = {
    "BUSY": Disposition.BUSY,
    "NOANSWER": Disposition.NO_ANSWER,
    # CANCEL: the calling side gave up before answer, i.e. our own ring timeout.
    "CANCEL": Disposition.NO_ANSWER,
    "CONGESTION": Disposition.FAILED,
    "CHANUNAVAIL": Disposition.FAILED,
    # Bad dial arguments are most likely a malformed number from the import; FAILED
    # retries a few times, then marks the number unreachable for staff to fix.
    "INVALIDARGS": Disposition.FAILED,
    # Privacy-manager outcomes: the callee said "do not call".
    "DONTCALL": Disposition.OPTED_OUT,
    "TORTURE": Disposition.OPTED_OUT,
}

# Stages the IVR flow reports when it ends; any other stage means the owner hung
# up somewhere before the end of the message.
_FLOW_STAGES: dict[str, Disposition] = {
    "completed": Disposition.ANSWERED,
    "machine": Disposition.MACHINE,
    "wrong_person": Disposition.WRONG_PERSON,
    "opted_out": Disposition.OPTED_OUT,
}


def map_dial_result(
    dial_status: str | None, hangup_cause: int | None, flow_stage: str | None
) -> Disposition:
    """Map Asterisk's DIALSTATUS, the Q.850 hangup cause and the IVR flow stage.

    Precedence: a flow stage (the call reached our IVR, so it was answered) →
    ANSWER without a stage (answered, message never confirmed) → privacy-manager
    refusal → a telling Q.850 cause → DIALSTATUS → UNKNOWN.
    """
    status = (dial_status or "").strip().upper()
    stage = (flow_stage or "").strip().lower()
    if stage:
        return _FLOW_STAGES.get(stage, Disposition.HUNG_UP_EARLY)
    if status == "ANSWER":
        return Disposition.HUNG_UP_EARLY
    if status in ("DONTCALL", "TORTURE"):
        return _DIAL_STATUSES[status]
    if hangup_cause is not None and hangup_cause in _CAUSES:
        return _CAUSES[hangup_cause]
    return _DIAL_STATUSES.get(status, Disposition.UNKNOWN)
