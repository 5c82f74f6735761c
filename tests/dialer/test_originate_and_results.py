"""The dialer's pure parts: the Originate it builds and how events fold into a result."""
from __future__ import annotations

import pytest

from ivr.dialer.call_result import CallResult, attempt_of
from ivr.dialer.originate import CallPlan, originate_action
from ivr.telephony.ami import Parser
from ivr.telephony.pstn_sim import Behaviour

PLAN = CallPlan(prompt="/p/first-call", goodbye="/p/bye", dial_timeout=20)


def test_originate_carries_the_attempt_everywhere():
    action = originate_action(42, "13800000001", PLAN)
    assert action["ActionID"] == "attempt-42"
    assert action["ChannelId"] == "attempt-42-a" and action["OtherChannelId"] == "attempt-42-b"
    assert action["Channel"] == "Local/13800000001@ivr-dial/n"
    assert "IVR_ATTEMPT=42" in action["Variable"]
    # Dial()'s ring timeout decides NOANSWER, not Originate's own timeout.
    assert int(action["Timeout"]) > PLAN.dial_timeout * 1000


@pytest.mark.parametrize("number", ["138&PJSIP/x", "1;System(id)", "13800000001\r\nAction: Command",
                                    "", "12", "+8613800000001"])
def test_originate_refuses_anything_but_digits(number):
    with pytest.raises(ValueError):
        originate_action(1, number, PLAN)


def _events(text: str):
    return Parser().feed(text.replace("\n", "\r\n").encode())


ANSWERED = """Event: DTMFEnd
Uniqueid: attempt-7-a
Digit: 2
Direction: Received

Event: DTMFEnd
Uniqueid: attempt-7-b
Digit: 2
Direction: Received

Event: DTMFEnd
Uniqueid: attempt-7-a
Digit: #
Direction: Received

Event: UserEvent
UserEvent: IvrKeys
Attempt: 7
Keys: 2

Event: UserEvent
UserEvent: IvrDial
Attempt: 7
DialStatus: ANSWER
HangupCause: 16
AnsweredTime: 9

"""


def test_answered_call_needs_both_halves_before_it_is_complete():
    result = CallResult(7)
    msgs = _events(ANSWERED)
    # The ;2 half's copy of each key is not counted: only the IVR half's DTMF is ours.
    assert [attempt_of(m) for m in msgs] == [7, None, 7, 7, 7]
    for msg in msgs:
        if attempt_of(msg) == 7:
            result.apply(msg)
    assert not result.complete          # the IVR half has not reported yet
    result.apply(_events("Event: UserEvent\nUserEvent: IvrCall\nAttempt: 7\nStage: completed\n\n")[0])
    assert result.complete
    assert (result.keys, result.key_log, result.disposition.value) == ("2", "2#", "answered")
    assert result.answered_seconds == 9


def test_busy_is_complete_from_the_dialing_half_alone():
    result = CallResult(8)
    for msg in _events("Event: UserEvent\nUserEvent: IvrDial\nAttempt: 8\nDialStatus: BUSY\n"
                       "HangupCause: 17\n\n"):
        result.apply(msg)
    assert result.complete and result.disposition.value == "busy"


def test_events_of_other_calls_are_not_ours():
    msgs = _events("Event: DTMFEnd\nUniqueid: 1795355962.4\nDigit: 1\nDirection: Received\n\n"
                   "Event: UserEvent\nUserEvent: SimCall\nNumber: 1\n\n"
                   "Event: OriginateResponse\nActionID: other-3\nResponse: Failure\n\n")
    assert [attempt_of(m) for m in msgs] == [None, None, None]


def test_originate_failure_without_a_dial_report_is_failed():
    result = CallResult(9)
    for msg in _events("Event: OriginateResponse\nActionID: attempt-9\nResponse: Failure\nReason: 0\n\n"):
        result.apply(msg)
    assert result.disposition.value == "failed" and not result.complete


def test_scripted_keys_become_timed_steps():
    b = Behaviour.answer(2, [(3.0, "20261130#"), (1.0, "1")], hangup_after=10)
    assert b.steps[0] == "wait=1.00" and b.steps[1] == "dtmf=1"
    assert b.steps[3] == "dtmf=20261130#" and b.steps[-1] == "hangup="
    assert b.db_values()["ring"] == "2.00"
    with pytest.raises(ValueError):
        Behaviour("explode")
    assert Behaviour.from_dict({"kind": "busy"}) == Behaviour.busy()
