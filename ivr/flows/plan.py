"""What a flow call says and how it is dialed (pure: no I/O).

A campaign's `FlowSettings` plus one contact's values decide:
- the words of every prompt the flow may play (`prompt_texts`: the campaign's fixed prompts,
  the same for every owner, and the date fragments Asterisk joins to read any date back),
- the words of the owner's personal audio (`personal_texts`: identity question naming the
  room, the message, the remote-payment message),
- the `CallPlan`: which dialplan context (ivr-arrears / ivr-outage) and which channel
  variables (`build_plan`, given where the audio was written).

The dialplan (dialplans/pbx/extensions.conf) does the talking and validates keyed dates
itself, with the same rules as ivr.voice.keypad_dates, so Python is not needed mid-call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Mapping

from ivr.dialer.originate import CallPlan
from ivr.voice import speech, templates
from ivr.voice.templates import TemplateError

KINDS = {"arrears": "ivr-arrears", "outage": "ivr-outage"}
DEFAULT_TEMPLATE = {"arrears": "arrears-first", "outage": "outage-notice"}
MENU_KEYS = templates.MENU_KEYS  # 1 3 days, 2 date, 3 paid, 4 away, 8 message, 9 opt out, 0/* repeat

# Fixed prompts: file name in the prompt folder -> template (rendered with the campaign's values).
FIXED_PROMPTS = {
    "date-entry": "date-entry", "no-input": "no-input", "wrong-key": "wrong-key",
    "refusal-empty": "no-input", "refusal-invalid": "refusal-invalid",
    "refusal-past": "refusal-past", "refusal-beyond_limit": "refusal-beyond-limit",
    "goodbye": "goodbye", "wrong-person": "wrong-person", "already-paid": "already-paid",
    "opt-out": "opt-out", "leave-message": "leave-message", "message-saved": "message-saved",
    "date-failed": "date-failed", "outage-menu": "outage-menu", "outage-thanks": "outage-thanks",
    "machine": "answering-machine",
}
# Prompts with a date in the middle: split in two files around {date}, Asterisk plays
# pre + date fragments + post.
SPLIT_PROMPTS = {"readback": "date-readback", "promise": "promise-recorded"}
_CAMPAIGN_VALUES = ("company", "hotline", "channel")


def normalise_choices(choices: str) -> str:
    """'1,2,3,4,8,9,0,*' or '1234890*' -> '1234890*' (menu order); rejects unknown keys."""
    keys = [c for c in str(choices) if c not in ", "]
    unknown = sorted(set(keys) - set(MENU_KEYS))
    if unknown:
        raise ValueError(f"unknown menu keys {''.join(unknown)!r}; choose from {MENU_KEYS}")
    if not keys:
        raise ValueError("a menu needs at least one choice")
    return "".join(k for k in MENU_KEYS if k in keys)


@dataclass(frozen=True)
class FlowSettings:
    """One campaign's flow: what kind, which message, which limits and menu choices."""
    kind: str = "arrears"                 # arrears | outage
    template: str | None = None           # a template name or text; default per kind
    lang: str = "zh"
    max_promise_days: int = 30            # a promised date at most this many days ahead
    choices: str = MENU_KEYS              # menu keys offered (arrears)
    key_timeout: int = 5                  # seconds to wait for a key after each question
    reasks: int = 2                       # no input / wrong key: ask again at most this often
    date_tries: int = 3                   # date entries (refused or re-entered) before "no date"
    amd: bool = True                      # answering machine detection at the start
    company: str | None = None            # None: the template default (物业服务中心)
    hotline: str | None = None
    channel: str | None = None            # where to pay online, for the remote-payment message
    trunk: str = "carrier"
    dial_timeout: int = 30
    max_seconds: int = 300
    message_dir: str = ""                 # where Record() keeps voice messages ("": pbx default)
    caller_id: str = ""
    recording: str = ""                   # staff's recorded message (8 kHz WAV), said instead of the template

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown flow kind {self.kind!r}; one of {', '.join(KINDS)}")
        object.__setattr__(self, "choices", normalise_choices(self.choices))
        if not 0 <= int(self.max_promise_days) <= 3650:
            raise ValueError("max_promise_days must be 0..3650")
        if not 1 <= int(self.key_timeout) <= 30:
            raise ValueError("key_timeout must be 1..30 seconds")
        if not 0 <= int(self.reasks) <= 5 or not 1 <= int(self.date_tries) <= 5:
            raise ValueError("reasks must be 0..5 and date_tries 1..5")
        templates.resolve(self.message_template, self.lang)  # unknown template names fail here

    @property
    def message_template(self) -> str:
        return self.template or DEFAULT_TEMPLATE[self.kind]

    @property
    def context(self) -> str:
        return KINDS[self.kind]

    def campaign_values(self) -> dict[str, object]:
        values = {k: getattr(self, k) for k in _CAMPAIGN_VALUES if getattr(self, k)}
        values["max_days"] = self.max_promise_days
        return values


def contact_values(settings: FlowSettings, raw: Mapping[str, object], today: date) -> dict[str, object]:
    """A contact's template values from plain account data.

    Accepts `title` or `name` + `gender` (张三 + 男 -> 张先生), and `late_fee_rate`
    (per mille per day, the seeds' 3‰) to compute `late_fee` from `amount` and the days
    since `due_date`."""
    values = {**settings.campaign_values(), **{k: v for k, v in raw.items() if v is not None}}
    if "title" not in values and ("name" in values or "gender" in values):
        values["title"] = speech.owner_title(str(values.get("name") or ""), str(values.get("gender") or ""),
                                             settings.lang)
    rate = values.pop("late_fee_rate", None)
    if rate not in (None, "") and "late_fee" not in values and "amount" in values and "due_date" in values:
        try:
            due = templates._as_date(values["due_date"])
            values["late_fee"] = speech.late_fee(values["amount"], max(0, (today - due).days), rate)
        except (ValueError, ArithmeticError) as err:
            raise TemplateError(f"variable {{late_fee}}: {err}", variable="late_fee") from None
    for key in ("name", "gender"):
        values.pop(key, None)
    return values


