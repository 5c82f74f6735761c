"""Imports: encodings, XLSX, column mapping, the row-by-row report, all-or-nothing saving,
duplicates, payments, and hostile files."""
from __future__ import annotations

import io
import re
import socket
import threading
import time
import tracemalloc
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from admin.imports import parsing
from ivr.dialer import campaigns as lifecycle
from ivr.storage import (Account, Attempt, AttemptStatus, AuditEntry, Campaign, Contact, ContactStatus,
                         Payment)


def numbers(account: Account) -> list[str]:
    return [p.number for p in sorted(account.phones, key=lambda p: p.position)]


# -- CSV encodings ------------------------------------------------------------------------

def test_gbk_csv_with_full_width_digits_is_imported(client_for, upload, sheets, post_form, helpers,
                                                    fetch_accounts, db):
    rows = [sheets.header,
            ["3栋2单元1501", "张伟", "先生", "１３８０００００００１", "１２３４.５０", "３个月", "2026/11/30"],
            ["3栋2单元1502", "李娜", "女", "13800000002/021-6000 0002", "￥860", "2", "2026年11月30日"],
            ["5栋1单元0301", "王芳", "女士", "+86 138 0000 0003、0755-12345678", "2,400.00", "6", "20261130"]]
    operator = client_for("operator")
    response = upload(operator, "欠费名单.csv", sheets.csv(rows, "gbk"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "GB18030" in page                       # the detected encoding is shown
    assert 'id="count-new">3<' in page and 'id="count-errors">0<' in page
    assert "3栋2单元1501" in page and "13800000001" in page   # preview of the parsed rows
    assert fetch_accounts() == []                 # nothing saved before the user confirms
    token = helpers.preview_token(response)
    saved = post_form(operator, f"/imports/{token}/save", page=f"/imports/{token}", follow_redirects=True)
    assert "新增 3 户" in saved.get_data(as_text=True)
    zhang, li, wang = fetch_accounts()
    assert (zhang.room, zhang.owner_name, zhang.title) == ("3栋2单元1501", "张伟", "先生")
    assert zhang.amount_owed == Decimal("1234.50") and zhang.months_owed == 3
    assert zhang.due_date == date(2026, 11, 30) and zhang.building == "3栋"
    assert numbers(zhang) == ["13800000001"]
    assert li.title == "女士" and numbers(li) == ["13800000002", "02160000002"]
    assert [p.kind for p in li.phones] == ["mobile", "landline"]
    assert wang.amount_owed == Decimal("2400.00") and numbers(wang) == ["13800000003", "075512345678"]
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "import.accounts"))
    assert entry.actor == "clerk" and entry.detail["created"] == 3 and entry.target == "file:欠费名单.csv"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_are_recognised(encoding):
    data = "房号,业主姓名,联系电话\n9栋0101,赵敏,13800000007\n".encode(encoding)
    table = parsing.read_csv(data, parsing.Limits())
    assert table.headers == ["房号", "业主姓名", "联系电话"]
    assert table.rows == [["9栋0101", "赵敏", "13800000007"]]


def test_semicolon_and_tab_separated_files_and_a_title_row():
    data = "十一月欠费明细\n\n房号\t业主\t手机\n1栋101\t周杰\t13800000011\n".encode("gbk")
    table = parsing.read_csv(data, parsing.Limits())
    assert table.headers == ["房号", "业主", "手机"] and table.rows == [["1栋101", "周杰", "13800000011"]]
    assert table.row_numbers == [4]


def test_binary_garbage_is_refused(client_for, upload):
    response = upload(client_for("operator"), "x.csv", bytes(range(256)) * 40)
    assert response.status_code == 400
    assert "不是 UTF-8 或 GBK" in response.get_data(as_text=True) or "二进制" in response.get_data(as_text=True)


# -- XLSX -----------------------------------------------------------------------------------

