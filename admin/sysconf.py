"""Site-wide settings staff change in the admin, kept in the system_setting table."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ivr.storage import SystemSetting

TRUNKS = "trunks"
MESSAGE_DEFAULTS = "message_defaults"


def get(session: Session, key: str, default: dict) -> dict:
    row = session.get(SystemSetting, key)
    return dict(row.value) if row and isinstance(row.value, dict) else dict(default)


def put(session: Session, key: str, value: dict) -> None:
    row = session.get(SystemSetting, key) or SystemSetting(key=key)
    row.value = value
    session.add(row)


def trunks(session: Session) -> list[str]:
    names = get(session, TRUNKS, {"names": ["carrier"]}).get("names") or ["carrier"]
    return [str(n) for n in names]


def message_defaults(session: Session) -> dict:
    return get(session, MESSAGE_DEFAULTS, {})
