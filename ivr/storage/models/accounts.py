"""Owners' accounts and their phone numbers: what persists from one campaign to the next."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Account(Base):
    """One property (房号) and its owner: what is owed, what was promised, their class A–E."""
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # billing system's id
    room: Mapped[str] = mapped_column(String(64), default="", index=True)     # 3栋2单元1501
    building: Mapped[str] = mapped_column(String(32), default="", index=True)
    area: Mapped[str] = mapped_column(String(100), default="", index=True)    # 小区 / supply zone
    owner_name: Mapped[str] = mapped_column(String(100), default="")
    title: Mapped[str] = mapped_column(String(20), default="")                # 先生 / 女士
    department: Mapped[str | None] = mapped_column(String(32))
    amount_owed: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    months_owed: Mapped[int | None]
    due_date: Mapped[date | None] = mapped_column(Date)
    variables: Mapped[dict] = mapped_column(JSON, default=dict)  # extra template variables
    paid_at: Mapped[datetime | None]                              # set → never dialed again
    paid_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    account_class: Mapped[str] = mapped_column(String(1), default="B")      # A–E, DOMAIN.md
    promised_date: Mapped[date | None] = mapped_column(Date)
    promise_status: Mapped[str | None] = mapped_column(String(16))           # pending/kept/broken
    paid_claim_at: Mapped[datetime | None]                                   # "already paid" to verify
    complaint: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    phones: Mapped[list[Phone]] = relationship(back_populates="account", order_by="Phone.position",
                                               cascade="all, delete-orphan")


class Phone(Base):
    __tablename__ = "phone"
    __table_args__ = (UniqueConstraint("account_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    number: Mapped[str] = mapped_column(String(32), index=True)   # digits only, as dialed
    kind: Mapped[str] = mapped_column(String(16), default="mobile")  # mobile / landline
    position: Mapped[int] = mapped_column(default=0)               # order to try them in
    unreachable_at: Mapped[datetime | None]                         # class C evidence
    account: Mapped[Account] = relationship(back_populates="phones")


class Payment(Base):
    """A payment reported by import, the admin or the billing API."""
    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    paid_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="admin")  # import / admin / api
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DoNotCall(Base):
    """Numbers never to dial again (opt-out by keypress, by staff, or by the API)."""
    __tablename__ = "do_not_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(16), default="keypress")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_account_class", Account.account_class)