def bad_rows(sheets):
    return [sheets.header,
            ["3栋2单元1501", "张伟", "先生", "13800000001", 1234.5, 3, datetime(2026, 11, 30)],
            ["", "无房号", "先生", "13800000009", 100, 1, datetime(2026, 11, 30)],
            ["3栋2单元1503", "错号", "先生", "12345", 100, 1, datetime(2026, 11, 30)],
            ["3栋2单元1504", "固话", "女士", "60000001", 100, 1, datetime(2026, 11, 30)],
            ["3栋2单元1505", "负数", "先生", "13800000005", -5, 1, datetime(2026, 11, 30)],
            ["3栋2单元1506", "坏日期", "先生", "13800000006", 100, 1, "下个月"],
            ["3栋2单元1507", "没电话", "先生", "", 100, "三个月多", datetime(2026, 11, 30)]]


def test_xlsx_with_errors_is_rejected_with_its_report(client_for, upload, sheets, post_form, helpers,
                                                      fetch_accounts):
    operator = client_for("operator")
    response = upload(operator, "bad.xlsx", sheets.xlsx(bad_rows(sheets)))
    page = response.get_data(as_text=True)
    assert 'id="error-report"' in page
    report = page[page.index('id="error-report"'):]
    expected = {3: "缺少房号", 4: "不是有效的电话号码", 5: "需要加区号", 6: "金额不能为负数",
                7: "不是日期", 8: "缺少联系电话"}
    for row, message in expected.items():
        assert re.search(rf'<td class="num">{row}</td>.*?{message}', report, re.S), (row, message)
    assert "不是整数月数" in report
    assert 'id="save-import"' not in page      # the save button is disabled
    token = helpers.preview_token(response)
    refused = post_form(operator, f"/imports/{token}/save", page=f"/imports/{token}")
    assert refused.status_code == 400
    assert "未保存任何数据" in refused.get_data(as_text=True)
    assert fetch_accounts() == []              # all or nothing: not even the good first row
    csv_report = operator.get(f"/imports/{token}/errors.csv")
    assert csv_report.data.startswith(b"\xef\xbb\xbf")
    lines = csv_report.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "行号,列,内容,问题" and any(line.startswith("5,联系电话,60000001,") for line in lines)


def test_good_xlsx_is_imported(client_for, upload, sheets, post_form, helpers, fetch_accounts):
    rows = [["户号", "小区", "房号", "业主", "性别", "手机", "固话", "欠费金额（元）", "欠费月数", "交费截止日期"],
            ["A-001", "幸福家园", "3栋2单元1501", "张伟", "男", 13800000001, "021-60000001", 1234.5, 3,
             datetime(2026, 11, 30)],
            ["A-002", "幸福家园", "3栋2单元1502", "李娜", "女", 13800000002, None, 860, 2, datetime(2026, 12, 15)]]
    operator = client_for("operator")
    response = upload(operator, "list.xlsx", sheets.xlsx(rows))
    page = response.get_data(as_text=True)
    assert 'id="count-new">2<' in page and 'id="count-errors">0<' in page
    token = helpers.preview_token(response)
    assert post_form(operator, f"/imports/{token}/save", page=f"/imports/{token}").status_code == 302
    zhang, li = fetch_accounts()
    assert zhang.external_id == "A-001" and zhang.area == "幸福家园" and zhang.title == "先生"
    assert numbers(zhang) == ["13800000001", "02160000001"]
    assert zhang.amount_owed == Decimal("1234.50") and zhang.due_date == date(2026, 11, 30)
    assert li.title == "女士" and li.due_date == date(2026, 12, 15) and numbers(li) == ["13800000002"]
    # the parsed upload is gone once saved
    assert operator.get(f"/imports/{token}").status_code == 404


