"""`ivr admin create-user` and `ivr admin serve`."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from ivr.cli import main
from ivr.storage import AuditEntry, StaffUser, connect, session_factory


def test_create_user_makes_the_first_admin(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("IVR_DATABASE_URL", url)
    runner = CliRunner()
    result = runner.invoke(main, ["admin", "create-user", "boss", "--display-name", "王经理"],
                           input="first-admin-pass-1\nfirst-admin-pass-1\n")
    assert result.exit_code == 0, result.output
    assert "created admin boss" in result.output
    engine = connect(url)
    with session_factory(engine)() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.username == "boss"))
        assert user.role == "admin" and user.display_name == "王经理" and user.password_hash.startswith("$argon2id$")
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))
        assert entry.actor == "cli" and entry.target == "user:boss"
    engine.dispose()

    again = runner.invoke(main, ["admin", "create-user", "boss", "--password", "another-pass-22"])
    assert again.exit_code != 0 and "exists" in again.output
    weak = runner.invoke(main, ["admin", "create-user", "clerk", "--role", "operator", "--password", "123"])
    assert weak.exit_code != 0 and "at least 10" in weak.output


def test_serve_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("IVR_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    monkeypatch.delenv("IVR_ADMIN_SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["admin", "serve", "--port", "0"])
    assert result.exit_code != 0 and "IVR_ADMIN_SECRET_KEY" in result.output


def test_the_demo_login_is_made_and_reset_each_run(tmp_path):
    from admin.demo import DEMO_USER, demo_login
    from admin.security import verify_password

    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    first = demo_login(url)
    second = demo_login(url)
    assert first != second
    engine = connect(url)
    with session_factory(engine)() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.username == DEMO_USER))
        assert user.role == "admin" and verify_password(user.password_hash, second)
        assert not verify_password(user.password_hash, first)
    engine.dispose()
