"""What staff read for the engine's codes (dispositions, statuses, classes...), translated."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

DISPOSITIONS = {
    "answered": _l("Answered"),
    "busy": _l("Busy"),
    "no_answer": _l("No answer"),
    "unreachable": _l("Unreachable (empty number)"),
    "failed": _l("Call failed"),
    "machine": _l("Answering machine"),
    "hung_up_early": _l("Hung up early"),
    "opted_out": _l("Opted out"),
    "wrong_person": _l("Wrong person"),
    "unknown": _l("Unknown"),
}

# CSS class per disposition: good / warn / bad / muted
DISPOSITION_TONE = {
    "answered": "good", "hung_up_early": "warn", "busy": "warn", "no_answer": "warn",
    "machine": "warn", "failed": "warn", "unreachable": "bad", "opted_out": "bad",
    "wrong_person": "bad", "unknown": "muted",
}

ATTEMPT_STATUSES = {
    "queued": _l("Queued"),
    "dialing": _l("Calling"),
    "done": _l("Done"),
    "failed": _l("Failed"),
    "unknown": _l("Unknown"),
    "skipped": _l("Skipped"),
}

CAMPAIGN_STATUSES = {
    "draft": _l("Draft"),
    "scheduled": _l("Scheduled"),
    "running": _l("Running"),
    "paused": _l("Paused"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}

CAMPAIGN_KINDS = {
    "arrears": _l("Arrears reminder"),
    "outage": _l("Water outage notice"),
    "notice": _l("Other notice"),
}

CONTACT_STATUSES = {
    "active": _l("Active"),
    "done": _l("Done"),
    "stopped": _l("Stopped"),
}

STOP_REASONS = {
    "paid": _l("Paid"),
    "no_number": _l("No callable number"),
    "opted_out": _l("Opted out"),
    "unreachable": _l("Unreachable"),
    "refused": _l("Refused"),
    "capped": _l("Attempt limit reached"),
}

CLASSES = {
    "A": _l("A · Will pay soon"),
    "B": _l("B · Not yet clear"),
    "C": _l("C · Cannot be reached"),
    "D": _l("D · Away from home"),
    "E": _l("E · Refuses (complaint)"),
}

CHOICES = {   # the codes the IVR flows report (ivr.flows.outcome.CHOICES, plus the outage notice)
    "promise_3_days": _l("Will pay within 3 days"),
    "promise_date": _l("Promised a date"),
    "already_paid": _l("Says already paid"),
    "away": _l("Away, pay remotely"),
    "voice_message": _l("Left a voice message"),
    "opt_out": _l("Do not call again"),
    "repeat": _l("Asked to repeat"),
    "acknowledged": _l("Acknowledged"),
}

STAGES = {
    "dialing": _l("Ringing"),
    "answered": _l("Picked up"),
    "message": _l("Heard part of the message"),
    "menu": _l("Reached the menu"),
    "completed": _l("Heard the whole message"),
    "machine": _l("Answering machine"),
    "wrong_person": _l("Wrong person"),
    "opted_out": _l("Opted out"),
}

PROMISE_STATUSES = {
    "pending": _l("Pending"),
    "kept": _l("Kept"),
    "broken": _l("Broken"),
}

ROLES = {
    "admin": _l("Administrator"),
    "operator": _l("Operator"),
    "viewer": _l("Viewer (read only)"),
}

DEPARTMENTS = {
    "collection": _l("Collection"),
    "dispatch": _l("Dispatch / construction"),
    "service": _l("Customer service"),
}

PHONE_KINDS = {"mobile": _l("Mobile"), "landline": _l("Landline")}

PAYMENT_SOURCES = {"import": _l("Import"), "admin": _l("Staff"), "api": _l("Billing system")}

# Template variables and what staff should put there.
VARIABLE_HINTS = {
    "title": _l("How the owner is addressed, e.g. 张先生 (from name and title)"),
    "company": _l("Your company, e.g. 幸福家园物业服务中心"),
    "room": _l("Room number, e.g. 3栋2单元1501"),
    "area": _l("Estate or supply area"),
    "amount": _l("Amount owed"),
    "late_fee": _l("Late fee"),
    "total": _l("Total to pay"),
    "months": _l("Months owed"),
    "due_date": _l("Due date"),
    "promised_date": _l("Date the owner promised to pay"),
    "date": _l("A date"),
    "start": _l("Start time (outage)"),
    "end": _l("End time (outage)"),
    "reason": _l("Reason (outage), e.g. 管道维修"),
    "channel": _l("Where to pay online, e.g. 微信公众号"),
    "hotline": _l("Service hotline"),
    "max_days": _l("Longest promise in days"),
}

# Variables the account supplies; the others come from the campaign form.
ACCOUNT_VARIABLES = ("title", "room", "area", "amount", "months", "due_date", "promised_date")
CAMPAIGN_VARIABLES = ("company", "hotline", "channel", "reason", "start", "end", "late_fee",
                      "date", "max_days")

AUDIT_ACTIONS = {
    "login": _l("Signed in"),
    "login.failed": _l("Failed sign-in"),
    "logout": _l("Signed out"),
    "import.accounts": _l("Imported accounts"),
    "import.payments": _l("Imported payments"),
    "export.report": _l("Exported a report"),
    "export.evidence": _l("Exported an evidence record"),
    "campaign.create": _l("Created a campaign"),
    "campaign.update": _l("Changed a campaign"),
    "campaign.scheduled": _l("Scheduled a campaign"),
    "campaign.running": _l("Started / resumed a campaign"),
    "campaign.paused": _l("Paused a campaign"),
    "campaign.cancelled": _l("Cancelled a campaign"),
    "campaign.completed": _l("Campaign completed"),
    "campaign.test_call": _l("Requested a test call"),
    "account.paid": _l("Marked paid"),
    "account.class": _l("Changed class"),
    "account.note": _l("Changed note"),
    "account.phone": _l("Changed a phone number"),
    "account.claim_rejected": _l("Rejected a paid claim"),
    "number.opt_out": _l("Put a number on do-not-call"),
    "user.create": _l("Created a user"),
    "user.update": _l("Changed a user"),
    "user.password": _l("Reset a password"),
    "dialing.stop": _l("Stopped all dialing"),
    "dialing.resume": _l("Resumed dialing"),
    "settings.update": _l("Changed settings"),
}


def label(table: dict, code) -> str:
    if code is None or code == "":
        return "—"
    code = getattr(code, "value", code)
    return str(table.get(code, code))

TEMPLATES = {
    "arrears-first": _l("First arrears reminder (polite)"),
    "arrears-firm": _l("Second reminder (firmer)"),
    "arrears-broken-promise": _l("Promise not kept"),
    "arrears-pre-promise": _l("Day before the promised date"),
    "remote-payment": _l("How to pay from elsewhere"),
    "outage-notice": _l("Water outage notice"),
}
