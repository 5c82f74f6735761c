"""The HTTP API for business systems, mounted at /api/v1 by admin.create_app:

    app.register_blueprint(bp, url_prefix="/api/v1")

API keys (admin.api.keys.create_api_key), JSON in and out, Idempotency-Key on every POST,
signed webhooks (ivr.webhooks), and an OpenAPI 3 description at /api/v1/openapi.json.
"""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import core  # noqa: E402,F401  (the pipeline, error handlers and the 404/405 fallback)
from . import accounts, campaigns, hooks, meta, results  # noqa: E402,F401
from .keys import create_api_key, list_api_keys, revoke_api_key  # noqa: E402

__all__ = ["bp", "create_api_key", "list_api_keys", "revoke_api_key"]
