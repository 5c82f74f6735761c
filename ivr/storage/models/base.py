"""Declarative base and the column helpers every model uses."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import Enum as SAEnum


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


def str_enum(cls: type[enum.Enum]) -> SAEnum:
    """Stored as plain strings (no PostgreSQL ENUM type): adding a value needs no migration."""
    return SAEnum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])
