"""The whole path in Debian's Chromium, driven by Playwright: sign in, import a GBK CSV and two
XLSX files (a bad one rejected with its report, a good one), create a campaign from a template,
listen to it, start it, watch the live view update, open an account's history, mark one paid,
export the report. Each step checks what the page shows; screenshots of the main pages go to
test-artifacts/screenshots/.

The calls are settled by `fake_dialer` below, a thread that does to the database what the
dialer does (claim a queued attempt, wait, settle it). LEAD: swap in the real dialer (both
Asterisk instances) at the marked fixture; the test only relies on attempts being settled.
"""
from __future__ import annotations

import io
import math
import struct
import threading
import wave
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select, update
from werkzeug.serving import make_server

from ivr.policy.windows import local_today
from admin.campaigns import plan
from admin.db import sessions as app_sessions
from ivr.storage import Account, Attempt, AttemptStatus, Campaign, CampaignStatus

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


# -- the app, served for real ------------------------------------------------------------

@pytest.fixture
def served(app, users):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="admin-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN",
                                      accept_downloads=True)
        context.set_default_timeout(20_000)
        tab = context.new_page()
        tab.on("dialog", lambda dialog: dialog.accept())   # the "start calling?" confirmations
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda msg: errors.append(msg.text)
               if msg.type == "error" and "Content Security Policy" in msg.text else None)
        yield tab
        context.close()
        browser.close()
        assert errors == [], f"JavaScript errors or CSP violations: {errors}"


def shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")   # the sticky top bar belongs at the top
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


# -- the dialer ---------------------------------------------------------------------------

