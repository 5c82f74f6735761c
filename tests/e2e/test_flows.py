"""The IVR flows end to end: dialer's Asterisk (ivr-arrears / ivr-outage) → PJSIP trunk →
pstn-sim, whose scripted owners say "喂，您好" (so AMD hears a person), press keys with real
RFC 4733 events, speak a voice message, hang up, or are answering machines.

Every call of the file is placed at once (asyncio.gather) by one module fixture; each test
then checks one flow. Key times are computed from the real durations of the audio the
flow plays: keys meant for a question are pressed while it is being asked (barge-in), a
menu key only after the message has finished (the message itself cannot be interrupted).
"""
from __future__ import annotations

import array
import asyncio
import wave
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from audio_checks import wav_stats
from ivr.dialer.tracker import CallTracker
from ivr.flows import FlowSettings, build_plan, interpret
from ivr.flows.audio import FlowVoice, SoundStore
from ivr.telephony.asterisk.site import AUDIO_DIR, ami_client
from ivr.telephony.pstn_sim import Behaviour, OwnerScript, PstnSim
from ivr.voice import audio
from ivr.voice.tts import EspeakEngine

TODAY = date(2026, 11, 22)  # the campaign's day: the dialplan gets it as IVR_TODAY
KEY_TIMEOUT = 3
HELLO = audio.duration(AUDIO_DIR / "sim/hello.wav")          # the owner's "喂，您好"
COMPLAINT = audio.duration(AUDIO_DIR / "sim/complaint.wav")  # the owner's voice message
GREETING = audio.duration(AUDIO_DIR / "sim/machine-greeting.wav")
AMD_SILENCE = 0.8   # amd.conf after_greeting_silence: AMD says HUMAN this long after hello
MARGIN = 1.5        # seconds between "the prompt has started / ended" and the key press
FIRST_ATTEMPT, FIRST_NUMBER = 50100, 13510000100


def iso(d: date) -> str:
    return d.isoformat()


class Owner(OwnerScript):
    """A scripted owner who says "喂，您好" on answering (see OwnerScript)."""

    def __init__(self, hello: bool = True):
        super().__init__(HELLO if hello else None)


@dataclass
class Call:
    name: str
    settings: FlowSettings
    values: dict
    number: str = ""
    attempt: int = 0
    owner: Owner | None = None
    behaviour: Behaviour | None = None
    audio: object = None
    durations: dict = field(default_factory=dict)
    result: object = None
    outcome: object = None
    recording: Path | None = None


def voiced_span(path: Path, threshold: int = 300) -> tuple[float, float]:
    """(first, last) second with sound above threshold in 20 ms frames."""
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        samples = array.array("h", w.readframes(w.getnframes()))
    frame = rate // 50
    loud = [i / rate for i in range(0, len(samples), frame)
            if max((abs(s) for s in samples[i:i + frame]), default=0) > threshold]
    assert loud, f"{path} is silent"
    return loud[0], loud[-1] + frame / rate


