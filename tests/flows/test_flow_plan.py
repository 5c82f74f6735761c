"""Building a flow call's words and CallPlan from plain data (pure)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ivr.dialer.originate import originate_action
from ivr.flows import CallAudio, FlowSettings, build_plan, contact_values, personal_texts, prompt_texts
from ivr.flows.plan import date_fragment_texts, normalise_choices, readback_years
from ivr.voice import templates
from ivr.voice.templates import TemplateError

TODAY = date(2026, 11, 22)
OWNER = dict(title="张先生", room="3栋2单元1501", amount="1234.50", months=3, due_date="2026-11-30")
CAMPAIGN = dict(hotline="02160000000", channel="微信公众号")
AUDIO = CallAudio(prompts="/run/audio/prompts/espeak-x", message="/run/audio/cache/ab/msg-1",
                  identity="/run/audio/cache/cd/msg-2", remote="/run/audio/cache/ef/msg-3")


def test_arrears_plan_enters_the_arrears_flow_with_its_variables():
    settings = FlowSettings(trunk="carrier", key_timeout=4, **CAMPAIGN)
    plan = build_plan(settings, AUDIO, TODAY)
    assert plan.context == "ivr-arrears"
    assert plan.prompt == AUDIO.message and plan.key_timeout == 4
    assert plan.goodbye == "/run/audio/prompts/espeak-x/goodbye"
    assert plan.variables == {
        "IVR_PROMPTS": AUDIO.prompts, "IVR_MESSAGE": AUDIO.message, "IVR_IDENTITY": AUDIO.identity,
        "IVR_REMOTE": AUDIO.remote, "IVR_MACHINE": "/run/audio/prompts/espeak-x/machine",
        "IVR_TODAY": "20261122", "IVR_MAX_DAYS": "30", "IVR_CHOICES": "1234890*",
        "IVR_REASKS": "2", "IVR_DATE_TRIES": "3", "IVR_AMD": "1",
    }
    # and the dialer accepts it as it is
    action = originate_action(50001, "13510000001", plan)
    assert action["Context"] == "ivr-arrears"
    assert "IVR_CHOICES=1234890*" in action["Variable"] and "IVR_TODAY=20261122" in action["Variable"]
    # no value may contain a comma: AMI splits Variable headers on commas
    assert not any("," in v for v in action["Variable"])


def test_outage_plan_leaves_the_notice_itself_on_a_machine():
    settings = FlowSettings(kind="outage", amd=False, max_promise_days=10)
    plan = build_plan(settings, CallAudio(prompts="/p", message="/m"), TODAY)
    assert plan.context == "ivr-outage"
    assert plan.variables["IVR_MACHINE"] == "/m"
    assert plan.variables["IVR_AMD"] == "0"
    assert "IVR_IDENTITY" not in plan.variables and "IVR_CHOICES" not in plan.variables


def test_a_plan_without_the_audio_its_menu_needs_is_refused():
    settings = FlowSettings(**CAMPAIGN)
    with pytest.raises(ValueError, match="identity"):
        build_plan(settings, CallAudio(prompts="/p", message="/m"), TODAY)
    with pytest.raises(ValueError, match="remote"):
        build_plan(settings, CallAudio(prompts="/p", message="/m", identity="/i"), TODAY)
    # without key 4 no remote-payment message is needed
    plan = build_plan(FlowSettings(choices="1239", **CAMPAIGN),
                      CallAudio(prompts="/p", message="/m", identity="/i"), TODAY)
    assert plan.variables["IVR_CHOICES"] == "1239" and "IVR_REMOTE" not in plan.variables


@pytest.mark.parametrize("given, expected", [
    ("1,2,3,4,8,9,0,*", "1234890*"), ("*0 9 1", "190*"), ("2", "2"), ("9,9,1", "19")])
def test_choices_are_normalised_to_menu_order(given, expected):
    assert normalise_choices(given) == expected


@pytest.mark.parametrize("bad", ["", "5", "1,2,#", "12a"])
def test_unknown_menu_keys_are_refused(bad):
    with pytest.raises(ValueError):
        FlowSettings(choices=bad)


@pytest.mark.parametrize("kwargs", [dict(kind="survey"), dict(max_promise_days=-1), dict(key_timeout=0),
                                    dict(reasks=9), dict(date_tries=0), dict(template="arrears-frist")])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises((ValueError, TemplateError)):
        FlowSettings(**kwargs)


def test_the_menu_offers_only_the_enabled_choices():
    full = prompt_texts(FlowSettings(**CAMPAIGN), TODAY)["menu"]
    assert full == templates.TEMPLATES["zh"]["arrears-menu"]
    short = prompt_texts(FlowSettings(choices="19*", **CAMPAIGN), TODAY)["menu"]
    assert short == "三天内交费请按1；不希望再接到此类电话请按9；重听请按星号键。"
    assert "按8" not in short and "按0" not in short


def test_fixed_prompts_cover_every_file_the_dialplan_plays():
    texts = prompt_texts(FlowSettings(max_promise_days=45, **CAMPAIGN), TODAY)
    for name in ("menu", "date-entry", "no-input", "wrong-key", "goodbye", "wrong-person", "already-paid",
                 "opt-out", "leave-message", "message-saved", "date-failed", "outage-menu", "outage-thanks",
                 "machine", "readback-pre", "readback-post", "promise-pre", "promise-post",
                 "refusal-empty", "refusal-invalid", "refusal-past", "refusal-beyond_limit"):
        assert texts[name].strip(), name
    assert texts["readback-pre"] == "您承诺的交费日期是"
    assert texts["readback-post"] == "，确认请按1，重新输入请按2。"
    assert texts["refusal-beyond_limit"] == "您输入的日期超过了四十五天，请输入四十五天以内的日期。"
    assert "零二幺六零零零零零零零" in texts["machine"] and "欠" not in texts["machine"]
    # a confirmed date can be in January next year: its year is said, so it is there
    assert texts["year-2027"] == "二〇二七年"
    assert (texts["month-1"], texts["day-31"], texts["weekday-7"]) == ("一月", "三十一日", "星期日")


def test_date_fragments_say_any_date_as_the_message_reader_does():
    from ivr.voice.speech import date_zh
    frags = date_fragment_texts("zh", range(2027, 2029))
    for d in (date(2026, 11, 30), date(2027, 1, 1), date(2028, 2, 29), date(2026, 12, 25)):
        parts = ([frags[f"year-{d.year}"]] if d.year != TODAY.year else []) + [
            frags[f"month-{d.month}"], frags[f"day-{d.day}"], frags[f"weekday-{d.isoweekday()}"]]
        assert "".join(parts) == date_zh(d, TODAY)


def test_readback_years_are_those_a_confirmed_date_can_fall_in():
    assert list(readback_years(date(2026, 11, 22), 30)) == []
    assert list(readback_years(date(2026, 12, 10), 30)) == [2027]
    assert list(readback_years(date(2026, 1, 1), 800)) == [2027, 2028]


def test_personal_texts_of_an_arrears_call():
    parts = personal_texts(FlowSettings(**CAMPAIGN), OWNER, TODAY)
    assert set(parts) == {"message", "identity", "remote"}
    assert templates.render(*parts["identity"], today=TODAY) == "请问您是三栋二单元一五零一的业主吗？是请按1，不是请按2。"
    assert "一千二百三十四元五角" in templates.render(*parts["message"], today=TODAY)
    outage = personal_texts(FlowSettings(kind="outage"), dict(
        area="3栋", start="2026-11-23 09:00", end="2026-11-23 17:00", reason="管道维修"), TODAY)
    assert set(outage) == {"message"}


def test_a_missing_value_is_named_before_anything_is_synthesised():
    with pytest.raises(TemplateError) as err:
        personal_texts(FlowSettings(**CAMPAIGN), {k: v for k, v in OWNER.items() if k != "room"}, TODAY)
    assert err.value.variable == "room"
    with pytest.raises(TemplateError) as err:  # key 4 needs where to pay
        personal_texts(FlowSettings(hotline="1"), OWNER, TODAY)
    assert err.value.variable == "channel"


def test_contact_values_from_plain_account_data():
    values = contact_values(FlowSettings(**CAMPAIGN), dict(
        name="欧阳娜娜", gender="女", room="1501", amount="1000", due_date="2026-11-12",
        late_fee_rate="3"), TODAY)
    assert values["title"] == "欧阳女士"
    assert values["late_fee"] == Decimal("30.00")  # 1000 × 10 days × 3‰
    assert "name" not in values and "late_fee_rate" not in values
    assert values["hotline"] == "02160000000" and values["max_days"] == 30
    # not yet due: no late fee
    assert contact_values(FlowSettings(), dict(amount="1000", due_date="2026-12-01", late_fee_rate=3),
                          TODAY)["late_fee"] == Decimal("0.00")
