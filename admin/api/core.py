"""What every API call goes through: body size limit → API key (401/403) → rate limit (429)
→ scope (403) → for POST, Idempotency-Key (stored response or a new action, committed together)
→ the view → JSON → an audit row. No cookies are read or set; CSRF does not apply.

Views return `(payload, status)` or a payload (200) and never commit: the wrapper commits the
change and the idempotency record in one transaction, so a retried request either sees the
whole first outcome or none of it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException

from ivr.storage import connect, session_factory
from ivr.storage.models import AuditEntry, IdempotencyRecord, utcnow

from . import bp
from .keys import AuthFailure, Caller, authenticate, touch
from .limits import TokenBucket, retry_after
from .openapi import MAX_INT, PATHS, SCHEMAS, operation
from .schema import Validator, parse_datetime

log = logging.getLogger("admin.api")

DEFAULT_MAX_BODY = 2 * 1024 * 1024
DEFAULT_RATE = "600/minute"
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")
validator = Validator(SCHEMAS)
_setup_lock = threading.Lock()


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message
        self.fields, self.headers = fields, headers or {}


def invalid(fields: dict[str, str], message: str = "the request has invalid fields") -> ApiError:
    return ApiError(400, "invalid_request", message, fields)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"no such {what}")


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = current_app.response_class(json.dumps(payload, ensure_ascii=False), status,
                                          mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# -- the database ------------------------------------------------------------------------------

def sessions() -> sessionmaker[Session]:
    """The admin's session factory when the app has one (admin.create_app sets
    app.extensions["ivr_sessions"]); otherwise one made from DATABASE_URL, else IVR_DATABASE_URL."""
    app = current_app
    shared = app.extensions.get("ivr_sessions")
    if shared is not None:
        return shared
    state = app.extensions.setdefault("ivr_api", {})
    if "sessions" not in state:
        with _setup_lock:
            if "sessions" not in state:
                from ivr.config import settings

                url = app.config.get("DATABASE_URL") or settings().db_url()
                state["engine"] = connect(url)
                state["sessions"] = session_factory(state["engine"])
    return state["sessions"]


def db() -> Session:
    return g.api_db


def limiter() -> TokenBucket:
    state = current_app.extensions.setdefault("ivr_api", {})
    if "limiter" not in state:
        with _setup_lock:
            if "limiter" not in state:
                state["limiter"] = TokenBucket(current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE))
    return state["limiter"]


# -- the pipeline --------------------------------------------------------------------------------

@bp.before_request
def _limit_body() -> None:
    # Werkzeug refuses a longer body with 413 when the view reads it (Flask ≥ 3.1: per request).
    request.max_content_length = int(current_app.config.get("API_MAX_BODY", DEFAULT_MAX_BODY))
    g.api_audit = {"actor": "api:anonymous"}


def _authenticate(scope: str) -> Caller:
    with sessions()() as session:
        try:
            caller = authenticate(session, request.headers.get("Authorization"), request.remote_addr)
        except AuthFailure as failure:
            if failure.prefix:
                g.api_audit["actor"] = f"api:{failure.prefix}"
            g.api_audit["refused"] = failure.code
            headers = {"WWW-Authenticate": 'Bearer realm="ivr"'} if failure.status == 401 else {}
            raise ApiError(failure.status, failure.code, failure.message, headers=headers) from None
    g.api_caller = caller
    g.api_audit["actor"] = caller.actor
    g.api_audit["key_id"] = caller.id
    wait = limiter().take(caller.id)
    if wait:
        g.api_audit["refused"] = "rate_limited"
        raise ApiError(429, "rate_limited", "too many requests for this API key",
                       headers={"Retry-After": retry_after(wait)})
    if not caller.allows(scope):
        g.api_audit["refused"] = "insufficient_scope"
        raise ApiError(403, "insufficient_scope", f"this API key has scope '{caller.scope}'; "
                                                  f"this call needs '{scope}'")
    return caller


def _described(rule: str, method: str) -> dict:
    """The OpenAPI operation of a route (every route must have one: checked at import)."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
    return PATHS[path][method.lower()]


