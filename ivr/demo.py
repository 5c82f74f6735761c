"""`ivr demo`: an arrears campaign placed through the real Asterisk to the simulated phone
network, with the real IVR flow (identity gate, personal message, menu, promised date), each
outcome printed as it happens, then a summary of what staff will act on."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time as clock_time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from ivr.config import Settings
from ivr.dialer import main as dialer_main
from ivr.dialer.seed import campaign_with_accounts
from ivr.policy.windows import SHANGHAI
from ivr.storage import Account, Attempt, connect, session_factory, upgrade
from ivr.telephony.asterisk import Site
from ivr.telephony.pstn_sim import script_phones
from ivr.telephony.sim_owners import KINDS, campaign_owners

# (room, owner, title, number, amount owed, months, what the owner does)
DEMO_OWNERS = [
    ("3栋2单元1501", "张伟", "先生", "13800000001", "1234.50", 3, "promise"),
    ("3栋2单元1502", "李娜", "女士", "13800000002", "860.00", 2, "date"),
    ("5栋1单元0301", "王芳", "女士", "13800000003", "2400.00", 6, "busy"),
    ("5栋1单元0302", "刘洋", "先生", "13800000004", "420.00", 1, "noanswer"),
    ("7栋3单元1203", "陈静", "女士", "13800000005", "1500.00", 4, "unreachable"),
    ("7栋3单元1204", "杨磊", "先生", "13800000006", "980.00", 2, "away"),
    ("9栋1单元0101", "赵敏", "女士", "13800000007", "3120.00", 8, "hangup"),
    ("9栋1单元0102", "黄强", "先生", "13800000008", "650.00", 1, "wrong"),
    ("9栋2单元0201", "周丽", "女士", "13800000009", "720.00", 2, "optout"),
    ("9栋2单元0202", "吴刚", "先生", "13800000010", "300.00", 1, "machine"),
]
# Short intervals so the demo shows retries within a minute; production uses the defaults.
DEMO_SETTINGS = {"dial_timeout": 8, "key_timeout": 4,
                 "retry": {"busy": 10 / 60, "no_answer": 15 / 60, "failed": 10 / 60,  # minutes
                           "max_attempts_per_day": 2}}

LABELS = {"answered": "已接听 answered", "busy": "忙线 busy", "no_answer": "无人接听 no answer",
          "unreachable": "空号 unreachable", "failed": "失败 failed", "opted_out": "拒绝来电 opted out",
          "hung_up_early": "中途挂断 hung up early", "machine": "答录机 machine",
          "wrong_person": "非本人 wrong person", "unknown": "未知 unknown"}
CLASSES = {"A": "A 近期交纳 promised a date", "B": "B 暂未明确 not settled",
           "C": "C 无法联系 unreachable", "D": "D 异地 away", "E": "E 拒交/拒接 refused"}


def demo_settings(cfg: Settings) -> Settings:
    """The demo always works in a database of its own (var/demo.sqlite), made afresh each run:
    never in the production database IVR_DATABASE_URL may name, never on top of a last run."""
    path = cfg.var_dir / "demo.sqlite"
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    return replace(cfg, database_url=f"sqlite:///{path}")


def business_hours_start() -> datetime:
    """The next weekday 10:00 in Shanghai: the demo's simulated policy clock starts there so
    calls fall inside the call windows whatever the hour is on this machine."""
    day = datetime.now(SHANGHAI).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, clock_time(10, 0), SHANGHAI)


def _create_campaign(sessions, start: datetime) -> int:
    with sessions() as s:
        campaign = campaign_with_accounts(s, "演示：物业费催缴 Demo arrears reminder", [
            dict(room=room, owner_name=name, title=title, phones=[number],
                 amount_owed=Decimal(amount), months_owed=months, due_date=date(2026, 11, 30))
            for room, name, title, number, amount, months, _w in DEMO_OWNERS],
            template="arrears-first", actor="demo", settings=DEMO_SETTINGS, now=start)
        return campaign.id


def _script_owners(cfg: Settings, site: Site, sessions, campaign_id: int, today: date) -> dict:
    """Prepare each owner's audio as the dialer will (same cache) and script their phone;
    the "date" owner keys a date a week ahead (MMDD#)."""
    keys = f"{today + timedelta(days=7):%m%d}#"
    return campaign_owners(site, cfg.tts_engine, sessions, campaign_id, today,
                           {number: kind for *_, number, _a, _m, kind in DEMO_OWNERS}, date_keys=keys)


async def _run(cfg: Settings, site: Site, sessions, campaign_id: int, start: datetime) -> Counter:
    behaviours = await asyncio.to_thread(_script_owners, cfg, site, sessions, campaign_id, start.date())
    await script_phones(site, behaviours)
    what = {o[3]: KINDS[o[6]] for o in DEMO_OWNERS}
    started = time.monotonic()
    outcomes: Counter = Counter()

    def show(attempt: Attempt) -> None:
        outcomes[attempt.disposition or attempt.status.value] += 1
        said = []
        if attempt.choice:
            said.append(f"choice={attempt.choice}")
        if attempt.promised_date:
            said.append(f"promised {attempt.promised_date:%m-%d}")
        keys = attempt.key_log or ""
        print(f"[{sum(outcomes.values()):2d}] {time.monotonic() - started:5.1f}s  {attempt.number}  "
              f"{LABELS.get(attempt.disposition or '', attempt.disposition or attempt.status.value):24s}"
              f" DIALSTATUS={attempt.dial_status} cause={attempt.hangup_cause}"
              f"{'  keys=' + keys if keys else ''}{'  ' + ' '.join(said) if said else ''}"
              f"   — scripted: {what.get(attempt.number, '')}", flush=True)

    print(f"Dialing {len(DEMO_OWNERS)} owners through pbx → PJSIP trunk → pstn-sim with the arrears "
          f"flow (5 channels, 2 calls/s; policy clock starts {start:%Y-%m-%d %H:%M} Asia/Shanghai) ...",
          flush=True)
    await dialer_main.run(cfg, trunk_channels=5, cps=2, until_idle=30, clock_start=start, site=site,
                          on_settled=show)
    return outcomes


def run_demo(cfg: Settings) -> int:
    site = Site(cfg)
    print(f"Asterisk: {site.runtime.version()}  "
          f"({'chroot ' + str(site.runtime.root) if site.runtime.chrooted else 'system'})")
    site.start()
    url = cfg.db_url()
    upgrade(url)
    sessions = session_factory(connect(url))
    start = business_hours_start()
    campaign_id = _create_campaign(sessions, start)
    outcomes = asyncio.run(_run(cfg, site, sessions, campaign_id, start))
    print(f"\nSummary (campaign {campaign_id}): {sum(outcomes.values())} calls placed")
    for disposition, count in outcomes.most_common():
        print(f"  {LABELS.get(disposition, disposition):28s} {count}")
    with sessions() as s:
        accounts = s.scalars(select(Account).order_by(Account.room)).all()
        print("Accounts by class (分类):")
        for cls, label in CLASSES.items():
            rooms = [f"{a.room}{' → ' + format(a.promised_date, '%m-%d') if a.promised_date else ''}"
                     for a in accounts if a.account_class == cls]
            if rooms:
                print(f"  {label:30s} {', '.join(rooms)}")
        later = s.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id,
                                                Attempt.status == "queued")
                          .order_by(Attempt.scheduled_at)).all()
        lost = s.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.campaign_id == campaign_id, Attempt.status == "dialing"))
        if later:
            print("Follow-up calls queued (policy time, Asia/Shanghai):")
            for a in later:
                print(f"  {a.scheduled_at.astimezone(SHANGHAI):%m-%d %H:%M}  {a.number}  "
                      f"(after attempt {a.parent_id}, message: {a.message_stage})")
    print(f"  database: {url}")
    return 0 if lost == 0 else 1
