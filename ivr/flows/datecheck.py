"""Running the dialplan's date check (ivr-sub-date) in a real Asterisk, to compare it with
ivr.voice.keypad_dates.parse_promised_date (tests, and an operator's sanity check after
editing the dialplan). Nothing is dialed: a Local channel runs the `ivr-test-date` context,
which reports one `UserEvent IvrDateCheck` per entry."""
from __future__ import annotations

import asyncio
from datetime import date

from ivr.voice.keypad_dates import Refusal, parse_promised_date

SEPARATOR = "."  # entries are joined by it in one channel variable (keys never contain it)


def python_verdict(keys: str, today: date, max_days: int) -> str:
    """What Python decides, in the dialplan's words: YYYYMMDD or the refusal reason."""
    result = parse_promised_date(keys, today, max_days)
    return result.reason if isinstance(result, Refusal) else result.strftime("%Y%m%d")


async def dialplan_verdicts(client, entries: list[str], today: date, max_days: int,
                            check_id: int, timeout: float = 20) -> list[str]:
    """ivr-sub-date's result for each entry (digits, '*', or empty), in order."""
    for keys in entries:
        if SEPARATOR in keys or any(c not in "0123456789*" for c in keys):
            raise ValueError(f"not a keypad entry: {keys!r}")
    results: dict[int, str] = {}
    done = asyncio.get_running_loop().create_future()

    def on_event(msg) -> None:
        if msg.get("UserEvent") != "IvrDateCheck" or msg.get("Attempt") != str(check_id):
            return
        index = msg.get("Index", "")
        if index == "done":
            if not done.done():
                done.set_result(None)
        elif index.isdigit():
            results[int(index)] = msg.get("Result", "")

    client.on_event("UserEvent", on_event)
    await client.send_action({
        "Action": "Originate", "ActionID": f"datecheck-{check_id}",
        "Channel": "Local/s@ivr-test-date/n", "Application": "Wait", "Data": "1",
        "Async": "true", "Timeout": "2000",
        "Variable": [f"IVR_ATTEMPT={check_id}", f"TEST_KEYS={SEPARATOR.join(entries)}",
                     f"TEST_COUNT={len(entries)}", f"TEST_TODAY={today:%Y%m%d}",
                     f"TEST_MAX_DAYS={max_days}"],
    }, timeout=10)
    await asyncio.wait_for(done, timeout)
    return [results.get(i + 1, "<missing>") for i in range(len(entries))]
