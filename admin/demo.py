"""The admin after `ivr demo`: a demo login, the URL printed, served until Ctrl-C.

The lead's `ivr demo` calls serve_demo(cfg, campaign_id) after the summary (and skips it with
--no-serve). The demo user gets a fresh random password on every run, printed once.
"""
from __future__ import annotations

import os
import secrets

from sqlalchemy import select

from ivr.config import Settings
from ivr.storage import StaffUser, connect, session_factory, upgrade

DEMO_USER = "demo"


def demo_login(db_url: str) -> str:
    """Create or reset the demo administrator; returns its new password."""
    from admin.security import create_user, hash_password

    password = "demo-" + secrets.token_urlsafe(9)
    upgrade(db_url)
    engine = connect(db_url)
    with session_factory(engine)() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.username == DEMO_USER))
        if user is None:
            create_user(s, username=DEMO_USER, password=password, role="admin", display_name="演示管理员",
                        by="demo")
        else:
            user.password_hash, user.active, user.role = hash_password(password), True, "admin"
        s.commit()
    engine.dispose()
    return password


def serve_demo(cfg: Settings, campaign_id: int | None = None, *, host: str = "127.0.0.1",
               port: int = 8080) -> None:
    from werkzeug.serving import run_simple

    from admin import create_app

    password = demo_login(cfg.db_url())
    if campaign_id is None:  # the campaign the demo just ran
        from ivr.storage import Campaign
        engine = connect(cfg.db_url())
        with session_factory(engine)() as s:
            campaign_id = s.scalar(select(Campaign.id).where(Campaign.name != "test call")
                                   .order_by(Campaign.id.desc()).limit(1))
        engine.dispose()
    os.environ.setdefault("IVR_ADMIN_SECRET_KEY", secrets.token_hex(32))
    # plain HTTP on the loopback address: the session cookie cannot be marked Secure here
    app = create_app({"DATABASE_URL": cfg.db_url(), "SESSION_COOKIE_SECURE": False,
                      "REMEMBER_COOKIE_SECURE": False})
    where = f"/reports/?campaign={campaign_id}" if campaign_id else "/"
    print(f"\nAdmin: http://{host}:{port}{where}\n  user {DEMO_USER}, password {password}\n"
          "  (Ctrl-C to stop)", flush=True)
    run_simple(host, port, app, threaded=True, use_reloader=False)
