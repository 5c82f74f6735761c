from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.voice import templates
from ivr.voice.keypad_dates import Refusal, parse_promised_date

DEC20 = date(2026, 12, 20)


@pytest.mark.parametrize("keys, today, expected", [
    ("0105", DEC20, date(2027, 1, 5)),          # MMDD rolls into next year
    ("0105#", DEC20, date(2027, 1, 5)),
    ("1220", DEC20, DEC20),                      # today is allowed
    ("1225#", DEC20, date(2026, 12, 25)),
    ("20261225", DEC20, date(2026, 12, 25)),
    ("20270119#", DEC20, date(2027, 1, 19)),     # exactly 30 days
    (" 0105 ", DEC20, date(2027, 1, 5)),
    ("0229", date(2028, 2, 10), date(2028, 2, 29)),
])
def test_accepted_dates(keys, today, expected):
    assert parse_promised_date(keys, today) == expected


@pytest.mark.parametrize("keys, today, reason", [
    ("1205", DEC20, "beyond_limit"),             # next 5 December is 2027-12-05
    ("1219", DEC20, "beyond_limit"),
    ("20270120", DEC20, "beyond_limit"),         # 31 days
    ("20261219", DEC20, "past"),
    ("00010101", DEC20, "past"),
    ("1345", DEC20, "invalid"),
    ("0230", DEC20, "invalid"),
    ("0000", DEC20, "invalid"),
    ("1231#5", DEC20, "invalid"),
    ("12*5", DEC20, "invalid"),
    ("123", DEC20, "invalid"),
    ("123456", DEC20, "invalid"),
    ("20261331", DEC20, "invalid"),
    ("２０２６", DEC20, "invalid"),                # full-width digits are not keypad keys
    ("²²²²", DEC20, "invalid"),
    ("", DEC20, "empty"),
    ("#", DEC20, "empty"),
    ("0229", date(2027, 2, 10), "beyond_limit"),  # next 29 February is in 2028
])
def test_refused_dates(keys, today, reason):
    result = parse_promised_date(keys, today)
    assert isinstance(result, Refusal)
    assert result.reason == reason
    assert not result


def test_refusals_carry_the_spoken_reason():
    assert parse_promised_date("1345", DEC20).text == "您输入的日期无效，请重新输入。"
    assert parse_promised_date("20261201", DEC20).text == "您输入的日期已经过去了，请重新输入。"
    assert parse_promised_date("20270301", DEC20, max_days=10).text == "您输入的日期超过了十天，请输入十天以内的日期。"
    assert parse_promised_date("", DEC20).text == templates.render("no-input", {})
    assert parse_promised_date("1345", DEC20, lang="en").text == "That date is not valid. Please enter it again."


def test_max_days_is_respected():
    assert parse_promised_date("1230", DEC20, max_days=10) == date(2026, 12, 30)
    assert parse_promised_date("1231", DEC20, max_days=10).reason == "beyond_limit"
    assert parse_promised_date("1220", DEC20, max_days=0) == DEC20


keypad = st.text(alphabet="0123456789*#", max_size=12)
anything = st.one_of(keypad, st.text(max_size=12))


@settings(max_examples=500)
@given(keys=anything, today=st.dates(), max_days=st.integers(0, 400))
def test_any_keys_give_a_date_in_range_or_a_clear_refusal(keys, today, max_days):
    result = parse_promised_date(keys, today, max_days)
    if isinstance(result, Refusal):
        assert result.reason in ("empty", "invalid", "past", "beyond_limit")
        assert result.text.strip()
    else:
        assert isinstance(result, date)
        assert today <= result <= today + timedelta(days=max_days)


@given(today=st.dates(max_value=date(9998, 1, 1)), ahead=st.integers(0, 30))
def test_a_date_keyed_back_is_the_date(today, ahead):
    promised = today + timedelta(days=ahead)
    assert parse_promised_date(promised.strftime("%m%d"), today) == promised
    assert parse_promised_date(f"{promised.year:04d}{promised:%m%d}#", today) == promised
