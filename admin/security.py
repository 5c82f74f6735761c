"""Staff sign-in: argon2 password hashes, Flask-Login, roles, and the audit helper."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import wraps
from typing import Callable, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort
from flask_login import LoginManager, UserMixin, current_user
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ivr.dialer import campaigns as lifecycle
from ivr.storage import StaffUser

ROLES = ("admin", "operator", "viewer")
ROLE_LEVEL = {"viewer": 0, "operator": 1, "admin": 2}
DEPARTMENTS = ("collection", "dispatch", "service")

_hasher = PasswordHasher()
# Verifying against this when the user name is unknown makes a wrong name cost as long as a
# wrong password, so timing does not reveal which user names exist.
_DUMMY_HASH = _hasher.hash("not-a-password")

F = TypeVar("F", bound=Callable)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return False


def session_token(user: StaffUser) -> str:
    """Part of the login cookie: changes when the password does, which ends old sessions."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


@dataclass
class Staff(UserMixin):
    """The signed-in staff member for this request (a detached copy, not an ORM row)."""
    id: int
    username: str
    display_name: str
    role: str
    department: str | None
    locale: str
    phone: str | None
    token: str

    @classmethod
    def of(cls, user: StaffUser) -> Staff:
        return cls(user.id, user.username, user.display_name or user.username, user.role,
                   user.department, user.locale or "zh_CN", user.phone_extension, session_token(user))

    def get_id(self) -> str:
        return f"{self.id}:{self.token}"

    def can(self, role: str) -> bool:
        return ROLE_LEVEL.get(self.role, -1) >= ROLE_LEVEL[role]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to continue.")
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str) -> Staff | None:
    from admin.db import db

    ident, _, token = user_id.partition(":")
    if not ident.isdigit():
        return None
    user = db().get(StaffUser, int(ident))
    if user is None or not user.active or session_token(user) != token:
        return None
    return Staff.of(user)


def require(role: str) -> Callable[[F], F]:
    """The view needs at least `role` (viewer < operator < admin); 403 otherwise."""
    def deco(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)
        return wrapped  # type: ignore[return-value]
    return deco


def local_url(target: str | None) -> str | None:
    """target if it is a path on this site, else None (no open redirects: "//host", "/\\host"
    and "https://host" are refused)."""
    from urllib.parse import urlsplit

    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def actor() -> str:
    return current_user.username if current_user.is_authenticated else "anonymous"


def audit(session: Session, action: str, target: str | None = None, **detail) -> None:
    """Append to the audit log as the signed-in staff member (the address is added at flush)."""
    lifecycle.audit(session, actor(), action, target, **detail)


def create_user(session: Session, *, username: str, password: str, role: str = "viewer",
                display_name: str = "", department: str | None = None, phone: str | None = None,
                locale: str = "zh_CN", by: str = "system") -> StaffUser:
    """Make a staff account (caller commits). Raises ValueError on a bad role or weak password."""
    username = username.strip()
    if not username or len(username) > 64:
        raise ValueError("user name must be 1–64 characters")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if department is not None and department not in DEPARTMENTS:
        raise ValueError(f"department must be one of {', '.join(DEPARTMENTS)}")
    check_password_strength(password)
    user = StaffUser(username=username, display_name=display_name or username,
                     password_hash=hash_password(password), role=role, department=department,
                     phone_extension=phone or None, locale=locale)
    session.add(user)
    session.flush()
    lifecycle.audit(session, by, "user.create", f"user:{username}", role=role, department=department)
    return user


def check_password_strength(password: str) -> None:
    if len(password) < 10:
        raise ValueError("password must be at least 10 characters")
    if password.isdigit() or password.isalpha():
        raise ValueError("password must mix letters and digits or symbols")