def test_duplicates_are_merged_by_room(client_for, upload, sheets, post_form, helpers, fetch_accounts, db):
    operator = client_for("operator")
    rows = [sheets.header,
            ["3栋2单元1501", "张伟", "先生", "13800000001", "1234.50", "3", "2026-11-30"],
            ["3栋 2单元 1501", "张伟", "先生", "13900000001", "1300.00", "4", "2026-11-30"],
            ["3栋2单元1502", "李娜", "女士", "13800000002", "860", "2", "2026-11-30"]]
    response = upload(operator, "dup.csv", sheets.csv(rows))
    page = response.get_data(as_text=True)
    assert 'id="count-new">2<' in page and 'id="count-merged">1<' in page
    assert "第 3 行与第 2 行的 3栋 2单元 1501 重复" in page
    post_form(operator, f"/imports/{helpers.preview_token(response)}/save", page="/imports/")
    zhang, li = fetch_accounts()
    assert numbers(zhang) == ["13800000001", "13900000001"] and zhang.amount_owed == Decimal("1300.00")

    # the next month's list updates the same accounts instead of adding new ones
    rows = [sheets.header, ["3栋2单元1501", "张伟", "先生", "13800000001/13700000001", "1500", "5", "2026-12-31"]]
    response = upload(operator, "next.csv", sheets.csv(rows))
    assert 'id="count-new">0<' in response.get_data(as_text=True)
    assert 'id="count-updated">1<' in response.get_data(as_text=True)
    post_form(operator, f"/imports/{helpers.preview_token(response)}/save", page="/imports/")
    accounts = fetch_accounts()
    assert len(accounts) == 2
    assert numbers(accounts[0]) == ["13800000001", "13900000001", "13700000001"]
    assert accounts[0].months_owed == 5 and accounts[0].due_date == date(2026, 12, 31)

    # and a campaign calls the merged account once
    campaign = Campaign(name="合并测试", settings={})
    db.add(campaign)
    db.flush()
    assert lifecycle.add_accounts(db, campaign, [a.id for a in accounts] + [accounts[0].id]) == 2
    db.commit()


def test_unknown_headers_are_mapped_by_hand(client_for, upload, post_form, helpers, fetch_accounts):
    operator = client_for("operator")
    data = "甲,乙,丙\n8栋0808,孙丽,13800000088\n".encode("utf-8-sig")
    response = upload(operator, "odd.csv", data)
    page = response.get_data(as_text=True)
    assert "没有列被指定为房号" in page
    token = helpers.preview_token(response)
    mapped = post_form(operator, f"/imports/{token}/mapping", {"col0": "room", "col1": "owner_name", "col2": "phone"},
                       page=f"/imports/{token}", follow_redirects=True)
    assert 'id="count-new">1<' in mapped.get_data(as_text=True)
    post_form(operator, f"/imports/{token}/save", page=f"/imports/{token}")
    (account,) = fetch_accounts()
    assert (account.room, account.owner_name, numbers(account)) == ("8栋0808", "孙丽", ["13800000088"])


def test_someone_elses_upload_cannot_be_seen_or_saved(client_for, upload, sheets, helpers, app):
    response = upload(client_for("operator"), "a.csv", sheets.csv([sheets.header, ["1栋1", "甲", "", "13800000001",
                                                                              "1", "1", ""]]))
    token = helpers.preview_token(response)
    assert client_for("admin").get(f"/imports/{token}").status_code == 404
    assert client_for("operator").get("/imports/../../etc/passwd").status_code == 404


def test_room_in_two_estates_needs_an_estate_column(client_for, upload, sheets, db, fetch_accounts):
    db.add_all([Account(room="1栋101", area="甲小区", variables={}), Account(room="1栋101", area="乙小区", variables={})])
    db.commit()
    response = upload(client_for("operator"), "a.csv", sheets.csv([["房号", "电话"], ["1栋101", "13800000001"]]))
    assert "在多个小区中都存在" in response.get_data(as_text=True)


# -- payments ---------------------------------------------------------------------------------

