"""Message templates with per-contact variables, and rendering them to spoken text.

Placeholders are `{name}` (lower-case identifiers, like str.format but with no
format specs).  A brace that is not part of a placeholder is an error: staff
type templates in the browser, and a typo like `{amount` must be caught when the
campaign is saved, not when thousands of calls are already playing it.

Each variable has a *kind* that decides how it is read aloud (see speech.py):
`amount` is money, `due_date` a date, `room` a place read digit by digit...
A template may only use the variables in VARIABLES; `validate` names any other.

Tone (DOMAIN.md): polite, no threats, no shaming; never threaten to cut water or
power over property fees; a message a stranger might hear (answering machine)
reveals no debt.
"""
from __future__ import annotations

import difflib
import re
from datetime import date, datetime, time
from typing import Callable, Mapping

from ivr.policy.windows import local_today
from ivr.voice import speech

LANGS = ("zh", "en")
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_NAME_LIKE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")


class TemplateError(ValueError):
    """A template is malformed, unknown, or lacks a value; `variable` names the culprit."""

    def __init__(self, message: str, variable: str | None = None):
        super().__init__(message)
        self.variable = variable


# name -> kind.  The kind picks the reader in _READERS.
VARIABLES: dict[str, str] = {
    "title": "text",          # 张先生 / 李女士 (speech.owner_title builds it)
    "company": "text",
    "room": "place",
    "area": "place",
    "amount": "money",
    "late_fee": "money",
    "total": "money",
    "months": "months",
    "due_date": "date",
    "promised_date": "date",
    "date": "date",
    "start": "when",
    "end": "when",
    "reason": "text",
    "channel": "text",        # where to pay online, e.g. 微信公众号"幸福家园物业"
    "hotline": "phone",
    "max_days": "count",
}

# Values used when the campaign gives none.
DEFAULTS: dict[str, dict[str, object]] = {
    "zh": {"company": "物业服务中心", "max_days": 30},
    "en": {"company": "the property service centre", "max_days": 30},
}

