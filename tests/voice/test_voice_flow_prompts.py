"""Prompts the IVR flows added: the menu built from the enabled keys, and the new short
prompts, polite and in both languages."""
from __future__ import annotations

import pytest

from ivr.voice import templates
from ivr.voice.templates import TemplateError, menu_text


def test_menu_of_every_key_is_the_shipped_menu_in_both_languages():
    assert menu_text() == templates.TEMPLATES["zh"]["arrears-menu"]
    assert menu_text(lang="en") == templates.TEMPLATES["en"]["arrears-menu"]


@pytest.mark.parametrize("keys, text", [
    ("12", "三天内交费请按1；约定其他交费日期请按2。"),
    ("0", "重听请按0。"),
    ("9*", "不希望再接到此类电话请按9；重听请按星号键。"),
    ("*2", "约定其他交费日期请按2；重听请按星号键。"),
])
def test_menu_offers_only_the_enabled_keys(keys, text):
    assert menu_text(keys) == text


def test_a_menu_needs_a_choice():
    with pytest.raises(TemplateError):
        menu_text("")


@pytest.mark.parametrize("name", ["wrong-key", "date-failed", "message-saved", "outage-thanks"])
def test_flow_prompts_exist_need_nothing_and_threaten_nobody(name):
    for lang in templates.LANGS:
        assert templates.required_variables(name, lang) == []
        assert templates.render(name, {}, lang=lang).strip()
    for word in ("停水", "起诉", "律师", "后果") if name != "outage-thanks" else ("起诉", "律师"):
        assert word not in templates.TEMPLATES["zh"][name]
