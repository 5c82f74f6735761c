"""Speech synthesis behind one interface.

An Engine turns text into telephone WAV bytes (8 kHz, 16-bit, mono), never a
file: the caller (AudioCache) decides where the bytes go and writes them
atomically, so a network failure half-way cannot leave a 0-byte or truncated
file for Asterisk to play (edge-tts's own save() does exactly that).

- EdgeEngine: Microsoft's online neural voices (edge-tts), natural Mandarin,
  needs the internet.
- EspeakEngine: espeak-ng, offline, robotic but always there.
- FallbackEngine: try the first, use the second when it fails; after a failure
  the first is skipped for `cooldown` seconds so an outage costs one timeout,
  not one per call.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import subprocess
import time
from typing import Protocol, runtime_checkable

from ivr.voice.audio import AudioError, convert_upload, to_telephone_wav  # noqa: F401 (re-export)

log = logging.getLogger(__name__)

ESPEAK_VOICES = {"zh": "cmn", "en": "en"}
EDGE_VOICES = {"zh": "zh-CN-XiaoxiaoNeural", "en": "en-US-JennyNeural"}
ENGINE_NAMES = ("auto", "edge", "espeak")


class SynthesisError(RuntimeError):
    """The engine produced no usable audio."""


@runtime_checkable
class Engine(Protocol):
    name: str   # part of the cache key and of cached file names
    voice: str  # default voice, used when synthesize() gets voice=None

    def synthesize(self, text: str, *, voice: str | None = None, rate: int = 0) -> bytes:
        """WAV bytes, 8 kHz 16-bit mono.  rate: percent faster (+) or slower (-)."""
        ...


def _check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise SynthesisError("nothing to say: empty text")
    return text


class EspeakEngine:
    name = "espeak"

    def __init__(self, voice: str = "cmn", *, words_per_minute: int = 200,
                 binary: str = "espeak-ng", timeout: float = 30):
        # espeak's cmn "wpm" is slow: 175 gives ~3 characters/s; 200 gives ~3.5,
        # a calm pace for elderly listeners on a phone line
        self.voice, self.words_per_minute, self.binary, self.timeout = voice, words_per_minute, binary, timeout

    def synthesize(self, text: str, *, voice: str | None = None, rate: int = 0) -> bytes:
        text = _check_text(text)
        speed = max(80, self.words_per_minute * (100 + rate) // 100)
        # text on stdin (-b 1: UTF-8) so a message starting with '-' is not an option
        cmd = [self.binary, "-v", voice or self.voice, "-s", str(speed), "-b", "1", "--stdout", "--stdin"]
        try:
            done = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, timeout=self.timeout)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise SynthesisError(f"espeak-ng failed: {err}") from err
        if done.returncode != 0 or not done.stdout:
            raise SynthesisError(f"espeak-ng failed: {done.stderr.decode('utf-8', 'replace').strip()}")
        try:
            return to_telephone_wav(done.stdout, is_wav=True)
        except AudioError as err:
            raise SynthesisError(f"espeak-ng output unusable: {err}") from err


def _run_coroutine(coro):
    """asyncio.run, also from code that is already inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class EdgeEngine:
    name = "edge"

    def __init__(self, voice: str = "zh-CN-XiaoxiaoNeural", *, connect_timeout: int = 3,
                 timeout: float = 20, proxy: str | None = None):
        self.voice, self.connect_timeout, self.timeout = voice, connect_timeout, timeout
        self.proxy = proxy or os.environ.get("IVR_TTS_PROXY") or None

    async def _fetch(self, text: str, voice: str, rate: int) -> bytes:
        import edge_tts  # imported here: offline deployments never need it loaded

        communicate = edge_tts.Communicate(text, voice, rate=f"{rate:+d}%", proxy=self.proxy,
                                           connect_timeout=self.connect_timeout,
                                           receive_timeout=int(self.timeout))
        chunks = []
        async for chunk in communicate.stream():
            if chunk["type"] == "audio":
                chunks.append(chunk["data"])
        return b"".join(chunks)

    def synthesize(self, text: str, *, voice: str | None = None, rate: int = 0) -> bytes:
        text = _check_text(text)
        try:
            mp3 = _run_coroutine(asyncio.wait_for(self._fetch(text, voice or self.voice, rate), self.timeout))
        except Exception as err:  # aiohttp, edge_tts and timeout errors share no base class
            raise SynthesisError(f"edge-tts failed: {type(err).__name__}: {err}") from err
        if not mp3:
            raise SynthesisError("edge-tts returned no audio")
        try:
            return to_telephone_wav(mp3)
        except AudioError as err:
            raise SynthesisError(f"edge-tts audio unusable: {err}") from err


class _Guarded:
    """The primary engine as seen through its FallbackEngine: failures start the cooldown."""

    def __init__(self, owner: FallbackEngine):
        self._owner = owner
        self.name, self.voice = owner.primary.name, owner.primary.voice

    def synthesize(self, text: str, *, voice: str | None = None, rate: int = 0) -> bytes:
        owner = self._owner
        if time.monotonic() < owner._skip_primary_until:
            raise SynthesisError(f"{self.name} skipped: failed less than {owner.cooldown:g} s ago")
        try:
            return owner.primary.synthesize(text, voice=voice, rate=rate)
        except Exception:
            owner._skip_primary_until = time.monotonic() + owner.cooldown
            raise


class FallbackEngine:
    def __init__(self, primary: Engine, fallback: Engine, *, cooldown: float = 60.0):
        self.primary, self.fallback, self.cooldown = primary, fallback, cooldown
        self.name = f"{primary.name}+{fallback.name}"
        self.voice = primary.voice
        self._skip_primary_until = 0.0
        self._guarded = _Guarded(self)

    def chain(self, voice: str | None = None) -> list[tuple[Engine, str | None]]:
        """(engine, voice) in order of preference.  The fallback gets its own
        default voice: an edge voice name means nothing to espeak."""
        return [(self._guarded, voice), (self.fallback, None)]

    def synthesize(self, text: str, *, voice: str | None = None, rate: int = 0) -> bytes:
        errors = []
        for engine, engine_voice in self.chain(voice):
            try:
                return engine.synthesize(text, voice=engine_voice, rate=rate)
            except Exception as err:
                log.warning("TTS %s failed, trying the next engine: %s", engine.name, err)
                errors.append(f"{engine.name}: {err}")
        raise SynthesisError("; ".join(errors))


def engine_chain(engine: Engine, voice: str | None = None) -> list[tuple[Engine, str | None]]:
    """Plain engines to try in order (flattens nested FallbackEngines)."""
    chain = getattr(engine, "chain", None)
    if chain is None:
        return [(engine, voice)]
    return [pair for sub, sub_voice in chain(voice) for pair in engine_chain(sub, sub_voice)]


def engine_from_config(name: str | None = None, *, lang: str = "zh") -> Engine:
    """'edge', 'espeak' or 'auto' (edge, espeak when edge fails); default from
    env IVR_TTS_ENGINE, else 'auto'."""
    name = (name or os.environ.get("IVR_TTS_ENGINE") or "auto").strip().lower()
    if lang not in ESPEAK_VOICES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(ESPEAK_VOICES)}")
    if name == "espeak":
        return EspeakEngine(ESPEAK_VOICES[lang])
    if name == "edge":
        return EdgeEngine(EDGE_VOICES[lang])
    if name == "auto":
        return FallbackEngine(EdgeEngine(EDGE_VOICES[lang]), EspeakEngine(ESPEAK_VOICES[lang]))
    raise ValueError(f"unknown TTS engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
