"""The records the product keeps. Every attempt is evidence (催缴记录): rows are added and
settled, never deleted, and each retry is a new row linked to its parent."""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import Enum as SAEnum


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


def _enum(cls: type[enum.Enum]) -> SAEnum:
    # Stored as plain strings (no PostgreSQL ENUM type) so adding a value is not a migration fight.
    return SAEnum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


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


class AttemptStatus(str, enum.Enum):
    QUEUED = "queued"      # due, not yet claimed by a dialer
    DIALING = "dialing"    # written BEFORE Originate is sent: a crash never dials twice
    DONE = "done"          # settled from AMI events (or the CDR)
    FAILED = "failed"      # Originate refused; nothing was dialed
    UNKNOWN = "unknown"    # could not be reconciled after a crash; never re-dialed blindly


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CampaignKind] = mapped_column(_enum(CampaignKind), default=CampaignKind.ARREARS)
    status: Mapped[CampaignStatus] = mapped_column(_enum(CampaignStatus), default=CampaignStatus.DRAFT)
    template: Mapped[str] = mapped_column(String(100), default="")
    trunk: Mapped[str] = mapped_column(String(64), default="carrier")
    # Policies (windows, retries, caps, pacing) as plain data; read by the pure policy code.
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    contacts: Mapped[list[Contact]] = relationship(back_populates="campaign")


class Contact(Base):
    """An owner (account) to reach in a campaign, with what the message says about them."""
    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_campaign_room", "campaign_id", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64))
    room: Mapped[str] = mapped_column(String(64), default="")
    owner_name: Mapped[str] = mapped_column(String(100), default="")
    title: Mapped[str] = mapped_column(String(20), default="")
    phone: Mapped[str] = mapped_column(String(32))
    area: Mapped[str] = mapped_column(String(100), default="")
    amount_owed: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    months_owed: Mapped[int | None]
    due_date: Mapped[date | None] = mapped_column(Date)
    variables: Mapped[dict] = mapped_column(JSON, default=dict)
    paid_at: Mapped[datetime | None]
    account_class: Mapped[str | None] = mapped_column(String(1))   # A–E, see DOMAIN.md
    promised_date: Mapped[date | None] = mapped_column(Date)
    opted_out_at: Mapped[datetime | None]

    campaign: Mapped[Campaign] = relationship(back_populates="contacts")
    attempts: Mapped[list[Attempt]] = relationship(back_populates="contact", order_by="Attempt.id")


class Attempt(Base):
    """One call placed (or to be placed) to one number."""
    __tablename__ = "attempt"
    __table_args__ = (Index("ix_attempt_due", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id"))
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[AttemptStatus] = mapped_column(_enum(AttemptStatus), default=AttemptStatus.QUEUED)
    disposition: Mapped[str | None] = mapped_column(String(24))   # answered, busy, no_answer, ...
    dial_status: Mapped[str | None] = mapped_column(String(24))   # Asterisk DIALSTATUS
    hangup_cause: Mapped[int | None]                              # Q.850 cause of the callee leg
    stage: Mapped[str | None] = mapped_column(String(32))         # how far the owner got
    keys: Mapped[str | None] = mapped_column(String(64))          # the answer the flow read
    key_log: Mapped[str] = mapped_column(Text, default="")        # every key pressed, as pressed
    dialer: Mapped[str | None] = mapped_column(String(64))        # which dialer process placed it
    scheduled_at: Mapped[datetime] = mapped_column(default=utcnow)
    dialed_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    contact: Mapped[Contact] = relationship(back_populates="attempts")
