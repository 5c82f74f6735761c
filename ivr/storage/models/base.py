"""Declarative base and the column helpers every model uses."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import Enum as SAEnum
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware datetimes stored in UTC and read back aware. SQLite keeps no zone and compares
    text, so a Shanghai-time value stored as-is would sort wrong against a UTC one."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a time zone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


def str_enum(cls: type[enum.Enum]) -> SAEnum:
    """Stored as plain strings (no PostgreSQL ENUM type): adding a value needs no migration."""
    return SAEnum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])