def test_payment_import_marks_accounts_paid_and_drops_their_calls(client_for, upload, post_form, helpers,
                                                                  accounts, db):
    campaign = Campaign(name="十一月催缴", settings={})
    db.add(campaign)
    db.flush()
    lifecycle.add_accounts(db, campaign, accounts)
    lifecycle.start(db, campaign, datetime.now().astimezone(), "test")
    db.commit()
    data = ("房号,实收金额,交费日期,收据号\n"
            "3栋2单元1501,1234.50,2026-11-20,R-1001\n"
            "3栋2单元1502,100,2026-11-21,R-1002\n").encode("gbk")
    operator = client_for("operator")
    response = upload(operator, "payments.csv", data, kind="payments")
    page = response.get_data(as_text=True)
    assert 'id="count-paid">2<' in page and 'id="count-errors">0<' in page
    saved = post_form(operator, f"/imports/{helpers.preview_token(response)}/save", page="/imports/",
                      follow_redirects=True)
    assert "已记录 2 笔交费" in saved.get_data(as_text=True)
    db.expire_all()
    full, partial = db.get(Account, accounts[0]), db.get(Account, accounts[1])
    assert full.paid_at is not None and full.paid_amount == Decimal("1234.50")
    assert partial.paid_at is None and partial.paid_amount == Decimal("100.00")   # 100 of 860: still owes
    payment = db.scalar(select(Payment).where(Payment.external_id == "R-1001"))
    assert payment.source == "import" and payment.paid_on == date(2026, 11, 20)
    contact = db.scalar(select(Contact).where(Contact.account_id == full.id))
    assert contact.status == ContactStatus.STOPPED and contact.stop_reason == "paid"
    assert {a.status for a in db.scalars(select(Attempt).where(Attempt.account_id == full.id))} == {AttemptStatus.SKIPPED}
    # the same file again: receipts already recorded are skipped, nothing is paid twice
    again = upload(operator, "payments.csv", data, kind="payments")
    assert "此前已导入" in again.get_data(as_text=True)
    post_form(operator, f"/imports/{helpers.preview_token(again)}/save", page="/imports/")
    assert db.scalar(select(func.count()).select_from(Payment)) == 2


def test_payment_for_an_unknown_room_is_an_error(client_for, upload, accounts):
    data = "房号,金额\n99栋9999,100\n".encode()
    response = upload(client_for("operator"), "p.csv", data, kind="payments")
    assert "没有房号为 99栋9999 的账户" in response.get_data(as_text=True)


# -- hostile files ----------------------------------------------------------------------------

class Zeros(io.RawIOBase):
    """A request body of `size` bytes that is never held in memory; counts what was read."""

    def __init__(self, size: int):
        self.size, self.pos, self.read_bytes = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def readinto(self, buffer) -> int:
        n = max(0, min(len(buffer), self.size - self.pos))
        buffer[:n] = b"0" * n
        self.pos += n
        self.read_bytes += n
        return n


def test_a_200_mb_upload_is_refused_before_it_is_read(client_for, helpers):
    operator = client_for("operator")
    csrf = helpers.token(operator, "/imports/")
    body = Zeros(200 * 1024 * 1024)
    tracemalloc.start()
    started = time.monotonic()
    response = operator.post("/imports/", input_stream=body, content_length=body.size,
                             content_type="multipart/form-data; boundary=x",
                             headers={"X-CSRFToken": csrf})
    elapsed = time.monotonic() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert response.status_code == 413
    assert "上传文件最大 10 MB" in response.get_data(as_text=True)
    assert elapsed < 2 and peak < 20 * 1024 * 1024
    assert body.read_bytes < 1024 * 1024   # refused on the declared length, not after reading