def personal_texts(settings: FlowSettings, raw: Mapping[str, object],
                   today: date) -> dict[str, tuple[str, dict[str, object]]]:
    """The owner's own audio: part -> (template, values). Raises TemplateError (naming the
    variable) when a value is missing or unreadable, before anything is synthesised."""
    values = contact_values(settings, raw, today)
    # A recorded message is the same for everyone: only the identity question (which names
    # the room) and the remote-payment message stay personal.
    parts = {} if settings.recording else {"message": (settings.message_template, values)}
    if settings.kind == "arrears":
        parts["identity"] = ("identity-gate", values)
        if "4" in settings.choices:
            parts["remote"] = ("remote-payment", values)
    for template, vals in parts.values():  # fail early, with the variable's name
        templates.render(template, vals, lang=settings.lang, today=today)
    return parts


def date_fragment_texts(lang: str, years: range) -> dict[str, str]:
    """Fragments Asterisk joins to read any date back: month-1..12, day-1..31,
    weekday-1..7 (Monday = 1, as STRFTIME %u) and year-YYYY for the years given."""
    if lang == "zh":
        out = {f"month-{m}": speech.number_zh(m) + "月" for m in range(1, 13)}
        out.update({f"day-{d}": speech.number_zh(d) + "日" for d in range(1, 32)})
        out.update({f"weekday-{i + 1}": w for i, w in enumerate(speech.WEEKDAYS_ZH)})
        out.update({f"year-{y}": speech.year_zh(y) for y in years})
    else:
        out = {f"month-{m}": speech.MONTHS_EN[m - 1] for m in range(1, 13)}
        out.update({f"day-{d}": str(d) for d in range(1, 32)})
        out.update({f"weekday-{i + 1}": w for i, w in enumerate(speech.WEEKDAYS_EN)})
        out.update({f"year-{y}": str(y) for y in years})
    return out


def readback_years(today: date, max_days: int) -> range:
    """Years a confirmed date can fall in besides this one (only those are said)."""
    last = (today + timedelta(days=max_days)).year
    return range(today.year + 1, last + 1)


def _split_at_date(name: str, lang: str, values: Mapping[str, object]) -> tuple[str, str]:
    text = templates.resolve(name, lang)
    before, sep, after = text.partition("{date}")
    if not sep:
        raise TemplateError(f"template {name} has no {{date}}", variable="date")
    render = lambda part: templates.render(part, values, lang=lang) if part.strip() else ""  # noqa: E731
    return render(before), render(after)


def prompt_texts(settings: FlowSettings, today: date) -> dict[str, str]:
    """Every fixed prompt of the campaign: file name -> spoken text. The same for all its
    owners (and all its days but for the years list), so it is synthesised once."""
    values = settings.campaign_values()
    lang = settings.lang
    out = {name: templates.render(tpl, values, lang=lang, today=today) for name, tpl in FIXED_PROMPTS.items()}
    out["menu"] = templates.menu_text(settings.choices, lang)
    for name, tpl in SPLIT_PROMPTS.items():
        out[f"{name}-pre"], out[f"{name}-post"] = _split_at_date(tpl, lang, values)
    out.update(date_fragment_texts(lang, readback_years(today, settings.max_promise_days)))
    return out


@dataclass(frozen=True)
class CallAudio:
    """Where one call's audio is, as Asterisk sees it (paths without extension)."""
    prompts: str                      # folder of the fixed prompts and date fragments
    message: str
    identity: str = ""
    remote: str = ""
    host_files: dict[str, str] = field(default_factory=dict, compare=False)  # part -> host WAV path


def build_plan(settings: FlowSettings, audio: CallAudio, today: date) -> CallPlan:
    """The CallPlan for one call: the flow's context and the variables it reads."""
    if settings.kind == "arrears" and not audio.identity:
        raise ValueError("an arrears call needs its identity question")
    variables = {
        "IVR_PROMPTS": audio.prompts,
        "IVR_MESSAGE": audio.message,
        "IVR_TODAY": today.strftime("%Y%m%d"),
        "IVR_MAX_DAYS": str(settings.max_promise_days),
        "IVR_REASKS": str(settings.reasks),
        "IVR_DATE_TRIES": str(settings.date_tries),
        "IVR_AMD": "1" if settings.amd else "0",
    }
    if settings.kind == "arrears":
        variables.update(IVR_IDENTITY=audio.identity, IVR_CHOICES=settings.choices,
                         IVR_MACHINE=f"{audio.prompts}/machine")
        if "4" in settings.choices:
            if not audio.remote:
                raise ValueError("menu key 4 needs the remote-payment message")
            variables["IVR_REMOTE"] = audio.remote
    else:
        # A water outage is no secret: an answering machine gets the notice itself.
        variables["IVR_MACHINE"] = audio.message
    if settings.message_dir:
        variables["IVR_MESSAGE_DIR"] = settings.message_dir
    return CallPlan(prompt=audio.message, goodbye=f"{audio.prompts}/goodbye", trunk=settings.trunk,
                    dial_timeout=settings.dial_timeout, key_timeout=settings.key_timeout,
                    max_seconds=settings.max_seconds, caller_id=settings.caller_id,
                    context=settings.context, variables=variables)
