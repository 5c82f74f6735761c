"""A campaign's settings as the wizard stores them in Campaign.settings (plain JSON), and how the
dialer turns them back into policy objects.

    {
      "lang": "zh",
      "variables": {"company": "幸福家园物业服务中心", "hotline": "4008001234", ...},
      "filter": {"buildings": ["3栋"], "areas": [], "min_months": 2, "classes": ["B", "D"]},
      "windows": {"weekday": [["09:30", "12:00"], ["15:00", "18:00"]],
                  "weekend": [["10:30", "12:00"], ["15:00", "18:00"]], "call_on_holidays": false},
      "retry": {"no_answer": 30, "busy": 10, "failed": 60, "machine": 120,   # minutes
                "max_attempts_per_day": 3, "max_answered_per_day": 1, "max_attempts_total": 10,
                "failed_before_unreachable": 3},
      "caps": {"concurrency": 10, "calls_per_second": 2, "daily_limit": 0}   # 0: no limit
    }

`windows_of(settings)` and `retry_policy_of(settings)` build ivr.policy's CallWindows and
RetryPolicy through the dialer's own reader (ivr.dialer.policy_config), so a campaign the
wizard saved is read exactly as the dialer will read it.
"""
from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select

from ivr.policy.windows import local_today
from ivr.dialer import recurrence
from ivr.dialer.policy_config import campaign_policy
from ivr.policy import CallWindows, RetryPolicy
from ivr.policy.windows import WEEKDAY_HOURS, WEEKEND_HOURS
from ivr.storage import Account, Campaign
from ivr.voice import speech, templates

MESSAGE_TEMPLATES = ("arrears-first", "arrears-firm", "arrears-broken-promise", "arrears-pre-promise",
                     "remote-payment", "outage-notice")
DEFAULT_TEMPLATE = {"arrears": "arrears-first", "outage": "outage-notice", "notice": "custom"}

DEFAULT_RETRY = {"no_answer": 30, "busy": 10, "failed": 60, "machine": 120,
                 "max_attempts_per_day": 3, "max_answered_per_day": 1, "max_attempts_total": 10,
                 "failed_before_unreachable": 3}
DEFAULT_CAPS = {"concurrency": 10, "calls_per_second": 2, "daily_limit": 0}


def _hhmm(t: time) -> str:
    return t.strftime("%H:%M")


def default_windows(kind: str = "arrears") -> dict[str, Any]:
    return {"weekday": [[_hhmm(a), _hhmm(b)] for a, b in WEEKDAY_HOURS],
            "weekend": [[_hhmm(a), _hhmm(b)] for a, b in WEEKEND_HOURS],
            # outages must reach people whatever the day; debts are never chased on holidays
            "call_on_holidays": kind == "outage"}


def default_settings(kind: str = "arrears") -> dict[str, Any]:
    return {"lang": "zh", "variables": {}, "filter": {"buildings": [], "areas": [], "min_months": 0,
                                                      "classes": []},
            "windows": default_windows(kind), "retry": dict(DEFAULT_RETRY), "caps": dict(DEFAULT_CAPS)}


def windows_of(settings: dict) -> CallWindows:
    return campaign_policy("arrears", {"windows": default_windows(), **settings}).windows


def retry_policy_of(settings: dict) -> RetryPolicy:
    return campaign_policy("arrears", settings).retry


def message_text(campaign: Campaign) -> str:
    lang = (campaign.settings or {}).get("lang", "zh")
    if campaign.message:
        return campaign.message
    return templates.resolve(campaign.template, lang)


# -- who is called ----------------------------------------------------------------------------

def target_query(filt: dict, kind: str, department: str | None) -> Select:
    """Accounts a campaign with this filter calls. Arrears reminders never include a paid
    account; outage and other notices go to everyone in the area. (The dialer recomputes the
    same selection for each run of a recurring campaign: one definition, in ivr.dialer.)"""
    return recurrence.target_accounts(filt, kind, department)


# -- what is said -----------------------------------------------------------------------------

SAMPLE = {"title": "张先生", "room": "3栋2单元1501", "area": "幸福家园", "amount": Decimal("1234.50"),
          "months": 3, "due_date": None, "promised_date": None}


def account_variables(account: Account | None, lang: str = "zh", today: date | None = None) -> dict:
    """The template variables an account supplies."""
    today = today or local_today()
    if account is None:
        values = dict(SAMPLE)
        values["due_date"] = today + timedelta(days=10)
        values["promised_date"] = today + timedelta(days=3)
        if lang == "en":
            values["title"] = "Mr Zhang"
        return values
    values: dict[str, Any] = {
        "title": speech.owner_title(account.owner_name, account.title, lang),
        "room": account.room or None,
        "area": account.area or None,
        "amount": account.amount_owed,
        "months": account.months_owed,
        "due_date": account.due_date,
        "promised_date": account.promised_date,
    }
    values.update({k: v for k, v in (account.variables or {}).items() if k in templates.VARIABLES})
    return values


def variables_for(campaign_settings: dict, account: Account | None, today: date | None = None) -> dict:
    lang = campaign_settings.get("lang", "zh")
    values = account_variables(account, lang, today)
    extra = {k: v for k, v in (campaign_settings.get("variables") or {}).items() if v not in (None, "")}
    if "late_fee" in extra and "total" not in extra and values.get("amount") is not None:
        try:
            extra["total"] = Decimal(str(values["amount"])) + Decimal(str(extra["late_fee"]))
        except ArithmeticError:
            pass
    return {**values, **extra}


def render_for(campaign_settings: dict, text: str, account: Account | None,
               today: date | None = None) -> str:
    return templates.render(text, variables_for(campaign_settings, account, today),
                            lang=campaign_settings.get("lang", "zh"), today=today)