def test_a_200_mb_upload_to_the_real_server_is_refused_quickly(app, users, helpers):
    """Over a socket: the server answers 413 after the headers, without waiting for the body."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = app.test_client()
        helpers.login(client, "clerk")
        cookie = client.get_cookie("ivr_admin").value
        csrf = helpers.token(client, "/imports/")
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
            head = (f"POST /imports/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ivr_admin={cookie}\r\n"
                    f"X-CSRFToken: {csrf}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                    f"Content-Length: {200 * 1024 * 1024}\r\nConnection: close\r\n\r\n")
            sock.sendall(head.encode() + b"--x\r\n" + b"0" * 65536)
            reply = sock.recv(4096).decode("latin-1")
        elapsed = time.monotonic() - started
        assert reply.startswith("HTTP/1.1 413"), reply[:200]
        assert elapsed < 3
    finally:
        server.shutdown()


def zip_bomb(member_mb: int = 300) -> bytes:
    """A workbook-shaped zip whose worksheet inflates from ~300 KB to `member_mb` MB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = b"<row><c><v>0</v></c></row>" * 40000
            for _ in range(member_mb * 1024 * 1024 // len(chunk)):
                sheet.write(chunk)
    return buf.getvalue()


def test_a_zip_bomb_is_refused_quickly_without_inflating_it(client_for, upload):
    bomb = zip_bomb()
    assert len(bomb) < 3 * 1024 * 1024
    tracemalloc.start()
    started = time.monotonic()
    response = upload(client_for("operator"), "bomb.xlsx", bomb)
    elapsed = time.monotonic() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert response.status_code == 400
    assert "压缩炸弹" in response.get_data(as_text=True)
    assert elapsed < 3 and peak < 40 * 1024 * 1024


def test_a_workbook_that_expands_too_far_in_total_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        for k in range(3):
            z.writestr(f"xl/worksheets/sheet{k}.xml", b"x" * (2 * 1024 * 1024))
    with pytest.raises(parsing.ImportRefused, match="5 MB"):
        parsing.check_zip(buf.getvalue(), parsing.Limits(max_uncompressed=5 * 1024 * 1024))


def test_xml_entity_expansion_is_refused(sheets):
    good = sheets.xlsx([sheets.header, ["1栋1", "甲", "先生", "13800000001", 1, 1, None]])
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
              '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = laughs.encode() if item.filename == "xl/worksheets/sheet1.xml" else src.read(item)
            dst.writestr(item, data)
    with pytest.raises(parsing.ImportRefused):
        parsing.read_xlsx(out.getvalue(), parsing.Limits())


def test_row_cap(helpers, sqlite_url, tmp_path, sheets, post_form):
    app = helpers.make_app(sqlite_url, tmp_path, IMPORT_MAX_ROWS=100)
    helpers.add_user(app, "clerk", "operator")
    client = app.test_client()
    helpers.login(client, "clerk")
    rows = [sheets.header] + [[f"1栋{k}", "甲", "", f"138{k:08d}", "1", "1", ""] for k in range(150)]
    response = post_form(client, "/imports/", {"kind": "accounts", "file": (io.BytesIO(sheets.csv(rows)), "big.csv")},
                         page="/imports/", content_type="multipart/form-data")
    assert response.status_code == 400 and "超过 100 行" in response.get_data(as_text=True)
    app.extensions["ivr_engine"].dispose()


def test_old_xls_and_empty_files_are_refused():
    with pytest.raises(parsing.ImportRefused):
        parsing.read_table(b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "old.xls", parsing.Limits())
    with pytest.raises(parsing.ImportRefused):
        parsing.read_table(b"\n\n", "empty.csv", parsing.Limits())


@pytest.mark.parametrize("raw, number, kind", [
    ("13800000001", "13800000001", "mobile"), ("+86 138-0000-0001", "13800000001", "mobile"),
    ("021-60000001", "02160000001", "landline"), ("(0755) 1234 5678", "075512345678", "landline"),
    ("".join(chr(ord(c) + 0xFEE0) for c in "86-13800000001"), "13800000001", "mobile")])
def test_phone_numbers_are_normalised(app, raw, number, kind):
    with app.test_request_context():
        phone = parsing.normalise_phone(parsing.clean(raw))
    assert (phone.number, phone.kind) == (number, kind)


@pytest.mark.parametrize("raw", ["60000001", "12345", "4001234567", "+1 212 555 0100", "abc"])
def test_bad_phone_numbers_are_explained(app, raw):
    with app.test_request_context():
        with pytest.raises(parsing.PhoneError):
            parsing.normalise_phone(raw)


def test_header_recognition():
    mapping = parsing.guess_mapping(["序号", "房号", "业主姓名", "联系电话", "备用电话", "欠费金额(元)", "欠费期限",
                                     "交费截止日期", "备注"], parsing.ACCOUNT_FIELDS)
    assert mapping == ["", "room", "owner_name", "phone", "phone", "amount_owed", "months_owed", "due_date", "note"]
