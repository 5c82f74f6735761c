"""The campaign form: reading it, checking it, and writing it to a Campaign.

Every problem is reported against its field with a message staff can act on; the template is
checked with ivr.voice.templates (unknown or missing variables, stray braces) and the windows
and retries by building the policy objects the dialer will build.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from admin.i18n import SHANGHAI, aware
from admin.labels import ACCOUNT_VARIABLES, CAMPAIGN_VARIABLES
from ivr.policy import NoCallableTime, next_callable
from ivr.policy import recurrence
from ivr.storage import Campaign, CampaignKind
from ivr.voice import templates

from . import plan

KINDS = tuple(k.value for k in CampaignKind)


@dataclass
class WizardInput:
    values: dict[str, Any] = field(default_factory=dict)   # what the form shows again
    errors: dict[str, str] = field(default_factory=dict)   # field -> message
    settings: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    template: str = "arrears-first"
    start_at: datetime | None = None
    ends_at: datetime | None = None
    recurrence: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def values_of(campaign: Campaign | None, defaults: dict | None = None,
              kind: str = "arrears") -> dict[str, Any]:
    """The form's values for an existing campaign (or a new one of this kind)."""
    kind = campaign.kind.value if campaign else kind
    st = {**plan.default_settings(kind), **(campaign.settings if campaign else {})}
    v: dict[str, Any] = {
        "name": campaign.name if campaign else "",
        "kind": kind,
        "template": (campaign.template if campaign and not campaign.message else
                     ("custom" if campaign else plan.DEFAULT_TEMPLATE[kind])),
        "lang": st.get("lang", "zh"),
        "trunk": campaign.trunk if campaign else "carrier",
        "caller_id": (campaign.caller_id or "") if campaign else "",
        "start_mode": "at" if campaign and campaign.start_at else "now",
        "start_at": (aware(campaign.start_at).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
                     if campaign and campaign.start_at else ""),
        "ends_on": (aware(campaign.ends_at).astimezone(SHANGHAI).date().isoformat()
                    if campaign and campaign.ends_at else ""),
        "recurrence": "", "recurrence_day": "5", "recurrence_time": "09:30",
        "buildings": st["filter"].get("buildings", []), "areas": st["filter"].get("areas", []),
        "min_months": st["filter"].get("min_months") or "", "classes": st["filter"].get("classes", []),
        "call_on_holidays": bool(st["windows"].get("call_on_holidays")),
    }
    if campaign and campaign.recurrence:
        try:
            rule = recurrence.parse(campaign.recurrence)
            v.update(recurrence="monthly", recurrence_day=str(rule.day),
                     recurrence_time=rule.at.strftime("%H:%M"))
        except recurrence.RecurrenceError:
            pass
    lang = v["lang"]
    v["message"] = (campaign.message if campaign and campaign.message else
                    templates.TEMPLATES[lang].get(v["template"], ""))
    for name in CAMPAIGN_VARIABLES:
        v[f"var_{name}"] = (st.get("variables") or {}).get(name, (defaults or {}).get(name, ""))
    for day_kind in ("weekday", "weekend"):
        spans = st["windows"].get(day_kind, [])
        for k in (0, 1):
            a, b = spans[k] if k < len(spans) else ("", "")
            v[f"{day_kind}_{k}_start"], v[f"{day_kind}_{k}_end"] = a, b
    for name, value in {**plan.DEFAULT_RETRY, **st.get("retry", {})}.items():
        v[f"retry_{name}"] = value
    for name, value in {**plan.DEFAULT_CAPS, **st.get("caps", {})}.items():
        v[f"caps_{name}"] = value
    return v


