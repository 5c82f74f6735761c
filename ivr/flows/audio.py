"""Preparing the audio of flow calls, just ahead of dialing (I/O: synthesis and files).

- The campaign's fixed prompts and the date fragments (month-1..12, day-1..31,
  weekday-1..7, year-YYYY) go in one *prompt folder* per (engine, voice, rate, words):
  built once, atomically (a temp folder renamed into place), and reused by every call and
  every later campaign that says the same words. Asterisk reads any date back by joining
  fragments, so no Python is needed during a call.
- Each owner's identity question, message and remote-payment message come from
  `ivr.voice.compose.prepare_message` (fragment cache: only new values are synthesised).
- One engine says the whole call: if the online voice fails on any part, the whole call
  (prompt folder included) is taken from the fallback, so an owner never hears two voices.
- `Lookahead` keeps the next few calls' audio in preparation while earlier ones are dialed,
  so a 100,000-owner campaign dials its first call within seconds.

Everything is written under a `SoundStore`: a host folder that Asterisk sees under another
path when it runs chrooted (site.run_dir + "/audio"), never in git.
"""
from __future__ import annotations

import array
import asyncio
import hashlib
import math
import os
import shutil
import tempfile
import threading
from collections import deque
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import AsyncIterator, Hashable, Iterable, Mapping

from ivr.voice import audio
from ivr.voice.cache import AudioCache
from ivr.voice.compose import prepare_message
from ivr.voice.tts import Engine, SynthesisError, engine_chain

from .plan import CallAudio, FlowSettings, personal_texts, prompt_texts

PAUSE_AFTER_DATE_MS = 200   # before "，确认请按1…": the comma after the spoken date
_COMPLETE = ".complete"     # marker file: the prompt folder is whole


@dataclass(frozen=True)
class SoundStore:
    """A folder Python writes (host) and Asterisk reads (inner: its own path for it)."""
    host: Path
    inner: str

    @classmethod
    def for_site(cls, site) -> SoundStore:
        inner = f"{site.run_dir}/audio"
        return cls(Path(site.runtime.host_path(inner)), inner)

    def asterisk_path(self, host_file: Path) -> str:
        """The path Asterisk plays for a file under host (no extension)."""
        return self.asterisk_dir(Path(host_file).with_suffix(""))

    def asterisk_dir(self, host_path: Path) -> str:
        """The path Asterisk sees for anything under host."""
        relative = Path(host_path).resolve().relative_to(self.host.resolve())
        return f"{self.inner.rstrip('/')}/{relative.as_posix()}"


def beep(ms: int = 400, hz: int = 1000, amplitude: int = 8000) -> bytes:
    """The tone before a voice message is recorded (Asterisk's own beep may not be installed)."""
    n = audio.SAMPLE_RATE * ms // 1000
    samples = array.array("h", (int(amplitude * math.sin(2 * math.pi * hz * i / audio.SAMPLE_RATE))
                                for i in range(n)))
    return audio.pcm_to_wav(samples.tobytes())


