"""The description itself, and who is calling."""
from __future__ import annotations

from flask import g, request

from . import bp
from .core import json_response, route
from .openapi import document


@bp.route("/openapi.json", methods=["GET"], endpoint="get_openapi")
def get_openapi():
    doc = document()
    prefix = request.path[: -len("/openapi.json")]
    doc["servers"] = [{"url": prefix or "/"}]
    return json_response(doc)


@route("/me", ["GET"], "read")
def get_me():
    caller = g.api_caller
    return {"name": caller.name, "prefix": caller.prefix, "scope": caller.scope,
            "ip_allowlist": list(caller.ip_allowlist)}