def tone_wav(path: Path, seconds: float = 1.5) -> Path:
    """A short 8 kHz recording standing in for an owner's voice message."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * t / 8000)))
                               for t in range(int(8000 * seconds))))
    return path


class FakeDialer(threading.Thread):
    """Claims queued attempts of running campaigns one at a time, "rings" for a moment and
    settles each with a scripted outcome per number, as the dialer (ivr.dialer.service) would."""

    def __init__(self, sessions, script: dict[str, dict], recordings: Path):
        super().__init__(name="fake_dialer", daemon=True)
        self.sessions, self.script, self.recordings = sessions, script, recordings
        self.stop = threading.Event()
        self.settled = 0

    def run(self) -> None:
        while not self.stop.is_set():
            with self.sessions() as s:
                attempt_id = s.scalar(select(Attempt.id).join(Campaign, Attempt.campaign_id == Campaign.id)
                                      .where(Attempt.status == AttemptStatus.QUEUED,
                                             Campaign.status == CampaignStatus.RUNNING,
                                             Campaign.name != "test call")
                                      .order_by(Attempt.id).limit(1))
                if attempt_id is None:
                    self.stop.wait(0.2)
                    continue
                claimed = s.execute(update(Attempt).where(Attempt.id == attempt_id,
                                                          Attempt.status == AttemptStatus.QUEUED)
                                    .values(status=AttemptStatus.DIALING, dialer="fake_dialer",
                                            dialed_at=datetime.now(timezone.utc)))
                s.commit()
                if claimed.rowcount != 1:
                    continue
            self.stop.wait(0.6)  # ringing: the live view shows "in progress"
            with self.sessions() as s:
                self.settle(s, s.get(Attempt, attempt_id))
                s.commit()
            self.settled += 1

    def settle(self, s, attempt: Attempt) -> None:
        outcome = self.script.get(attempt.number, {"disposition": "no_answer", "dial_status": "NOANSWER",
                                                   "hangup_cause": 19})
        now = datetime.now(timezone.utc)
        attempt.status, attempt.ended_at = AttemptStatus.DONE, now
        campaign = s.get(Campaign, attempt.campaign_id)
        attempt.message_text = attempt.message_text or plan.render_for(      # what was said: evidence
            campaign.settings or {}, plan.message_text(campaign), s.get(Account, attempt.account_id))
        for key, value in outcome.items():
            if key == "voice":
                attempt.voice_message = str(tone_wav(self.recordings / f"attempt-{attempt.id}.wav"))
            elif hasattr(attempt, key):
                setattr(attempt, key, value)
        if outcome.get("dial_status") == "ANSWER":
            attempt.answered_at = now - timedelta(seconds=20)
        account = s.get(Account, attempt.account_id)
        if attempt.promised_date:                      # the dialer's follow-up: class A
            account.account_class, account.promised_date, account.promise_status = "A", attempt.promised_date, "pending"
        if attempt.choice == "paid":
            account.paid_claim_at = now
        if attempt.disposition == "unreachable":
            account.account_class = "C"
            for phone in account.phones:
                if phone.number == attempt.number:
                    phone.unreachable_at = now
        if attempt.choice == "complaint":
            account.account_class, account.complaint = "E", "楼上漏水一直没有修，修好再交"


TOMORROW = local_today() + timedelta(days=1)
SCRIPT = {
    "13800000001": dict(disposition="answered", dial_status="ANSWER", hangup_cause=16, stage="completed",
                        keys="1", key_log="1", choice="promise", promised_date=TOMORROW),
    "13800000002": dict(disposition="answered", dial_status="ANSWER", hangup_cause=16, stage="completed",
                        keys="3", key_log="3", choice="paid"),
    "13800000003": dict(disposition="busy", dial_status="BUSY", hangup_cause=17),
    "13800000004": dict(disposition="unreachable", dial_status="CHANUNAVAIL", hangup_cause=1),
    "13800000005": dict(disposition="answered", dial_status="ANSWER", hangup_cause=16, stage="completed",
                        keys="8", key_log="8#", choice="complaint", voice=True),
}


@pytest.fixture
def dialer(app, tmp_path):
    # ---- LEAD: swap in the real dialer here -------------------------------------------
    # e.g. run `ivr dialer` against app.config["DATABASE_URL"] with the `site` fixture's two
    # Asterisk instances and script the pstn-sim numbers like SCRIPT above. The test below
    # needs only that queued attempts of a running campaign get settled.
    fake = FakeDialer(app_sessions(app), SCRIPT, tmp_path / "recordings")
    fake.start()
    yield fake
    fake.stop.set()
    fake.join(5)
    # ---------------------------------------------------------------------------------------


# -- files staff upload -----------------------------------------------------------------------

GBK_CSV = ("房号,业主姓名,称谓,联系电话,欠费金额,欠费月数,截止日期\r\n"
           "3栋2单元1501,张伟,先生,１３８０００００００１,1234.50,3,2026-12-31\r\n"
           "3栋2单元1502,李娜,女士,13800000002/021-60000002,860.00,2,2026-12-31\r\n"
           "5栋1单元0301,王芳,女士,13800000003,2400.00,6,2026-12-31\r\n").encode("gbk")


def xlsx(rows) -> bytes:
    from openpyxl import Workbook
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    for row in wb.active.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"   # typed text, as a hostile billing export would carry it
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


BAD_XLSX = xlsx([["房号", "业主姓名", "联系电话", "欠费金额", "欠费月数"],
                 ["5栋1单元0302", "刘洋", "12345", 420, 1],
                 ["", "无房号", "13800000009", 100, 1],
                 ["7栋3单元1203", "陈静", "13800000005", "一千五", 4]])
GOOD_XLSX = xlsx([["房号", "业主姓名", "性别", "联系电话", "欠费金额", "欠费月数", "截止日期"],
                  ["5栋1单元0302", "刘洋", "男", "13800000004", 420, 1, datetime(2026, 12, 31)],
                  ["7栋3单元1203", "陈静", "女", "13800000005", 1500, 4, datetime(2026, 12, 31)],
                  ["7栋3单元1204", "=HYPERLINK(\"x\")", "男", "13800000066", 10, 1, datetime(2026, 12, 31)]])


def upload_file(page, base: str, kind: str, name: str, data: bytes, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    page.goto(f"{base}/imports/?kind={kind}")
    page.check(f"input[name=kind][value={kind}]")
    page.set_input_files("input[name=file]", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state()


# -- the walk ---------------------------------------------------------------------------------

def test_the_whole_path_in_chromium(served, page, dialer, app, tmp_path):
    base = served

    # 1. sign in (Chinese by default, whatever the browser's language)
    page.goto(base + "/")
    expect(page.locator("h1")).to_have_text("语音催缴与通知")
    shot(page, "01-login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "wrong-password-9")
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("用户名或密码错误")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "correct-horse-42")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("概览")
    expect(page.locator(".topbar")).to_contain_text("王经理")

    # 2. a GBK CSV: checked, previewed, then saved
    upload_file(page, base, "accounts", "十一月欠费.csv", GBK_CSV, tmp_path)
    expect(page.locator("h1")).to_contain_text("检查导入数据")
    expect(page.locator("main")).to_contain_text("GB18030")
    expect(page.locator("#count-new")).to_have_text("3")
    expect(page.locator("#count-errors")).to_have_text("0")
    expect(page.locator("#parsed-preview")).to_contain_text("13800000001")   # full-width digits read
    shot(page, "02-import-preview")
    page.click("#save-import")
    expect(page.locator(".flash-success")).to_contain_text("新增 3 户")
    expect(page.locator("table")).to_contain_text("3栋2单元1502")

    # 3. a bad XLSX: rejected with its row-by-row report, nothing saved
    upload_file(page, base, "accounts", "有错误.xlsx", BAD_XLSX, tmp_path)
    report = page.locator("#error-report")
    expect(report).to_contain_text("12345 不是有效的电话号码")
    expect(report).to_contain_text("缺少房号")
    expect(report).to_contain_text("“一千五”不是有效金额")
    expect(page.locator("#save-import")).to_have_count(0)
    expect(page.locator(".savebar button[disabled]")).to_be_visible()
    shot(page, "03-import-errors")

    # 4. the good XLSX
    upload_file(page, base, "accounts", "补充名单.xlsx", GOOD_XLSX, tmp_path)
    expect(page.locator("#count-new")).to_have_text("3")
    page.click("#save-import")
    expect(page.locator(".flash-success")).to_contain_text("新增 3 户")
    page.goto(base + "/accounts/")
    expect(page.locator("h1")).to_contain_text("共 6 户")
    shot(page, "04-accounts")

    # 5. a campaign from a template, with a message value it needs
    page.goto(base + "/campaigns/new?kind=arrears")
    page.fill("input[name=name]", "十一月物业费催缴")
    expect(page.locator("#template")).to_have_value("arrears-first")
    assert "{amount}" in page.input_value("#message")
    page.fill("input[name=var_company]", "幸福家园物业服务中心")
    for building in ("3栋", "5栋", "7栋"):
        page.check(f"input[name=buildings][value='{building}']")
    # a typo in a variable is caught before anything is saved
    page.fill("#message", page.input_value("#message") + "{amout}")
    page.click("#preview-button")
    expect(page.locator("#preview-status")).to_contain_text("未知变量 {amout}，是否应为 {amount}？")
    page.select_option("#template", "arrears-first")   # back to the template's own text
    assert "{amout}" not in page.input_value("#message")

    # 6. listen: the audio element loads a real, non-empty WAV
    page.click("#preview-button")
    expect(page.locator("#preview-text")).to_contain_text("幸福家园物业服务中心")
    page.wait_for_function("() => { const a = document.getElementById('preview-audio');"
                           " return a.src && a.readyState >= 1 && a.duration > 1; }", timeout=60_000)
    src = page.eval_on_selector("#preview-audio", "a => a.src")
    wav = page.request.get(src)
    assert wav.ok and wav.headers["content-type"].startswith("audio/wav")
    body = wav.body()
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE" and len(body) > 8000
    shot(page, "05-campaign-wizard")
    page.click("#save-campaign")
    expect(page.locator(".flash-success")).to_contain_text("保存为草稿")
    expect(page.locator("#contact-count")).to_have_text("6")
    expect(page.locator("#message-text")).to_contain_text("幸福家园物业服务中心")
    shot(page, "06-campaign")
    campaign_id = int(page.url.rstrip("/").split("/")[-1])

    # 7. start it and watch the live view update without reloading
    page.click("#start-campaign")
    expect(page.locator("h1")).to_contain_text("十一月物业费催缴")
    assert f"/live/{campaign_id}" in page.url
    expect(page.locator(".flash-success")).to_contain_text("已启动：6 个呼叫已排队")
    loaded_url = page.url
    page.wait_for_function("() => Number(document.getElementById('live-done').textContent) >= 3", timeout=30_000)
    expect(page.locator("#live-latest")).to_contain_text("忙线")
    shot(page, "07-live")
    page.wait_for_function("() => Number(document.getElementById('live-done').textContent) >= 6", timeout=30_000)
    expect(page.locator("#live-remaining")).to_have_text("0")
    expect(page.locator("#live-promised")).to_have_text("1")
    expect(page.locator("#live-outcomes")).to_contain_text("已接听")
    assert page.url == loaded_url   # no reload happened
    shot(page, "08-live-finished")

    # 8. an account's full history, with the voice message playable
    page.locator("#live-latest a", has_text="7栋3单元1203").first.click()
    expect(page.locator("h1")).to_contain_text("7栋3单元1203")
    history = page.locator("table.history")
    expect(history).to_contain_text("已接听")
    expect(history).to_contain_text("8#")
    expect(page.locator(".flash-error")).to_contain_text("楼上漏水")
    audio = page.locator("table.history audio")
    expect(audio).to_have_count(1)
    page.eval_on_selector("table.history audio", "a => a.load()")
    page.wait_for_function("() => document.querySelector('table.history audio').duration > 1")
    shot(page, "09-account-history")

    # 9. the next morning's lists, and marking one account paid
    page.goto(base + "/results/tomorrow")
    expect(page.locator("#action-list")).to_contain_text("3栋2单元1501")
    shot(page, "10-todo-tomorrow")
    page.goto(base + "/results/claims")
    expect(page.locator("#action-list")).to_contain_text("3栋2单元1502")
    page.click("text=已核实：标记已交费")
    expect(page.locator(".flash-success")).to_contain_text("3栋2单元1502 已标记为已交费")
    expect(page.locator("#action-list")).not_to_contain_text("3栋2单元1502")
    page.goto(base + "/results/complaints")
    expect(page.locator("#action-list")).to_contain_text("楼上漏水")
    shot(page, "11-todo-complaints")
    page.goto(base + "/accounts/?q=5栋1单元0301")
    page.click("text=5栋1单元0301")
    page.fill("#mark-paid input[name=amount]", "")
    page.click("#mark-paid button")
    expect(page.locator(".flash-success")).to_contain_text("5栋1单元0301 已标记为已交费")
    expect(page.locator("#paid-state")).to_have_text("已交费")
    with app_sessions(app)() as s:
        assert s.scalar(select(Account.paid_at).where(Account.room == "5栋1单元0301")) is not None

    # 10. the report with its charts, and its export
    page.goto(f"{base}/reports/?campaign={campaign_id}")
    expect(page.locator("#r-accounts")).to_have_text("6")
    expect(page.locator("#r-promised")).to_have_text("1")
    assert page.locator("svg.chart").count() == 4
    expect(page.locator("svg.chart").first).to_contain_text("已交费")
    shot(page, "12-report")
    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    sheet = workbook["账户"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:4] == ["小区", "楼栋", "房号", "业主"]
    rooms = {row[2]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rooms["7栋3单元1204"][3] == "'=HYPERLINK(\"x\")"   # escaped: text, never a formula
    assert rooms["5栋1单元0301"][15] is not None                          # paid on
    with page.expect_download() as download_info:
        page.click("#export-csv")
    assert Path(download_info.value.path()).read_bytes().startswith(b"\xef\xbb\xbf")

    # 11. the evidence record, and the admin pages
    page.goto(base + "/accounts/?q=3栋2单元1501")
    page.click("text=3栋2单元1501")
    page.click("text=催缴记录")
    expect(page.locator("h1")).to_have_text("催缴记录")
    expect(page.locator(".evidence-table")).to_contain_text("13800000001")
    expect(page.locator(".evidence-table")).to_contain_text("承诺交费日期")
    shot(page, "13-evidence")
    page.goto(base + "/campaigns/")
    shot(page, "14-campaigns")
    page.goto(base + "/")
    expect(page.locator(".todo")).to_contain_text("明日承诺交费")
    shot(page, "15-overview")
    page.goto(base + "/users/")
    shot(page, "16-users")
    page.goto(base + "/audit/")
    expect(page.locator("#audit-table")).to_contain_text("启动/恢复外呼活动")
    expect(page.locator("#audit-table")).to_contain_text("导入账户")
    shot(page, "17-audit")
    page.goto(base + "/settings/")
    shot(page, "18-settings")
    page.goto(f"{base}/reports/?campaign={campaign_id}&lang=en")
    expect(page.locator("h1")).to_have_text("Reports")
    shot(page, "19-report-en")
    assert dialer.settled >= 6
