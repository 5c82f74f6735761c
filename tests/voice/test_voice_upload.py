import subprocess

import pytest

from ivr.voice import audio
from ivr.voice.audio import UploadError, convert_upload


def run(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture
def tone(tmp_path):
    """A stereo 44.1 kHz tone made by sox, like a phone or PC recording."""
    def make(seconds: float, name: str = "tone.wav"):
        path = tmp_path / name
        run("sox", "-n", "-r", "44100", "-c", "2", "-b", "16", str(path),
            "synth", str(seconds), "sine", "440", "vol", "0.5")
        return path
    return make


def encode(src, dst, *codec):
    run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), *codec, str(dst))
    return dst


def test_mp3_upload_becomes_telephone_wav(tmp_path, tone, wav):
    mp3 = encode(tone(3), tmp_path / "notice.mp3", "-c:a", "libmp3lame", "-b:a", "64k")
    out = convert_upload(mp3, tmp_path / "out" / "notice.wav")
    seconds = wav.check(out, 2.9, 3.2)
    assert wav.files(tmp_path / "out") == [out]
    assert seconds == pytest.approx(3.0, abs=0.1)


def test_m4a_upload_is_read_from_the_file_not_a_pipe(tmp_path, tone, wav):
    m4a = encode(tone(2), tmp_path / "notice.m4a", "-c:a", "aac", "-b:a", "64k")
    wav.check(convert_upload(m4a, tmp_path / "m4a.wav"), 1.9, 2.2)


def test_too_long_is_refused_and_nothing_written(tmp_path, tone, wav):
    src = tone(5)
    with pytest.raises(UploadError, match="longer than the 2 s limit"):
        convert_upload(src, tmp_path / "out" / "long.wav", max_seconds=2)
    assert not (tmp_path / "out").exists() or wav.files(tmp_path / "out") == []


def test_too_long_can_be_trimmed_to_the_cap(tmp_path, tone, wav):
    out = convert_upload(tone(5), tmp_path / "trimmed.wav", max_seconds=2, trim=True)
    assert wav.check(out, 1.99, 2.01)


def test_just_under_the_cap_is_accepted(tmp_path, tone, wav):
    wav.check(convert_upload(tone(1.9), tmp_path / "ok.wav", max_seconds=2), 1.85, 1.95)


def test_text_named_mp3_is_not_audio(tmp_path):
    fake = tmp_path / "notice.mp3"
    fake.write_text("催费通知：请于月底前交费。" * 50, encoding="utf-8")
    with pytest.raises(UploadError, match="not a readable audio file"):
        convert_upload(fake, tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


def test_image_has_no_audio(tmp_path):
    png = tmp_path / "photo.png"
    run("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:s=16x16",
        "-frames:v", "1", str(png))
    with pytest.raises(UploadError, match="not a readable audio file"):
        convert_upload(png, tmp_path / "x.wav")


def test_empty_missing_and_silent_files(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(UploadError):
        convert_upload(empty, tmp_path / "x.wav")
    with pytest.raises(UploadError, match="no such file"):
        convert_upload(tmp_path / "missing.mp3", tmp_path / "x.wav")
    silent = tmp_path / "silent.wav"
    run("sox", "-n", "-r", "8000", "-c", "1", str(silent), "trim", "0", "2")
    with pytest.raises(UploadError, match="silent"):
        convert_upload(silent, tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


def test_rms_of_a_tone_and_of_silence():
    assert audio.rms(audio.silence(100)) == 0
    loud = (b"\x00\x40" + b"\x00\xc0") * 100  # +16384, -16384
    assert audio.rms(loud) == pytest.approx(16384)