TEMPLATES: dict[str, dict[str, str]] = {
    "zh": {
        # -- messages ---------------------------------------------------------
        "arrears-first": (
            "{title}您好，这里是{company}。温馨提示：您名下{room}的物业服务费尚有{months}未交纳，"
            "共计{amount}，交费截止日期是{due_date}。如果您已经交费，请忽略本次提醒，感谢您的支持。"
        ),
        "arrears-firm": (
            "{title}您好，这里是{company}。此前我们已经提醒过您，{room}的物业服务费仍有{months}未交纳，"
            "共计{amount}。请您在{due_date}之前交纳。按时交费是物业服务合同的约定，"
            "也关系到小区每一位业主的共同利益。如果您对我们的服务有意见，欢迎留言告诉我们，我们会认真处理。"
        ),
        "arrears-broken-promise": (
            "{title}您好，这里是{company}。您之前与我们约定在{promised_date}交纳{room}的物业服务费，"
            "共计{amount}，目前我们还没有查到这笔交费。如果您已经交纳，请忽略本次提醒；"
            "如果您遇到了困难或者对服务有意见，请留言告诉我们，也请您重新约定一个方便的交费日期。"
        ),
        "arrears-pre-promise": (
            "{title}您好，这里是{company}。温馨提醒：明天是您承诺的交费日期，也就是{promised_date}。"
            "{room}的物业服务费共计{amount}。如果您已经交纳，请忽略本次提醒，感谢您的支持。"
        ),
        "remote-payment": (
            "{title}您好，如果您目前不在本地，也可以远程交费：您可以通过{channel}在线交费，也可以银行转账。"
            "转账账户请致电{hotline}查询。交费后请保留好凭证，我们会及时为您核对。"
        ),
        "outage-notice": (
            "尊敬的用户您好，这里是{company}。因{reason}，{area}将于{start}至{end}停水，"
            "请您提前做好储水准备。给您带来的不便，敬请谅解。"
        ),
        # -- IVR prompts ------------------------------------------------------
        "identity-gate": "请问您是{room}的业主吗？是请按1，不是请按2。",
        "wrong-person": "抱歉打扰您了，再见。",
        "arrears-menu": (
            "三天内交费请按1；约定其他交费日期请按2；已经交费请按3；如果您在外地，需要了解远程交费方式请按4；"
            "给我们留言请按8；不希望再接到此类电话请按9；重听请按0或星号键。"
        ),
        # keys are written as words: a TTS reads "1205" as one thousand two hundred and five
        "date-entry": "请输入您计划交费的日期，月和日各两位，例如十二月五日请按一二零五，输入完成后请按井号键。",
        "date-readback": "您承诺的交费日期是{date}，确认请按1，重新输入请按2。",
        "promise-recorded": "好的，已为您记录交费日期{date}，感谢您的支持，再见。",
        "already-paid": "感谢您的交纳，我们会尽快核对，核对无误后不会再为此打扰您，再见。",
        "opt-out": "好的，我们已记录您的要求，今后不再通过电话提醒您。如有需要，请联系{company}，再见。",
        "leave-message": "请在提示音后留言，说完请挂机或按井号键。",
        "refusal-invalid": "您输入的日期无效，请重新输入。",
        "refusal-past": "您输入的日期已经过去了，请重新输入。",
        "refusal-beyond-limit": "您输入的日期超过了{max_days}天，请输入{max_days}天以内的日期。",
        "no-input": "抱歉，没有收到您的按键，请再按一次。",
        "goodbye": "感谢您的接听，祝您生活愉快，再见。",
        # may be heard by anyone in the household: no room, no amount
        "answering-machine": "您好，这里是{company}，有事情需要与您联系，请您方便时回电{hotline}，谢谢。",
        "outage-menu": "重听请按1，收到请按2。",
        "wrong-key": "抱歉，您按的键无效。",
        "date-failed": "抱歉，没有记录到有效的交费日期，我们的工作人员会再与您联系，再见。",
        "message-saved": "您的留言我们已经收到，会尽快处理，再见。",
        "outage-thanks": "感谢您的确认，请提前做好储水准备，再见。",
    },
    "en": {
        "arrears-first": (
            "Hello {title}, this is {company}. A friendly reminder: the property service fee for {room} "
            "is unpaid for {months}, {amount} in total, due on {due_date}. "
            "If you have already paid, please ignore this reminder. Thank you for your support."
        ),
        "arrears-firm": (
            "Hello {title}, this is {company}. We reminded you earlier that the property service fee for {room} "
            "is still unpaid for {months}, {amount} in total. Please pay before {due_date}. "
            "Paying on time is part of the property service contract and matters to every owner here. "
            "If you are unhappy with our service, please leave us a message and we will look into it."
        ),
        "arrears-broken-promise": (
            "Hello {title}, this is {company}. You arranged to pay the property service fee for {room}, "
            "{amount} in total, on {promised_date}, and we have not yet received it. "
            "If you have already paid, please ignore this reminder. If something is in the way, or you have "
            "a complaint about our service, please leave us a message, and choose a new date that suits you."
        ),
        "arrears-pre-promise": (
            "Hello {title}, this is {company}. A friendly reminder: tomorrow, {promised_date}, is the date "
            "you chose to pay the property service fee for {room}, {amount} in total. "
            "If you have already paid, please ignore this reminder. Thank you for your support."
        ),
        "remote-payment": (
            "Hello {title}. If you are away, you can pay remotely: online through {channel}, or by bank transfer. "
            "For the account details please call {hotline}. Please keep your receipt; we will match it promptly."
        ),
        "outage-notice": (
            "Dear customer, this is {company}. Because of {reason}, the water supply to {area} will be off "
            "from {start} to {end}. Please store some water in advance. We apologise for the inconvenience."
        ),
        "identity-gate": "Are you the owner of {room}? Press 1 for yes, 2 for no.",
        "wrong-person": "Sorry to have disturbed you. Goodbye.",
        "arrears-menu": (
            "To pay within three days, press 1. To choose another payment date, press 2. "
            "If you have already paid, press 3. If you are away and want to know how to pay remotely, press 4. "
            "To leave us a message, press 8. To stop these calls, press 9. To hear this again, press 0 or star."
        ),
        "date-entry": (
            "Please enter the date you will pay, two digits for the month and two for the day. "
            "For the fifth of December, press one two zero five, then the hash key."
        ),
        "date-readback": "The payment date you chose is {date}. Press 1 to confirm, 2 to enter it again.",
        "promise-recorded": "Thank you, we have noted your payment date, {date}. Goodbye.",
        "already-paid": "Thank you for paying. We will check it soon and will not call you about it again. Goodbye.",
        "opt-out": "We have noted your request and will not remind you by phone again. "
                   "If you need us, please contact {company}. Goodbye.",
        "leave-message": "Please leave your message after the tone, then hang up or press the hash key.",
        "refusal-invalid": "That date is not valid. Please enter it again.",
        "refusal-past": "That date has already passed. Please enter it again.",
        "refusal-beyond-limit": "That date is more than {max_days} days away. "
                                "Please enter a date within {max_days} days.",
        "no-input": "Sorry, we did not receive your key press. Please try again.",
        "goodbye": "Thank you for taking our call. Goodbye.",
        "answering-machine": "Hello, this is {company}. We need to speak with you; please call us back on "
                             "{hotline} when convenient. Thank you.",
        "outage-menu": "To hear this again, press 1. To acknowledge, press 2.",
        "wrong-key": "Sorry, that key is not one of the choices.",
        "date-failed": "Sorry, we could not record a payment date. Our staff will contact you again. Goodbye.",
        "message-saved": "We have received your message and will look into it soon. Goodbye.",
        "outage-thanks": "Thank you for confirming. Please store some water in advance. Goodbye.",
    },
}

