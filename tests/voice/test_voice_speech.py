from datetime import date, datetime, time
from decimal import Decimal

import cn2an
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.voice import speech


@pytest.mark.parametrize("amount, spoken", [
    (Decimal("1234.50"), "一千二百三十四元五角"),
    (Decimal("0"), "零元"),
    ("0.00", "零元"),
    ("100.05", "一百元零五分"),
    ("123456.78", "十二万三千四百五十六元七角八分"),
    ("10", "十元"),              # decided: spoken 十元, not the cheque form 一十元
    ("110", "一百一十元"),
    ("12.03", "十二元零三分"),
    ("12.34", "十二元三角四分"),
    ("0.05", "五分"),
    ("0.5", "五角"),
    ("1000000.10", "一百万元一角"),
    ("1,234.50", "一千二百三十四元五角"),
    ("¥88", "八十八元"),
    (0.1, "一角"),
    ("0.005", "一分"),           # rounded half-up to fen
    (2, "二元"),
])
def test_money_is_read_in_yuan_jiao_fen(amount, spoken):
    assert speech.money_zh(amount) == spoken


@pytest.mark.parametrize("bad", ["-1", "abc", "", "NaN", True])
def test_money_rejects_what_is_not_an_owed_amount(bad):
    with pytest.raises(ValueError):
        speech.money_zh(bad)


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_money_reading_parses_back_to_the_amount(amount):
    """Read the words back with cn2an (an independent parser) and get the amount."""
    words = speech.money_zh(amount)
    yuan_words, _, rest = words.rpartition("元") if "元" in words else ("", "", words)
    yuan = cn2an.cn2an(yuan_words, "strict") if yuan_words else 0
    jiao = fen = 0
    rest = rest.removeprefix("零")
    if "角" in rest:
        jiao_word, _, rest = rest.partition("角")
        jiao = speech.DIGITS_ZH.index(jiao_word)
    if "分" in rest:
        fen = speech.DIGITS_ZH.index(rest.removeprefix("零").removesuffix("分"))
    assert Decimal(yuan) + Decimal(jiao) / 10 + Decimal(fen) / 100 == amount


@pytest.mark.parametrize("amount, spoken", [
    ("1234.50", "1,234 yuan and 50 fen"), ("0", "0 yuan"), ("0.05", "5 fen"), ("10", "10 yuan"),
])
def test_money_in_english(amount, spoken):
    assert speech.money_en(amount) == spoken


@pytest.mark.parametrize("room, spoken", [
    ("3栋2单元1501", "三栋二单元一五零一"),
    ("12号楼3单元502室", "十二号楼三单元五零二室"),
    ("3#楼2单元0801", "三号楼二单元零八零一"),
    ("3-2-1501", "三杠二杠一五零一"),
    ("A座1501", "A座一五零一"),
    ("１２栋１０１", "十二栋一零一"),       # full-width digits from Excel exports
    ("1501", "一五零一"),
    ("幸福小区3栋至5栋", "幸福小区三栋至五栋"),
])
def test_rooms_are_read_digit_by_digit_with_building_words(room, spoken):
    assert speech.place_zh(room) == spoken
    assert "幺" not in speech.place_zh(room)


def test_room_in_english():
    assert speech.place_en("3栋2单元1501") == "building 3, unit 2, room 1 5 0 1"
    assert speech.place_en("3-2-1501") == "3 dash 2 dash 1 5 0 1"


def test_dates_this_year_have_weekday_but_no_year():
    today = date(2026, 11, 20)
    assert speech.date_zh(date(2026, 11, 28), today) == "十一月二十八日星期六"
    assert speech.date_zh(date(2026, 11, 30), today) == "十一月三十日星期一"
    assert speech.date_zh(date(2026, 12, 20), today) == "十二月二十日星期日"


def test_dates_in_another_year_say_the_year_digit_by_digit():
    today = date(2026, 12, 20)
    assert speech.date_zh(date(2027, 1, 5), today) == "二〇二七年一月五日星期二"
    assert speech.date_zh(date(2025, 12, 31), today) == "二〇二五年十二月三十一日星期三"
    assert speech.date_en(date(2027, 1, 5), today) == "Tuesday, 5 January 2027"
    assert speech.date_en(date(2026, 12, 21), today) == "Monday, 21 December"


@pytest.mark.parametrize("hhmm, spoken, english", [
    ("14:30", "下午两点半", "2:30 PM"),
    ("09:05", "上午九点零五分", "9:05 AM"),
    ("09:00", "上午九点", "9 AM"),
    ("12:00", "中午十二点", "12 PM"),
    ("00:00", "凌晨零点", "12 AM"),
    ("07:15", "早上七点十五分", "7:15 AM"),
    ("18:45", "晚上六点四十五分", "6:45 PM"),
])
def test_times_are_read_on_the_twelve_hour_clock(hhmm, spoken, english):
    assert speech.time_zh(time.fromisoformat(hhmm)) == spoken
    assert speech.time_en(time.fromisoformat(hhmm)) == english


def test_datetime_joins_date_and_time():
    assert speech.datetime_zh(datetime(2026, 11, 30, 14, 30), date(2026, 11, 1)) == "十一月三十日星期一下午两点半"


@pytest.mark.parametrize("months, spoken", [(1, "一个月"), (2, "两个月"), (3, "三个月"), (12, "十二个月"), (22, "二十二个月")])
def test_months_owed(months, spoken):
    assert speech.months_zh(months) == spoken


def test_zero_months_owed_is_an_error():
    with pytest.raises(ValueError):
        speech.months_zh(0)
    assert speech.months_en(1) == "1 month" and speech.months_en(3) == "3 months"


@pytest.mark.parametrize("name, gender, title", [
    ("张三", "男", "张先生"), ("李四", "F", "李女士"), ("欧阳娜娜", "female", "欧阳女士"),
    ("王五", None, "尊敬的业主"), ("", "m", "尊敬的业主"),
])
def test_owner_title(name, gender, title):
    assert speech.owner_title(name, gender) == title


def test_owner_title_in_english():
    assert speech.owner_title("张三", "m", "en") == "Mr 张"
    assert speech.owner_title("张三", None, "en") == "Dear owner"


def test_phone_numbers_use_yao_for_one():
    assert speech.phone_zh("0755-96118") == "零七五五九六幺幺八"


@pytest.mark.parametrize("amount, days, rate, fee", [
    ("1000", 10, 3, Decimal("30.00")),
    ("1234.50", 7, 3, Decimal("25.92")),     # 25.9245
    ("1666.50", 1, 3, Decimal("5.00")),      # 4.9995 rounds half-up
    ("6965.10", 30, "5", Decimal("1044.77")),  # 1044.765
    ("100", 1, "0.5", Decimal("0.05")),
    ("100", 0, 3, Decimal("0.00")),
])
def test_late_fee_is_decimal_and_rounded_to_fen(amount, days, rate, fee):
    result = speech.late_fee(amount, days, rate)
    assert isinstance(result, Decimal)
    assert result == fee and result.as_tuple().exponent == -2


def test_late_fee_rejects_negative_inputs():
    with pytest.raises(ValueError):
        speech.late_fee("100", -1, 3)
    with pytest.raises(ValueError):
        speech.late_fee("-100", 1, 3)