@pytest.fixture(scope="module")
def flows(site, tmp_path_factory):
    """Prepare every scenario's audio, script the owners, place all calls in parallel."""
    voice = FlowVoice(SoundStore.for_site(site), EspeakEngine("cmn"))
    common = dict(hotline="02160000000", channel="微信公众号“幸福家园”", key_timeout=KEY_TIMEOUT,
                  trunk=site.trunk.name, dial_timeout=10, max_seconds=120)
    arrears = FlowSettings(kind="arrears", template="{title}您好，物业费共计{amount}。", **common)
    few_choices = FlowSettings(kind="arrears", template="{title}您好，物业费共计{amount}。",
                               choices="1,9", **common)
    outage = FlowSettings(kind="outage", template="{area}将于{start}至{end}停水。", **common)
    owner = dict(title="张先生", room="3栋1501", amount="300")
    notice = dict(area="3栋", start="2026-11-23 09:00", end="2026-11-23 17:00")

    calls: dict[str, Call] = {}

    def add(name, settings, values):
        i = len(calls)
        call = Call(name, settings, dict(values), number=str(FIRST_NUMBER + i), attempt=FIRST_ATTEMPT + i)
        call.audio = voice.prepare(settings, call.values, TODAY)
        folder = Path(call.audio.host_files["prompts"])
        call.durations = {p: audio.duration(Path(f)) for p, f in call.audio.host_files.items() if p != "prompts"}
        call.durations.update({f.stem: audio.duration(f) for f in folder.glob("*.wav")})
        calls[name] = call
        return call

    id_start = HELLO + AMD_SILENCE  # AMD has heard a person; the identity question begins

    def to_menu(call: Call, o: Owner) -> float:
        """Confirm identity mid-question; returns when the menu is surely playing."""
        pressed = o.press(id_start + MARGIN, "1")
        return pressed + call.durations["message"] + MARGIN

    def date_entry(call: Call, o: Owner, menu_at: float, entries: list[str], confirm: bool = True):
        """Menu key 2, then each date entry while the (refusal and) entry prompt plays."""
        t = o.press(menu_at, "2") + MARGIN
        for keys in entries:
            t = o.press(t, keys) + MARGIN
        if confirm:
            o.press(t, "1")

    # -- arrears ------------------------------------------------------------------------
    c = add("identity_refused", arrears, owner)
    c.owner = Owner()
    c.owner.press(id_start + MARGIN, "2")
    c.behaviour = c.owner.behaviour(record=True)

    c = add("promise_3_days", arrears, {**owner, "title": "李女士", "room": "3栋1502"})
    c.owner = Owner()
    c.owner.press(to_menu(c, c.owner), "1")
    c.behaviour = c.owner.behaviour(record=True)

    c = add("date_confirmed", arrears, {**owner, "room": "3栋1503"})
    c.owner = Owner()
    date_entry(c, c.owner, to_menu(c, c.owner), ["1130#"])

    c = add("invalid_then_valid", arrears, {**owner, "room": "3栋1504"})
    c.owner = Owner()
    date_entry(c, c.owner, to_menu(c, c.owner), ["1345#", "1205#"])

    c = add("past_refused", arrears, {**owner, "room": "3栋1505"})
    c.owner = Owner()
    date_entry(c, c.owner, to_menu(c, c.owner), ["20261101#", "20261201#"])

    c = add("no_date", arrears, {**owner, "room": "3栋1506"})
    c.owner = Owner()
    date_entry(c, c.owner, to_menu(c, c.owner), ["0230#", "20261101#", "1223#"], confirm=False)

    c = add("opt_out", arrears, {**owner, "room": "3栋1507"})
    c.owner = Owner()
    c.owner.press(to_menu(c, c.owner), "9")

    c = add("voice_message", arrears, {**owner, "room": "3栋1508"})
    c.owner = Owner()
    t = c.owner.press(to_menu(c, c.owner), "8")
    # after "请在提示音后留言…" and the beep, recording has started
    t = c.owner.say(t + c.durations["leave-message"] + c.durations["beep"] + 1.0, "sim/complaint", COMPLAINT)
    c.owner.hang_up(t + 1.0)

    c = add("away", arrears, {**owner, "room": "3栋1509"})
    c.owner = Owner()
    c.owner.press(to_menu(c, c.owner), "4")

    c = add("repeat_then_paid", arrears, {**owner, "room": "3栋1510"})
    c.owner = Owner()
    t = c.owner.press(to_menu(c, c.owner), "*")
    c.owner.press(t + c.durations["message"] + MARGIN, "3")

    c = add("hangup_mid_message", arrears, {**owner, "room": "3栋1511"})
    c.owner = Owner()
    t = c.owner.press(id_start + MARGIN, "1")
    c.owner.hang_up(t + c.durations["message"] / 2)

    c = add("hangup_at_identity", arrears, {**owner, "room": "3栋1512"})
    c.owner = Owner()
    c.owner.hang_up(id_start + MARGIN)

    c = add("wrong_key_then_silence", few_choices, {**owner, "room": "3栋1513"})
    c.owner = Owner()
    c.owner.press(id_start + MARGIN, "5")  # not 1 or 2; then nothing at all

    c = add("machine", arrears, {**owner, "room": "3栋1514"})
    c.behaviour = Behaviour.answering_machine(after=0.5, record=True)

    # -- outage -------------------------------------------------------------------------
    def notice_end(call: Call) -> float:
        return id_start + call.durations["message"]

    c = add("outage_acknowledged", outage, notice)
    c.owner = Owner()
    c.owner.press(notice_end(c) + MARGIN, "2")

    c = add("outage_repeat_then_ack", outage, notice)
    c.owner = Owner()
    t = c.owner.press(notice_end(c) + MARGIN, "1")
    c.owner.press(t + c.durations["message"] + MARGIN, "2")

    # staff's own recording instead of the synthesised notice (uploaded, converted)
    recorded = audio.convert_upload(AUDIO_DIR / "sim/complaint.wav",
                                    tmp_path_factory.mktemp("upload") / "notice.wav")
    c = add("outage_recorded", replace(outage, recording=str(recorded)), notice)
    c.owner = Owner()
    c.owner.press(notice_end(c) + MARGIN, "2")

    c = add("outage_silent", outage, notice)
    c.owner = Owner()
    c.behaviour = c.owner.behaviour(record=True)

    for call in calls.values():
        if call.behaviour is None:
            call.behaviour = call.owner.behaviour()

    async def place_all():
        pbx, pstn = ami_client(site.pbx), ami_client(site.pstn)
        await pbx.start()
        await pstn.start()
        try:
            await pbx.wait_ready(20)
            await pstn.wait_ready(20)
            sim = PstnSim(pstn, site.pstn.host_dir / "recordings")
            await sim.script_many({c.number: c.behaviour for c in calls.values()})
            tracker = CallTracker(pbx)
            results = await asyncio.gather(*(
                tracker.place(c.attempt, c.number, build_plan(c.settings, c.audio, TODAY), watchdog=100)
                for c in calls.values()))
            return sim, results
        finally:
            await pbx.close()
            await pstn.close()

    sim, results = asyncio.run(asyncio.wait_for(place_all(), 110))
    for call, result in zip(calls.values(), results):
        call.result = result
        call.outcome = interpret(result, TODAY)
        heard = sim.recordings(call.number)
        call.recording = heard[-1] if heard else None
    return calls


