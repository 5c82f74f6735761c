"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json.

The request schemas here are also what the API validates bodies and query strings against
(admin.api.schema), and the tests run schemathesis against the served document, so the
description stays true in both directions.
"""
from __future__ import annotations

import copy
from typing import Any

from ivr.voice.templates import VARIABLES
from ivr.webhooks import EVENTS

MESSAGE_TEMPLATES = ["arrears-first", "arrears-firm", "arrears-broken-promise", "arrears-pre-promise",
                     "remote-payment", "outage-notice"]
MAX_INT = 2_147_483_647
MAX_BULK = 1000


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def string(max_length: int, min_length: int = 0, **extra) -> dict:
    return {"type": "string", "maxLength": max_length, "minLength": min_length, **extra}


def nullable(schema: dict) -> dict:
    """In OpenAPI 3.0 keywords next to a $ref are ignored, so a nullable reference is inlined."""
    if "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return {**schema, "nullable": True}


def obj(properties: dict, required: list[str] = (), **extra) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": False, **extra}
    if required:
        schema["required"] = list(required)
    return schema


def out(properties: dict) -> dict:
    """A response object: every listed field is always present."""
    return {"type": "object", "properties": properties, "required": list(properties)}


INT_ID = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
TS = nullable({"type": "string", "format": "date-time"})
DAY = nullable({"type": "string", "format": "date"})
TEXT = {"type": "string"}
N_TEXT = nullable({"type": "string"})
COUNT = {"type": "integer", "minimum": 0}

SCHEMAS: dict[str, Any] = {}
SCHEMAS.update({
    # -- shared ------------------------------------------------------------------------------
    "ExternalId": string(64, 1, pattern="^[A-Za-z0-9][A-Za-z0-9._:-]*$",
                         description="The business system's id: letters, digits and . _ : - "
                                     "(first a letter or digit), at most 64.",
                         **{"x-message": "only letters, digits and . _ : - (first a letter or digit)"}),
    "Money": string(13, 1, pattern="^[0-9]{1,10}([.][0-9]{1,2})?$",
                    description='Yuan as a decimal string, e.g. "1234.50".',
                    **{"x-message": 'must be an amount like "1234.50"'}),
    "PhoneInput": string(32, 3, pattern="^[+]?[0-9 ()-]+$",
                         description="A Chinese mobile or landline number. Digits, spaces, '-', "
                                     "'(' ')' and a leading '+86' are accepted and normalised "
                                     "to digits as dialed (13800000001, 02160000001).",
                         **{"x-message": "only digits, spaces, '-', '(', ')' and a leading '+' "
                                         "are allowed in a phone number"}),
    "CallerId": string(20, 3, pattern="^[0-9]+$",
                       description="Digits only; must be on the configured caller ID allowlist.",
                       **{"x-message": "caller ID must be digits only"}),
    "Variables": obj({name: string(200, 1) for name in VARIABLES},
                     description="Template variables (see the message templates)."),
})
SCHEMAS.update({
    "Error": {"type": "object", "required": ["error", "message"], "properties": {
        "error": TEXT, "message": TEXT,
        "fields": {"type": "object", "additionalProperties": TEXT,
                   "description": "Per-field messages, keyed by the field's path, e.g. accounts[2].phones[0]."}}},

    # -- accounts ----------------------------------------------------------------------------
    "AccountInput": obj({
        "external_id": ref("ExternalId"),
        "room": string(64), "building": string(32), "area": string(100),
        "owner_name": string(100), "title": string(20),
        "department": nullable(string(32)),
        "amount_owed": nullable(ref("Money")),
        "months_owed": nullable({"type": "integer", "minimum": 0, "maximum": 1200}),
        "due_date": nullable({"type": "string", "format": "date"}),
        "phones": {"type": "array", "items": ref("PhoneInput"), "maxItems": 5,
                   "description": "Replaces the account's numbers, in the order to try them."},
        "variables": ref("Variables"),
        "note": nullable(string(2000)),
    }, ["external_id"], description="Fields left out are left unchanged on an existing account."),
    "AccountsUpsert": obj({"accounts": {"type": "array", "items": ref("AccountInput"), "minItems": 1,
                                        "maxItems": MAX_BULK}}, ["accounts"]),
    "Phone": out({"number": TEXT, "kind": {"type": "string", "enum": ["mobile", "landline"]},
                  "unreachable": {"type": "boolean"}}),
    "Account": out({
        "id": {"type": "integer"}, "external_id": N_TEXT, "room": TEXT, "building": TEXT, "area": TEXT,
        "owner_name": TEXT, "title": TEXT, "department": N_TEXT,
        "amount_owed": N_TEXT, "months_owed": nullable({"type": "integer"}), "due_date": DAY,
        "paid_at": TS, "paid_amount": N_TEXT,
        "class": {"type": "string", "enum": ["A", "B", "C", "D", "E"]},
        "promised_date": DAY, "promise_status": N_TEXT, "complaint": N_TEXT, "note": N_TEXT,
        "variables": {"type": "object", "additionalProperties": TEXT},
        "phones": {"type": "array", "items": ref("Phone")},
        "updated_at": TS,
    }),
    "AccountList": out({"accounts": {"type": "array", "items": ref("Account")}, "next_cursor": N_TEXT}),
    "UpsertResult": out({"created": COUNT, "updated": COUNT, "accounts": {"type": "array", "items": out({
        "external_id": TEXT, "id": {"type": "integer"}, "created": {"type": "boolean"}})}}),

    # -- payments ----------------------------------------------------------------------------
    "PaymentInput": obj({
        "external_id": ref("ExternalId"),
        "account": ref("ExternalId"),
        "amount": nullable(ref("Money")),
        "paid_on": {"type": "string", "format": "date"},
    }, ["external_id", "account", "paid_on"],
        description="amount left out or null: the account is paid in full. Less than what is owed: "
                    "partly paid (the account stays in its campaigns)."),
    "PaymentsCreate": obj({"payments": {"type": "array", "items": ref("PaymentInput"), "minItems": 1,
                                        "maxItems": MAX_BULK}}, ["payments"]),
    "PaymentResult": out({"payments": {"type": "array", "items": out({
        "external_id": TEXT, "account": TEXT,
        "status": {"type": "string", "enum": ["recorded", "duplicate"]},
        "account_paid": {"type": "boolean"}, "paid_amount": N_TEXT, "attempts_skipped": COUNT})}}),

    # -- campaigns and notices ---------------------------------------------------------------
    "CampaignCreate": obj({
        "name": string(200, 1),
        "kind": {"type": "string", "enum": ["arrears", "outage", "notice"]},
        "template": {"type": "string", "enum": MESSAGE_TEMPLATES},
        "message": string(2000, 1, description="Custom message text with {variables}, instead of a template."),
        "variables": ref("Variables"),
        "accounts": {"type": "array", "items": ref("ExternalId"), "maxItems": 10000},
        "area": string(100, 1), "buildings": {"type": "array", "items": string(32, 1), "maxItems": 200},
        "caller_id": ref("CallerId"),
        "start_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "external_id": ref("ExternalId"),
        "start": {"type": "boolean", "description": "Start at once (or at start_at). Default false: a draft."},
    }, ["name"]),
    "NoticeCreate": obj({
        "external_id": ref("ExternalId"),
        "kind": {"type": "string", "enum": ["outage", "notice"]},
        "name": string(200, 1),
        "template": {"type": "string", "enum": MESSAGE_TEMPLATES},
        "message": string(2000, 1),
        "variables": ref("Variables"),
        "accounts": {"type": "array", "items": ref("ExternalId"), "maxItems": 10000},
        "area": string(100, 1), "buildings": {"type": "array", "items": string(32, 1), "maxItems": 200},
        "deadline": {"type": "string", "format": "date-time",
                     "description": "No call is started after this time."},
        "caller_id": ref("CallerId"),
    }, ["external_id", "deadline"], description="Give accounts, or an area (optionally narrowed to buildings)."),
    "CampaignAccountsAdd": obj({
        "accounts": {"type": "array", "items": ref("ExternalId"), "maxItems": 10000},
        "area": string(100, 1), "buildings": {"type": "array", "items": string(32, 1), "maxItems": 200},
    }),
    "CampaignAction": obj({}, description="No fields; the body may be empty."),
    "Counts": out({
        "contacts": COUNT, "contacts_active": COUNT, "contacts_done": COUNT, "contacts_stopped": COUNT,
        "stop_reasons": {"type": "object", "additionalProperties": COUNT},
        "attempts": COUNT, "attempts_queued": COUNT, "attempts_dialing": COUNT, "attempts_done": COUNT,
        "attempts_failed": COUNT, "attempts_skipped": COUNT, "attempts_unknown": COUNT,
        "dispositions": {"type": "object", "additionalProperties": COUNT},
        "accounts_reached": COUNT, "accounts_promised": COUNT, "accounts_paid": COUNT,
        "amount_owed": TEXT, "amount_paid": TEXT,
    }),
    "Campaign": out({
        "id": {"type": "integer"}, "external_id": N_TEXT, "name": TEXT,
        "kind": {"type": "string", "enum": ["arrears", "outage", "notice"]},
        "status": {"type": "string", "enum": ["draft", "scheduled", "running", "paused", "completed",
                                              "cancelled"]},
        "template": TEXT, "message": N_TEXT,
        "variables": {"type": "object", "additionalProperties": TEXT}, "caller_id": N_TEXT,
        "start_at": TS, "ends_at": TS, "created_at": TS, "started_at": TS, "finished_at": TS,
        "counts": ref("Counts"),
    }),
    "CampaignList": out({"campaigns": {"type": "array", "items": ref("Campaign")}, "next_cursor": N_TEXT}),
    "CampaignChange": out({"campaign": ref("Campaign"), "queued": COUNT, "skipped": COUNT}),

    # -- attempts ----------------------------------------------------------------------------
    "Attempt": out({
        "id": {"type": "integer"}, "campaign_id": {"type": "integer"}, "campaign_external_id": N_TEXT,
        "account_id": {"type": "integer"}, "account_external_id": N_TEXT,
        "parent_id": nullable({"type": "integer"}), "number": TEXT,
        "status": {"type": "string", "enum": ["queued", "dialing", "done", "failed", "unknown", "skipped"]},
        "disposition": N_TEXT, "dial_status": N_TEXT, "hangup_cause": nullable({"type": "integer"}),
        "stage": N_TEXT, "keys": N_TEXT, "choice": N_TEXT, "promised_date": DAY, "message_stage": N_TEXT,
        "message_text": N_TEXT, "has_voice_message": {"type": "boolean"},
        "scheduled_at": TS, "dialed_at": TS, "answered_at": TS, "ended_at": TS, "error": N_TEXT,
    }),
    "AttemptList": out({"attempts": {"type": "array", "items": ref("Attempt")}, "next_cursor": N_TEXT}),

    # -- opt-outs ----------------------------------------------------------------------------
    "OptOutCreate": obj({"numbers": {"type": "array", "items": ref("PhoneInput"), "minItems": 1,
                                     "maxItems": MAX_BULK},
                         "reason": string(200)}, ["numbers"]),
    "OptOut": out({"number": TEXT, "reason": TEXT, "source": TEXT, "created_at": TS}),
    "OptOutResult": out({"opt_outs": {"type": "array", "items": out({
        "number": TEXT, "created": {"type": "boolean"}, "attempts_skipped": COUNT})}}),
    "OptOutList": out({"opt_outs": {"type": "array", "items": ref("OptOut")}, "next_cursor": N_TEXT}),

    # -- webhooks ----------------------------------------------------------------------------
    "WebhookCreate": obj({
        "url": string(500, 8, pattern="^https?://[^\\s]+$", **{"x-message": "must be an http:// or https:// URL"}),
        "events": {"type": "array", "items": {"type": "string", "enum": list(EVENTS)}, "uniqueItems": True,
                   "description": "Events to receive; empty or left out: all."},
        "secret": string(100, 16, pattern="^[\\x21-\\x7e]+$",
                         description="Signing secret; generated when left out.",
                         **{"x-message": "printable ASCII without spaces"}),
    }, ["url"]),
    "Webhook": out({"id": {"type": "integer"}, "url": TEXT, "events": {"type": "array", "items": TEXT},
                    "active": {"type": "boolean"}, "created_at": TS}),
    "WebhookCreated": out({"webhook": ref("Webhook"), "secret": TEXT}),
    "WebhookList": out({"webhooks": {"type": "array", "items": ref("Webhook")}}),
    "Delivery": out({"id": {"type": "integer"}, "webhook_id": {"type": "integer"}, "event": TEXT,
                     "status": {"type": "string", "enum": ["pending", "delivered", "failed", "cancelled"]},
                     "tries": COUNT, "next_try_at": TS, "last_error": N_TEXT,
                     "response_code": nullable({"type": "integer"}), "created_at": TS, "delivered_at": TS,
                     "payload": {"type": "object"}}),
    "DeliveryList": out({"deliveries": {"type": "array", "items": ref("Delivery")}, "next_cursor": N_TEXT}),
    "PingResult": out({"delivery_id": {"type": "integer"}}),
    "WebhookEnvelope": out({"id": {"type": "integer", "description": "Delivery id (also X-IVR-Delivery)."},
                            "event": {"type": "string", "enum": list(EVENTS) + ["ping"]},
                            "created_at": TS, "data": {"type": "object"}}),

    "Me": out({"name": TEXT, "prefix": TEXT, "scope": {"type": "string", "enum": ["read", "write", "admin"]},
               "ip_allowlist": {"type": "array", "items": TEXT}}),
})

ERRORS = {
    "400": "Invalid request: `fields` names each bad field.",
    "401": "Missing, unknown or revoked API key.",
    "403": "The key's scope or IP allowlist does not allow this.",
    "404": "No such resource.",
    "409": "Conflicts with the current state (e.g. starting a cancelled campaign).",
    "413": "Body too large.",
    "415": "The body must be application/json.",
    "422": "This Idempotency-Key was used with a different request.",
    "429": "Rate limit of this key exceeded; see Retry-After.",
}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def _ok(schema: str, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": True,
               "description": "Unique per intended action. A retry with the same key and body returns the "
                              "first response (header Idempotent-Replayed: true) and does nothing again.",
               "schema": string(200, 1, pattern="^[\\x21-\\x7e]+$")}
CURSOR = {"name": "cursor", "in": "query", "required": False,
          "description": "next_cursor of the previous page.", "schema": string(100, 1)}
LIMIT = {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}}


def _path_param(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict, description: str = "") -> dict:
    p = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        p["description"] = description
    return p


def op(op_id: str, summary: str, ok: dict, *, scope: str, body: str | None = None,
       body_required: bool = True, params: list[dict] = (), errors: tuple[str, ...] = ()) -> dict:
    operation: dict[str, Any] = {"operationId": op_id, "summary": summary,
                                 "description": f"Scope: `{scope}`.", "parameters": list(params),
                                 "responses": dict(ok)}
    codes = ("400", "401", "403", "413", "429") + tuple(errors)
    if body is not None:
        operation["parameters"] = [IDEMPOTENCY, *operation["parameters"]]
        operation["requestBody"] = {"required": body_required,
                                    "content": {"application/json": {"schema": ref(body)}}}
        codes += ("415", "422")
    for code in sorted(set(codes)):
        operation["responses"][code] = _error(ERRORS[code])
    operation["responses"]["default"] = _error("Other errors, same shape.")
    return operation


CAMPAIGN_ID = _path_param("campaign_id", INT_ID)


def _action(name: str, summary: str) -> dict:
    return {"post": op(f"{name}Campaign", summary, {"200": _ok("CampaignChange")}, scope="write",
                       body="CampaignAction", body_required=False, params=[CAMPAIGN_ID],
                       errors=("404", "409"))}


PATHS: dict[str, Any] = {
    "/openapi.json": {"get": {"operationId": "getOpenApi", "summary": "This description.", "security": [],
                              "responses": {"200": {"description": "OpenAPI 3 document",
                                                    "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/me": {"get": op("getMe", "The calling key.", {"200": _ok("Me")}, scope="read")},
    "/accounts": {
        "post": op("upsertAccounts", "Create or update accounts in bulk, by external id.",
                   {"200": _ok("UpsertResult")}, scope="write", body="AccountsUpsert", errors=("409",)),
        "get": op("listAccounts", "List accounts.", {"200": _ok("AccountList")}, scope="read",
                  params=[_query("area", string(100, 1)), _query("building", string(32, 1)),
                          _query("class", {"type": "string", "enum": ["A", "B", "C", "D", "E"]}),
                          CURSOR, LIMIT]),
    },
    "/accounts/{external_id}": {"get": op("getAccount", "One account.", {"200": _ok("Account")}, scope="read",
                                          params=[_path_param("external_id", ref("ExternalId"))],
                                          errors=("404",))},
    "/payments": {"post": op("postPayments",
                             "Record payments (paid, partly paid). A paid account's queued calls are dropped.",
                             {"200": _ok("PaymentResult")}, scope="write", body="PaymentsCreate",
                             errors=("409",))},
    "/campaigns": {
        "post": op("createCampaign", "Create a campaign from a template (a draft unless start is true).",
                   {"201": _ok("Campaign", "Created"), "200": _ok("Campaign", "Already created with this external_id")},
                   scope="write", body="CampaignCreate", errors=("409",)),
        "get": op("listCampaigns", "List campaigns, newest first.", {"200": _ok("CampaignList")}, scope="read",
                  params=[_query("status", {"type": "string", "enum": ["draft", "scheduled", "running", "paused",
                                                                       "completed", "cancelled"]}),
                          _query("kind", {"type": "string", "enum": ["arrears", "outage", "notice"]}),
                          CURSOR, LIMIT]),
    },
    "/campaigns/{campaign_id}": {"get": op("getCampaign", "A campaign's status with counts.",
                                           {"200": _ok("Campaign")}, scope="read", params=[CAMPAIGN_ID],
                                           errors=("404",))},
    "/campaigns/{campaign_id}/accounts": {"post": op(
        "addCampaignAccounts", "Add accounts (by external id, or an area) to a campaign.",
        {"200": _ok("CampaignChange")}, scope="write", body="CampaignAccountsAdd", params=[CAMPAIGN_ID],
        errors=("404", "409"))},
    "/campaigns/{campaign_id}/start": _action("start", "Start (or schedule for start_at)."),
    "/campaigns/{campaign_id}/pause": _action("pause", "Pause: no new calls until resumed."),
    "/campaigns/{campaign_id}/resume": _action("resume", "Resume a paused campaign."),
    "/campaigns/{campaign_id}/cancel": _action("cancel", "Cancel: queued calls are dropped."),
    "/notices": {"post": op(
        "createNotice", "Create and start an outage or general notice in one call.",
        {"201": _ok("Campaign", "Created and started"),
         "200": _ok("Campaign", "Already created with this external_id and the same content")},
        scope="write", body="NoticeCreate", errors=("409",))},
    "/notices/{external_id}": {"get": op("getNotice", "A notice's status with counts.", {"200": _ok("Campaign")},
                                         scope="read", params=[_path_param("external_id", ref("ExternalId"))],
                                         errors=("404",))},
    "/attempts": {"get": op(
        "listAttempts", "Call attempts and their results, oldest first.", {"200": _ok("AttemptList")},
        scope="read", params=[
            _query("campaign_id", INT_ID), _query("account", ref("ExternalId"), "Account external id."),
            _query("class", {"type": "string", "enum": ["A", "B", "C", "D", "E"]}, "The account's current class."),
            _query("status", {"type": "string", "enum": ["queued", "dialing", "done", "failed", "unknown",
                                                         "skipped"]}),
            _query("disposition", string(24, 1)),
            _query("since", {"type": "string", "format": "date-time"}, "Attempts that ended at or after this."),
            _query("until", {"type": "string", "format": "date-time"}, "Attempts that ended before this."),
            CURSOR, LIMIT])},
    "/attempts/{attempt_id}": {"get": op("getAttempt", "One attempt.", {"200": _ok("Attempt")}, scope="read",
                                         params=[_path_param("attempt_id", INT_ID)], errors=("404",))},
    "/opt-outs": {
        "post": op("postOptOuts", "Put numbers on the do-not-call list; their queued calls are dropped.",
                   {"200": _ok("OptOutResult")}, scope="write", body="OptOutCreate", errors=("409",)),
        "get": op("listOptOuts", "The do-not-call list.", {"200": _ok("OptOutList")}, scope="read",
                  params=[CURSOR, LIMIT]),
    },
    "/webhooks": {
        "post": op("createWebhook", "Register a URL for signed events (the secret is shown once).",
                   {"201": _ok("WebhookCreated", "Created")}, scope="admin", body="WebhookCreate", errors=("409",)),
        "get": op("listWebhooks", "Registered webhooks.", {"200": _ok("WebhookList")}, scope="admin"),
    },
    "/webhooks/{webhook_id}": {
        "get": op("getWebhook", "One webhook.", {"200": _ok("Webhook")}, scope="admin",
                  params=[_path_param("webhook_id", INT_ID)], errors=("404",)),
        "delete": op("deleteWebhook", "Deactivate: nothing more is sent; the delivery log stays.",
                     {"200": _ok("Webhook")}, scope="admin", params=[_path_param("webhook_id", INT_ID)],
                     errors=("404",)),
    },
    "/webhooks/{webhook_id}/deliveries": {"get": op(
        "listDeliveries", "The delivery log, newest first.", {"200": _ok("DeliveryList")}, scope="admin",
        params=[_path_param("webhook_id", INT_ID), CURSOR, LIMIT], errors=("404",))},
    "/webhooks/{webhook_id}/ping": {"post": op(
        "pingWebhook", "Queue a signed test event (ping) for this webhook.", {"202": _ok("PingResult", "Queued")},
        scope="admin", body="CampaignAction", body_required=False,
        params=[_path_param("webhook_id", INT_ID)], errors=("404", "409"))},
}

DESCRIPTION = """\
The HTTP API for billing and customer-service systems: push accounts, payments and notices,
read results. JSON in and out.

