"""Audio plumbing: decode anything to telephone WAV, write files atomically, join clips.

Asterisk plays 8 kHz, 16-bit, mono signed-linear WAV without transcoding, so
every file we hand it is exactly that.  Decoding is done by ffmpeg (anything:
mp3 from edge-tts, staff uploads) or sox (espeak's WAV: much faster to start)
to raw PCM; the WAV header is written by the `wave` module, because ffmpeg
cannot fill in a correct header when writing to a pipe.  pydub is not used: it
adds temp files and needs audioop, which Python 3.13 removed.
"""
from __future__ import annotations

import array
import io
import os
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2  # bytes: 16-bit
CHANNELS = 1
FFMPEG = os.environ.get("IVR_FFMPEG", "ffmpeg")
SOX = os.environ.get("IVR_SOX", "sox")


class AudioError(RuntimeError):
    """ffmpeg could not turn the input into telephone audio."""


class UploadError(ValueError):
    """A staff upload is not usable audio (not audio, empty, silent, too long)."""


def decode_to_pcm(source: bytes | Path, *, max_seconds: float | None = None,
                  timeout: float = 120) -> bytes:
    """Any audio (bytes or a file) -> raw 8 kHz mono s16le PCM.

    Files are passed by path, not piped: MP4/M4A keep their index at the end and
    cannot be decoded from a pipe.
    """
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error"]
    if isinstance(source, (bytes, bytearray)):
        cmd += ["-i", "pipe:0"]
        data = bytes(source)
    else:
        cmd += ["-i", str(source)]
        data = None
    if max_seconds is not None:
        cmd += ["-t", f"{max_seconds:.3f}"]
    cmd += ["-map", "0:a:0", "-ac", str(CHANNELS), "-ar", str(SAMPLE_RATE),
            "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"]
    try:
        done = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout,
                              stdin=None if data is not None else subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise AudioError(f"ffmpeg failed: {err}") from err
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError(detail[-1] if detail else f"ffmpeg exited with {done.returncode}")
    return done.stdout


def wav_to_pcm_with_sox(data: bytes, timeout: float = 60) -> bytes:
    """WAV bytes -> 8 kHz mono s16le PCM with sox: ~10 ms against ~70 ms for
    ffmpeg's start-up, which adds up over a message's dozen fragments.
    Falls back to ffmpeg when sox is not installed."""
    cmd = [SOX, "-D", "-t", "wav", "-", "-r", str(SAMPLE_RATE), "-c", str(CHANNELS),
           "-b", "16", "-e", "signed-integer", "-L", "-t", "raw", "-"]  # -D: no dither, same input -> same bytes
    try:
        done = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)
    except FileNotFoundError:
        return decode_to_pcm(data)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise AudioError(f"sox failed: {err}") from err
    if done.returncode != 0:
        raise AudioError(f"sox failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def pcm_to_wav(pcm: bytes) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(CHANNELS)
        w.setsampwidth(SAMPLE_WIDTH)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    return buf.getvalue()


def to_telephone_wav(source: bytes | Path, *, is_wav: bool = False) -> bytes:
    """Any audio -> 8 kHz mono 16-bit WAV bytes (is_wav: take the fast sox path)."""
    pcm = wav_to_pcm_with_sox(source) if is_wav and isinstance(source, bytes) else decode_to_pcm(source)
    if not pcm:
        raise AudioError("no audio samples decoded")
    return pcm_to_wav(pcm)


def read_pcm(path: Path) -> bytes:
    """PCM frames of one of our own 8 kHz mono 16-bit WAV files."""
    with wave.open(str(path), "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH):
            raise AudioError(f"{path}: not 8 kHz mono 16-bit")
        return w.readframes(w.getnframes())


def duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def _samples(pcm: bytes) -> array.array:
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def rms(pcm: bytes) -> float:
    samples = _samples(pcm)
    if not samples:
        return 0.0
    return (sum(s * s for s in samples) / len(samples)) ** 0.5


def silence(ms: int) -> bytes:
    return b"\x00\x00" * (SAMPLE_RATE * ms // 1000)


def trim_silence(pcm: bytes, threshold: int = 300, keep_ms: int = 20) -> bytes:
    """Cut the lead-in/tail each engine adds, so our own pauses set the rhythm."""
    samples = _samples(pcm)
    start = next((i for i, s in enumerate(samples) if abs(s) > threshold), None)
    if start is None:
        return pcm  # nothing loud: leave it rather than return nothing
    end = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > threshold)
    keep = SAMPLE_RATE * keep_ms // 1000
    return pcm[max(0, start - keep) * 2: min(len(samples), end + 1 + keep) * 2]


def join_clips(clips: list[tuple[bytes, int]]) -> bytes:
    """(pcm, pause_ms after it) pairs -> one WAV."""
    return pcm_to_wav(b"".join(pcm + silence(pause) for pcm, pause in clips))


def write_atomic(path: Path, data: bytes) -> Path:
    """Write via a temp file in the same folder + os.replace: readers (Asterisk,
    another worker) see the old file or the whole new one, never a partial one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o644)  # mkstemp makes 0600; Asterisk runs as another user
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def convert_upload(src: Path, dst: Path, max_seconds: float = 120, *, trim: bool = False) -> Path:
    """A staff recording (wav/mp3/m4a/...) -> 8 kHz mono 16-bit WAV at dst.

    Too long is refused unless trim=True: silently cutting the end off a
    recorded notice is worse than asking staff to shorten it.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise UploadError(f"{src}: no such file")
    # decode a little past the limit, enough to know it is over
    limit = max_seconds if trim else max_seconds + 0.5
    try:
        pcm = decode_to_pcm(src, max_seconds=limit)
    except AudioError as err:
        raise UploadError(f"{src.name}: not a readable audio file ({err})") from None
    seconds = len(pcm) / (SAMPLE_RATE * SAMPLE_WIDTH)
    if not pcm:
        raise UploadError(f"{src.name}: contains no audio")
    if not trim and seconds > max_seconds + 0.05:
        raise UploadError(f"{src.name}: longer than the {max_seconds:g} s limit; "
                          f"please shorten the recording")
    if rms(pcm) < 1.0:
        raise UploadError(f"{src.name}: the recording is silent")
    return write_atomic(dst, pcm_to_wav(pcm))
