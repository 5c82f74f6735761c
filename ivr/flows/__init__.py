"""IVR flows: arrears reminders (identity gate, message, menu, promised date) and outage
notices. Asterisk runs the flows (dialplans/pbx: ivr-arrears, ivr-outage); this package
builds each call's plan and audio and reads the answers back.

plan (pure: settings, words, CallPlan) · outcome (pure: interpret a CallResult) ·
audio (I/O: prompt folders, personal audio, lookahead) · datecheck (the dialplan's date
rules run in Asterisk, to compare with Python's).
"""
from .outcome import CHOICES, FlowOutcome, interpret, owner_answer
from .plan import CallAudio, FlowSettings, build_plan, contact_values, personal_texts, prompt_texts

__all__ = ["CHOICES", "CallAudio", "FlowOutcome", "FlowSettings", "build_plan", "contact_values",
           "interpret", "owner_answer", "personal_texts", "prompt_texts"]
