"""Chinese first, English on request: locale choice and locale-aware formatting.

The locale is, in order: `?lang=` on this request (remembered in the session), the session,
the staff member's own setting, else zh_CN. The browser's Accept-Language is ignored on
purpose: staff machines are often set up in English, staff read Chinese.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, session
from flask_babel import Babel, format_currency, format_date, format_datetime, format_decimal
from flask_babel import format_percent, get_locale
from flask_login import current_user
from markupsafe import Markup

SHANGHAI = ZoneInfo("Asia/Shanghai")


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked:
        asked = "zh_CN" if asked.lower().startswith("zh") else asked
        if asked in supported:
            session["lang"] = asked
            return asked
    if session.get("lang") in supported:
        return session["lang"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def aware(value: datetime) -> datetime:
    """Database datetimes are UTC; SQLite hands them back naive."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def is_zh() -> bool:
    return str(get_locale()).startswith("zh")


def money(value) -> str:
    if value is None or value == "":
        return "—"
    return format_currency(Decimal(value), "CNY")


def number(value, digits: int | None = None) -> str:
    if value is None:
        return "—"
    if digits is not None:
        return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0")
    return format_decimal(value)


def percent(value) -> str:
    if value is None:
        return "—"
    return format_percent(value, format="#,##0.0%")


def day(value) -> str:
    if not value:
        return "—"
    if isinstance(value, datetime):
        value = aware(value).astimezone(SHANGHAI).date()
    return format_date(value, "medium")


def when(value) -> str:
    if not value:
        return "—"
    if isinstance(value, date) and not isinstance(value, datetime):
        return day(value)
    return format_datetime(aware(value), "yyyy-MM-dd HH:mm:ss")


def short_when(value) -> str:
    if not value:
        return "—"
    return format_datetime(aware(value), "MM-dd HH:mm")


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.filters.update(money=money, number=number, percent=percent, day=day,
                                 when=when, short_when=short_when)
    app.jinja_env.globals.update(is_zh=is_zh, current_locale=lambda: str(get_locale()),
                                 lang_url=lang_url)
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def lang_url(lang: str) -> Markup:
    args = request.args.to_dict()
    args["lang"] = lang
    from urllib.parse import urlencode
    return Markup(request.path + "?" + urlencode(args))