def steps(call: Call) -> list[tuple[str, str]]:
    return [s for s in call.result.steps if s[0] != "amd"]


def test_the_amd_check_hears_a_person_who_says_hello(flows):
    for call in flows.values():
        if call.name != "machine":
            assert call.outcome.amd.startswith("HUMAN:"), (call.name, call.result.steps)


def test_identity_refused_hears_no_debt(flows):
    call = flows["identity_refused"]
    assert call.result.stage == "wrong_person"
    assert call.result.disposition.value == "wrong_person"
    assert call.outcome.wrong_person and call.outcome.identity_confirmed is False
    assert steps(call) == [("identity", "no")]
    # what the phone heard: the question (cut by the key) and the apology, never the message
    assert call.recording is not None
    heard = wav_stats(call.recording)[0]
    assert heard < id_plus(call, "wrong-person") + 2.0, heard


def id_plus(call: Call, prompt: str) -> float:
    return HELLO + AMD_SILENCE + MARGIN + call.durations[prompt]


def test_identity_passed_and_promise_within_three_days(flows):
    call = flows["promise_3_days"]
    assert call.outcome.identity_confirmed is True and call.outcome.heard_to_end
    assert (call.result.stage, call.result.disposition.value) == ("completed", "answered")
    assert call.outcome.choice == "promise_3_days"
    assert call.outcome.promised_date == TODAY + timedelta(days=3)
    assert steps(call) == [("identity", "yes"), ("heard", "message"), ("choice", "promise_3_days"),
                           ("promise", iso(TODAY + timedelta(days=3)))]
    assert call.result.keys == "1-1" and call.result.key_log == "11"
    # the phone heard the whole message, then the menu and the promise, not silence
    duration, rms = wav_stats(call.recording)
    assert rms > 300, rms
    assert duration > call.durations["message"] + call.durations["promise-pre"], duration


def test_typed_date_is_read_back_and_confirmed(flows):
    call = flows["date_confirmed"]
    assert call.outcome.choice == "promise_date"
    assert call.outcome.promised_date == date(2026, 11, 30)
    assert call.outcome.refusals == ()
    assert ("date_readback", "2026-11-30") in steps(call)
    assert ("date_confirmed", "2026-11-30") in steps(call)
    assert (call.result.stage, call.result.disposition.value) == ("completed", "answered")
    assert call.result.key_log == "121130#1"


def test_invalid_date_is_refused_then_a_valid_one_accepted(flows):
    call = flows["invalid_then_valid"]
    assert call.outcome.dates_entered == ("1345", "1205")
    assert call.outcome.refusals == ("invalid",)
    assert call.outcome.promised_date == date(2026, 12, 5)
    assert call.result.stage == "completed"


def test_past_date_is_refused(flows):
    call = flows["past_refused"]
    assert call.outcome.refusals == ("past",)
    assert call.outcome.promised_date == date(2026, 12, 1)


def test_three_refused_dates_record_no_date(flows):
    call = flows["no_date"]
    assert call.outcome.refusals == ("invalid", "past", "beyond_limit")
    assert call.outcome.no_date and call.outcome.promised_date is None
    assert steps(call)[-1] == ("no_date", "given_up")
    assert call.result.stage == "completed"


def test_opt_out_is_recorded(flows):
    call = flows["opt_out"]
    assert call.outcome.opted_out and call.outcome.choice == "opt_out"
    assert (call.result.stage, call.result.disposition.value) == ("opted_out", "opted_out")