def _int(form: MultiDict, name: str, low: int, high: int, errors: dict, default: int | None = None) -> int | None:
    text = (form.get(name) or "").strip()
    if not text:
        return default
    if not re.fullmatch(r"\d{1,6}", text) or not (low <= int(text) <= high):
        errors[name] = _("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)
        return default
    return int(text)


def _time(text: str) -> time | None:
    try:
        return time.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def read(form: MultiDict, *, trunks: list[str], now: datetime) -> WizardInput:
    w = WizardInput()
    e = w.errors
    v = w.values
    v["name"] = (form.get("name") or "").strip()[:200]
    if not v["name"]:
        e["name"] = _("Give the campaign a name staff will recognise, e.g. 11月物业费催缴 3栋.")
    v["kind"] = form.get("kind") if form.get("kind") in KINDS else "arrears"
    v["lang"] = form.get("lang") if form.get("lang") in templates.LANGS else "zh"
    v["template"] = form.get("template") or "custom"
    if v["template"] != "custom" and v["template"] not in plan.MESSAGE_TEMPLATES:
        v["template"] = "custom"
    v["message"] = (form.get("message") or "").strip()[:4000]

    # -- message
    lang = v["lang"]
    shipped = templates.TEMPLATES[lang].get(v["template"]) if v["template"] != "custom" else None
    text = v["message"] or (shipped or "")
    if not text:
        e["message"] = _("Write the message, or pick a template.")
    else:
        try:
            templates.validate(text)
        except templates.TemplateError as err:
            e["message"] = _template_error(err)
    # Campaign.template always names a shipped template; a custom text lives in Campaign.message
    w.template = (v["template"] if v["template"] != "custom"
                  else "outage-notice" if v["kind"] == "outage" else "arrears-first")
    w.message = None if shipped is not None and text == shipped else text

    variables = {}
    for name in CAMPAIGN_VARIABLES:
        value = (form.get(f"var_{name}") or "").strip()[:200]
        v[f"var_{name}"] = value
        if value:
            variables[name] = value
    if "message" not in e and text:
        needed = [n for n in dict.fromkeys(templates.placeholders(text))
                  if n not in templates.DEFAULTS[lang] and n not in ACCOUNT_VARIABLES]
        missing = [n for n in needed if n not in variables]
        if missing:
            e["message"] = _("The message uses %(vars)s: fill them in under “Message values”.",
                             vars="、".join("{" + n + "}" for n in missing))
            for n in missing:
                e[f"var_{n}"] = _("Needed by the message.")
        else:  # values given but unreadable (a start time that is not a time...)
            try:
                templates.spoken_values(text, {**plan.account_variables(None, lang), **variables}, lang=lang)
            except templates.TemplateError as err:
                target = f"var_{err.variable}" if err.variable in variables else "message"
                e[target] = _template_error(err)

    # -- who
    buildings = [b[:32] for b in form.getlist("buildings") if b][:200]
    areas = [a[:100] for a in form.getlist("areas") if a][:200]
    classes = [c for c in form.getlist("classes") if c in ("A", "B", "C", "D", "E")]
    v.update(buildings=buildings, areas=areas, classes=classes)
    min_months = _int(form, "min_months", 0, 600, e, 0)
    v["min_months"] = form.get("min_months", "")

    # -- when
    v["start_mode"] = "at" if form.get("start_mode") == "at" else "now"
    v["start_at"] = form.get("start_at", "")
    if v["start_mode"] == "at":
        try:
            local = datetime.fromisoformat(v["start_at"])
            # stored in UTC: SQLite keeps a datetime's wall-clock digits and drops its zone
            w.start_at = (local.replace(tzinfo=SHANGHAI) if local.tzinfo is None else local).astimezone(timezone.utc)
            if w.start_at < now:
                e["start_at"] = _("The start time has passed.")
        except ValueError:
            e["start_at"] = _("Pick the date and time to start.")
    v["ends_on"] = form.get("ends_on", "")
    if v["ends_on"]:
        try:
            w.ends_at = datetime.combine(date.fromisoformat(v["ends_on"]), time(23, 59), SHANGHAI).astimezone(timezone.utc)
            if w.ends_at < now:
                e["ends_on"] = _("The end date has passed.")
        except ValueError:
            e["ends_on"] = _("Pick a date.")
    v["recurrence"] = "monthly" if form.get("recurrence") == "monthly" else ""
    v["recurrence_day"] = form.get("recurrence_day", "5")
    v["recurrence_time"] = form.get("recurrence_time", "09:30")
    if v["recurrence"]:
        day = _int(form, "recurrence_day", 1, 28, e)
        at = _time(v["recurrence_time"])
        if at is None:
            e["recurrence_time"] = _("Enter a time like 09:30.")
        if day and at:
            # the dialer's own reader: what is saved is a rule it can run
            w.recurrence = str(recurrence.MonthlyRule(day, at.replace(second=0, microsecond=0)))

    # -- call windows
    windows: dict[str, Any] = {"call_on_holidays": form.get("call_on_holidays") == "y"}
    v["call_on_holidays"] = windows["call_on_holidays"]
    for day_kind in ("weekday", "weekend"):
        spans = []
        for k in (0, 1):
            a_name, b_name = f"{day_kind}_{k}_start", f"{day_kind}_{k}_end"
            a_text, b_text = form.get(a_name, "").strip(), form.get(b_name, "").strip()
            v[a_name], v[b_name] = a_text, b_text
            if not a_text and not b_text:
                continue
            a, b = _time(a_text), _time(b_text)
            if a is None or b is None or not a < b:
                e[a_name] = _("Give a start and an end time, the start before the end.")
                continue
            spans.append([a.strftime("%H:%M"), b.strftime("%H:%M")])
        windows[day_kind] = spans
    if not windows["weekday"] and not windows["weekend"]:
        e["weekday_0_start"] = _("Give at least one call window.")
    else:
        try:
            next_callable(now, plan.windows_of({"windows": windows}))
        except (NoCallableTime, ValueError):
            e["weekday_0_start"] = _("These windows allow no call at all (calls are only placed 08:00–21:00).")

    # -- retries and caps
    retry = {}
    bounds = {"no_answer": (5, 1440), "busy": (1, 1440), "failed": (5, 1440), "machine": (10, 2880),
              "max_attempts_per_day": (1, 10), "max_answered_per_day": (1, 3),
              "max_attempts_total": (1, 100), "failed_before_unreachable": (1, 20)}
    for name, (low, high) in bounds.items():
        v[f"retry_{name}"] = form.get(f"retry_{name}", plan.DEFAULT_RETRY[name])
        retry[name] = _int(form, f"retry_{name}", low, high, e, plan.DEFAULT_RETRY[name])
    caps = {}
    cap_bounds = {"concurrency": (1, 200), "calls_per_second": (1, 50), "daily_limit": (0, 1_000_000)}
    for name, (low, high) in cap_bounds.items():
        v[f"caps_{name}"] = form.get(f"caps_{name}", plan.DEFAULT_CAPS[name])
        caps[name] = _int(form, f"caps_{name}", low, high, e, plan.DEFAULT_CAPS[name])

    v["trunk"] = form.get("trunk") or (trunks[0] if trunks else "carrier")
    if v["trunk"] not in trunks:
        e["trunk"] = _("Pick one of the configured trunks.")
    v["caller_id"] = (form.get("caller_id") or "").strip()
    if v["caller_id"] and not re.fullmatch(r"\d{3,20}", v["caller_id"]):
        e["caller_id"] = _("Digits only.")

    w.settings = {"lang": lang, "variables": variables,
                  "filter": {"buildings": buildings, "areas": areas, "min_months": min_months or 0,
                             "classes": classes},
                  "windows": windows, "retry": retry, "caps": caps}
    if not e:
        plan.retry_policy_of(w.settings)  # the dialer must accept what is saved
    return w


def _template_error(err: templates.TemplateError) -> str:
    text = str(err)
    if text.startswith("unknown variable"):
        close = re.search(r"did you mean \{(\w+)\}", text)
        if close:
            return _("Unknown variable {%(name)s}; did you mean {%(close)s}?", name=err.variable,
                     close=close.group(1))
        return _("Unknown variable {%(name)s}. Use only the variables listed on the right.",
                 name=err.variable)
    if text.startswith("stray"):
        return _("A brace { or } is not part of a variable. Variables look like {amount}.")
    if text.startswith("missing variable"):
        return _("No value for {%(name)s}.", name=err.variable)
    return _("The value for {%(name)s} cannot be read aloud: %(detail)s", name=err.variable or "?",
             detail=text.split(":", 1)[-1].strip())


def apply(campaign: Campaign, w: WizardInput, *, department: str | None) -> None:
    v = w.values
    campaign.name = v["name"]
    campaign.kind = CampaignKind(v["kind"])
    campaign.template = w.template
    campaign.message = w.message
    campaign.trunk = v["trunk"]
    campaign.caller_id = v["caller_id"] or None
    campaign.start_at = w.start_at
    campaign.ends_at = w.ends_at
    campaign.recurrence = w.recurrence
    campaign.settings = w.settings
    if campaign.department is None:
        campaign.department = department
