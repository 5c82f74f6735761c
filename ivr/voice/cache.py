"""A folder of synthesised audio, so the same words are synthesised once.

Key = sha256 of (format, engine name, voice, rate, text): change any of them and
it is different audio.  Files are named `<engine>-<key>.wav` under a two-letter
sub-folder, so staff can see (and purge) what espeak produced during an outage.
The folder comes from the caller, else env IVR_AUDIO_DIR, else ./var/audio.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path

from ivr.voice.audio import write_atomic
from ivr.voice.tts import Engine, SynthesisError, engine_chain

FORMAT = "wav-8k-s16-mono-1"  # bump when the stored audio format changes
_WAV_HEADER = 44


def default_audio_dir() -> Path:
    return Path(os.environ.get("IVR_AUDIO_DIR") or "./var/audio")


class AudioCache:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root else default_audio_dir()
        self.hits = 0    # counters for logs and tests; compose uses the cache from threads
        self.misses = 0
        self._count_lock = threading.Lock()

    def count(self, hit: bool) -> None:
        with self._count_lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    @staticmethod
    def key(*parts: object) -> str:
        blob = json.dumps([FORMAT, *parts], ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:40]

    def path(self, label: str, key: str) -> Path:
        label = re.sub(r"[^A-Za-z0-9_.+-]", "_", label)
        return self.root / key[:2] / f"{label}-{key}.wav"

    def lookup(self, label: str, key: str) -> Path | None:
        path = self.path(label, key)
        try:
            return path if path.stat().st_size > _WAV_HEADER else None
        except FileNotFoundError:
            return None

    def store(self, label: str, key: str, data: bytes) -> Path:
        return write_atomic(self.path(label, key), data)

    def speech_key(self, engine: Engine, text: str, voice: str | None, rate: int) -> str:
        return self.key("speech", engine.name, voice or engine.voice, int(rate), text.strip())

    def get_or_make(self, text: str, engine: Engine, *, voice: str | None = None, rate: int = 0) -> Path:
        """Path of the audio for text; synthesised only when no engine in the
        chain has it cached.  A fallback recording made while the online engine
        was down is reused too (re-synthesising every call would cost a timeout
        each time); purge `espeak-*.wav` to get the better voice back."""
        chain = engine_chain(engine, voice)
        for eng, eng_voice in chain:
            found = self.lookup(eng.name, self.speech_key(eng, text, eng_voice, rate))
            if found:
                self.count(hit=True)
                return found
        self.count(hit=False)
        errors = []
        for eng, eng_voice in chain:
            try:
                data = eng.synthesize(text, voice=eng_voice, rate=rate)
            except Exception as err:
                errors.append(f"{eng.name}: {err}")
                continue
            return self.store(eng.name, self.speech_key(eng, text, eng_voice, rate), data)
        raise SynthesisError(f"no engine could say {text[:30]!r}: " + "; ".join(errors))
