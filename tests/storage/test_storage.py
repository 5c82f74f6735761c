"""The schema on both stores: migrations apply (twice), records round-trip exactly."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import inspect, select, text

from ivr.storage import Attempt, AttemptStatus, Campaign, CampaignKind, Contact, connect, upgrade


def test_migration_is_idempotent_and_creates_the_tables(db_url):
    upgrade(db_url)  # second time: nothing to do, no error
    engine = connect(db_url)
    tables = set(inspect(engine).get_table_names())
    assert {"campaign", "contact", "attempt", "alembic_version"} <= tables
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    engine.dispose()


def test_records_round_trip(sessions):
    with sessions() as s:
        c = Campaign(name="十一月物业费催缴", kind=CampaignKind.ARREARS, settings={"cps": 2})
        s.add(c)
        s.flush()
        owner = Contact(campaign_id=c.id, room="3栋2单元1501", owner_name="张伟", title="先生",
                        phone="13800000001", amount_owed=Decimal("1234.50"), months_owed=3,
                        due_date=date(2026, 11, 30))
        s.add(owner)
        s.flush()
        first = Attempt(campaign_id=c.id, contact_id=owner.id, number="13800000001",
                        status=AttemptStatus.DONE, disposition="no_answer", hangup_cause=16)
        s.add(first)
        s.flush()
        retry = Attempt(campaign_id=c.id, contact_id=owner.id, number="13800000001",
                        parent_id=first.id, keys="20261130", key_log="20261130#",
                        answered_at=datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc))
        s.add(retry)
        s.commit()
        ids = (owner.id, retry.id)
    with sessions() as s:
        owner = s.get(Contact, ids[0])
        assert owner.amount_owed == Decimal("1234.50") and owner.owner_name == "张伟"
        assert owner.campaign.settings == {"cps": 2}
        assert [a.status for a in owner.attempts] == [AttemptStatus.DONE, AttemptStatus.QUEUED]
        retry = s.get(Attempt, ids[1])
        assert retry.parent_id == owner.attempts[0].id and retry.key_log == "20261130#"
        assert retry.answered_at.astimezone(timezone.utc).hour == 2
        queued = s.scalars(select(Attempt).where(Attempt.status == AttemptStatus.QUEUED)).all()
        assert [a.id for a in queued] == [ids[1]]


def test_sqlite_runs_in_wal_mode(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    upgrade(url)
    engine = connect(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
