"""API keys over real HTTP: scopes, revocation, IP allowlists, rate limits, the audit log,
and no cookies or CSRF."""
from __future__ import annotations

import httpx
import pytest
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import func, select

from admin.api import bp, create_api_key, revoke_api_key
from admin.api.keys import KeyError_, hash_secret
from ivr.storage import ApiKey, AuditEntry, Campaign

from .conftest import Api, make_app, owners, serving


def test_key_is_shown_once_and_stored_hashed(sessions):
    with sessions() as s:
        record, plaintext = create_api_key(s, "billing", "write", ["10.1.2.3", "192.168.0.0/24"], actor="admin")
        s.commit()
        prefix = record.prefix
    assert plaintext.startswith(f"ivr_{prefix}_") and len(plaintext) == 4 + 8 + 1 + 43
    secret = plaintext[len(f"ivr_{prefix}_"):]
    with sessions() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        assert row.key_hash == hash_secret(secret) and secret not in row.key_hash
        assert row.ip_allowlist == ["10.1.2.3/32", "192.168.0.0/24"] and row.scope == "write"
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "api_key.create")).actor == "admin"
    with sessions() as s, pytest.raises(KeyError_):
        create_api_key(s, "x", "superuser")
    with sessions() as s, pytest.raises(KeyError_):
        create_api_key(s, "x", "read", ["not-an-address"])


def test_read_key_reads_but_cannot_write(api, keys):
    assert api.get("/me", key=keys["read"]).json()["scope"] == "read"
    assert api.get("/accounts", key=keys["read"]).status_code == 200
    refused = api.post("/accounts", {"accounts": owners("ro", 1)}, key=keys["read"])
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    assert api.get("/accounts/ro-0").status_code == 404  # nothing was written
    # write keys cannot manage webhooks (they receive owners' data); admin keys can
    assert api.post("/webhooks", {"url": "http://127.0.0.1:9/x"}).status_code == 403
    assert api.post("/webhooks", {"url": "http://127.0.0.1:9/x"}, key=keys["admin"]).status_code == 201


def test_missing_unknown_malformed_and_revoked_keys_get_401(api, keys, sessions):
    assert api.get("/me", key="").status_code == 401
    assert api.get("/me", key="ivr_abcdefgh_" + "x" * 43).status_code == 401
    assert api.get("/me", key="not a key").status_code == 401
    forged = keys["write"][:-1] + ("A" if keys["write"][-1] != "A" else "B")
    assert api.get("/me", key=forged).status_code == 401
    assert api.get("/me").status_code == 200
    with sessions() as s:
        revoke_api_key(s, keys["write"][4:12], actor="admin")
        s.commit()
    refused = api.post("/accounts", {"accounts": owners("rv", 1)})
    assert refused.status_code == 401 and refused.json()["error"] == "key_revoked"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.get("/me").status_code == 401


def test_ip_allowlist(api_app, keys, sessions):
    with sessions() as s:
        _r, local_only = create_api_key(s, "local", "write", ["127.0.0.1"])
        _r, office = create_api_key(s, "office", "write", ["10.0.0.0/8"])
        s.commit()
    # served on 127.0.0.2 (loopback), so the client's address can be 127.0.0.2 too
    with serving(api_app, host="127.0.0.2") as url:
        from_1 = Api(url, local_only, transport=httpx.HTTPTransport(local_address="127.0.0.1"))
        from_2 = Api(url, local_only, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        try:
            assert from_1.get("/me").status_code == 200
            refused = from_2.get("/me")
            assert refused.status_code == 403 and refused.json()["error"] == "address_not_allowed"
            assert from_2.post("/accounts", {"accounts": owners("ip", 1)}).status_code == 403
            assert from_1.get("/me", key=office).status_code == 403
            assert from_2.get("/me", key=keys["write"]).status_code == 200  # no allowlist: anywhere
        finally:
            from_1.close()
            from_2.close()


def test_rate_limited_per_key(db_url, keys):
    app = make_app(db_url)
    app.config["API_RATE_LIMIT"] = "3/minute"
    with serving(app) as url:
        api = Api(url, keys["read"])
        try:
            assert [api.get("/me").status_code for _ in range(3)] == [200, 200, 200]
            limited = api.get("/me")
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
            assert api.get("/me", key=keys["write"]).status_code == 200  # another key: its own bucket
        finally:
            api.close()


def test_every_call_is_audited(api, keys, sessions):
    api.post("/accounts", {"accounts": owners("au", 1)})
    api.get("/accounts/au-0", key=keys["read"])
    api.post("/accounts", {"accounts": owners("au", 1)}, key=keys["read"])  # refused: 403
    api.get("/me", key="ivr_zzzzzzzz_" + "y" * 43)  # refused: 401
    with sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.like("api.%")).order_by(AuditEntry.id)).all()
        calls = [(r.actor, r.action, r.target, r.detail["status"]) for r in rows]
        write, read = f"api:{keys['write'][4:12]}", f"api:{keys['read'][4:12]}"
        assert calls == [(write, "api.post", "/api/v1/accounts", 200),
                         (read, "api.get", "/api/v1/accounts/au-0", 200),
                         (read, "api.post", "/api/v1/accounts", 403),
                         ("api:zzzzzzzz", "api.get", "/api/v1/me", 401)]
        assert all(r.ip == "127.0.0.1" for r in rows)
        assert rows[0].detail["idempotency_key"].startswith("test-")
        assert rows[2].detail["refused"] == "insufficient_scope"
        # the action itself is audited too, in its own transaction, with the key as actor
        upsert = s.scalar(select(AuditEntry).where(AuditEntry.action == "account.upsert"))
        assert upsert.actor == write and upsert.detail["created"] == 1
        assert s.get(ApiKey, s.scalar(select(ApiKey.id).where(ApiKey.prefix == keys["write"][4:12]))).last_used_at


def test_no_cookies_and_no_csrf_token_needed(db_url, keys, sessions):
    """Mounted the way admin.create_app mounts it: CSRF protection on for the app, the API
    blueprint exempt. Calls carry no cookie and get none."""
    from flask import Flask

    app = Flask("with-csrf")
    app.config.update(SECRET_KEY="x", DATABASE_URL=db_url, API_RATE_LIMIT="1000/minute")
    csrf = CSRFProtect(app)
    app.register_blueprint(bp, url_prefix="/api/v1")
    csrf.exempt(bp)
    with serving(app) as url:
        api = Api(url, keys["write"])
        try:
            created = api.post("/campaigns", {"name": "no csrf"})
            assert created.status_code == 201, created.text
            assert "set-cookie" not in created.headers
            assert api.get(f"/campaigns/{created.json()['id']}").headers.get("set-cookie") is None
            # a browser's cookie is not a credential here
            anon = httpx.post(f"{url}/campaigns", json={"name": "x"}, cookies={"ivr_admin": "stolen"},
                              headers={"Idempotency-Key": "k1"})
            assert anon.status_code == 401
        finally:
            api.close()
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 1