def route(rule: str, methods: list[str], scope: str) -> Callable:
    """Register an API view needing `scope` (read / write / admin)."""
    declared = {m: {p["name"] for p in _described(rule, m).get("parameters", []) if p["in"] == "query"}
                for m in methods}

    def register(view: Callable) -> Callable:
        @wraps(view)
        def handler(**kwargs):
            caller = _authenticate(scope)
            unknown = [name for name in request.args if name not in declared.get(request.method, declared[methods[0]])]
            if unknown:
                raise invalid({name or "(empty)": "unknown query parameter" for name in unknown},
                              "the query has unknown parameters")
            with sessions()() as session:
                g.api_db = session
                if request.method == "POST":
                    return _idempotent(view, caller, session, kwargs)
                payload, status = _result(view(**kwargs))
                if request.method in ("GET", "HEAD"):
                    session.rollback()
                else:  # DELETE: naturally idempotent, no key needed
                    session.commit()
                return json_response(payload, status)

        handler.api_scope = scope
        bp.add_url_rule(rule, view.__name__, handler, methods=methods)
        return handler
    return register


def _result(value) -> tuple[Any, int]:
    return value if isinstance(value, tuple) else (value, 200)


def _request_hash() -> str:
    raw = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode() if raw.strip() else b""
    except (ValueError, RecursionError):
        canonical = raw
    text = f"{request.method}\n{request.path}\n".encode() + canonical
    return hashlib.sha256(text).hexdigest()


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise ApiError(422, "idempotency_key_reused",
                       "this Idempotency-Key was already used with a different request")
    g.api_audit["replayed"] = True
    return json_response(record.response, record.status_code, {"Idempotent-Replayed": "true"})


def _idempotent(view: Callable, caller: Caller, session: Session, kwargs: dict) -> Response:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise invalid({"Idempotency-Key": "is required on every POST"},
                      "send an Idempotency-Key header (unique per intended action)")
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise invalid({"Idempotency-Key": "must be 1–200 printable ASCII characters without spaces"})
    g.api_audit["idempotency_key"] = key
    request_hash = _request_hash()

    def stored() -> IdempotencyRecord | None:
        return session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == caller.id, IdempotencyRecord.key == key))

    record = stored()
    if record is not None:
        return _replay(record, request_hash)
    try:
        payload, status = _result(view(**kwargs))
        if 200 <= status < 300:
            session.add(IdempotencyRecord(api_key_id=caller.id, key=key, request_hash=request_hash,
                                          status_code=status, response=payload, created_at=utcnow()))
        session.commit()
    except ApiError:
        session.rollback()
        raise
    except IntegrityError:
        # A concurrent request with the same key (or creating the same external id) won.
        session.rollback()
        record = stored()
        if record is not None:
            return _replay(record, request_hash)
        raise ApiError(409, "conflict", "a concurrent request changed the same records; retry") from None
    return json_response(payload, status)


@bp.after_request
def _audit(response: Response) -> Response:
    """One audit row per call (the actions themselves also audit, in their own transaction)."""
    if request.endpoint == "api.get_openapi":
        return response
    info = getattr(g, "api_audit", None) or {"actor": "api:anonymous"}
    detail = {"method": request.method, "status": response.status_code,
              **{k: v for k, v in info.items() if k not in ("actor", "key_id")}}
    try:
        with sessions()() as session:
            session.add(AuditEntry(actor=info["actor"][:100], action=f"api.{request.method.lower()}",
                                   target=request.path[:200], detail=detail,
                                   ip=(request.remote_addr or "")[:64] or None, at=utcnow()))
            if "key_id" in info:
                touch(session, info["key_id"], utcnow())
            session.commit()
    except Exception:  # noqa: BLE001 — never turn a done action into an error response
        log.exception("could not write the API audit entry")
    return response


# -- reading the request ---------------------------------------------------------------------