class FlowVoice:
    """Prepares flow audio with one engine chain, a fragment cache and a sound store."""

    def __init__(self, store: SoundStore, engine: Engine, *, voice: str | None = None,
                 rate: int = 0, workers: int = 4):
        self.store = store
        self.engine = engine
        self.voice = voice
        self.rate = rate
        self.workers = workers
        self.cache = AudioCache(store.host / "cache")
        self._sets: dict[str, Path] = {}
        self._lock = threading.Lock()

    # -- the campaign's fixed prompts ------------------------------------------------------
    def prompt_folder(self, settings: FlowSettings, today: date, engine: Engine | None = None,
                      voice: str | None = None) -> Path:
        """Host folder with every fixed prompt and date fragment, said by `engine` (a plain
        engine; default: the first of the chain that can say all of it)."""
        if engine is None:
            errors = []
            for eng, eng_voice in engine_chain(self.engine, self.voice):
                try:
                    return self.prompt_folder(settings, today, eng, eng_voice)
                except SynthesisError as err:
                    errors.append(str(err))
            raise SynthesisError("; ".join(errors))
        texts = prompt_texts(settings, today)
        key = self.cache.key("prompts", engine.name, voice or engine.voice, self.rate, settings.lang,
                             sorted(texts.items()))
        with self._lock:  # one build per folder even when many calls ask at once
            known = self._sets.get(key)
            if known:
                return known
            folder = self.store.host / "prompts" / f"{engine.name}-{key}"
            if not (folder / _COMPLETE).exists():
                self._build(folder, texts, settings, today, engine, voice)
            self._sets[key] = folder
            return folder

    def _build(self, folder: Path, texts: Mapping[str, str], settings: FlowSettings, today: date,
               engine: Engine, voice: str | None) -> None:
        def make(item: tuple[str, str]) -> tuple[str, Path]:
            name, text = item
            path = prepare_message(text, {}, engine, self.cache, lang=settings.lang, voice=voice,
                                   rate=self.rate, today=today, workers=1)
            return name, path

        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            made = dict(pool.map(make, [(n, t) for n, t in texts.items() if t.strip()]))
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
        try:
            for name, path in made.items():
                pcm = audio.read_pcm(path)
                if name.endswith("-post") and texts[name][:1] in "，,。.；;":
                    pcm = audio.silence(PAUSE_AFTER_DATE_MS) + pcm
                audio.write_atomic(tmp / f"{name}.wav", audio.pcm_to_wav(pcm))
            for name in ("readback-pre", "readback-post", "promise-pre", "promise-post"):
                if name not in made:  # a template with nothing on one side of {date}
                    audio.write_atomic(tmp / f"{name}.wav", audio.pcm_to_wav(audio.silence(20)))
            audio.write_atomic(tmp / "beep.wav", beep())
            (tmp / _COMPLETE).write_text("")
            os.chmod(tmp, 0o755)
            try:
                os.rename(tmp, folder)
            except OSError:  # another process built it first: theirs is as good
                if not (folder / _COMPLETE).exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- one owner's call ------------------------------------------------------------------
    def prepare(self, settings: FlowSettings, values: Mapping[str, object], today: date) -> CallAudio:
        """All audio for one call, said by one engine. Raises TemplateError for bad values
        (before any synthesis) and SynthesisError when no engine can say it."""
        parts = personal_texts(settings, values, today)
        errors = []
        for eng, eng_voice in engine_chain(self.engine, self.voice):
            try:
                made = {part: prepare_message(tpl, vals, eng, self.cache, lang=settings.lang,
                                              voice=eng_voice, rate=self.rate, today=today,
                                              workers=self.workers)
                        for part, (tpl, vals) in parts.items()}
                folder = self.prompt_folder(settings, today, eng, eng_voice)
            except SynthesisError as err:
                errors.append(f"{eng.name}: {err}")
                continue
            if settings.recording:
                made["message"] = self.recording(settings.recording)
            inner = {part: self.store.asterisk_path(path) for part, path in made.items()}
            return CallAudio(prompts=self.store.asterisk_dir(folder),
                             message=inner["message"], identity=inner.get("identity", ""),
                             remote=inner.get("remote", ""),
                             host_files={**{p: str(v) for p, v in made.items()}, "prompts": str(folder)})
        raise SynthesisError("; ".join(errors))

    def recording(self, source: str) -> Path:
        """Staff's recorded message, copied once (by content) where Asterisk can read it: the
        admin keeps uploads in its own folder, which a chrooted Asterisk cannot see."""
        data = Path(source).read_bytes()
        target = self.store.host / "recordings" / f"rec-{hashlib.sha256(data).hexdigest()[:32]}.wav"
        if not target.exists():
            audio.write_atomic(target, data)
        return target


class Lookahead:
    """Prepares calls' audio a little ahead of dialing.

    `async for key, values, prepared in Lookahead(voice, settings, today, contacts):`
    yields contacts in order with their CallAudio (or the exception that stopped it),
    keeping at most `ahead` preparations in flight in `workers` threads. Contacts are
    read lazily, so a 100,000-owner campaign starts dialing as soon as its first call's
    audio is ready (prepared alone, nothing competing with it), and only the next few
    minutes of calls are ever prepared ahead."""

    def __init__(self, voice: FlowVoice, settings: FlowSettings, today: date,
                 contacts: Iterable[tuple[Hashable, Mapping[str, object]]], *, ahead: int = 20,
                 workers: int = 2, executor: Executor | None = None):
        self.voice, self.settings, self.today = voice, settings, today
        self.contacts = iter(contacts)
        self.ahead = max(1, ahead)
        self._executor = executor or ThreadPoolExecutor(max_workers=max(1, workers),
                                                        thread_name_prefix="flow-audio")
        self._owns_executor = executor is None

    def _prepare(self, values: Mapping[str, object]):
        try:
            return self.voice.prepare(self.settings, values, self.today)
        except Exception as err:  # handed to the dialer with the contact, never lost
            return err

    async def __aiter__(self) -> AsyncIterator[tuple[Hashable, Mapping[str, object], CallAudio | Exception]]:
        loop = asyncio.get_running_loop()
        pending: deque = deque()
        exhausted = False
        limit = 1  # the first call alone, so nothing competes with it for the CPU
        try:
            while True:
                while not exhausted and len(pending) < limit:
                    try:
                        key, values = next(self.contacts)
                    except StopIteration:
                        exhausted = True
                        break
                    pending.append((key, values, loop.run_in_executor(self._executor, self._prepare, values)))
                if not pending:
                    return
                key, values, future = pending.popleft()
                prepared = await future
                limit = self.ahead
                yield key, values, prepared
        finally:
            for _key, _values, future in pending:
                future.cancel()
            if self._owns_executor:
                self._executor.shutdown(wait=False, cancel_futures=True)
