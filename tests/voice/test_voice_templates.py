from datetime import date

import pytest

from ivr.voice import templates
from ivr.voice.templates import TemplateError, render, validate

ARREARS = dict(title="张先生", room="3栋2单元1501", amount="1234.50", months=3, due_date="2026-11-30")
TODAY = date(2026, 11, 20)


def test_every_shipped_template_validates_in_both_languages():
    assert set(templates.TEMPLATES["zh"]) == set(templates.TEMPLATES["en"])
    for name, zh in templates.TEMPLATES["zh"].items():
        validate(zh)
        validate(templates.TEMPLATES["en"][name])
        # same variables, so a campaign can switch language without new data
        assert set(templates.placeholders(zh)) == set(templates.placeholders(templates.TEMPLATES["en"][name])), name


def test_required_shipped_templates_exist():
    for name in ("arrears-first", "arrears-firm", "arrears-broken-promise", "arrears-pre-promise",
                 "remote-payment", "outage-notice", "identity-gate", "arrears-menu", "date-entry",
                 "date-readback", "refusal-invalid", "refusal-past", "refusal-beyond-limit",
                 "no-input", "goodbye", "answering-machine", "outage-menu"):
        assert name in templates.TEMPLATE_NAMES


def test_arrears_first_needs_the_contact_values():
    assert templates.required_variables("arrears-first") == ["title", "room", "months", "amount", "due_date"]


def test_validate_names_an_unknown_variable():
    with pytest.raises(TemplateError) as err:
        validate("您好{title}，您欠费{amout}")
    assert err.value.variable == "amout"
    assert "{amout}" in str(err.value) and "{amount}" in str(err.value)  # with a suggestion


@pytest.mark.parametrize("text", ["您好{title", "欠费}元", "{}", "{Amount}"])
def test_validate_rejects_stray_braces(text):
    with pytest.raises(TemplateError, match="stray"):
        validate(text)


def test_render_names_a_missing_variable():
    partial = {k: v for k, v in ARREARS.items() if k != "due_date"}
    with pytest.raises(TemplateError) as err:
        render("arrears-first", partial, today=TODAY)
    assert err.value.variable == "due_date" and "{due_date}" in str(err.value)


def test_render_names_a_variable_with_a_bad_value():
    with pytest.raises(TemplateError) as err:
        render("arrears-first", {**ARREARS, "amount": "一千"}, today=TODAY)
    assert err.value.variable == "amount"
    with pytest.raises(TemplateError) as err:
        render("arrears-first", {**ARREARS, "due_date": "30/11/2026"}, today=TODAY)
    assert err.value.variable == "due_date"


def test_arrears_first_reads_every_value_correctly():
    assert render("arrears-first", ARREARS, today=TODAY) == (
        "张先生您好，这里是物业服务中心。温馨提示：您名下三栋二单元一五零一的物业服务费尚有三个月未交纳，"
        "共计一千二百三十四元五角，交费截止日期是十一月三十日星期一。如果您已经交费，请忽略本次提醒，感谢您的支持。"
    )


def test_due_date_next_year_is_read_with_the_year():
    text = render("arrears-first", {**ARREARS, "due_date": date(2027, 1, 5)}, today=date(2026, 12, 20))
    assert "交费截止日期是二〇二七年一月五日星期二" in text


def test_company_has_a_default_and_can_be_set():
    assert "这里是幸福家园物业" in render("arrears-first", {**ARREARS, "company": "幸福家园物业"}, today=TODAY)


def test_identity_gate_and_readback_prompts():
    assert render("identity-gate", {"room": "3栋2单元1501"}) == "请问您是三栋二单元一五零一的业主吗？是请按1，不是请按2。"
    assert render("date-readback", {"date": "2026-12-05"}, today=TODAY) == \
        "您承诺的交费日期是十二月五日星期六，确认请按1，重新输入请按2。"


def test_arrears_menu_offers_every_key():
    menu = render("arrears-menu", {})
    for key in ("按1", "按2", "按3", "按4", "按8", "按9", "按0", "星号"):
        assert key in menu


def test_outage_on_one_day_says_the_date_once():
    text = render("outage-notice", dict(area="幸福小区3栋至5栋", reason="管道维修", start="2026-11-30 09:00",
                                        end="2026-11-30 17:30", company="某某水务"), today=TODAY)
    assert text.startswith("尊敬的用户您好，这里是某某水务。因管道维修，幸福小区三栋至五栋将于"
                           "十一月三十日星期一上午九点至下午五点半停水")


def test_outage_over_two_days_says_both_dates():
    text = render("outage-notice", dict(area="3栋", reason="管道维修", start="2026-11-30 22:00",
                                        end="2026-12-01 06:00"), today=TODAY)
    assert "十一月三十日星期一晚上十点至十二月一日星期二早上六点停水" in text


def test_render_accepts_template_text_and_rejects_unknown_names():
    assert render("{title}，您好，欠费{amount}。", {"title": "李女士", "amount": "0.05"}) == "李女士，您好，欠费五分。"
    with pytest.raises(TemplateError, match="unknown template"):
        render("arrears-frist", ARREARS)


def test_english_version():
    text = render("arrears-first", {**ARREARS, "title": "Mr Zhang"}, lang="en", today=TODAY)
    assert text.startswith("Hello Mr Zhang, this is the property service centre.")
    assert "for building 3, unit 2, room 1 5 0 1 is unpaid for 3 months, 1,234 yuan and 50 fen in total, " \
           "due on Monday, 30 November." in text


@pytest.mark.parametrize("name", ["arrears-first", "arrears-firm", "arrears-broken-promise",
                                  "arrears-pre-promise", "remote-payment", "answering-machine"])
def test_fee_messages_make_no_threats(name):
    text = templates.TEMPLATES["zh"][name]
    for word in ("停水", "停电", "断水", "断电", "起诉", "法院", "律师", "曝光", "公示", "黑名单", "后果"):
        assert word not in text, (name, word)


def test_answering_machine_reveals_no_debt():
    # anyone in the household may hear it
    names = set(templates.placeholders(templates.TEMPLATES["zh"]["answering-machine"]))
    assert not names & {"amount", "months", "room", "late_fee", "total"}
    assert "欠" not in templates.TEMPLATES["zh"]["answering-machine"]


def test_pre_promise_says_tomorrow_is_the_promised_date():
    text = render("arrears-pre-promise", {**ARREARS, "promised_date": "2026-11-21"}, today=TODAY)
    assert "明天是您承诺的交费日期，也就是十一月二十一日星期六" in text
