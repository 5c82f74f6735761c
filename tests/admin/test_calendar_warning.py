"""Staff are warned on the overview when the holiday calendar runs out within two months."""
from __future__ import annotations

from datetime import timedelta

import admin.auth
from ivr.policy.windows import local_today


def test_overview_warns_while_next_years_holidays_are_unknown(client_for, monkeypatch):
    viewer = client_for("viewer")
    monkeypatch.setattr(admin.auth, "calendar_known_until", lambda: local_today() + timedelta(days=20))
    page = viewer.get("/").get_data(as_text=True)
    assert 'id="calendar-warning"' in page and "国务院公布下一年的放假安排后" in page
    assert "holidays.csv" in page
    monkeypatch.setattr(admin.auth, "calendar_known_until", lambda: local_today() + timedelta(days=400))
    assert 'id="calendar-warning"' not in viewer.get("/").get_data(as_text=True)
