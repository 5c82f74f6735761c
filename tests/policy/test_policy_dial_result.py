import pytest

from ivr.policy import Disposition as D
from ivr.policy import map_dial_result


@pytest.mark.parametrize(
    "dial_status, cause, stage, expected",
    [
        # answered calls: the IVR flow stage tells how far the owner listened
        ("ANSWER", 16, "completed", D.ANSWERED),
        ("ANSWER", 16, "greeting", D.HUNG_UP_EARLY),
        ("ANSWER", 16, "amount", D.HUNG_UP_EARLY),
        ("ANSWER", 16, None, D.HUNG_UP_EARLY),
        ("ANSWER", 16, "machine", D.MACHINE),
        ("ANSWER", 16, "wrong_person", D.WRONG_PERSON),
        ("ANSWER", 16, "opted_out", D.OPTED_OUT),
        (None, None, "completed", D.ANSWERED),  # originate path: no DIALSTATUS
        ("answer", None, " Completed ", D.ANSWERED),
        # not answered, by DIALSTATUS
        ("BUSY", None, None, D.BUSY),
        ("busy", None, None, D.BUSY),
        ("NOANSWER", None, None, D.NO_ANSWER),
        ("CANCEL", None, None, D.NO_ANSWER),
        ("CONGESTION", None, None, D.FAILED),
        ("CHANUNAVAIL", None, None, D.FAILED),
        ("INVALIDARGS", None, None, D.FAILED),
        ("DONTCALL", None, None, D.OPTED_OUT),
        ("TORTURE", None, None, D.OPTED_OUT),
        ("DONTCALL", 17, None, D.OPTED_OUT),
        # the Q.850 cause is more specific than DIALSTATUS
        ("CONGESTION", 1, None, D.UNREACHABLE),
        ("CHANUNAVAIL", 1, None, D.UNREACHABLE),
        ("CONGESTION", 3, None, D.UNREACHABLE),
        ("CHANUNAVAIL", 3, None, D.UNREACHABLE),
        ("CHANUNAVAIL", 22, None, D.UNREACHABLE),
        ("CONGESTION", 28, None, D.UNREACHABLE),
        ("", 1, None, D.UNREACHABLE),
        ("BUSY", 17, None, D.BUSY),
        ("CONGESTION", 17, None, D.BUSY),
        ("NOANSWER", 18, None, D.NO_ANSWER),
        ("NOANSWER", 19, None, D.NO_ANSWER),
        ("CHANUNAVAIL", 20, None, D.NO_ANSWER),  # switched off: retry, not dead
        ("BUSY", 21, None, D.BUSY),  # rejected
        ("CONGESTION", 21, None, D.BUSY),
        ("CONGESTION", 34, None, D.FAILED),
        ("CONGESTION", 38, None, D.FAILED),
        ("CHANUNAVAIL", 41, None, D.FAILED),
        ("CONGESTION", 42, None, D.FAILED),
        ("NOANSWER", 16, None, D.NO_ANSWER),  # normal clearing says nothing new
        # nothing to go on
        ("", None, None, D.UNKNOWN),
        (None, None, None, D.UNKNOWN),
        ("SOMETHINGNEW", None, None, D.UNKNOWN),
        (None, 99, None, D.UNKNOWN),
    ],
)
def test_map_dial_result(dial_status, cause, stage, expected):
    assert map_dial_result(dial_status, cause, stage) is expected


def test_disposition_values_are_the_stored_strings():
    assert {d.value for d in D} == {
        "answered", "busy", "no_answer", "unreachable", "failed", "machine",
        "hung_up_early", "opted_out", "wrong_person", "unknown",
    }
    assert D("no_answer") is D.NO_ANSWER
