"""API keys: made by an administrator, shown once, stored hashed; a scope and an optional IP
allowlist each; revocable.

A key reads `ivr_<prefix>_<secret>`: the 8-character prefix is stored in clear to find the
row (and is what the audit log and the admin show), the 43-character secret (256 random bits)
is stored only as its SHA-256.

Why SHA-256 and not argon2 (which the staff passwords use): argon2 is slow on purpose so that
a stolen table of *guessable* passwords is costly to attack. A 256-bit random secret is not
guessable — no dictionary exists and brute force is out of reach whatever the hash speed — so
slowness buys nothing, while it would cost tens of milliseconds and megabytes of memory on
*every* API call and let anyone with garbage keys burn the server's CPU. Comparison is in
constant time (hmac.compare_digest).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.dialer.campaigns import audit
from ivr.storage.models import ApiKey, utcnow

SCOPES = ("read", "write", "admin")  # each includes the ones before it
KEY_FORMAT = re.compile(r"ivr_([a-z0-9]{8})_([A-Za-z0-9_-]{43})")


class KeyError_(ValueError):
    """A bad argument to create_api_key / revoke_api_key."""


@dataclass(frozen=True)
class Caller:
    """The authenticated key, detached from any session."""
    id: int
    prefix: str
    name: str
    scope: str
    ip_allowlist: tuple[str, ...]

    @property
    def actor(self) -> str:
        return f"api:{self.prefix}"

    def allows(self, scope: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(scope)


def hash_secret(secret: str) -> str:
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def normalise_allowlist(entries: list[str] | tuple[str, ...] | None) -> list[str]:
    """Addresses or networks ("10.0.0.5", "192.168.1.0/24", "::1") in canonical form."""
    out = []
    for entry in entries or []:
        try:
            out.append(str(ipaddress.ip_network(str(entry).strip(), strict=False)))
        except ValueError:
            raise KeyError_(f"not an IP address or network: {entry!r}") from None
    return out


def create_api_key(session: Session, name: str, scope: str = "read",
                   ip_allowlist: list[str] | None = None, *, actor: str = "system") -> tuple[ApiKey, str]:
    """Create a key; returns (row, plaintext). The plaintext is not stored anywhere: show it
    once. The caller commits."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise KeyError_("a key needs a name of 1–100 characters")
    if scope not in SCOPES:
        raise KeyError_(f"scope must be one of {', '.join(SCOPES)}")
    allow = normalise_allowlist(ip_allowlist)
    while True:
        prefix = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            break
    secret = secrets.token_urlsafe(32)  # 43 characters, 256 bits
    record = ApiKey(name=name, prefix=prefix, key_hash=hash_secret(secret), scope=scope,
                    ip_allowlist=allow, created_at=utcnow())
    session.add(record)
    session.flush()
    audit(session, actor, "api_key.create", f"api_key:{prefix}", name=name, scope=scope, ip_allowlist=allow)
    return record, f"ivr_{prefix}_{secret}"


def revoke_api_key(session: Session, prefix: str, *, actor: str = "system") -> ApiKey:
    """Revoke by prefix (idempotent). The caller commits."""
    record = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if record is None:
        raise KeyError_(f"no API key with prefix {prefix!r}")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit(session, actor, "api_key.revoke", f"api_key:{prefix}", name=record.name)
    return record


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


class AuthFailure(Exception):
    def __init__(self, status: int, code: str, message: str, prefix: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.prefix = status, code, message, prefix


def authenticate(session: Session, header: str | None, remote_addr: str | None) -> Caller:
    """The caller for an Authorization header, or AuthFailure (401 unknown/revoked, 403 address)."""
    if not header:
        raise AuthFailure(401, "unauthenticated", "send Authorization: Bearer <API key>")
    scheme, _, token = header.strip().partition(" ")
    match = KEY_FORMAT.fullmatch(token.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise AuthFailure(401, "unauthenticated", "malformed API key (expected Bearer ivr_<prefix>_<secret>)")
    prefix, secret = match.groups()
    record = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if record is None or not hmac.compare_digest(record.key_hash, hash_secret(secret)):
        raise AuthFailure(401, "unauthenticated", "unknown API key", prefix)
    if record.revoked_at is not None:
        raise AuthFailure(401, "key_revoked", "this API key has been revoked", prefix)
    allow = tuple(record.ip_allowlist or ())
    if allow and not _address_allowed(remote_addr, allow):
        raise AuthFailure(403, "address_not_allowed",
                          f"this API key may not be used from {remote_addr}", prefix)
    if record.scope not in SCOPES:
        raise AuthFailure(403, "forbidden", "this API key has an unknown scope", prefix)
    return Caller(record.id, record.prefix, record.name, record.scope, allow)


def _address_allowed(remote_addr: str | None, allow: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    for entry in allow:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def touch(session: Session, key_id: int, now: datetime, every_seconds: int = 60) -> None:
    """Record last use, at most once a minute per key (a write per call would compete with the
    dialer for SQLite's lock for nothing)."""
    record = session.get(ApiKey, key_id)
    if record is None:
        return
    last = record.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last is None or (now - last).total_seconds() >= every_seconds:
        record.last_used_at = now
