"""One typed SQLAlchemy session per request, closed when the request ends.

    from admin.db import db
    account = db().get(Account, 1)

Audit entries added during a request get the client's address filled in at flush time, so the
audit rows written by ivr.dialer.campaigns (which knows nothing about HTTP) carry it too.
"""
from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from ivr.storage import AuditEntry, connect, session_factory

EXTENSION = "ivr_sessions"


def init_app(app: Flask) -> None:
    engine = connect(app.config["DATABASE_URL"])
    sessions = session_factory(engine)
    event.listen(sessions, "before_flush", _audit_address)
    app.extensions[EXTENSION] = sessions
    app.extensions["ivr_engine"] = engine
    app.teardown_appcontext(_close)


def sessions(app: Flask | None = None) -> sessionmaker[Session]:
    return (app or current_app).extensions[EXTENSION]


def db() -> Session:
    """This request's session (created on first use)."""
    if "db_session" not in g:
        g.db_session = sessions()()
    return g.db_session


def _close(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back whatever was not committed


def _audit_address(session: Session, _ctx, _instances) -> None:
    if not has_request_context():
        return
    for obj in session.new:
        if isinstance(obj, AuditEntry) and obj.ip is None:
            obj.ip = request.remote_addr
