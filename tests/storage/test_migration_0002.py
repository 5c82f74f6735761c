"""Migration 0002 (recurring runs) on both stores: applies over data, matches the models, and
the unique index refuses a second run for one occurrence."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ivr.storage import Base, Campaign, connect
from ivr.storage.db import alembic_config


def test_0002_applies_over_existing_data_and_matches_the_models(db_url):
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0001")
    engine = connect(db_url)
    with engine.begin() as conn:   # a campaign with a contact pointing at it (SQLite must not copy the table)
        conn.execute(text("INSERT INTO campaign (id, name, kind, status, template, trunk, settings, created_at) "
                          "VALUES (1, 'x', 'arrears', 'draft', 'arrears-first', 'carrier', '{}', '2026-11-01')"))
        conn.execute(text("INSERT INTO account (id, room, building, area, owner_name, title, variables, "
                          "account_class, created_at, updated_at) "
                          "VALUES (1, '1', '', '', '', '', '{}', 'B', '2026-11-01', '2026-11-01')"))
        conn.execute(text("INSERT INTO contact (id, campaign_id, account_id, status, message_stage, created_at) "
                          "VALUES (1, 1, 1, 'active', 'first', '2026-11-01')"))
    engine.dispose()
    command.upgrade(cfg, "head")
    engine = connect(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM contact")).scalar() == 1
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_one_run_per_parent_and_occurrence(sessions):
    at = datetime(2026, 12, 5, 1, 30, tzinfo=timezone.utc)
    with sessions() as s:
        parent = Campaign(name="每月催缴", recurrence="monthly:5@09:30")
        s.add(parent)
        s.flush()
        s.add(Campaign(name="每月催缴 2026-12-05", parent_id=parent.id, occurrence=at))
        s.commit()
        s.add(Campaign(name="again", parent_id=parent.id, occurrence=at))
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
        # ordinary campaigns (no parent, no occurrence) are not limited
        s.add_all([Campaign(name="a"), Campaign(name="b")])
        s.commit()
