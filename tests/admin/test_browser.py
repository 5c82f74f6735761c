"""The whole path in Debian's Chromium, driven by Playwright: sign in, import a GBK CSV and two
XLSX files (a bad one rejected with its report, a good one), create a campaign from a template,
listen to it, start it, watch the live view update, open an account's history, mark one paid,
export the report. Each step checks what the page shows; screenshots of the main pages go to
test-artifacts/screenshots/.

The calls are real: the dialer runs beside the app (`LiveDialer`) and places them through
both Asterisk instances, with the campaign's own IVR flow, to simulated owners who answer,
key a date, leave a voice message, are busy or do not exist.
"""
from __future__ import annotations

import asyncio
import io
import threading
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from admin.db import sessions as app_sessions
from ivr.dialer import main as dialer_main
from ivr.policy.windows import SHANGHAI, local_today
from ivr.storage import Account, Attempt, AttemptStatus
from ivr.telephony.pstn_sim import script_phones
from ivr.telephony.sim_owners import campaign_owners

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

class LiveDialer(threading.Thread):
    """The real dialer (`ivr.dialer.main.run`, as `ivr dialer` runs it, with each campaign's IVR
    flow) on its own event loop, dialing through the test site's two Asterisk instances into
    the simulated phones. Its policy clock starts at 10:45 today, Shanghai time (inside weekday
    and weekend call windows), so the owners' "tomorrow" is the admin's tomorrow."""

    def __init__(self, site, url: str):
        super().__init__(name="live_dialer", daemon=True)
        self.site, self.settings = site, replace(site.settings, database_url=url)
        self.today = local_today()
        self.ready, self.settled = threading.Event(), []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:   # reported by close(), not lost in the thread
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
        self.ready.set()
        await dialer_main.run(self.settings, trunk_channels=6, cps=3, site=self.site, stop=self.stop,
                              clock_start=datetime.combine(self.today, time(10, 45), SHANGHAI),
                              on_settled=lambda attempt: self.settled.append(attempt.number))

    def script_owners(self, sessions, campaign_id: int, kinds: dict[str, str]) -> None:
        """Each owner's phone, timed to the audio this campaign plays them."""
        tomorrow = self.today + timedelta(days=1)
        behaviours = campaign_owners(self.site, "espeak", sessions, campaign_id, self.today, kinds,
                                     date_keys=f"{tomorrow:%m%d}#")
        # on the dialer's loop: Playwright's sync API already runs one in this thread
        asyncio.run_coroutine_threadsafe(script_phones(self.site, behaviours), self.loop).result(30)

    def close(self) -> None:
        if self.is_alive():
            self.loop.call_soon_threadsafe(self.stop.set)
            self.join(30)
        if self.error:
            raise self.error


OWNERS = {"13800000001": "date",        # keys tomorrow's date and confirms it
          "13800000002": "paid",        # says it is paid already (3): staff verify
          "13800000003": "busy",
          "13800000004": "unreachable",
          "13800000005": "voice",       # leaves a voice message (8)
          "13800000066": "wrong"}       # not the owner: hears no debt details


@pytest.fixture
def dialer(app, site):
    # the owners' voice messages are recorded by the dialer's Asterisk
    app.config["VOICE_MESSAGE_DIRS"].append(site.pbx.host_dir / "recordings")
    live = LiveDialer(site, app.config["DATABASE_URL"])
    live.start()
    assert live.ready.wait(30), "the dialer thread did not start"
    yield live
    live.close()


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
    page.check("input[name=call_on_holidays]")   # the test runs on any day of the year
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
    dialer.script_owners(app_sessions(app), campaign_id, OWNERS)

    # 7. start it and watch the live view update without reloading
    page.click("#start-campaign")
    expect(page.locator("h1")).to_contain_text("十一月物业费催缴")
    assert f"/live/{campaign_id}" in page.url
    expect(page.locator(".flash-success")).to_contain_text("已启动：6 个呼叫已排队")
    loaded_url = page.url
    page.wait_for_function("() => Number(document.getElementById('live-done').textContent) >= 3", timeout=60_000)
    expect(page.locator("#live-latest")).to_contain_text("忙线")
    shot(page, "07-live")
    page.wait_for_function("() => Number(document.getElementById('live-done').textContent) >= 6", timeout=150_000)
    expect(page.locator("#live-promised")).to_have_text("1")
    # the campaign waits for tomorrow's promise and for staff to check the "already paid"
    expect(page.locator("#live-awaiting")).to_have_text("2")
    expect(page.locator("#live-status")).to_have_text("进行中")
    expect(page.locator("#live-outcomes")).to_contain_text("已接听")
    expect(page.locator("#live-outcomes")).to_contain_text("非本人")
    expect(page.locator("#live-in-progress")).to_have_text("0")
    with app_sessions(app)() as s:   # what is left are follow-ups at later times (the busy line's retry)
        queued = s.scalars(select(Attempt.number).where(Attempt.status == AttemptStatus.QUEUED)).all()
    assert "13800000003" in queued
    expect(page.locator("#live-remaining")).to_have_text(str(len(queued)))
    assert page.url == loaded_url   # no reload happened
    shot(page, "08-live-finished")
    assert sorted(dialer.settled) == sorted(OWNERS)     # each owner dialed once, each call settled

    # 8. an account's full history, with the owner's voice message playable; staff note what it says
    page.locator("#live-latest a", has_text="7栋3单元1203").first.click()
    expect(page.locator("h1")).to_contain_text("7栋3单元1203")
    history = page.locator("table.history")
    expect(history).to_contain_text("已接听")
    expect(history).to_contain_text("8")
    audio = page.locator("table.history audio")
    expect(audio).to_have_count(1)
    page.eval_on_selector("table.history audio", "a => a.load()")
    page.wait_for_function("() => document.querySelector('table.history audio').duration > 1")
    page.fill("textarea[name=complaint]", "楼上漏水一直没有修，修好再交")
    page.click("text=保存备注")
    expect(page.locator(".flash-error")).to_contain_text("楼上漏水")
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
    # what the owner was told, word for word, as the dialer rendered it for this call
    expect(page.locator(".evidence-table")).to_contain_text("幸福家园物业服务中心")
    expect(page.locator(".evidence-table")).to_contain_text("一千二百三十四元五角")
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
