"""Every page renders in Chinese by default and in English on request, with nothing left in the
other language, and the translation catalogue covers every string in the code."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

import admin
from ivr.policy.windows import local_today
from ivr.dialer import campaigns as lifecycle
from ivr.storage import Account, Attempt, AttemptStatus, Campaign, StaffUser

ADMIN_DIR = Path(admin.__file__).parent
PO = ADMIN_DIR / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
CJK = re.compile(r"[\u3400-\u9fff]")


def catalogue():
    with PO.open("rb") as f:
        return read_po(f)


def source_messages() -> set[str]:
    method_map = [("api/**", "ignore"), ("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ADMIN_DIR), method_map, options, keywords={"_": None, "_l": None, "gettext": None,
                                                             "lazy_gettext": None, "ngettext": (1, 2)}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_in_the_code_has_a_chinese_translation():
    po = catalogue()
    translated = {m.id: m.string for m in po if m.id}
    missing = sorted(m for m in source_messages() if not translated.get(m))
    assert missing == [], f"untranslated (run the update in admin/translations/README.md): {missing}"


def test_the_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    po = {m.id: m.string for m in catalogue() if m.id}
    assert mo == po, "messages.mo is stale: pybabel compile -d admin/translations"


@pytest.fixture
def world(db, accounts, users, tmp_path):
    """Something on every page: a running campaign with a settled call, a draft, a payment."""
    running = Campaign(name="十一月催缴", settings={})
    draft = Campaign(name="草稿活动", settings={"filter": {}})
    db.add_all([running, draft])
    db.flush()
    lifecycle.add_accounts(db, running, accounts)
    lifecycle.add_accounts(db, draft, accounts[:2])
    lifecycle.start(db, running, datetime.now(timezone.utc), "clerk")
    attempt = db.scalar(select(Attempt).where(Attempt.account_id == accounts[0]))
    attempt.status, attempt.disposition, attempt.dial_status = AttemptStatus.DONE, "answered", "ANSWER"
    attempt.dialed_at = attempt.ended_at = datetime.now(timezone.utc)
    attempt.promised_date = local_today() + timedelta(days=1)
    lifecycle.mark_paid(db, db.get(Account, accounts[1]), amount=None, paid_on=local_today(), source="admin",
                        actor="clerk")
    db.commit()
    boss = db.scalar(select(StaffUser.id).where(StaffUser.username == "boss"))
    return {"running": running.id, "draft": draft.id, "account": accounts[0], "user": boss}


def pages(w) -> list[str]:
    return ["/", "/accounts/", f"/accounts/{w['account']}", f"/accounts/{w['account']}/evidence",
            "/imports/", "/imports/?kind=payments", "/campaigns/", "/campaigns/new", "/campaigns/new?kind=outage",
            "/campaigns/new?kind=notice", f"/campaigns/{w['running']}", f"/campaigns/{w['draft']}/edit", "/live/",
            f"/live/{w['running']}", "/results/tomorrow", "/results/broken", "/results/unreachable",
            "/results/complaints", "/results/claims", "/reports/", f"/reports/?campaign={w['running']}&group=area",
            "/users/", "/users/new", f"/users/{w['user']}", "/me", "/audit/", "/settings/", "/no-such-page"]


def visible_text(html: str) -> str:
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    html = re.sub(r"<(title|style)>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def chinese_labels() -> list[str]:
    """Translations staff would see if the English page forgot to translate something."""
    from admin.imports.parsing import SYNONYMS

    po = catalogue()
    ids = " ".join(m.id for m in po if m.id)
    headers = {word for words in SYNONYMS.values() for word in words}  # a Chinese file's own columns
    return [m.string for m in po if m.id and len(m.string) >= 4 and CJK.search(m.string)
            and m.string not in ids and m.string not in headers and "%(" not in m.string]


def english_labels() -> list[str]:
    po = catalogue()
    return [m.id for m in po if m.id and len(m.id) >= 14 and m.id.isascii() and "%(" not in m.id
            and not m.id.startswith("(")]


def test_every_page_is_chinese_by_default(client_for, world, upload, sheets, helpers):
    client = client_for("admin")
    preview = upload(client, "a.csv", sheets.csv([sheets.header, ["1栋1", "甲", "先生", "13800000001", "1", "1", ""]]))
    english = english_labels()
    for path in pages(world) + [f"/imports/{helpers.preview_token(preview)}"]:
        response = client.get(path)
        assert response.status_code == (404 if path == "/no-such-page" else 200), path
        html = response.get_data(as_text=True)
        assert '<html lang="zh-CN">' in html and ">概览<" in html, path
        text = visible_text(html)
        leftovers = [e for e in english if e in text]
        assert leftovers == [], (path, leftovers)
    login = client_for("viewer").application.test_client().get("/login").get_data(as_text=True)
    assert "登录" in login and "Sign in" not in visible_text(login)


def test_every_page_is_english_on_request(client_for, world, upload, sheets, helpers):
    client = client_for("admin")
    assert ">Overview<" in client.get("/?lang=en").get_data(as_text=True)   # remembered from here on
    preview = upload(client, "a.csv", sheets.csv([sheets.header, ["1栋1", "甲", "先生", "13800000001", "1", "1", ""]]))
    labels = chinese_labels()
    for path in pages(world) + [f"/imports/{helpers.preview_token(preview)}"]:
        response = client.get(path)
        assert response.status_code == (404 if path == "/no-such-page" else 200), path
        html = response.get_data(as_text=True)
        assert '<html lang="en">' in html and ">Overview<" in html and "概览" not in html, path
        text = visible_text(html)
        leftovers = [label for label in labels if label in text]
        assert leftovers == [], (path, leftovers)
    back = client.get("/?lang=zh_CN").get_data(as_text=True)
    assert ">概览<" in back


def test_a_users_own_language_is_the_default_for_them(app, helpers, db):
    helpers.add_user(app, "mike", "viewer", locale="en")
    client = app.test_client()
    helpers.login(client, "mike")
    assert ">Overview<" in client.get("/").get_data(as_text=True)


def test_money_dates_and_numbers_follow_the_locale(client_for, world):
    client = client_for("viewer")
    zh = client.get(f"/accounts/{world['account']}").get_data(as_text=True)
    assert "¥1,234.50" in zh and "2026年12月31日" in zh
    en = client.get(f"/accounts/{world['account']}?lang=en").get_data(as_text=True)
    assert "CN¥1,234.50" in en and "Dec 31, 2026" in en
    accounts = client.get("/accounts/").get_data(as_text=True)
    assert "5 accounts" in accounts
