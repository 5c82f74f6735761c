"""interpret(): the owner's answers from the steps a flow reported (pure)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from ivr.dialer.call_result import CallResult
from ivr.flows import FlowOutcome, interpret
from ivr.flows.outcome import owner_answer
from ivr.policy.classify import Response

TODAY = date(2026, 11, 22)


def call(stage: str | None, *steps: tuple[str, str], keys: str = "") -> CallResult:
    """A CallResult folded from the UserEvents the dialplan would send."""
    result = CallResult(50001)
    result.apply({"Event": "UserEvent", "UserEvent": "IvrDial", "Attempt": "50001",
                  "DialStatus": "ANSWER", "HangupCause": "16"})
    for step, value in steps:
        result.apply({"Event": "UserEvent", "UserEvent": "IvrStep", "Attempt": "50001",
                      "Step": step, "Value": value})
    if stage is not None:
        result.apply({"Event": "UserEvent", "UserEvent": "IvrCall", "Attempt": "50001",
                      "Stage": stage, "Keys": keys})
    return result


HUMAN = ("amd", "HUMAN:HUMAN-800-800")


def test_promise_within_three_days():
    out = interpret(call("completed", HUMAN, ("identity", "yes"), ("heard", "message"),
                         ("choice", "promise_3_days"), ("promise", "2026-11-25")))
    assert out.identity_confirmed is True and out.heard_to_end and not out.wrong_person
    assert out.choice == "promise_3_days" and out.promised_date == date(2026, 11, 25)
    assert out.stage == "completed" and out.amd == "HUMAN:HUMAN-800-800" and out.answered_by_person


def test_promise_within_three_days_cut_before_the_date_was_reported():
    steps = (("identity", "yes"), ("heard", "message"), ("choice", "promise_3_days"))
    assert interpret(call("completed", *steps), TODAY).promised_date == date(2026, 11, 25)
    assert interpret(call("completed", *steps)).promised_date is None  # no day to count from


def test_typed_date_after_refusals():
    out = interpret(call("completed", ("identity", "yes"), ("heard", "message"), ("choice", "promise_date"),
                         ("date_entered", "1345"), ("date_refused", "invalid"),
                         ("date_entered", "20261101"), ("date_refused", "past"),
                         ("date_entered", "1130"), ("date_readback", "2026-11-30"),
                         ("date_confirmed", "2026-11-30"), ("promise", "2026-11-30")))
    assert out.choice == "promise_date" and out.promised_date == date(2026, 11, 30)
    assert out.refusals == ("invalid", "past") and out.dates_entered == ("1345", "20261101", "1130")
    assert not out.no_date


def test_confirmed_date_counts_when_the_call_ended_before_the_promise_step():
    out = interpret(call("completed", ("choice", "promise_date"), ("date_confirmed", "2026-12-01")))
    assert out.promised_date == date(2026, 12, 1)


def test_a_date_read_back_but_not_confirmed_is_no_promise():
    out = interpret(call("readback", ("choice", "promise_date"), ("date_entered", "1130"),
                         ("date_readback", "2026-11-30")))
    assert out.promised_date is None and out.no_date and out.stage == "readback"


def test_no_date_after_three_refusals():
    out = interpret(call("completed", ("choice", "promise_date"),
                         *[("date_refused", r) for r in ("invalid", "past", "beyond_limit")],
                         ("no_date", "given_up")))
    assert out.no_date and out.promised_date is None
    assert out.refusals == ("invalid", "past", "beyond_limit")


def test_wrong_person():
    out = interpret(call("wrong_person", HUMAN, ("identity", "no")))
    assert out.wrong_person and out.identity_confirmed is False and not out.heard_to_end
    assert out.choice is None and out.promised_date is None


def test_voice_message_opt_out_already_paid_away():
    msg = interpret(call("completed", ("choice", "voice_message"),
                         ("voice_message", "/var/lib/ivr/run/x/pbx/recordings/messages/1-2.wav")))
    assert msg.choice == "voice_message" and msg.voice_message.endswith("1-2.wav")
    opt = interpret(call("opted_out", ("choice", "opt_out")))
    assert opt.opted_out and opt.choice == "opt_out"
    assert interpret(call("completed", ("choice", "already_paid"))).choice == "already_paid"
    assert interpret(call("completed", ("choice", "away"), ("heard", "remote"))).choice == "away"


def test_repeats_count_but_the_choice_is_the_last_real_one():
    out = interpret(call("completed", ("heard", "message"), ("choice", "repeat"), ("heard", "message"),
                         ("choice", "repeat"), ("heard", "message"), ("choice", "already_paid")))
    assert out.repeats == 2 and out.choice == "already_paid"
    only = interpret(call("menu", ("heard", "message"), ("choice", "repeat")))
    assert only.choice == "repeat" and only.repeats == 1


def test_no_input_and_wrong_keys():
    out = interpret(call("identity", ("wrong_key", "identity:5"), ("reask", "identity:1"),
                         ("no_input", "identity"), ("reask", "identity:2"), ("no_input", "identity"),
                         ("gave_up", "identity")))
    assert out.wrong_keys == ("identity:5",) and out.no_input == ("identity", "identity")
    assert out.gave_up == "identity" and out.identity_confirmed is None


def test_outage_acknowledged_and_heard_to_end():
    out = interpret(call("completed", ("heard", "notice"), ("acknowledged", "yes")))
    assert out.acknowledged and out.heard_to_end
    silent = interpret(call("completed", ("heard", "notice"), ("gave_up", "outage")))
    assert silent.heard_to_end and not silent.acknowledged


def test_machine_and_hangups_mid_way():
    machine = interpret(call("machine", ("amd", "MACHINE:LONGGREETING-1500-1500"),
                             ("machine_message", "played")))
    assert machine.machine and not machine.answered_by_person
    mid = interpret(call("message", ("identity", "yes")))
    assert mid.identity_confirmed and not mid.heard_to_end and mid.stage == "message"
    assert interpret(call("answered")).stage == "answered"
    assert interpret(call(None)).stage is None  # the IVR half never reported


_STEP_NAMES = st.sampled_from(["amd", "identity", "heard", "choice", "date_entered", "date_refused",
                               "date_readback", "date_confirmed", "promise", "voice_message",
                               "acknowledged", "no_input", "wrong_key", "reask", "gave_up", "no_date",
                               "junk"])


@given(st.lists(st.tuples(_STEP_NAMES, st.text(max_size=12))), st.one_of(st.none(), st.text(max_size=12)))
def test_interpret_never_raises_whatever_arrives(steps, stage):
    out = interpret(call(stage, *steps), TODAY)
    assert isinstance(out, FlowOutcome)
    if out.promised_date is not None:
        assert out.choice in ("promise_3_days", "promise_date")


def test_outcomes_as_the_class_policy_reads_them():
    at = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
    promise = owner_answer(interpret(call("completed", ("choice", "promise_date"),
                                          ("promise", "2026-11-30"))), at)
    assert (promise.response, promise.promised_date, promise.at) == (Response.PROMISE, date(2026, 11, 30), at)
    assert owner_answer(interpret(call("opted_out", ("choice", "opt_out"))), at).response is Response.OPT_OUT
    assert owner_answer(interpret(call("completed", ("choice", "away"))), at).response is Response.AWAY
    msg = owner_answer(interpret(call("completed", ("choice", "voice_message"),
                                      ("voice_message", "/r/messages/1-2.wav"))), at)
    assert msg.response is Response.NONE and msg.note.endswith("/r/messages/1-2.wav")
    paid = owner_answer(interpret(call("completed", ("choice", "already_paid"))), at)
    assert paid.response is Response.NONE and "verify" in paid.note
    nodate = owner_answer(interpret(call("completed", ("choice", "promise_date"), ("no_date", "given_up"))), at)
    assert nodate.response is Response.NONE and nodate.promised_date is None
