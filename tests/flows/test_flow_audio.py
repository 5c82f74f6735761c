"""Preparing flow audio with the real offline engine: the prompt folder (once, cached,
one voice), each owner's audio, and the lookahead that prepares just ahead of dialing."""
from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path

import pytest

from ivr.flows import FlowSettings, prompt_texts
from ivr.flows.audio import FlowVoice, Lookahead, SoundStore
from ivr.voice import audio
from ivr.voice.templates import TemplateError
from ivr.voice.tts import EspeakEngine, FallbackEngine, SynthesisError

TODAY = date(2026, 12, 20)  # a confirmed date may fall next year: year fragments are needed
SETTINGS = FlowSettings(hotline="02160000000", channel="微信公众号", template="{title}您好，物业费共计{amount}。")
OWNER = dict(title="张先生", room="3栋1501", amount="300")


class Counting:
    def __init__(self, engine, name=None, fail=False):
        self.engine, self.name, self.voice, self.fail = engine, name or engine.name, engine.voice, fail
        self.calls = 0

    def synthesize(self, text, *, voice=None, rate=0):
        self.calls += 1
        if self.fail:
            raise ConnectionError("network down")
        return self.engine.synthesize(text, voice=voice, rate=rate)


@pytest.fixture
def store(tmp_path) -> SoundStore:
    return SoundStore(tmp_path / "host" / "run" / "audio", "/var/lib/ivr/run/x/audio")


def test_one_call_gets_every_file_the_dialplan_plays(store):
    voice = FlowVoice(store, EspeakEngine("cmn"))
    prepared = voice.prepare(SETTINGS, OWNER, TODAY)

    folder = Path(prepared.host_files["prompts"])
    assert prepared.prompts == store.asterisk_dir(folder)
    assert prepared.prompts.startswith("/var/lib/ivr/run/x/audio/prompts/espeak-")
    names = {p.stem for p in folder.glob("*.wav")}
    assert set(prompt_texts(SETTINGS, TODAY)) | {"beep"} == names
    assert {"year-2027", "month-12", "day-31", "weekday-7"} <= names
    for path in folder.glob("*.wav"):  # telephone audio, and speech (or the beep), not silence
        assert audio.duration(path) > 0.2, path
        assert audio.rms(audio.read_pcm(path)) > 300, path
    # the pause after the date, before "确认请按1"
    post = audio.read_pcm(folder / "readback-post.wav")
    assert audio.rms(post[:2 * 8000 * 150 // 1000]) == 0

    for part in ("message", "identity", "remote"):
        host = Path(prepared.host_files[part])
        assert host.is_file() and audio.duration(host) > 1.0
        assert getattr(prepared, part) == store.asterisk_path(host)
        assert not getattr(prepared, part).endswith(".wav")  # Asterisk adds the extension


def test_the_prompt_folder_is_made_once_and_reused(store):
    counting = Counting(EspeakEngine("cmn"))
    voice = FlowVoice(store, counting)
    first = voice.prepare(SETTINGS, OWNER, TODAY)
    made = counting.calls
    assert made > 60  # fragments of ~70 prompts, said once each
    second = voice.prepare(SETTINGS, {**OWNER, "amount": "301"}, TODAY)
    assert second.prompts == first.prompts
    assert counting.calls == made + 1  # only the new amount
    # a new process (empty memory) finds the finished folder on disk and synthesises nothing
    again = FlowVoice(store, counting)
    started = time.monotonic()
    assert again.prepare(SETTINGS, OWNER, TODAY) == first
    assert counting.calls == made + 1 and time.monotonic() - started < 1.0
    # different campaign words, different folder
    other = FlowVoice(store, counting).prepare(FlowSettings(hotline="02160000001", channel="x",
                                                            template=SETTINGS.template), OWNER, TODAY)
    assert other.prompts != first.prompts


def test_one_voice_per_call_when_the_online_engine_fails(store):
    online = Counting(EspeakEngine("cmn"), name="online", fail=True)
    offline = Counting(EspeakEngine("cmn"))
    voice = FlowVoice(store, FallbackEngine(online, offline))
    prepared = voice.prepare(SETTINGS, OWNER, TODAY)
    assert 1 <= online.calls <= voice.workers  # then skipped for the cooldown
    for path in [*(prepared.host_files[p] for p in ("message", "identity", "remote")),
                 prepared.host_files["prompts"]]:
        assert "/msg-espeak-" in path or "/espeak-" in path, path


def test_bad_values_fail_before_synthesis_and_no_engine_fails_loudly(store):
    counting = Counting(EspeakEngine("cmn"))
    with pytest.raises(TemplateError):
        FlowVoice(store, counting).prepare(SETTINGS, {"title": "张先生"}, TODAY)
    assert counting.calls == 0
    with pytest.raises(SynthesisError):
        FlowVoice(store, Counting(EspeakEngine("cmn"), fail=True)).prepare(SETTINGS, OWNER, TODAY)
    assert not (store.host / "prompts").exists() or not any((store.host / "prompts").glob("espeak-*"))


def test_lookahead_prepares_in_order_and_only_a_little_ahead(store):
    voice = FlowVoice(store, EspeakEngine("cmn"))
    voice.prompt_folder(SETTINGS, TODAY)
    taken = []

    def contacts():  # a campaign far too big to prepare up front
        for i in range(100_000):
            taken.append(i)
            yield i, {**OWNER, "amount": str(100 + i)} if i != 2 else {"title": "x"}

    async def first_five():
        got = []
        async for key, _values, prepared in Lookahead(voice, SETTINGS, TODAY, contacts(), ahead=4):
            got.append((key, prepared))
            if len(got) == 5:
                break
        return got

    got = asyncio.run(first_five())
    assert [k for k, _ in got] == [0, 1, 2, 3, 4]
    assert isinstance(got[2][1], TemplateError)  # a bad contact is reported, the rest go on
    assert all(Path(p.host_files["message"]).is_file() for k, p in got if k != 2)
    assert len(taken) <= 5 + 4  # read lazily: only the lookahead beyond what was dialed
