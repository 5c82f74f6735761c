"""Staff's recorded message for a campaign: uploaded (wav/mp3/m4a), converted to what Asterisk
plays (8 kHz mono 16-bit, ivr.voice.audio.convert_upload), length-capped, and kept by content
in the admin's audio folder; the dialer copies it where its Asterisk reads (ivr.flows.audio)."""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from flask import current_app, url_for
from flask_babel import gettext as _

from ivr.voice import audio

EXTENSIONS = {".wav", ".mp3", ".m4a"}


class RecordingRejected(ValueError):
    """A message staff can act on."""


def save_upload(upload) -> str | None:
    """The stored recording's path for a werkzeug FileStorage, None when no file was chosen."""
    if upload is None or not upload.filename:
        return None
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in EXTENSIONS:
        raise RecordingRejected(_("Upload a wav, mp3 or m4a file."))
    root = Path(current_app.config["AUDIO_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    limit = current_app.config["RECORDING_MAX_SECONDS"]
    with tempfile.TemporaryDirectory(dir=root) as work:
        src, dst = Path(work) / f"upload{suffix}", Path(work) / "converted.wav"
        upload.save(src)
        try:
            audio.convert_upload(src, dst, max_seconds=limit)
        except audio.UploadError as err:
            raise RecordingRejected(_("The recording could not be used: %(why)s", why=str(err)[:200])) from err
        data = dst.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    target = root / digest[:2] / f"rec-{digest[:40]}.wav"
    if not target.exists():
        audio.write_atomic(target, data)
    return str(target)


def recording_url(campaign) -> str | None:
    """Where the browser plays a campaign's recording (served like the message previews)."""
    if not campaign.audio_path:
        return None
    path = Path(campaign.audio_path)
    try:
        path.resolve().relative_to(Path(current_app.config["AUDIO_DIR"]).resolve())
    except ValueError:
        return None
    return url_for("campaigns.audio", sub=path.parent.name, name=path.name)


def seconds(campaign) -> str:
    try:
        return f"{audio.duration(Path(campaign.audio_path)):.1f}"
    except (OSError, ValueError, audio.AudioError):
        return "?"
