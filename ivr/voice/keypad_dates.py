"""Promised payment dates keyed on the phone keypad.

The owner keys MMDD (next occurrence on/after today) or YYYYMMDD, with or
without the '#' terminator.  The result is a date within [today, today+max_days]
or a Refusal whose reason the IVR speaks before asking again.  Never raises:
whatever DTMF arrives, the call must go on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from ivr.voice import templates

Reason = Literal["empty", "invalid", "past", "beyond_limit"]
_PROMPT = {"empty": "no-input", "invalid": "refusal-invalid",
           "past": "refusal-past", "beyond_limit": "refusal-beyond-limit"}
_KEYS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also accepts '²' and '٣'


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    text: str  # what the IVR says, e.g. 您输入的日期已经过去了，请重新输入。

    def __bool__(self) -> bool:  # lets callers write `if not result:` for a refusal
        return False


def refusal(reason: Reason, max_days: int = 30, lang: str = "zh") -> Refusal:
    text = templates.render(_PROMPT[reason], {"max_days": max_days}, lang=lang)
    return Refusal(reason, text)


def _next_occurrence(month: int, day: int, today: date) -> date | None:
    """First (month, day) on or after today; 0229 may be years away; None if never."""
    for year in range(today.year, min(today.year + 9, date.max.year + 1)):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def parse_promised_date(keys: str, today: date, max_days: int = 30,
                        lang: str = "zh") -> date | Refusal:
    max_days = max(0, int(max_days))
    keys = keys.strip().rstrip("#") if isinstance(keys, str) else ""
    if not keys:
        return refusal("empty", max_days, lang)
    if not _KEYS.fullmatch(keys) or len(keys) not in (4, 8):
        return refusal("invalid", max_days, lang)

    if len(keys) == 4:
        month, day = int(keys[:2]), int(keys[2:])
        try:
            date(2000, month, day)  # a leap year: 0229 is a real date, 0230 is not
        except ValueError:
            return refusal("invalid", max_days, lang)
        promised = _next_occurrence(month, day, today)
        if promised is None:
            return refusal("beyond_limit", max_days, lang)
    else:
        try:
            promised = date(int(keys[:4]), int(keys[4:6]), int(keys[6:]))
        except ValueError:
            return refusal("invalid", max_days, lang)
        if promised < today:
            return refusal("past", max_days, lang)

    if (promised - today) > timedelta(days=max_days):
        return refusal("beyond_limit", max_days, lang)
    return promised
