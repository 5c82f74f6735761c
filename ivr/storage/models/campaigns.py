"""Campaigns, who is in them, and every attempt made (every attempt is evidence: rows are
added and settled, never deleted; each retry is a new row linked to its parent)."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import Account
from .base import Base, str_enum, utcnow


class CampaignKind(str, enum.Enum):
    ARREARS = "arrears"
    OUTAGE = "outage"
    NOTICE = "notice"


class CampaignStatus(str, enum.Enum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ContactStatus(str, enum.Enum):
    ACTIVE = "active"      # the dialer may schedule attempts
    DONE = "done"          # reached / answered enough: nothing more to do
    STOPPED = "stopped"    # paid, opted out, unreachable, refused, capped


class AttemptStatus(str, enum.Enum):
    QUEUED = "queued"      # due at scheduled_at, not yet claimed by a dialer
    DIALING = "dialing"    # written BEFORE Originate is sent: a crash never dials twice
    DONE = "done"          # settled from AMI events (or the CDR)
    FAILED = "failed"      # Originate refused; nothing was dialed
    UNKNOWN = "unknown"    # could not be reconciled after a crash; never re-dialed blindly
    SKIPPED = "skipped"    # dropped before dialing: paid, opted out, campaign stopped


class Campaign(Base):
    __tablename__ = "campaign"
    # A recurring campaign's runs: at most one per occurrence, however many dialers sweep.
    __table_args__ = (Index("uq_campaign_parent_occurrence", "parent_id", "occurrence", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CampaignKind] = mapped_column(str_enum(CampaignKind), default=CampaignKind.ARREARS)
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus),
                                                   default=CampaignStatus.DRAFT, index=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # API notices
    department: Mapped[str | None] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(100), default="arrears-first")
    message: Mapped[str | None] = mapped_column(Text)        # custom template text, if any
    audio_path: Mapped[str | None] = mapped_column(String(300))  # uploaded recording, if any
    trunk: Mapped[str] = mapped_column(String(64), default="carrier")
    caller_id: Mapped[str | None] = mapped_column(String(32))
    start_at: Mapped[datetime | None]                          # None: start now
    recurrence: Mapped[str | None] = mapped_column(String(100))  # e.g. "monthly:5@09:30"
    # Recurring campaigns (ivr.dialer.recurrence): the parent's next occurrence, advanced by a
    # conditional UPDATE when a run starts; a run points at its parent and its occurrence.
    next_run_at: Mapped[datetime | None]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", name="fk_campaign_parent_id"),
                                                  index=True)
    occurrence: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]                           # deadline
    # Policies (windows, retries, caps, pacing, menu choices) as plain data for ivr.policy.
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    contacts: Mapped[list[Contact]] = relationship(back_populates="campaign")


class Contact(Base):
    """An account's place in one campaign."""
    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("campaign_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    status: Mapped[ContactStatus] = mapped_column(str_enum(ContactStatus), default=ContactStatus.ACTIVE)
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    message_stage: Mapped[str] = mapped_column(String(16), default="first")  # first/firm/...
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="contacts")
    account: Mapped[Account] = relationship()
    attempts: Mapped[list[Attempt]] = relationship(back_populates="contact", order_by="Attempt.id")


class Attempt(Base):
    """One call placed (or to be placed) to one number."""
    __tablename__ = "attempt"
    __table_args__ = (Index("ix_attempt_due", "status", "scheduled_at"),
                      Index("ix_attempt_number_day", "number", "dialed_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id"))
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[AttemptStatus] = mapped_column(str_enum(AttemptStatus), default=AttemptStatus.QUEUED)
    disposition: Mapped[str | None] = mapped_column(String(24), index=True)  # answered, busy, ...
    dial_status: Mapped[str | None] = mapped_column(String(24))   # Asterisk DIALSTATUS
    hangup_cause: Mapped[int | None]                              # Q.850 cause of the callee leg
    stage: Mapped[str | None] = mapped_column(String(32))         # how far the owner got
    keys: Mapped[str | None] = mapped_column(String(64))          # the answer the flow read
    key_log: Mapped[str] = mapped_column(Text, default="")        # every key pressed, as pressed
    choice: Mapped[str | None] = mapped_column(String(24))        # ivr.flows.outcome.CHOICES, or acknowledged
    promised_date: Mapped[date | None] = mapped_column(Date)
    voice_message: Mapped[str | None] = mapped_column(String(300))  # recording kept for staff
    message_stage: Mapped[str | None] = mapped_column(String(16))   # which message was played
    message_text: Mapped[str | None] = mapped_column(Text)          # what was said (evidence)
    dialer: Mapped[str | None] = mapped_column(String(64))        # which dialer process placed it
    operator: Mapped[str | None] = mapped_column(String(64))      # who started the campaign
    scheduled_at: Mapped[datetime] = mapped_column(default=utcnow)
    dialed_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    contact: Mapped[Contact] = relationship(back_populates="attempts")
    account: Mapped[Account] = relationship()