TEMPLATE_NAMES: tuple[str, ...] = tuple(TEMPLATES["zh"])

# The arrears menu, one phrase per key, so a campaign that disables a choice is never told
# to press it ("0*" is one phrase: both keys repeat). menu_text() of every key is exactly
# the "arrears-menu" template.
MENU_KEYS = "1234890*"
MENU_PHRASES: dict[str, dict[str, str]] = {
    "zh": {"1": "三天内交费请按1", "2": "约定其他交费日期请按2", "3": "已经交费请按3",
           "4": "如果您在外地，需要了解远程交费方式请按4", "8": "给我们留言请按8",
           "9": "不希望再接到此类电话请按9", "0*": "重听请按0或星号键", "0": "重听请按0",
           "*": "重听请按星号键"},
    "en": {"1": "To pay within three days, press 1.", "2": "To choose another payment date, press 2.",
           "3": "If you have already paid, press 3.",
           "4": "If you are away and want to know how to pay remotely, press 4.",
           "8": "To leave us a message, press 8.", "9": "To stop these calls, press 9.",
           "0*": "To hear this again, press 0 or star.", "0": "To hear this again, press 0.",
           "*": "To hear this again, press star."},
}


def menu_text(keys: str = MENU_KEYS, lang: str = "zh") -> str:
    """The arrears menu offering only `keys` (in the usual order)."""
    phrases = MENU_PHRASES[_lang(lang)]
    parts = [phrases[k] for k in "123489" if k in keys]
    repeat = "".join(k for k in "0*" if k in keys)
    if repeat:
        parts.append(phrases[repeat])
    if not parts:
        raise TemplateError("a menu needs at least one choice")
    return "；".join(parts) + "。" if lang == "zh" else " ".join(parts)


def _lang(lang: str) -> str:
    if lang not in LANGS:
        raise TemplateError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    return lang


def placeholders(template_text: str) -> list[str]:
    """Variable names in order of appearance; rejects stray braces."""
    leftover = _PLACEHOLDER.sub("", template_text)
    for brace in "{}":
        pos = leftover.find(brace)
        if pos >= 0:
            raise TemplateError(f"stray {brace!r} in template near {leftover[max(0, pos - 10):pos + 10]!r}")
    return _PLACEHOLDER.findall(template_text)


def parse(template_text: str) -> list[tuple[str, str]]:
    """Split into ('text', literal) and ('var', name) parts, in order."""
    placeholders(template_text)  # brace check
    parts: list[tuple[str, str]] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template_text):
        if m.start() > pos:
            parts.append(("text", template_text[pos:m.start()]))
        parts.append(("var", m.group(1)))
        pos = m.end()
    if pos < len(template_text):
        parts.append(("text", template_text[pos:]))
    return parts


def validate(template_text: str) -> None:
    """Raise TemplateError naming the first variable the template may not use."""
    for name in placeholders(template_text):
        if name not in VARIABLES:
            close = difflib.get_close_matches(name, VARIABLES, n=1)
            hint = f"; did you mean {{{close[0]}}}?" if close else ""
            raise TemplateError(f"unknown variable {{{name}}} in template{hint}", variable=name)


