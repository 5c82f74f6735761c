import io
import os
import time
import wave

import pytest

from ivr.voice import audio
from ivr.voice.cache import AudioCache
from ivr.voice.tts import (EdgeEngine, Engine, EspeakEngine, FallbackEngine, SynthesisError,
                           engine_from_config)

SENTENCE_60 = "张先生您好，这里是物业服务中心。温馨提示：您名下三栋二单元一五零一的物业服务费尚有三个月未交纳，共计一千二百三十四元五角。"
DEAD_PROXY = "http://127.0.0.1:9"  # nothing listens on the discard port: edge-tts fails at once, anywhere


def wav_format_of(data: bytes):
    with wave.open(io.BytesIO(data)) as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth()


def test_espeak_makes_telephone_wav(tmp_path, espeak, wav):
    assert len(SENTENCE_60) >= 60
    path = audio.write_atomic(tmp_path / "s.wav", espeak.synthesize(SENTENCE_60))
    seconds = wav.check(path, 8, 30)
    # ~3.5 characters a second: slow enough for elderly listeners, not a drawl
    assert 2.5 <= len(SENTENCE_60) / seconds <= 6


def test_espeak_rate_changes_the_speed(tmp_path, espeak):
    slow = audio.write_atomic(tmp_path / "slow.wav", espeak.synthesize("您好，欢迎致电物业服务中心", rate=-30))
    fast = audio.write_atomic(tmp_path / "fast.wav", espeak.synthesize("您好，欢迎致电物业服务中心", rate=50))
    assert audio.duration(slow) > audio.duration(fast) * 1.5


def test_espeak_reads_text_that_looks_like_an_option(tmp_path, espeak, wav):
    path = audio.write_atomic(tmp_path / "dash.wav", espeak.synthesize("--help 您好"))
    wav.check(path, 0.3, 10)


def test_empty_text_is_refused(espeak):
    with pytest.raises(SynthesisError):
        espeak.synthesize("   ")


def test_engines_satisfy_the_protocol():
    for engine in (EspeakEngine(), EdgeEngine(), engine_from_config("auto")):
        assert isinstance(engine, Engine)


def test_engine_from_config(monkeypatch):
    assert isinstance(engine_from_config("espeak"), EspeakEngine)
    assert engine_from_config("espeak", lang="en").voice == "en"
    edge = engine_from_config("edge")
    assert isinstance(edge, EdgeEngine) and edge.voice == "zh-CN-XiaoxiaoNeural"
    auto = engine_from_config("auto")
    assert isinstance(auto, FallbackEngine)
    assert isinstance(auto.primary, EdgeEngine) and isinstance(auto.fallback, EspeakEngine)
    monkeypatch.setenv("IVR_TTS_ENGINE", "espeak")
    assert isinstance(engine_from_config(), EspeakEngine)
    with pytest.raises(ValueError, match="unknown TTS engine"):
        engine_from_config("festival")


def test_edge_failure_is_a_synthesis_error_and_quick():
    started = time.monotonic()
    with pytest.raises(SynthesisError, match="edge-tts failed"):
        EdgeEngine(proxy=DEAD_PROXY).synthesize("您好")
    assert time.monotonic() - started < 10


def test_auto_falls_back_to_espeak_when_edge_is_unreachable(cache, espeak, wav, doubles):
    counted = doubles.Counting(espeak)
    engine = FallbackEngine(EdgeEngine(proxy=DEAD_PROXY), counted)
    path = cache.get_or_make("您好，这里是物业服务中心。", engine)
    assert counted.calls == ["您好，这里是物业服务中心。"]
    assert path.name.startswith("espeak-")
    wav.check(path, 0.5, 10)
    # no 0-byte file and no leftover temp file from the failed attempt
    assert wav.files(cache.root) == [path]


def test_configured_auto_engine_always_leaves_one_complete_file(cache, wav):
    # on this machine edge-tts has no internet; elsewhere it may succeed: either way one whole file
    path = cache.get_or_make("请问您是三栋二单元一五零一的业主吗？", engine_from_config("auto"))
    wav.check(path, 0.5, 15)
    assert wav.files(cache.root) == [path]


def test_fallback_after_a_raising_engine_and_cooldown(espeak, doubles):
    online, offline = doubles.Raising(), doubles.Counting(espeak)
    engine = FallbackEngine(online, offline, cooldown=60)
    assert wav_format_of(engine.synthesize("第一句")) == (8000, 1, 2)
    engine.synthesize("第二句")
    assert online.calls == 1           # skipped during the cooldown: one timeout per outage, not per call
    assert offline.calls == ["第一句", "第二句"]
    retrying = FallbackEngine(doubles.Raising(), doubles.Counting(espeak), cooldown=0)
    retrying.synthesize("第一句")
    retrying.synthesize("第二句")
    assert retrying.primary.calls == 2


def test_all_engines_failing_raises_and_leaves_no_file(cache, wav, doubles):
    engine = FallbackEngine(doubles.Raising(), doubles.Raising())
    with pytest.raises(SynthesisError, match="online"):
        cache.get_or_make("您好", engine)
    assert wav.files(cache.root) == []


def test_second_synthesis_is_a_cache_hit(cache, espeak, doubles):
    counted = doubles.Counting(espeak)
    first = cache.get_or_make("您好，这里是物业服务中心。", counted)
    second = cache.get_or_make("您好，这里是物业服务中心。", counted)
    assert first == second
    assert counted.calls == ["您好，这里是物业服务中心。"]
    assert (cache.hits, cache.misses) == (1, 1)
    # the cache is the folder, not the object
    assert AudioCache(cache.root).get_or_make("您好，这里是物业服务中心。", counted) == first
    assert len(counted.calls) == 1
    assert oct(first.stat().st_mode & 0o777) == oct(0o644)  # readable by the asterisk user


def test_cache_key_covers_engine_voice_rate_and_text(cache, espeak, doubles):
    counted = doubles.Counting(espeak)
    paths = {
        cache.get_or_make("您好", counted),
        cache.get_or_make("您好", counted, rate=20),
        cache.get_or_make("您好", counted, voice="cmn-latn-pinyin"),
        cache.get_or_make("您好。", counted),
        cache.get_or_make("您好", doubles.Counting(espeak, name="other")),
    }
    assert len(paths) == 5 and len(counted.calls) == 4


def test_a_fallback_recording_is_reused_without_asking_the_online_engine(cache, espeak, doubles):
    online, offline = doubles.Raising(), doubles.Counting(espeak)
    first = cache.get_or_make("您好", FallbackEngine(online, offline, cooldown=0))
    again = cache.get_or_make("您好", FallbackEngine(online, offline, cooldown=0))
    assert first == again and online.calls == 1 and len(offline.calls) == 1


def test_default_cache_folder_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("IVR_AUDIO_DIR", str(tmp_path / "fromenv"))
    assert AudioCache().root == tmp_path / "fromenv"
    monkeypatch.delenv("IVR_AUDIO_DIR")
    assert AudioCache().root.as_posix() == "var/audio"


def test_atomic_write_leaves_nothing_when_the_rename_fails(tmp_path, monkeypatch, wav):
    target = tmp_path / "a" / "msg.wav"
    audio.write_atomic(target, b"old complete file")

    def broken_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        audio.write_atomic(target, b"new")
    assert wav.files(tmp_path) == [target]
    assert target.read_bytes() == b"old complete file"

