"""How values are read aloud: money, room numbers, dates, times, periods, titles.

Everything here turns a value into the words a TTS engine should say, so the
engines never guess (espeak and edge-tts read "1501" as 一千五百零一, which is
wrong for a room).  Pure functions, no audio.

Reading decisions (Mandarin):
- money: spoken yuan/jiao/fen, not 大写: 10 -> 十元 (一十元 is the written
  cheque form), 100.05 -> 一百元零五分, 0 -> 零元, 0.05 -> 五分.
- rooms/areas: a number before a building word (栋, 单元, 号楼 ...) is a
  cardinal (12栋 -> 十二栋); any other digit run is read digit by digit with
  一 (not 幺): 1501 -> 一五零一.
- dates: 十一月三十日星期一; the year is said only when it differs from
  today's, digit by digit (二〇二七年).
- times: 12-hour with a period word: 14:30 -> 下午两点半.
- phone numbers: digit by digit with 幺 for 1, as hotlines are read in China.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import cn2an

from ivr.policy.windows import local_today

FEN = Decimal("0.01")
DIGITS_ZH = "零一二三四五六七八九"
YEAR_DIGITS_ZH = "〇一二三四五六七八九"
PHONE_DIGITS_ZH = "零幺二三四五六七八九"
WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July",
             "August", "September", "October", "November", "December")

# Words after which a number is a count/ordinal, not a code: 3栋 -> 三栋.
_COUNTED = ("号楼", "栋", "幢", "座", "单元", "层", "楼", "区", "期", "号", "排", "巷", "弄", "街", "组", "门")
_PLACE_TOKEN = re.compile(r"(\d+|[A-Za-z](?=座|栋|幢|区))(" + "|".join(_COUNTED) + r")|(\d+)|([^\d]+?(?=\d|[A-Za-z](?:座|栋|幢|区)|$))")
_EN_PLACE_WORDS = {"号楼": "building", "栋": "building", "幢": "building", "楼": "building",
                   "座": "block", "单元": "unit", "层": "floor", "区": "zone", "期": "phase",
                   "号": "number", "排": "row", "巷": "lane", "弄": "lane", "街": "street",
                   "组": "group", "门": "gate"}


def to_decimal(value: object) -> Decimal:
    """Parse a number given as Decimal, int, float or text ('1,234.50', '¥12')."""
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, float):
        value = repr(value)  # avoid binary noise: 0.1 -> '0.1', not 0.1000000000000000055
    text = str(value).strip().replace(",", "").replace("，", "").lstrip("¥￥").removesuffix("元")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def to_money(value: object) -> Decimal:
    """An amount rounded half-up to fen."""
    return to_decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def number_zh(n: int) -> str:
    """Cardinal number as spoken: 10 -> 十, 110 -> 一百一十, 123456 -> 十二万三千四百五十六."""
    if n < 0:
        raise ValueError(f"negative number: {n}")
    return cn2an.an2cn(n, "low")


def digits_zh(text: str) -> str:
    """Read each ASCII digit on its own: '1501' -> 一五零一."""
    return "".join(DIGITS_ZH[int(c)] if c in "0123456789" else c for c in text)


def money_zh(value: object) -> str:
    amount = to_money(value)
    if amount < 0:
        raise ValueError(f"negative amount: {amount}")
    cents = int(amount * 100)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    words = []
    if yuan or not rest:
        words.append(number_zh(yuan) + "元")
    if jiao:
        words.append(DIGITS_ZH[jiao] + "角")
    if fen:
        if yuan and not jiao:
            words.append("零")  # 一百元零五分: the gap where jiao would be is spoken
        words.append(DIGITS_ZH[fen] + "分")
    return "".join(words)


def money_en(value: object) -> str:
    amount = to_money(value)
    if amount < 0:
        raise ValueError(f"negative amount: {amount}")
    yuan, fen = divmod(int(amount * 100), 100)
    if yuan and fen:
        return f"{yuan:,} yuan and {fen} fen"
    return f"{fen} fen" if fen else f"{yuan:,} yuan"


def _normalise_place(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).strip()
    text = re.sub(r"(\d)#", r"\1号", text)  # '3#楼' is written shorthand for 3号楼
    # 3-2-1501 is said 三杠二杠...; a dash elsewhere is only a separator
    return re.sub(r"(?<=\d)\s*-\s*(?=\d)", "杠", text).replace("-", " ")


def place_zh(text: str) -> str:
    """Room numbers and areas: '3栋2单元1501' -> 三栋二单元一五零一, '3-2-1501' -> 三杠二杠一五零一."""
    text = _normalise_place(text)
    out = []
    for counted, word, code, other in _PLACE_TOKEN.findall(text):
        if counted:
            out.append((number_zh(int(counted)) if counted.isdigit() else counted.upper()) + word)
        elif code:
            out.append(digits_zh(code))
        else:
            out.append(other.replace(" ", ""))
    return "".join(out)


def place_en(text: str) -> str:
    """'3栋2单元1501' -> 'building 3, unit 2, room 1 5 0 1'."""
    text = _normalise_place(text)
    tokens = _PLACE_TOKEN.findall(text)
    out: list[str] = []
    for i, (counted, word, code, other) in enumerate(tokens):
        if counted:
            number = int(counted) if counted.isdigit() else counted.upper()
            out.append(f"{_EN_PLACE_WORDS[word]} {number}")
        elif code:
            spoken = " ".join(code)
            after_counted = any(t[0] for t in tokens[:i])
            is_last = all(not (t[0] or t[2]) for t in tokens[i + 1:])
            out.append(f"room {spoken}" if after_counted and is_last else spoken)
        else:
            for zh, en in (("室", ""), ("至", " to "), ("到", " to "), ("杠", " dash ")):
                other = other.replace(zh, en)
            if other.strip():
                out.append(other.strip())
    return ", ".join(out).replace(", dash, ", " dash ").replace(", to, ", " to ")


def year_zh(year: int) -> str:
    return "".join(YEAR_DIGITS_ZH[int(c)] for c in str(year)) + "年"


def date_zh(d: date, today: date | None = None) -> str:
    """十一月三十日星期一; with the year when it is not this year's."""
    today = today or local_today()
    if isinstance(d, datetime):
        d = d.date()
    year = year_zh(d.year) if d.year != today.year else ""
    return f"{year}{number_zh(d.month)}月{number_zh(d.day)}日{WEEKDAYS_ZH[d.weekday()]}"


