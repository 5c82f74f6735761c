"""What the owner answered, read off a finished call (pure: no I/O).

The flow reports each meaningful step as `UserEvent IvrStep` (Step, Value), collected in
order in `CallResult.steps`, and its last stage in `CallResult.stage`. The step names are
the dialplan's (dialplans/pbx/extensions.conf, contexts ivr-arrears / ivr-outage):

    amd             STATUS:CAUSE from AMD(), e.g. HUMAN:HUMAN-800-800, MACHINE:LONGGREETING-...
    identity        yes | no (the identity gate)
    heard           message | notice | remote (played to its end)
    choice          promise_3_days | promise_date | already_paid | away | voice_message |
                    opt_out | repeat
    date_entered    the digits keyed for a date
    date_refused    empty | invalid | past | beyond_limit
    date_readback   YYYY-MM-DD read back;  date_reenter  the owner asked to key it again
    date_confirmed  YYYY-MM-DD;  no_date  given_up (no date after the allowed entries)
    promise         YYYY-MM-DD recorded as the promised payment date (choices 1 and 2)
    voice_message   path of the recording (as Asterisk sees it)
    acknowledged    yes (outage notice)
    no_input        question;  wrong_key  question:key;  reask  question:n;  gave_up  question
    machine_message played
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ivr.dialer.call_result import CallResult
from ivr.policy.classify import OwnerAnswer, Response

CHOICES = ("promise_3_days", "promise_date", "already_paid", "away", "voice_message", "opt_out", "repeat")
PROMISE_DAYS = 3  # menu key 1: "I will pay within 3 days"


@dataclass(frozen=True)
class FlowOutcome:
    stage: str | None                      # how far the call got (see the dialplan)
    machine: bool = False                  # an answering machine took the call
    identity_confirmed: bool | None = None  # None: never answered the identity question
    wrong_person: bool = False
    heard_to_end: bool = False             # the arrears message / outage notice played whole
    choice: str | None = None              # the last menu choice that was not "repeat"
    promised_date: date | None = None
    voice_message: str | None = None       # recording path, as Asterisk sees it
    acknowledged: bool = False             # outage notice acknowledged (key 2)
    opted_out: bool = False
    no_date: bool = False                  # chose to key a date but none was confirmed
    refusals: tuple[str, ...] = ()         # date refusals, in order
    dates_entered: tuple[str, ...] = ()    # every date entry as keyed
    no_input: tuple[str, ...] = ()         # the question, each time nothing was pressed
    wrong_keys: tuple[str, ...] = ()       # "question:key", each time
    gave_up: str | None = None             # the question abandoned after the re-asks
    repeats: int = 0
    amd: str | None = None

    @property
    def answered_by_person(self) -> bool:
        return not self.machine and self.stage not in (None, "answered")


def _iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        return None


def interpret(result: CallResult, today: date | None = None) -> FlowOutcome:
    """The owner's answers from the steps the flow reported. Never raises: a malformed
    value is ignored. `today` (the campaign's) only fills in the date of a "within 3 days"
    promise when the call ended before the flow reported it."""
    values: dict[str, list[str]] = {}
    for step, value in result.steps:
        values.setdefault(step, []).append(value)

    def last(step: str) -> str | None:
        return values[step][-1] if step in values else None

    choices = [c for c in values.get("choice", []) if c in CHOICES]
    made = [c for c in choices if c != "repeat"]
    choice = made[-1] if made else ("repeat" if choices else None)
    identity = last("identity")
    stage = result.stage

    promised = _iso(last("promise") or "")
    if promised is None and choice == "promise_date":
        promised = _iso(last("date_confirmed") or "")
    if promised is None and choice == "promise_3_days" and today is not None:
        promised = today + timedelta(days=PROMISE_DAYS)

    return FlowOutcome(
        stage=stage,
        machine=stage == "machine",
        identity_confirmed={"yes": True, "no": False}.get(identity or ""),
        wrong_person=stage == "wrong_person" or identity == "no",
        heard_to_end=any(v in ("message", "notice") for v in values.get("heard", [])),
        choice=choice,
        promised_date=promised if choice in ("promise_3_days", "promise_date") else None,
        voice_message=last("voice_message") or None,
        acknowledged="acknowledged" in values,
        opted_out=choice == "opt_out" or stage == "opted_out",
        no_date=choice == "promise_date" and promised is None,
        refusals=tuple(values.get("date_refused", [])),
        dates_entered=tuple(values.get("date_entered", [])),
        no_input=tuple(values.get("no_input", [])),
        wrong_keys=tuple(values.get("wrong_key", [])),
        gave_up=last("gave_up"),
        repeats=choices.count("repeat"),
        amd=last("amd"),
    )


_NOTES = {"already_paid": "says already paid: verify the payment",
          "voice_message": "left a voice message"}


def owner_answer(outcome: FlowOutcome, at: datetime) -> OwnerAnswer:
    """The outcome as the class A–E policy reads it (ivr.policy.classify). A voice message
    stays Response.NONE with its path as the note until staff have listened to it (it may
    be a complaint, class E, or anything else); "already paid" is for staff to verify."""
    if outcome.opted_out:
        return OwnerAnswer(at, Response.OPT_OUT)
    if outcome.promised_date is not None:
        return OwnerAnswer(at, Response.PROMISE, promised_date=outcome.promised_date)
    if outcome.choice == "away":
        return OwnerAnswer(at, Response.AWAY)
    note = _NOTES.get(outcome.choice or "")
    if outcome.choice == "voice_message" and outcome.voice_message:
        note = f"{note}: {outcome.voice_message}"
    return OwnerAnswer(at, Response.NONE, note=note)
