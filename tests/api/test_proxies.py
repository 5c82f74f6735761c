"""Behind a TLS proxy the client's address comes from X-Forwarded-For, but only when the
operator says how many proxies to trust: otherwise anyone could claim an allowed address."""
from __future__ import annotations

import pytest

from admin import create_app
from admin.api.keys import create_api_key


@pytest.mark.parametrize("trusted, status", [(1, 200), (0, 403)])
def test_allowlist_sees_the_client_behind_a_trusted_proxy_only(db_url, sessions, trusted, status):
    with sessions() as s:
        _row, key = create_api_key(s, "billing", "read", ["203.0.113.9"])
        s.commit()
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "TRUSTED_PROXIES": trusted})
    response = app.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": "203.0.113.9",
                               "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"})           # the proxy's own address
    assert response.status_code == status, response.get_json()