def resolve(name_or_text: str, lang: str = "zh") -> str:
    """A shipped template's text by name, or the argument itself as template text."""
    catalogue = TEMPLATES[_lang(lang)]
    if name_or_text in catalogue:
        return catalogue[name_or_text]
    if _NAME_LIKE.match(name_or_text):  # looks like a name, so a typo, not a message
        raise TemplateError(f"unknown template {name_or_text!r}; known: {', '.join(catalogue)}")
    return name_or_text


def required_variables(name_or_text: str, lang: str = "zh") -> list[str]:
    """Variables a caller must supply (placeholders without a default), in order."""
    names = dict.fromkeys(placeholders(resolve(name_or_text, lang)))
    return [n for n in names if n not in DEFAULTS[lang]]


# -- reading values -----------------------------------------------------------

def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)")


def _as_when(value: object) -> datetime | date | time:
    if isinstance(value, (datetime, date, time)):
        return value
    text = str(value).strip()
    for parse_ in (datetime.fromisoformat, time.fromisoformat):
        try:
            when = parse_(text)
        except ValueError:
            continue
        if isinstance(when, datetime) and len(text) <= 10:
            return when.date()  # '2026-11-30' alone means the day, not midnight
        return when
    return _as_date(text)


def _as_count(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"not a whole number: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"not a whole number: {value!r}")
    return int(text)


def _as_text(value: object) -> str:
    text = " ".join(str(value).split())
    if not text:
        raise ValueError("empty")
    return text


def _when_reader(lang: str) -> Callable[[object, date], str]:
    d_, t_, dt_ = ((speech.date_zh, speech.time_zh, speech.datetime_zh) if lang == "zh"
                   else (speech.date_en, speech.time_en, speech.datetime_en))

    def read(value: object, today: date) -> str:
        when = _as_when(value)
        if isinstance(when, datetime):
            return dt_(when, today)
        if isinstance(when, time):
            return t_(when)
        return d_(when, today)
    return read


def _readers(lang: str) -> dict[str, Callable[[object, date], str]]:
    zh = lang == "zh"
    return {
        "text": lambda v, _: _as_text(v),
        "place": lambda v, _: (speech.place_zh if zh else speech.place_en)(_as_text(v)),
        "money": lambda v, _: (speech.money_zh if zh else speech.money_en)(v),
        "months": lambda v, _: (speech.months_zh if zh else speech.months_en)(_as_count(v)),
        "count": lambda v, _: speech.number_zh(_as_count(v)) if zh else str(_as_count(v)),
        "date": lambda v, today: (speech.date_zh if zh else speech.date_en)(_as_date(v), today),
        "when": _when_reader(lang),
        "phone": lambda v, _: (speech.phone_zh if zh else speech.phone_en)(_as_text(v)),
    }


_READERS = {lang: _readers(lang) for lang in LANGS}


def spoken_values(template_text: str, variables: Mapping[str, object], *,
                  lang: str = "zh", today: date | None = None) -> dict[str, str]:
    """How each placeholder of the template is said, given the contact's values."""
    validate(template_text)
    today = today or local_today()
    given = {**DEFAULTS[_lang(lang)], **{k: v for k, v in variables.items() if v is not None}}
    spoken: dict[str, str] = {}
    for name in dict.fromkeys(placeholders(template_text)):
        if name not in given:
            raise TemplateError(f"missing variable {{{name}}}", variable=name)
        try:
            spoken[name] = _READERS[lang][VARIABLES[name]](given[name], today)
        except (ValueError, TypeError, ArithmeticError) as err:
            raise TemplateError(f"variable {{{name}}}: {err}", variable=name) from None
    # an outage ending the day it starts: say the end time only (上午九点至下午五点)
    if "start" in spoken and "end" in spoken:
        start, end = _as_when(given["start"]), _as_when(given["end"])
        if isinstance(start, datetime) and isinstance(end, datetime) and start.date() == end.date():
            spoken["end"] = (speech.time_zh if lang == "zh" else speech.time_en)(end.time())
    return spoken


def render(name_or_text: str, variables: Mapping[str, object] | None = None, *,
           lang: str = "zh", today: date | None = None) -> str:
    """The spoken text of a template (by name or as text) for one contact."""
    text = resolve(name_or_text, lang)
    spoken = spoken_values(text, variables or {}, lang=lang, today=today)
    return _PLACEHOLDER.sub(lambda m: spoken[m.group(1)], text)


for _lang_name, _catalogue in TEMPLATES.items():  # a broken shipped template fails at import
    for _text in _catalogue.values():
        validate(_text)