def date_en(d: date, today: date | None = None) -> str:
    today = today or local_today()
    if isinstance(d, datetime):
        d = d.date()
    words = f"{WEEKDAYS_EN[d.weekday()]}, {d.day} {MONTHS_EN[d.month - 1]}"
    return f"{words} {d.year}" if d.year != today.year else words


def _day_period_zh(hour: int) -> str:
    if hour < 6:
        return "凌晨"
    if hour < 9:
        return "早上"
    if hour < 12:
        return "上午"
    if hour < 13:
        return "中午"
    if hour < 18:
        return "下午"
    return "晚上"


def time_zh(t: time) -> str:
    """14:30 -> 下午两点半, 09:05 -> 上午九点零五分, 12:00 -> 中午十二点."""
    hour12 = t.hour if t.hour <= 12 else t.hour - 12
    hour = "两" if hour12 == 2 else number_zh(hour12)  # 两点, never 二点
    if t.minute == 0:
        minutes = ""
    elif t.minute == 30:
        minutes = "半"
    elif t.minute < 10:
        minutes = "零" + DIGITS_ZH[t.minute] + "分"
    else:
        minutes = number_zh(t.minute) + "分"
    return f"{_day_period_zh(t.hour)}{hour}点{minutes}"


def time_en(t: time) -> str:
    hour12 = t.hour % 12 or 12
    suffix = "AM" if t.hour < 12 else "PM"
    return f"{hour12} {suffix}" if t.minute == 0 else f"{hour12}:{t.minute:02d} {suffix}"


def datetime_zh(dt: datetime, today: date | None = None) -> str:
    return date_zh(dt.date(), today) + time_zh(dt.time())


def datetime_en(dt: datetime, today: date | None = None) -> str:
    return f"{date_en(dt.date(), today)} at {time_en(dt.time())}"


def months_zh(n: int) -> str:
    """Months owed: 3 -> 三个月, 2 -> 两个月 (二个月 is not Mandarin)."""
    if n < 1:
        raise ValueError(f"months owed must be at least 1, got {n}")
    return ("两" if n == 2 else number_zh(n)) + "个月"


def months_en(n: int) -> str:
    if n < 1:
        raise ValueError(f"months owed must be at least 1, got {n}")
    return "1 month" if n == 1 else f"{n} months"


def phone_zh(text: str) -> str:
    return "".join(PHONE_DIGITS_ZH[int(c)] for c in str(text) if c in "0123456789")


def phone_en(text: str) -> str:
    return " ".join(c for c in str(text) if c in "0123456789")


_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙",
                      "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐", "端木", "独孤")


def surname_of(name: str) -> str:
    name = name.strip()
    return name[:2] if name.startswith(_COMPOUND_SURNAMES) else name[:1]


def owner_title(name: str | None, gender: str | None, lang: str = "zh") -> str:
    """张三 + male -> 张先生; unknown gender -> a neutral form, since calling a
    woman 先生 is worse than not using the surname (seed: confirm before naming)."""
    surname = surname_of(name or "")
    g = (gender or "").strip().lower()
    male = g in ("m", "male", "男", "先生")
    female = g in ("f", "female", "女", "女士")
    if lang == "en":
        if surname and (male or female):
            return f"{'Mr' if male else 'Ms'} {surname}"
        return "Dear owner"
    if surname and (male or female):
        return surname + ("先生" if male else "女士")
    return "尊敬的业主"


def late_fee(amount: object, days: int, rate_per_mille: object) -> Decimal:
    """Late fee = amount x days x rate/1000, rounded half-up to fen (seeds: 3‰ a day)."""
    base = to_money(amount)
    rate = to_decimal(rate_per_mille)
    if base < 0 or days < 0 or rate < 0:
        raise ValueError("amount, days and rate must not be negative")
    return (base * days * rate / 1000).quantize(FEN, rounding=ROUND_HALF_UP)
