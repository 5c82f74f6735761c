"""The schema on both stores: migrations apply (twice), records round-trip exactly."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import inspect, select, text

from ivr.dialer.seed import campaign_with_accounts
from ivr.storage import Account, Attempt, AttemptStatus, connect, upgrade

TABLES = {"account", "phone", "payment", "do_not_call", "campaign", "contact", "attempt",
          "staff_user", "audit_log", "api_key", "idempotency_record", "webhook",
          "webhook_delivery", "system_setting", "alembic_version"}


def test_migration_is_idempotent_and_creates_the_tables(db_url):
    upgrade(db_url)  # second time: nothing to do, no error
    engine = connect(db_url)
    assert TABLES <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
    engine.dispose()


def test_records_round_trip(sessions):
    with sessions() as s:
        campaign = campaign_with_accounts(s, "十一月物业费催缴", [dict(
            room="3栋2单元1501", owner_name="张伟", title="先生", phones=["13800000001", "02160000001"],
            amount_owed=Decimal("1234.50"), months_owed=3, due_date=date(2026, 11, 30))],
            settings={"cps": 2})
        first = s.scalars(select(Attempt).where(Attempt.campaign_id == campaign.id)).one()
        first.status, first.disposition, first.hangup_cause = AttemptStatus.DONE, "no_answer", 16
        retry = Attempt(campaign_id=campaign.id, contact_id=first.contact_id, account_id=first.account_id,
                        number="13800000001", parent_id=first.id, keys="20261130",
                        key_log="20261130#", promised_date=date(2026, 11, 30),
                        answered_at=datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc))
        s.add(retry)
        s.commit()
        account_id, retry_id = first.account_id, retry.id
    with sessions() as s:
        owner = s.get(Account, account_id)
        assert owner.amount_owed == Decimal("1234.50") and owner.owner_name == "张伟"
        assert [p.number for p in owner.phones] == ["13800000001", "02160000001"]
        retry = s.get(Attempt, retry_id)
        assert retry.contact.campaign.settings == {"cps": 2}
        assert retry.parent_id is not None and retry.key_log == "20261130#"
        assert retry.answered_at.astimezone(timezone.utc).hour == 2
        queued = s.scalars(select(Attempt).where(Attempt.status == AttemptStatus.QUEUED)).all()
        assert [a.id for a in queued] == [retry_id]


def test_sqlite_runs_in_wal_mode(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    upgrade(url)
    engine = connect(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
