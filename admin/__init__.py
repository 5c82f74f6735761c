"""The staff admin (Flask) and, under /api/v1, the HTTP API.

    from admin import create_app
    app = create_app()                       # Config read from the environment
    app = create_app({"DATABASE_URL": ..., "TESTING": True})

Blueprints, one package each: auth, accounts (with imports), campaigns, live, results,
reports, users (users, audit log, settings). Every form is CSRF-protected, every page needs a
signed-in staff member, and every change goes through ivr.dialer.campaigns so it is audited.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from admin import db as dbmod
from admin import i18n, labels
from admin.config import Config, TestingConfig
from admin.security import login_manager
from ivr.policy.calendar_file import load_supplement

__all__ = ["Config", "TestingConfig", "create_app"]

csrf = CSRFProtect()

CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; "
       "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    base: Config
    if isinstance(config, Config):
        base, extra = config, {}
    else:
        extra = dict(config or {})
        base = TestingConfig() if extra.get("TESTING") else Config()
    app.config.from_object(base)
    app.config.update(extra)
    if not app.config.get("SECRET_KEY"):
        if app.config.get("TESTING"):
            app.config["SECRET_KEY"] = "testing-only-not-secret"
        else:
            raise RuntimeError("set IVR_ADMIN_SECRET_KEY (a long random string) before starting the admin")

    load_supplement(app.config.get("HOLIDAYS_FILE"))   # the same call windows the dialer uses
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    dbmod.init_app(app)
    i18n.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter = Limiter(get_remote_address, app=app, storage_uri=app.config["RATELIMIT_STORAGE_URI"],
                      default_limits=[])
    app.extensions["ivr_limiter"] = limiter

    from admin.accounts import bp as accounts_bp
    from admin.auth import bp as auth_bp
    from admin.auth import throttle_login
    from admin.campaigns import bp as campaigns_bp
    from admin.imports import bp as imports_bp
    from admin.live import bp as live_bp
    from admin.reports import bp as reports_bp
    from admin.results import bp as results_bp
    from admin.users import bp as users_bp

    for bp in (auth_bp, accounts_bp, imports_bp, campaigns_bp, live_bp, results_bp, reports_bp,
               users_bp):
        app.register_blueprint(bp)
    throttle_login(app, limiter)

    # The HTTP API authenticates every request with an API key, not a cookie, so a forged
    # cross-site form cannot act through it: CSRF tokens do not apply there.
    from admin.api import bp as api_bp
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)

    app.jinja_env.globals.update(L=labels, label=labels.label)
    app.after_request(_security_headers)
    _error_pages(app)
    return app


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint and not request.endpoint.startswith("static"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error_pages(app: Flask) -> None:
    def page(code: int, title: str, message: str):
        wants_json = request.accept_mimetypes.best == "application/json"
        if request.path.startswith("/api/") or wants_json:
            return {"error": message, "title": title}, code
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        return page(400, _("The form has expired"),
                    _("This form was not accepted (its security token is missing or old). "
                      "Go back, reload the page and try again."))

    @app.errorhandler(403)
    def forbidden(err):
        return page(403, _("Not allowed"), _("Your role does not allow this. Ask an administrator."))

    @app.errorhandler(404)
    def not_found(err):
        return page(404, _("Not found"), _("This page or record does not exist."))

    @app.errorhandler(413)
    def too_large(err):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return page(413, _("File too large"),
                    _("Uploads may be at most %(mb)d MB. Split the list into smaller files.", mb=limit))

    @app.errorhandler(429)
    def throttled(err):
        return page(429, _("Too many attempts"),
                    _("Too many failed sign-ins. Wait a minute and try again."))