**Authentication**: `Authorization: Bearer ivr_<prefix>_<secret>`. Keys are created by an
administrator, shown once, stored hashed; scope `read` (GET only), `write` (also POST) or
`admin` (also webhooks); optional IP allowlist. No cookies. Every call is audited; each key is
rate-limited (429 with Retry-After).

**Idempotency**: every POST needs an `Idempotency-Key` header. The same key with the same body
returns the stored response and does nothing again; with a different body: 422. Notices also
carry a unique `external_id`.

**Errors**: `{"error": code, "message": text, "fields": {"accounts[0].phones[1]": "..."}}`.

**Webhooks**: POST of `WebhookEnvelope` JSON to each registered URL, with headers
`X-IVR-Event`, `X-IVR-Delivery` (id; deduplicate on it), `X-IVR-Timestamp` (Unix seconds) and
`X-IVR-Signature: sha256=HEX(HMAC-SHA256(secret, timestamp + "." + raw body))`. Non-2xx answers
are retried with exponential backoff (10 s, 20 s, 40 s … hourly; about 6 hours). Events:
`attempt.finished` (data.attempt: an Attempt), `promise.made`, `promise.broken`,
`opt_out.recorded`, `campaign.finished` (data.campaign: a Campaign).
"""


def document() -> dict:
    return copy.deepcopy({
        "openapi": "3.0.3",
        "info": {"title": "IVR broadcast API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/api/v1"}],
        "security": [{"apiKey": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "ivr_<prefix>_<secret>"}},
        },
    })


def operation(op_id: str) -> dict:
    for methods in PATHS.values():
        for spec in methods.values():
            if spec.get("operationId") == op_id:
                return spec
    raise KeyError(op_id)
