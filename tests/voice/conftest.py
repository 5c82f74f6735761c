"""Fixtures for the voice tests: the real offline engine, a cache in tmp_path,
telephone-WAV checks and engine doubles (counting, failing)."""
from __future__ import annotations

import wave
from pathlib import Path
from types import SimpleNamespace

import pytest

from ivr.voice import audio
from ivr.voice.cache import AudioCache
from ivr.voice.tts import EspeakEngine


def wav_format(path: Path) -> tuple[int, int, int]:
    """(sample rate, channels, bytes per sample)."""
    with wave.open(str(path), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth()


def assert_telephone_wav(path: Path, min_seconds: float, max_seconds: float) -> float:
    """8 kHz mono 16-bit, audibly non-silent, with a plausible length; returns the length."""
    assert wav_format(path) == (8000, 1, 2)
    seconds = audio.duration(path)
    assert min_seconds <= seconds <= max_seconds, seconds
    assert audio.rms(audio.read_pcm(path)) > 300  # speech, not near-silence
    return seconds


class Counting:
    """Wraps an engine and counts syntheses (per text too)."""

    def __init__(self, engine, name: str | None = None, fail_when=None):
        self.engine = engine
        self.name = name or engine.name
        self.voice = engine.voice
        self.calls: list[str] = []
        self.fail_when = fail_when

    def synthesize(self, text, *, voice=None, rate=0):
        self.calls.append(text)
        if self.fail_when and self.fail_when(text):
            raise ConnectionError(f"simulated network failure on {text!r}")
        return self.engine.synthesize(text, voice=voice, rate=rate)


class Raising:
    """An online engine whose network is down."""

    name = "online"
    voice = "zh-CN-XiaoxiaoNeural"

    def __init__(self):
        self.calls = 0

    def synthesize(self, text, *, voice=None, rate=0):
        self.calls += 1
        raise TimeoutError("connect timeout")


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


@pytest.fixture
def espeak():
    return EspeakEngine("cmn")


@pytest.fixture
def cache(tmp_path):
    return AudioCache(tmp_path / "audio")


@pytest.fixture
def wav():
    """Checks on produced audio: wav.check(path, lo, hi), wav.format(path), wav.files(folder)."""
    return SimpleNamespace(check=assert_telephone_wav, format=wav_format, files=files_in)


@pytest.fixture
def doubles():
    """Engine doubles: doubles.Counting(engine), doubles.Raising()."""
    return SimpleNamespace(Counting=Counting, Raising=Raising)
