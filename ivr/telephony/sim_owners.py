"""Scripted owners for a campaign on the simulated phone network (the demo and the browser
test): what each owner does, timed from the real length of the audio the campaign's flow
will play to that owner. Keys meant for a question are pressed while it is asked
(barge-in); a menu key only after the whole message, which cannot be interrupted."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from ivr.dialer.flow_planner import account_values, flow_settings
from ivr.flows.audio import FlowVoice, SoundStore
from ivr.storage import Account, Campaign, Phone
from ivr.telephony.asterisk.site import AUDIO_DIR
from ivr.telephony.pstn_sim import Behaviour, OwnerScript
from ivr.voice import audio
from ivr.voice.tts import engine_from_config

HELLO = audio.duration(AUDIO_DIR / "sim/hello.wav")          # the owner's "喂，您好"
COMPLAINT = audio.duration(AUDIO_DIR / "sim/complaint.wav")  # the owner's voice message
AMD_SILENCE = 0.8   # amd.conf after_greeting_silence: a person is recognised this long after hello
MARGIN = 1.5        # seconds between "the prompt has started / ended" and a key press

# What a scripted owner does, in words (the demo prints these).
KINDS = {"promise": "confirms identity, will pay within 3 days (1)",
         "date": "confirms identity, keys a payment date and confirms it",
         "paid": "confirms identity, says it is already paid (3)",
         "voice": "confirms identity, leaves a voice message (8)",
         "away": "away from home: asks how to pay remotely (4)",
         "optout": "asks not to be called again (9)",
         "hangup": "hangs up in the middle of the message",
         "wrong": "not the owner (presses 2): hears no debt details",
         "busy": "busy", "noanswer": "rings, nobody answers", "unreachable": "empty number (空号)",
         "machine": "answering machine"}
MENU_KEYS = {"promise": "1", "paid": "3", "away": "4", "optout": "9"}


def owner_behaviour(kind: str, durations: dict[str, float], *, date_keys: str = "") -> Behaviour:
    """`durations`: seconds of each part the flow plays to this owner (message, leave-message,
    beep, ...); `date_keys`: what a "date" owner keys, e.g. "1130#"."""
    simple = {"busy": Behaviour.busy, "noanswer": Behaviour.no_answer,
              "unreachable": Behaviour.unreachable}
    if kind in simple:
        return simple[kind]()
    if kind == "machine":
        return Behaviour.answering_machine(after=0.5)
    if kind not in KINDS:
        raise ValueError(f"unknown owner kind {kind!r}; one of {', '.join(KINDS)}")
    owner = OwnerScript(HELLO)
    identity_at = HELLO + AMD_SILENCE + MARGIN          # while the identity question plays
    if kind == "wrong":
        owner.press(identity_at, "2")
        return owner.behaviour()
    confirmed = owner.press(identity_at, "1")
    if kind == "hangup":
        owner.hang_up(confirmed + durations["message"] / 2)
        return owner.behaviour()
    menu_at = confirmed + durations["message"] + MARGIN  # the menu follows the whole message
    if kind == "date":
        if not date_keys:
            raise ValueError("a 'date' owner needs date_keys")
        t = owner.press(menu_at, "2") + MARGIN
        t = owner.press(t, date_keys) + MARGIN
        owner.press(t + 2.5, "1")                        # after the read-back has started
    elif kind == "voice":
        t = owner.press(menu_at, "8")
        # after "请在提示音后留言…" and the beep, recording has started
        t = owner.say(t + durations["leave-message"] + durations["beep"] + 1.0, "sim/complaint", COMPLAINT)
        owner.hang_up(t + 1.0)
    else:
        owner.press(menu_at, MENU_KEYS[kind])
    return owner.behaviour()


def campaign_owners(site, tts_engine: str, sessions, campaign_id: int, today: date,
                    kinds: dict[str, str], *, date_keys: str = "") -> dict[str, Behaviour]:
    """Behaviours for `kinds` (number → kind), with each owner's audio prepared as the
    dialer will prepare it (same cache), so the key times fit the real message."""
    voice = FlowVoice(SoundStore.for_site(site), engine_from_config(tts_engine))
    behaviours = {}
    with sessions() as s:
        campaign = s.get(Campaign, campaign_id)
        settings = flow_settings(campaign, "first", site.trunk.name)
        for number, kind in kinds.items():
            account = s.scalar(select(Account).join(Phone, Phone.account_id == Account.id)
                               .where(Phone.number == number))
            if account is None:
                raise LookupError(f"no account has the number {number}")
            prepared = voice.prepare(settings, account_values(account, campaign), today)
            durations = {p: audio.duration(Path(f)) for p, f in prepared.host_files.items() if p != "prompts"}
            durations |= {f.stem: audio.duration(f) for f in Path(prepared.host_files["prompts"]).glob("*.wav")}
            behaviours[number] = owner_behaviour(kind, durations, date_keys=date_keys)
    return behaviours
