"""Measuring audio the tests captured (stdlib only)."""
from __future__ import annotations

import array
import math
import wave
from pathlib import Path


def wav_stats(path: Path) -> tuple[float, float]:
    """(duration in seconds, RMS of 16-bit samples)."""
    with wave.open(str(path)) as w:
        frames = w.readframes(w.getnframes())
        duration = w.getnframes() / w.getframerate()
        assert w.getsampwidth() == 2, "expected 16-bit audio"
    samples = array.array("h", frames)
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0
    return duration, rms