def test_voice_message_is_recorded_and_kept(flows, site):
    call = flows["voice_message"]
    assert call.outcome.choice == "voice_message"
    assert call.result.stage == "completed"
    path = call.outcome.voice_message
    assert path and path.startswith(f"{site.run_dir}/pbx/recordings/messages/{call.attempt}-")
    stored = site.runtime.host_path(path)
    assert stored.is_file()
    duration, rms = wav_stats(stored)
    # the owner spoke for COMPLAINT seconds, a second after the beep, then hung up
    assert COMPLAINT <= duration <= COMPLAINT + 3.0, duration
    start, end = voiced_span(stored)
    assert abs((end - start) - COMPLAINT) <= 1.0, (start, end)
    assert rms > 300, rms


def test_away_hears_how_to_pay_remotely(flows):
    call = flows["away"]
    assert call.outcome.choice == "away"
    assert ("heard", "remote") in steps(call)
    assert call.result.disposition.value == "answered"


def test_repeat_then_already_paid(flows):
    call = flows["repeat_then_paid"]
    assert call.outcome.repeats == 1 and call.outcome.choice == "already_paid"
    assert [s for s in steps(call) if s[0] == "heard"] == [("heard", "message")] * 2
    assert call.result.key_log == "1*3"


def test_hangup_mid_message_records_how_far_it_got(flows):
    call = flows["hangup_mid_message"]
    assert call.result.stage == "message"
    assert call.result.disposition.value == "hung_up_early"
    assert call.outcome.identity_confirmed is True and not call.outcome.heard_to_end
    early = flows["hangup_at_identity"]
    assert early.result.stage == "identity" and early.outcome.identity_confirmed is None
    assert early.result.disposition.value == "hung_up_early"


def test_wrong_key_and_no_input_are_asked_again_twice_then_goodbye(flows):
    call = flows["wrong_key_then_silence"]
    assert steps(call) == [("wrong_key", "identity:5"), ("reask", "identity:1"),
                           ("no_input", "identity"), ("reask", "identity:2"),
                           ("no_input", "identity"), ("gave_up", "identity")]
    assert call.outcome.gave_up == "identity" and call.result.key_log == "5"
    assert call.result.stage == "identity"  # never confirmed: the debt was not told


def test_answering_machine_gets_the_call_back_message(flows, site):
    assert "app_amd.so" in site.pbx.cli("module show like amd")
    call = flows["machine"]
    assert call.outcome.machine and call.result.stage == "machine"
    assert call.result.disposition.value == "machine"
    assert call.outcome.amd.startswith("MACHINE:")
    assert ("machine_message", "played") in steps(call)
    # the message was left after the greeting, whole
    start, end = voiced_span(call.recording)
    assert GREETING <= start <= GREETING + 2.5, start
    assert abs((end - start) - call.durations["machine"]) <= 1.0, (end - start, call.durations["machine"])


def test_outage_acknowledged(flows):
    call = flows["outage_acknowledged"]
    assert call.outcome.acknowledged and call.outcome.heard_to_end
    assert (call.result.stage, call.result.disposition.value) == ("completed", "answered")
    again = flows["outage_repeat_then_ack"]
    assert again.outcome.acknowledged and again.outcome.repeats == 1
    assert [s for s in steps(again) if s[0] == "heard"] == [("heard", "notice")] * 2


def test_a_recorded_notice_is_played_instead_of_the_synthesised_one(flows):
    call = flows["outage_recorded"]
    played = Path(call.audio.host_files["message"])
    assert played.read_bytes() == Path(call.settings.recording).read_bytes()
    assert abs(call.durations["message"] - COMPLAINT) < 0.1
    # the owner's "2" right after the recording ends is taken: the recording was what played
    assert call.outcome.heard_to_end and call.outcome.acknowledged, call.result.steps


def test_outage_heard_to_end_without_a_key_and_the_phone_heard_all_of_it(flows):
    call = flows["outage_silent"]
    assert call.outcome.heard_to_end and not call.outcome.acknowledged
    assert call.result.stage == "completed" and call.result.disposition.value == "answered"
    assert steps(call) == [("heard", "notice"), ("no_input", "outage"), ("reask", "outage:1"),
                           ("no_input", "outage"), ("reask", "outage:2"), ("no_input", "outage"),
                           ("gave_up", "outage")]
    # What the phone heard runs from the notice to the goodbye: exactly the audio the flow
    # played plus its three key timeouts (± 1 s), and it is speech, not silence.
    d = call.durations
    expected = (d["message"] + d["outage-menu"] + KEY_TIMEOUT
                + 2 * (d["no-input"] + d["outage-menu"] + KEY_TIMEOUT) + d["goodbye"])
    start, end = voiced_span(call.recording)
    assert abs((end - start) - expected) <= 1.0, (end - start, expected)
    assert wav_stats(call.recording)[1] > 300


def test_every_call_reported_its_end(flows):
    for call in flows.values():
        assert call.result.dial_status == "ANSWER", call.name
        assert call.result.flow_reported, call.name
