"""Staff upload a recorded message for a campaign: converted to 8 kHz mono, capped in length,
played in the page, and given to the dialer's flow in place of the synthesised message."""
from __future__ import annotations

import io
import subprocess
import wave
from pathlib import Path

import pytest

from ivr.dialer.flow_planner import flow_settings
from ivr.storage import Campaign

from .test_campaigns import campaign_id, wizard_form


def tone(tmp_path: Path, seconds: float, suffix: str) -> bytes:
    """A real compressed file, as a phone or recorder app would give staff."""
    out = tmp_path / f"tone{suffix}"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-ar", "44100", "-ac", "2", str(out)], check=True)
    return out.read_bytes()


def upload(post_form, client, data: bytes, name: str, path="/campaigns/new", **over):
    form = wizard_form(**over)
    form["recording"] = (io.BytesIO(data), name)
    return post_form(client, path, form, page="/campaigns/new", content_type="multipart/form-data")


@pytest.mark.parametrize("suffix", [".mp3", ".m4a"])
def test_a_recording_is_converted_stored_and_used_by_the_flow(client_for, post_form, accounts, db, app,
                                                               tmp_path, suffix):
    operator = client_for("operator")
    response = upload(post_form, operator, tone(tmp_path, 3, suffix), f"通知{suffix}")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    campaign = db.get(Campaign, campaign_id(response))
    stored = Path(campaign.audio_path)
    with wave.open(str(stored)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert abs(w.getnframes() / 8000 - 3) < 0.2
    assert stored.is_relative_to(app.config["AUDIO_DIR"])
    page = operator.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="recording-audio"' in page and "录音" in page
    src = page.split('id="recording-audio" src="')[1].split('"')[0]
    played = operator.get(src)
    assert played.status_code == 200 and played.mimetype == "audio/wav"
    assert played.data == stored.read_bytes()
    assert flow_settings(campaign, "first", "carrier").recording == str(stored)


def test_too_long_or_not_audio_is_refused_and_nothing_is_saved(client_for, post_form, accounts, db, app,
                                                                 tmp_path):
    app.config["RECORDING_MAX_SECONDS"] = 2
    operator = client_for("operator")
    before = db.query(Campaign).count()
    long = upload(post_form, operator, tone(tmp_path, 4, ".mp3"), "长.mp3")
    assert long.status_code == 400 and "录音无法使用" in long.get_data(as_text=True)
    text = upload(post_form, operator, b"not audio at all", "notice.txt")
    assert text.status_code == 400 and "wav、mp3 或 m4a" in text.get_data(as_text=True)
    broken = upload(post_form, operator, b"ID3 this is not an mp3", "broken.mp3")
    assert broken.status_code == 400
    assert db.query(Campaign).count() == before


def test_the_recording_can_be_removed_on_edit(client_for, post_form, accounts, db, tmp_path):
    operator = client_for("operator")
    cid = campaign_id(upload(post_form, operator, tone(tmp_path, 1, ".mp3"), "a.mp3"))
    form = wizard_form(remove_recording="y")
    response = post_form(operator, f"/campaigns/{cid}/edit", form, page=f"/campaigns/{cid}/edit")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Campaign, cid).audio_path is None