def body(schema_name: str, *, required: bool = True) -> dict:
    """The JSON body, validated against the named schema (400 naming each bad field)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise invalid({"body": "a JSON body is required"})
        return {}
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid({"body": f"not valid JSON: {exc}"}, "the body is not valid JSON") from None
    except RecursionError:
        raise invalid({"body": "nested too deeply"}, "the body is not usable JSON") from None
    errors = validator.errors(data, SCHEMAS[schema_name])
    if errors:
        raise invalid(errors)
    return data


def query(op_id: str) -> dict[str, Any]:
    """Query parameters of an operation, converted and validated as the description says."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for param in operation(op_id).get("parameters", []):
        if param["in"] != "query" or param["name"] not in request.args:
            continue
        name, schema, raw = param["name"], param["schema"], request.args.get(param["name"])
        schema = validator.resolve(schema)
        if schema.get("type") == "integer":
            if not re.fullmatch(r"-?[0-9]{1,20}", raw):
                errors[name] = "must be a whole number"
                continue
            value: Any = int(raw)
        else:
            value = raw
        found = validator.errors(value, schema, name)
        if found:
            errors.update(found)
            continue
        if schema.get("format") == "date-time":
            value = to_utc(value, name)
        values[name] = value
    if errors:
        raise invalid(errors, "the query has invalid parameters")
    return values


def to_utc(text: str, field: str) -> datetime:
    try:
        return parse_datetime(text).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise invalid({field: "not a usable date-time"}) from None


def path_id(value: int, what: str) -> int:
    if not 1 <= value <= MAX_INT:
        raise not_found(what)
    return value


# -- cursors ------------------------------------------------------------------------------------

def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, number = text.partition(":")
        if version != "v1" or not number.isdigit() or int(number) > MAX_INT:
            raise ValueError
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise invalid({"cursor": "not a cursor this API returned"}) from None


def page(rows: list, limit: int, id_of: Callable[[Any], int]) -> tuple[list, str | None]:
    """rows were fetched with limit + 1: the extra one only says there is a next page."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(id_of(rows[-1]))
    return rows, None


# -- errors: always JSON ------------------------------------------------------------------------

@bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    payload = {"error": err.error, "message": err.message}
    if err.fields:
        payload["fields"] = err.fields
    return json_response(payload, err.status, err.headers)


def _http_error(err: HTTPException):
    code = err.code or 500
    names = {413: ("too_large", f"the body may be at most {request.max_content_length} bytes"),
             404: ("not_found", "no such resource"), 405: ("method_not_allowed", "method not allowed")}
    error, message = names.get(code, (re.sub(r"\W+", "_", (err.name or "error").lower()), err.description or ""))
    headers = {k: v for k, v in err.get_headers() if k in ("Allow", "Retry-After")}
    return json_response({"error": error, "message": message}, code, headers)


# Flask prefers a handler registered for the status code, anywhere, over one for the exception
# class: registering per code on the blueprint keeps the app's HTML error pages (admin) out of
# API responses.
bp.register_error_handler(HTTPException, _http_error)
for _code in (400, 401, 403, 404, 405, 406, 408, 409, 411, 413, 415, 422, 429, 431, 500):
    bp.register_error_handler(_code, _http_error)


@bp.errorhandler(OperationalError)
def _db_unavailable(err: OperationalError):
    log.warning("database unavailable: %s", err)
    return json_response({"error": "unavailable", "message": "the database is busy or unreachable; retry"},
                         503, {"Retry-After": "5"})


@bp.errorhandler(Exception)
def _internal(err: Exception):
    log.exception("API call failed")
    return json_response({"error": "internal_error", "message": "internal error"}, 500)


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@bp.route("/", defaults={"rest": ""}, methods=ALL_METHODS, endpoint="fallback")
@bp.route("/<path:rest>", methods=ALL_METHODS, endpoint="fallback")
def fallback(rest: str):
    """Unknown paths under /api/v1 get JSON 404s, known paths with a wrong method a JSON 405
    (routing errors never reach a blueprint's error handlers, so this route catches them)."""
    adapter = current_app.create_url_adapter(request)
    allowed = []
    for method in ALL_METHODS:
        try:
            rule, _ = adapter.match(method=method, return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint != "api.fallback":
            allowed.append(method)
    if allowed:
        return json_response({"error": "method_not_allowed",
                              "message": f"{request.method} is not allowed here; use {', '.join(allowed)}"},
                             405, {"Allow": ", ".join(allowed)})
    return json_response({"error": "not_found", "message": "no such resource"}, 404)
