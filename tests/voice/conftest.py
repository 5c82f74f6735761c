import pytest

from ivr.voice.cache import AudioCache
from ivr.voice.tts import EspeakEngine


@pytest.fixture
def espeak():
    return EspeakEngine("cmn")


@pytest.fixture
def cache(tmp_path):
    return AudioCache(tmp_path / "audio")
