"""Fast personal messages: synthesise in fragments, reuse them, join them.

A campaign's messages differ only in a few values, so the message is cut into
the template's fixed clauses ("您好，", "这里是", "的物业服务费尚有") and the
spoken values ("张先生", "三个月", "一千二百三十四元五角").  Each fragment is
cached on its own; the second owner with three months owed costs only the
fragments nobody has said before.  The joined message is cached by its full
text too, so a redial costs nothing.

Trade-off: intonation does not flow across fragment joins.  We trim each
engine's own lead-in/tail and put back a pause that fits the punctuation.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Mapping

from ivr.voice import audio, templates
from ivr.voice.cache import AudioCache
from ivr.voice.tts import Engine, SynthesisError, engine_chain

SENTENCE_PAUSE_MS = 400
CLAUSE_PAUSE_MS = 200
JOIN_PAUSE_MS = 40  # inside a clause, e.g. between "共计" and the amount
_SENTENCE_END = set("。！？；.!?;")
# a break after Chinese punctuation, or ASCII punctuation followed by a space
_PIECE = re.compile(r".*?(?:[，。！？；：、]+|[,.!?;:]+(?=\s|$)|$)", re.S)


@dataclass(frozen=True)
class Fragment:
    text: str
    variable: str | None  # which placeholder it says, None for fixed wording
    pause_ms: int         # silence after it


def _pause_after(piece: str) -> int:
    tail = piece.rstrip()[-1:]
    if tail in _SENTENCE_END:
        return SENTENCE_PAUSE_MS
    if tail and not tail.isalnum() and tail not in "»”\"')）":
        return CLAUSE_PAUSE_MS
    return JOIN_PAUSE_MS


def fragments(template: str, variables: Mapping[str, object], *, lang: str = "zh",
              today: date | None = None) -> list[Fragment]:
    """The message as fragments to synthesise, in order (pure: no audio)."""
    text = templates.resolve(template, lang)
    spoken = templates.spoken_values(text, variables, lang=lang, today=today)
    out: list[Fragment] = []
    for kind, value in templates.parse(text):
        if kind == "var":
            out.append(Fragment(spoken[value], value, JOIN_PAUSE_MS))
            continue
        for piece in _PIECE.findall(value):
            if not piece.strip():
                continue
            if not any(ch.isalnum() for ch in piece):
                # bare punctuation after a value ("{company}。") only sets the pause,
                # so "三个月" is one cached fragment whatever follows it
                if out:
                    out[-1] = Fragment(out[-1].text, out[-1].variable, _pause_after(piece))
                continue
            out.append(Fragment(piece.strip(), None, _pause_after(piece)))
    if out:
        out[-1] = Fragment(out[-1].text, out[-1].variable, 0)
    return out


def prepare_message(template: str, variables: Mapping[str, object], engine: Engine,
                    cache: AudioCache, *, lang: str = "zh", voice: str | None = None,
                    rate: int = 0, today: date | None = None, workers: int = 4) -> Path:
    """The whole message as an 8 kHz mono 16-bit WAV in the cache; its path.

    One engine says the whole message: when the online voice fails on any
    fragment, every fragment is taken from the fallback, so an owner never
    hears two voices in one call.
    """
    frags = fragments(template, variables, lang=lang, today=today)
    layout = [(f.text, f.pause_ms) for f in frags]
    chain = engine_chain(engine, voice)

    def message_key(eng: Engine, eng_voice: str | None) -> str:
        return cache.key("message", eng.name, eng_voice or eng.voice, int(rate), layout)

    for eng, eng_voice in chain:
        found = cache.lookup("msg-" + eng.name, message_key(eng, eng_voice))
        if found:
            cache.count(hit=True)
            return found

    errors = []
    texts = list(dict.fromkeys(f.text for f in frags))
    for eng, eng_voice in chain:
        def make(text: str, eng=eng, eng_voice=eng_voice) -> Path:
            return cache.get_or_make(text, eng, voice=eng_voice, rate=rate)
        try:
            # fragments in parallel: edge-tts is network-bound, espeak is a subprocess
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                paths = dict(zip(texts, pool.map(make, texts)))
        except SynthesisError as err:
            errors.append(str(err))
            continue
        clips = [(audio.trim_silence(audio.read_pcm(paths[f.text])), f.pause_ms) for f in frags]
        return cache.store("msg-" + eng.name, message_key(eng, eng_voice), audio.join_clips(clips))
    raise SynthesisError("; ".join(errors))
