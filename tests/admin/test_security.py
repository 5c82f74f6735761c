"""Sign-in, roles, CSRF, throttling, cookies, the audit log."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from admin import create_app
from admin.security import hash_password, verify_password
from ivr.storage import AuditEntry, Campaign, CampaignStatus, StaffUser


@pytest.fixture
def h(helpers):
    return helpers


def test_secret_key_is_required_outside_testing(monkeypatch, sqlite_url):
    monkeypatch.delenv("IVR_ADMIN_SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="IVR_ADMIN_SECRET_KEY"):
        create_app({"DATABASE_URL": sqlite_url})
    monkeypatch.setenv("IVR_ADMIN_SECRET_KEY", "from-the-environment-0123456789")
    app = create_app({"DATABASE_URL": sqlite_url})
    assert app.config["SECRET_KEY"] == "from-the-environment-0123456789"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    app.extensions["ivr_engine"].dispose()


def test_passwords_are_argon2_hashed(db, users, h):
    user = db.scalar(select(StaffUser).where(StaffUser.username == "boss"))
    assert user.password_hash.startswith("$argon2id$") and h.PASSWORD not in user.password_hash
    assert verify_password(user.password_hash, h.PASSWORD)
    assert not verify_password(user.password_hash, h.PASSWORD + "x")
    assert not verify_password(None, h.PASSWORD)


def test_pages_need_sign_in(app):
    client = app.test_client()
    for path in ("/", "/accounts/", "/campaigns/", "/reports/", "/audit/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location, path


def test_login_sets_a_hardened_cookie_and_is_audited(tmp_path, sqlite_url, db, h):
    app = h.make_app(sqlite_url, tmp_path, SESSION_COOKIE_SECURE=True)
    h.add_user(app, "boss", "admin")
    client = app.test_client()
    response = h.login(client, "boss")
    assert response.status_code == 302
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("ivr_admin="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Frame-Options"] == "DENY"
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "login"))
    assert entry.actor == "boss" and entry.ip == "127.0.0.1"
    app.extensions["ivr_engine"].dispose()


def test_wrong_password_is_refused_and_audited(app, users, db, h):
    client = app.test_client()
    response = h.login(client, "boss", "wrong-password-1")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "login.failed")).target == "user:boss"


def test_sixth_wrong_password_in_a_minute_is_throttled(app, users, h):
    client = app.test_client()
    for attempt in range(5):
        assert h.login(client, "clerk", f"wrong-{attempt}-password").status_code == 401
    sixth = h.login(client, "clerk", "wrong-5-password")
    assert sixth.status_code == 429
    assert "登录失败次数过多" in sixth.get_data(as_text=True)
    # even the right password waits until the minute is over
    assert h.login(client, "clerk").status_code == 429
    # another user name from the same address is not locked out by clerk's failures
    assert h.login(client, "boss").status_code == 302


def test_successful_logins_are_not_throttled(app, users, h):
    for _ in range(8):
        client = app.test_client()
        assert h.login(client, "boss").status_code == 302


def test_a_form_without_csrf_token_is_refused(client_for, accounts, db):
    client = client_for("operator")
    response = client.post(f"/accounts/{accounts[0]}/paid", data={"amount": "", "paid_on": "2026-11-01"})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    db.expire_all()
    from ivr.storage import Account
    assert db.get(Account, accounts[0]).paid_at is None


def test_login_form_without_csrf_token_is_refused(app, users, h):
    response = app.test_client().post("/login", data={"username": "boss", "password": h.PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_viewer_cannot_start_a_campaign(client_for, db, accounts, h):
    campaign = Campaign(name="只读测试", settings={})
    db.add(campaign)
    db.commit()
    viewer = client_for("viewer")
    csrf = h.token(viewer, "/")
    response = viewer.post(f"/campaigns/{campaign.id}/start", data={"csrf_token": csrf})
    assert response.status_code == 403
    assert "无权操作" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Campaign, campaign.id).status == CampaignStatus.DRAFT
    # nor see the operator's forms, nor import, nor manage users
    assert viewer.get("/campaigns/new").status_code == 403
    assert viewer.get("/imports/").status_code == 403
    assert viewer.get("/users/").status_code == 403
    assert viewer.get(f"/campaigns/{campaign.id}").status_code == 200


def test_operator_cannot_manage_users_or_read_the_audit_log(client_for):
    operator = client_for("operator")
    assert operator.get("/users/").status_code == 403
    assert operator.get("/audit/").status_code == 403
    assert operator.get("/settings/").status_code == 403


def test_changing_the_password_ends_other_sessions(client_for, db, post_form):
    old = client_for("operator")
    assert old.get("/").status_code == 200
    user = db.scalar(select(StaffUser).where(StaffUser.username == "clerk"))
    user.password_hash = hash_password("another-pass-77")
    db.commit()
    assert old.get("/").status_code == 302


def test_deactivated_user_cannot_sign_in(app, users, db, h):
    user = db.scalar(select(StaffUser).where(StaffUser.username == "reader"))
    user.active = False
    db.commit()
    assert h.login(app.test_client(), "reader").status_code == 401


def test_admin_creates_a_user_and_sees_it_in_the_audit_log(client_for, post_form, db):
    admin = client_for("admin")
    response = post_form(admin, "/users/new", {"username": "wang.l", "display_name": "王磊", "role": "operator",
                                              "department": "collection", "phone": "13700000000",
                                              "locale": "zh_CN", "active": "y", "password": "short"},
                         page="/users/new")
    assert response.status_code == 400 and "至少 10 个字符" in response.get_data(as_text=True)
    response = post_form(admin, "/users/new", {"username": "wang.l", "display_name": "王磊", "role": "operator",
                                              "department": "collection", "phone": "13700000000",
                                              "locale": "zh_CN", "active": "y", "password": "long-enough-1"},
                         page="/users/new")
    assert response.status_code == 302
    user = db.scalar(select(StaffUser).where(StaffUser.username == "wang.l"))
    assert user.role == "operator" and user.department == "collection"
    log = admin.get("/audit/?action=user.create").get_data(as_text=True)
    assert "user:wang.l" in log and "创建用户" in log


def test_the_last_admin_cannot_be_demoted(client_for, post_form, db):
    admin = client_for("admin")
    me = db.scalar(select(StaffUser).where(StaffUser.username == "boss"))
    response = post_form(admin, f"/users/{me.id}", {"display_name": "王经理", "role": "viewer", "locale": "zh_CN",
                                                    "active": "y"}, page=f"/users/{me.id}")
    assert response.status_code == 400
    assert "最后一个有效的管理员" in response.get_data(as_text=True)


def test_logout_needs_post_and_ends_the_session(client_for, post_form):
    client = client_for("viewer")
    assert client.get("/logout").status_code == 405
    assert post_form(client, "/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_open_redirect_after_login_is_refused(app, users, h):
    client = app.test_client()
    response = client.post("/login?next=https://evil.example/x",
                           data={"username": "boss", "password": h.PASSWORD, "csrf_token": h.token(client)})
    assert response.status_code == 302 and response.location == "/"


def test_department_scopes_campaigns(app, db, post_form, h):
    h.add_user(app, "dispatcher", "operator", department="dispatch")
    db.add_all([Campaign(name="停水通知-调度", department="dispatch", settings={}),
                Campaign(name="物业费催缴-收费", department="collection", settings={})])
    db.commit()
    client = app.test_client()
    h.login(client, "dispatcher")
    page = client.get("/campaigns/").get_data(as_text=True)
    assert "停水通知-调度" in page and "物业费催缴-收费" not in page
    other = db.scalar(select(Campaign).where(Campaign.department == "collection"))
    assert client.get(f"/campaigns/{other.id}").status_code == 404


@pytest.mark.parametrize("target, ok", [("/accounts/1", True), ("/x?next=/y", True), ("//evil.example", False),
                                        ("/\\evil.example", False), ("https://evil.example/", False),
                                        ("javascript:alert(1)", False), ("", False)])
def test_only_local_redirects(target, ok):
    from admin.security import local_url
    assert (local_url(target) == target) is ok


def test_a_forged_next_after_an_action_stays_on_the_site(client_for, accounts, post_form):
    response = post_form(client_for("operator"), f"/accounts/{accounts[0]}/note",
                         {"note": "x", "next": "/\\evil.example"}, page=f"/accounts/{accounts[0]}")
    assert response.status_code == 302 and response.location == f"/accounts/{accounts[0]}"


def test_the_http_api_is_mounted_without_csrf_or_cookies(app):
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.get_json()["openapi"].startswith("3.")
    refused = client.post("/api/v1/campaigns", json={"name": "x"}, headers={"Idempotency-Key": "k"})
    assert refused.status_code == 401            # an API key is needed, not a CSRF token
    assert "Set-Cookie" not in refused.headers and "Set-Cookie" not in spec.headers
