"""Chinese phone numbers in, digits out.

Nothing but digits ever reaches the dialer (which refuses anything else, as does the dialplan
with FILTER). A number is first checked character by character — digits, spaces, '-', '(' ')'
and a leading '+' only — *before* phonenumbers sees it, because phonenumbers is lenient and
would happily pull "13800000001" out of "13800000001&PJSIP/x". Then it must be a valid mainland
mobile or landline number, and is returned as dialed inside China: 11-digit mobiles
(13800000001) and landlines with their area code (02160000001).
"""
from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType

ALLOWED = re.compile(r"\+?[0-9 ()-]{3,31}")
KINDS = {PhoneNumberType.MOBILE: "mobile", PhoneNumberType.FIXED_LINE: "landline",
         PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline"}


class PhoneError(ValueError):
    pass


def normalise(raw: str) -> tuple[str, str]:
    """(digits as dialed, "mobile" | "landline"), or PhoneError saying why not."""
    if not isinstance(raw, str) or not ALLOWED.fullmatch(raw):
        raise PhoneError("only digits, spaces, '-', '(', ')' and a leading '+' are allowed in a phone number")
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise PhoneError("not a phone number") from None
    if number.country_code != 86 or phonenumbers.region_code_for_number(number) != "CN":
        raise PhoneError("only mainland China numbers (+86) can be called")
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("not a valid Chinese mobile or landline number")
    kind = KINDS.get(phonenumbers.number_type(number))
    if kind is None:
        raise PhoneError("only mobile and landline numbers can be called (not service or toll-free numbers)")
    digits = re.sub(r"[^0-9]", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    if not re.fullmatch(r"[0-9]{7,15}", digits):
        raise PhoneError("not a valid Chinese mobile or landline number")
    return digits, kind
