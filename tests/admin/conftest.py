"""Fixtures for the staff admin: a SQLite database at the newest schema in tmp_path, the app
made by admin.create_app, signed-in test clients per role, and spreadsheet makers."""
from __future__ import annotations

import csv
import io
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from ivr.config import PROJECT_DIR

# pytest puts tests/ on sys.path (pyproject: pythonpath = ["tests"]), where this folder,
# tests/admin, would be found as a namespace package "admin" before the real admin package
# (the editable install's finder runs after sys.path). Put the project first.
# (Lead: pythonpath = [".", "tests"] in pyproject.toml fixes this for every test folder.)
if getattr(sys.modules.get("admin"), "__file__", None) is None:
    sys.modules.pop("admin", None)
    sys.path.insert(0, str(PROJECT_DIR))

from admin import create_app  # noqa: E402
from admin.db import sessions as app_sessions  # noqa: E402
from admin.security import create_user  # noqa: E402
from ivr.storage import Account, Phone, upgrade  # noqa: E402

PASSWORD = "correct-horse-42"
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def make_app(db_url: str, tmp_path: Path, **extra):
    config = {"TESTING": True, "DATABASE_URL": db_url, "IMPORT_DIR": tmp_path / "imports",
              "AUDIO_DIR": tmp_path / "audio", "TTS_ENGINE": "espeak",
              "VOICE_MESSAGE_DIRS": [tmp_path / "recordings"], "SECRET_KEY": "test-secret-key-0123456789"}
    config.update(extra)
    return create_app(config)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'admin.sqlite'}"
    upgrade(url)
    return url


@pytest.fixture
def app(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path)
    yield app
    app.extensions["ivr_engine"].dispose()


@pytest.fixture
def db(app):
    """A session on the app's database, outside any request. (No app context is kept pushed:
    requests would share it, and with it flask.g, across the whole test.)"""
    session = app_sessions(app)()
    yield session
    session.close()


def add_user(app, username: str, role: str, **kw) -> None:
    s = app_sessions(app)()
    create_user(s, username=username, password=PASSWORD, role=role, **kw)
    s.commit()
    s.close()


def token(client, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token(client)})


@pytest.fixture
def users(app):
    for name, role in (("boss", "admin"), ("clerk", "operator"), ("reader", "viewer")):
        add_user(app, name, role, display_name={"boss": "王经理", "clerk": "李收费员", "reader": "赵查看"}[name],
                 phone="13900000000" if name == "clerk" else None)
    return {"admin": "boss", "operator": "clerk", "viewer": "reader"}


@pytest.fixture
def client_for(app, users):
    """client_for("operator") -> a test client signed in with that role."""
    def make(role: str):
        client = app.test_client()
        response = login(client, users[role])
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client
    return make


@pytest.fixture
def post_form(app):
    """post_form(client, path, data, page=None): POST with the CSRF token taken from `page`."""
    def post(client, path: str, data: dict | None = None, *, page: str = "/", **kw):
        data = dict(data or {})
        data["csrf_token"] = token(client, page)
        return client.post(path, data=data, **kw)
    return post


# -- data ---------------------------------------------------------------------------------

ACCOUNTS = [
    # room, name, title, phones, amount, months, building, area
    ("3栋2单元1501", "张伟", "先生", ["13800000001"], "1234.50", 3, "3栋", "幸福家园"),
    ("3栋2单元1502", "李娜", "女士", ["13800000002", "02160000002"], "860.00", 2, "3栋", "幸福家园"),
    ("5栋1单元0301", "王芳", "女士", ["13800000003"], "2400.00", 6, "5栋", "幸福家园"),
    ("5栋1单元0302", "刘洋", "先生", ["13800000004"], "420.00", 1, "5栋", "幸福家园"),
    ("7栋3单元1203", "陈静", "女士", ["13800000005"], "1500.00", 4, "7栋", "阳光小区"),
]


@pytest.fixture
def accounts(db):
    """Five owners in two estates, unpaid, class B, due 2026-12-31; returns their ids."""
    ids = []
    for room, name, title, phones, amount, months, building, area in ACCOUNTS:
        account = Account(room=room, owner_name=name, title=title, amount_owed=Decimal(amount),
                          months_owed=months, building=building, area=area, due_date=date(2026, 12, 31),
                          phones=[Phone(number=n, position=i, kind="landline" if n.startswith("0") else "mobile")
                                  for i, n in enumerate(phones)], variables={})
        db.add(account)
        db.flush()
        ids.append(account.id)
    db.commit()
    return ids


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


HEADER = ["房号", "业主姓名", "称谓", "联系电话", "欠费金额", "欠费月数", "截止日期"]


@pytest.fixture
def sheets():
    return SimpleNamespace(csv=csv_bytes, xlsx=xlsx_bytes, header=HEADER)


@pytest.fixture
def upload(post_form):
    """upload(client, filename, data, kind="accounts") -> the response after following the
    redirect to the preview (or the refusal)."""
    def run(client, filename: str, data: bytes, kind: str = "accounts", **extra):
        form = {"kind": kind, "file": (io.BytesIO(data), filename), **extra}
        return post_form(client, "/imports/", form, page="/imports/", content_type="multipart/form-data",
                         follow_redirects=True)
    return run


def preview_token(response) -> str:
    match = re.search(r"/imports/([0-9a-f]{32})/save", response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)


@pytest.fixture
def helpers():
    return SimpleNamespace(preview_token=preview_token, token=token, login=login, add_user=add_user,
                           make_app=make_app, PASSWORD=PASSWORD)


def all_accounts(db):
    db.expire_all()
    return db.scalars(select(Account).order_by(Account.id)).all()


@pytest.fixture
def fetch_accounts(db):
    return lambda: all_accounts(db)
