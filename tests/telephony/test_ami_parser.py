"""Parser/serializer tests: recorded AMI traffic split at arbitrary byte boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.telephony.ami import Message, Parser, serialize

TRANSCRIPTS = Path(__file__).parent / "transcripts"
ALL = sorted(p.name for p in TRANSCRIPTS.glob("*.txt"))


def load(name: str) -> bytes:
    return (TRANSCRIPTS / name).read_bytes()


def parse(data: bytes) -> list[Message]:
    return Parser().feed(data)


def test_transcripts_are_present_and_crlf() -> None:
    assert {"login_fullybooted.txt", "originate_answered.txt", "originate_busy.txt",
            "coreshowchannels.txt"} <= set(ALL)
    for name in ALL:
        data = load(name)
        assert data.endswith(b"\r\n\r\n"), name
        if name != "asterisk11_command_follows.txt":  # legacy output uses bare \n
            assert b"\n" not in data.replace(b"\r\n", b""), name


def test_greeting_is_consumed_not_a_message() -> None:
    parser = Parser()
    msgs = parser.feed(load("login_fullybooted.txt"))
    assert parser.greeting == "Asterisk Call Manager/11.0.0"
    assert [m.is_response for m in msgs] == [True, False]
    assert msgs[0]["Message"] == "Authentication accepted" and msgs[0].ok
    assert msgs[1].name == "FullyBooted" and msgs[1]["Status"] == "Fully Booted"


def test_no_greeting_mid_stream() -> None:
    parser = Parser()
    assert parser.feed(b"Event: Foo\r\n\r\n")[0].name == "Foo"
    assert parser.greeting is None


def test_login_failed_is_not_ok() -> None:
    (msg,) = parse(load("login_failed.txt"))
    assert msg.is_response and not msg.ok and msg["Message"] == "Authentication failed"


@pytest.mark.parametrize("name", ALL)
def test_byte_by_byte_equals_single_feed(name: str) -> None:
    data = load(name)
    whole = Parser()
    expected = whole.feed(data)
    parser = Parser()
    got = [m for i in range(len(data)) for m in parser.feed(data[i:i + 1])]
    assert got == expected and len(expected) > 0
    assert parser.greeting == whole.greeting


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(ALL), cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=40))
def test_any_split_parses_identically(name: str, cuts: list[int]) -> None:
    data = load(name)
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    parser = Parser()
    got = [m for a, b in zip(bounds, bounds[1:]) for m in parser.feed(data[a:b])]
    assert got == parse(data)


@pytest.mark.parametrize("name", ALL)
def test_lf_only_line_endings_tolerated(name: str) -> None:
    data = load(name)
    assert parse(data.replace(b"\r\n", b"\n")) == parse(data)


def test_crlf_crlf_split_across_feeds() -> None:
    parser = Parser()
    assert parser.feed(b"Event: A\r\nX: 1\r\n\r") == []
    assert parser.feed(b"\n") == [Message([("Event", "A"), ("X", "1")])]
    assert parser.feed(b"Event: B\r\nKe") == []
    assert parser.feed(b"y: va") == []
    (msg,) = parser.feed(b"lue\r\n\r\n")
    assert msg["Key"] == "value"


def test_originate_busy_events() -> None:
    msgs = parse(load("originate_busy.txt"))
    assert msgs[0].is_response and msgs[0]["Message"] == "Originate successfully queued"
    names = [m.name for m in msgs[1:]]
    assert names == ["Newchannel", "Newchannel", "VarSet", "VarSet", "Newchannel", "DialBegin",
                     "DialEnd", "Hangup", "UserEvent", "OriginateResponse", "Hangup", "Hangup"]
    user = msgs[names.index("UserEvent") + 1]
    assert (user["UserEvent"], user["Attempt"], user["DialStatus"], user["HangupCause"]) == (
        "IvrDial", "12", "BUSY", "17")
    orig = msgs[names.index("OriginateResponse") + 1]
    # carries `Response:` and the Originate's ActionID, but it is an event
    assert orig.is_event and not orig.is_response and not orig.ok
    assert (orig.action_id, orig["Response"], orig["Reason"]) == ("ivr-job7-att12", "Failure", "5")
    assert orig["Uniqueid"] == "<null>"
    assert msgs[1]["AccountCode"] == ""  # empty value kept


def test_originate_answered_events() -> None:
    msgs = parse(load("originate_answered.txt"))
    dial_end = next(m for m in msgs if m.name == "DialEnd")
    assert dial_end["DialStatus"] == "ANSWER"
    assert dial_end["DestChannel"].startswith("PJSIP/trunk-")
    hangups = [m for m in msgs if m.name == "Hangup"]
    assert {(m["Cause"], m["Cause-txt"]) for m in hangups} == {("16", "Normal Clearing")}
    assert next(m for m in msgs if m.name == "OriginateResponse")["Reason"] == "4"


def test_chinese_values_and_value_with_colon_space() -> None:
    msgs = parse(load("originate_answered.txt"))
    assert msgs[1]["CallerIDName"] == "自来水公司"
    varset = [m for m in msgs if m.name == "VarSet" and m["Variable"] == "IVR_TITLE"][0]
    assert varset["Value"] == "停水通知: 明天 8:00-18:00 幸福小区"


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    (msg,) = parse(b"Event: UserEvent\r\nText: \xe6\xb0\xff\r\n\r\n")
    assert msg["Text"].endswith("\ufffd")


def test_list_action_transcript() -> None:
    msgs = parse(load("coreshowchannels.txt"))
    assert msgs[0]["EventList"] == "start"
    items = [m for m in msgs if m.name == "CoreShowChannel"]
    assert [m["Channel"] for m in items] == ["PJSIP/trunk-0000000e", "PJSIP/trunk-0000000f"]
    assert items[1]["CallerIDName"] == "王先生"
    assert msgs[-1]["EventList"] == "Complete" and msgs[-1]["ListItems"] == str(len(items))
    assert {m.action_id for m in msgs} == {"ivr-5f3a9c-7"}


def test_repeated_output_headers() -> None:
    (msg,) = parse(load("command_output.txt"))
    assert msg.getall("output") == ["System uptime: 1 day, 0 hours, 0 minutes, 37 seconds",
                                    "Last reload: 1 hour, 0 minutes, 11 seconds"]
    assert msg["Output"] == msg.getall("Output")[0]


def test_legacy_follows_command_output() -> None:
    msgs = parse(load("asterisk11_command_follows.txt"))
    assert [m.get("Response") or m.name for m in msgs] == [
        "Success", "FullyBooted", "Follows", "Follows", "PeerStatus"]
    uptime, peers = msgs[2], msgs[3]
    assert uptime.ok and uptime.action_id == "cmd-1" and uptime["Privilege"] == "Command"
    # lines with ': ' inside the output stay output, not headers
    assert uptime.getall("Output") == ["System uptime: 3 weeks, 2 days, 4 hours, 1 minute, 12 seconds",
                                       "Last reload: 2 days, 7 hours, 40 minutes, 2 seconds"]
    assert "System uptime" not in uptime
    out = peers.getall("Output")
    assert out[0].startswith("Name/username") and out[2] == ""  # blank line inside output kept
    assert out[-1].startswith("1 sip peers") and not any("END COMMAND" in line for line in out)
    assert msgs[4]["PeerStatus"] == "Reachable"


def test_end_command_glued_to_last_output_line() -> None:
    (msg,) = parse(b"Response: Follows\r\nActionID: 5\r\nNo such command 'x'--END COMMAND--\r\n\r\n")
    assert msg.getall("Output") == ["No such command 'x'"] and msg.action_id == "5"


def test_line_without_colon_is_kept() -> None:
    (msg,) = parse(b"Event: Odd\r\njust some text\r\nA: b\r\n\r\n")
    assert msg.getall("Output") == ["just some text"] and msg["A"] == "b"


def test_unknown_event_parsed_like_any_other() -> None:
    (msg,) = parse(b"Event: SomethingFromAsterisk42\r\nPrivilege: call,all\r\nNewField: x\r\n\r\n")
    assert msg.is_event and msg.name == "SomethingFromAsterisk42" and msg["newfield"] == "x"


def test_message_multimapping_api() -> None:
    msg = Message([("Event", "VarSet"), ("ChanVariable", "A=1"), ("chanvariable", "B=2")])
    assert msg["EVENT"] == "VarSet" and msg.get("missing", "d") == "d" and msg.get("missing") is None
    assert msg.getall("ChanVariable") == ["A=1", "B=2"]
    assert msg["chanvariable"] == "A=1" and msg.get("CHANVARIABLE") == "A=1"   # the first one
    assert "event" in msg and "nope" not in msg and 3 not in msg
    assert msg.keys() == ["Event", "ChanVariable"] and len(msg) == 3
    assert msg.action_id is None
    with pytest.raises(KeyError):
        msg["missing"]
    goodbye = Message([("Response", "Goodbye")])
    assert goodbye.ok and goodbye.name is None


def test_serialize_exact_bytes_and_list_values() -> None:
    data = serialize({"Action": "Originate", "Channel": "Local/13800138000@ivr-dial", "Async": True,
                      "Timeout": 45000, "Variable": ["IVR_JOB=7", "IVR_ATTEMPT=11"],
                      "Codecs": None})
    assert data == (b"Action: Originate\r\nChannel: Local/13800138000@ivr-dial\r\nAsync: true\r\n"
                    b"Timeout: 45000\r\nVariable: IVR_JOB=7\r\nVariable: IVR_ATTEMPT=11\r\n\r\n")
    assert serialize({"Action": "Originate", "Variable": {"A": 1, "B": "x"}}).count(b"Variable: ") == 2
    (msg,) = Parser().feed(serialize({"Action": "Setvar", "Value": "停水通知: 明天"}))
    assert msg["Value"] == "停水通知: 明天"


@pytest.mark.parametrize("bad", [
    {"Action": "Originate", "CallerID": "x\r\nAction: Hangup"},
    {"Action": "Originate", "Variable": ["OK=1", "EVIL=1\nAction: Hangup"]},
    {"Action": "Ping\r"},
    {"Bad\nKey": "1"},
    {"Bad: Key": "1"},
    {},
])
def test_serialize_refuses_header_injection(bad: dict) -> None:
    with pytest.raises(ValueError):
        serialize(bad)
