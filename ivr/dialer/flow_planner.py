"""The CallPlan for an attempt from its campaign and account, through the IVR flows
(ivr.flows): the arrears flow with identity gate and menu, or the outage notice flow."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session

from ivr.config import settings
from ivr.flows import FlowSettings, build_plan
from ivr.flows.plan import contact_values
from ivr.flows.audio import FlowVoice, SoundStore
from ivr.policy.windows import local_today
from ivr.storage.models import Account, Attempt, Campaign
from ivr.voice import speech, templates
from ivr.voice.tts import engine_from_config

from .originate import CallPlan
from .policy_config import campaign_policy

# Message stage (ivr.policy.classify.MessageStage) → the arrears template said.
STAGE_TEMPLATES = {"first": "arrears-first", "firm": "arrears-firm",
                   "pre_promise": "arrears-pre-promise", "remote_payment": "remote-payment"}
FLOW_KEYS = ("lang", "max_promise_days", "choices", "reasks", "date_tries", "amd", "company",
             "hotline", "channel")


def flow_settings(campaign: Campaign, stage: str | None, trunk: str) -> FlowSettings:
    """A general notice has no pledge: it uses the notice flow (listen, repeat, acknowledge)."""
    kind = "arrears" if campaign.kind.value == "arrears" else "outage"
    policy = campaign_policy(campaign.kind.value, campaign.settings)
    template = campaign.message or None
    if template is None and kind == "arrears":
        template = STAGE_TEMPLATES.get(stage or "first", "arrears-first")
    if template is None and campaign.template and campaign.template not in ("custom",):
        template = campaign.template
    flow = campaign.settings.get("flow", {}) if campaign.settings else {}
    cfg = settings()
    flow = {"company": cfg.company, "hotline": cfg.hotline, "channel": cfg.pay_channel, **flow}
    return FlowSettings(kind=kind, template=template, trunk=campaign.trunk or trunk,
                        dial_timeout=policy.dial_timeout, key_timeout=min(policy.key_timeout, 30),
                        max_seconds=policy.max_call_seconds, caller_id=campaign.caller_id or "",
                        recording=campaign.audio_path or "",
                        **{k: flow[k] for k in FLOW_KEYS if k in flow})


def account_values(account: Account, campaign: Campaign) -> dict[str, object]:
    """The template variables an account gives (campaign-wide ones first, account's own win)."""
    values: dict[str, object] = dict((campaign.settings or {}).get("variables", {}))
    if account.owner_name and account.title:
        values["title"] = speech.surname_of(account.owner_name) + account.title
    elif account.title:
        values["title"] = account.title
    for key, value in (("room", account.room), ("amount", account.amount_owed),
                       ("months", account.months_owed), ("due_date", account.due_date),
                       ("area", account.area or None), ("promised_date", account.promised_date)):
        if value not in (None, ""):
            values[key] = value
    values.update(account.variables or {})
    return values


def message_said(settings: FlowSettings, values: dict, today) -> str:
    """The message's words as this owner hears them (the evidence record), or the recording's
    name when staff recorded it."""
    if settings.recording:
        return f"[录音 recording] {Path(settings.recording).name}"
    return templates.render(settings.message_template, contact_values(settings, values, today),
                            lang=settings.lang, today=today)


def flow_planner(site, engine: str = "espeak", clock=None):
    """A planner for the Dialer: prepares the owner's audio (cached fragments) and the plan."""
    voice = FlowVoice(SoundStore.for_site(site), engine_from_config(engine))

    def plan(session: Session, attempt: Attempt) -> CallPlan:
        campaign = session.get(Campaign, attempt.campaign_id)
        today = local_today(clock() if clock else None)
        settings = flow_settings(campaign, attempt.message_stage, site.trunk.name)
        values = account_values(attempt.account, campaign)
        audio = voice.prepare(settings, values, today)
        return replace(build_plan(settings, audio, today), said=message_said(settings, values, today))

    return plan
