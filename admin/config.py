"""The admin's configuration, read from the environment when a Config is made.

SECRET_KEY comes from IVR_ADMIN_SECRET_KEY (or SECRET_KEY) and is required outside testing:
a key baked into the code would let anyone who has read it forge a staff session.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from ivr.config import settings


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


class Config:
    """Flask settings. Every attribute in UPPER CASE goes into app.config."""

    def __init__(self) -> None:
        env = os.environ
        cfg = settings()
        self.SECRET_KEY: str | None = env.get("IVR_ADMIN_SECRET_KEY") or env.get("SECRET_KEY")
        self.TESTING = False
        self.DATABASE_URL = cfg.db_url()
        self.VAR_DIR = Path(cfg.var_dir)

        # Cookies: secure (HTTPS only) unless IVR_ADMIN_SECURE_COOKIES=0 for a plain-HTTP setup
        # on a trusted network; never readable from JavaScript; not sent on cross-site posts.
        secure = _flag("IVR_ADMIN_SECURE_COOKIES", True)
        self.SESSION_COOKIE_SECURE = secure
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_NAME = "ivr_admin"
        self.REMEMBER_COOKIE_SECURE = secure
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=10)  # one working day
        self.WTF_CSRF_TIME_LIMIT = 10 * 3600  # a form left open all morning still posts

        # Uploads. Werkzeug refuses a body larger than this with 413 before reading it.
        self.MAX_CONTENT_LENGTH = int(env.get("IVR_ADMIN_MAX_UPLOAD", 10 * 1024 * 1024))
        self.MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
        self.IMPORT_MAX_ROWS = int(env.get("IVR_ADMIN_IMPORT_MAX_ROWS", 50_000))
        self.XLSX_MAX_UNCOMPRESSED = 100 * 1024 * 1024  # sum of the members' declared sizes
        self.XLSX_MAX_RATIO = 200                       # uncompressed / compressed, per member
        self.XLSX_MAX_MEMBERS = 1000
        self.IMPORT_DIR = self.VAR_DIR / "admin-imports"  # parsed uploads between preview and save

        # Voice: the same engine and cache the dialer uses, so a preview is what owners hear.
        self.TTS_ENGINE = cfg.tts_engine
        self.HOLIDAYS_FILE = cfg.holidays_path()   # holidays chinese_calendar does not know yet
        self.AUDIO_DIR = Path(env.get("IVR_AUDIO_DIR") or self.VAR_DIR / "audio")
        self.RECORDING_MAX_SECONDS = int(env.get("IVR_RECORDING_MAX_SECONDS", "120"))  # a recorded message
        # Recorded voice messages are served only from below these folders.
        self.ASTERISK_ROOT = Path(cfg.asterisk_root)
        self.VOICE_MESSAGE_DIRS = [self.VAR_DIR, Path("/var/lib/ivr/run"),
                                   Path(cfg.asterisk_root) / "var/lib/ivr/run"]

        self.BABEL_DEFAULT_LOCALE = "zh_CN"
        self.BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
        self.LANGUAGES = ["zh_CN", "en"]

        # Login throttling: failed logins per client address and user name.
        self.LOGIN_LIMIT = env.get("IVR_ADMIN_LOGIN_LIMIT", "5 per minute")
        self.LOGIN_LIMIT_PER_ADDRESS = env.get("IVR_ADMIN_LOGIN_LIMIT_ADDRESS", "30 per minute")
        self.RATELIMIT_STORAGE_URI = env.get("IVR_ADMIN_RATELIMIT_STORAGE", "memory://")
        self.RATELIMIT_HEADERS_ENABLED = False

        self.PAGE_SIZE = 50
        # Behind a TLS proxy (nginx, a load balancer): how many proxies to trust for the client's
        # address and scheme. The login throttle and the API keys' IP allowlists need the real
        # client address; 0 (the default) ignores X-Forwarded-* so no client can forge one.
        self.TRUSTED_PROXIES = int(env.get("IVR_ADMIN_TRUSTED_PROXIES", "0"))


class TestingConfig(Config):
    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.SECRET_KEY = self.SECRET_KEY or "testing-only-not-secret"
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_SECURE = False
