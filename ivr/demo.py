"""`ivr demo`: a small arrears campaign placed through the real Asterisk to the simulated
phone network, each outcome printed as it happens, then a summary."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import date, datetime, time as clock_time, timedelta
from decimal import Decimal

from ivr.config import Settings
from ivr.dialer import main as dialer_main
from ivr.dialer.seed import campaign_with_accounts
from sqlalchemy import func, select

from ivr.policy.windows import SHANGHAI
from ivr.storage import Attempt, connect, session_factory, upgrade
from ivr.telephony.asterisk import Site
from ivr.telephony.asterisk.site import ami_client
from ivr.telephony.pstn_sim import Behaviour, PstnSim

# (room, owner, title, number, amount, months, behaviour, what it shows)
DEMO_OWNERS = [
    ("3栋2单元1501", "张伟", "先生", "13800000001", "1234.50", 3,
     Behaviour.answer(1, [(2.0, "1")]), "answers, presses 1"),
    ("3栋2单元1502", "李娜", "女士", "13800000002", "860.00", 2,
     Behaviour.answer(1, [(2.0, "20261130#")]), "answers, keys a date 20261130#"),
    ("5栋1单元0301", "王芳", "女士", "13800000003", "2400.00", 6,
     Behaviour.busy(), "busy"),
    ("5栋1单元0302", "刘洋", "先生", "13800000004", "420.00", 1,
     Behaviour.no_answer(), "rings, nobody answers"),
    ("7栋3单元1203", "陈静", "女士", "13800000005", "1500.00", 4,
     Behaviour.unreachable(), "empty number (空号)"),
    ("7栋3单元1204", "杨磊", "先生", "13800000006", "980.00", 2,
     Behaviour.congestion(), "network congestion"),
    ("9栋1单元0101", "赵敏", "女士", "13800000007", "3120.00", 8,
     Behaviour.hang_up_mid_message(1, 2.0), "hangs up mid-message"),
    ("9栋1单元0102", "黄强", "先生", "13800000008", "650.00", 1,
     Behaviour.answer(1, []), "listens, presses nothing"),
]

# Short intervals so the demo shows retries within a minute; production uses the defaults.
DEMO_SETTINGS = {"dial_timeout": 8, "key_timeout": 3,
                 "retry": {"busy": 10, "no_answer": 15, "failed": 10, "max_attempts_per_day": 2}}

LABELS = {"answered": "已接听 answered", "busy": "忙线 busy", "no_answer": "无人接听 no answer",
          "unreachable": "空号 unreachable", "failed": "失败 failed",
          "hung_up_early": "中途挂断 hung up early", "machine": "答录机 machine",
          "unknown": "未知 unknown"}


def _create_campaign(sessions) -> int:
    with sessions() as s:
        campaign = campaign_with_accounts(s, "演示：物业费催缴 Demo arrears reminder", [
            dict(room=room, owner_name=name, title=title, phones=[number],
                 amount_owed=Decimal(amount), months_owed=months, due_date=date(2026, 11, 30))
            for room, name, title, number, amount, months, _b, _w in DEMO_OWNERS],
            template="arrears-first", actor="demo", settings=DEMO_SETTINGS,
            now=business_hours_start())
        return campaign.id


def business_hours_start() -> datetime:
    """The next weekday 10:00 in Shanghai: the demo's simulated policy clock starts there so
    calls fall inside the call windows whatever the hour is on this machine."""
    day = datetime.now(SHANGHAI).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, clock_time(10, 0), SHANGHAI)


async def _run(cfg: Settings, site: Site, campaign_id: int) -> Counter:
    pstn = ami_client(site.pstn)
    await pstn.start()
    try:
        await pstn.wait_ready(30)
        sim = PstnSim(pstn, site.pstn.host_dir / "recordings")
        await sim.script_many({o[3]: o[6] for o in DEMO_OWNERS})
    finally:
        await pstn.close()
    what = {o[3]: o[7] for o in DEMO_OWNERS}
    started = time.monotonic()
    outcomes: Counter = Counter()

    def show(attempt: Attempt) -> None:
        outcomes[attempt.disposition or attempt.status.value] += 1
        keys = attempt.key_log or attempt.keys
        print(f"[{sum(outcomes.values())}] {time.monotonic() - started:5.1f}s  attempt {attempt.id:<3d} "
              f"{attempt.number}  {LABELS.get(attempt.disposition or '', attempt.disposition)}"
              f"  (DIALSTATUS={attempt.dial_status} cause={attempt.hangup_cause})"
              f"{'  keys=' + keys if keys else ''}   — scripted: {what.get(attempt.number, '')}",
              flush=True)

    print(f"Dialing {len(DEMO_OWNERS)} owners through pbx → PJSIP trunk → pstn-sim "
          f"(4 channels, 2 calls/s; policy clock starts {business_hours_start():%Y-%m-%d %H:%M} "
          f"Asia/Shanghai) ...", flush=True)
    await dialer_main.run(cfg, trunk_channels=4, cps=2, until_idle=30,
                          clock_start=business_hours_start(), site=site, on_settled=show,
                          planner="prompt")
    return outcomes


def run_demo(cfg: Settings) -> int:
    site = Site(cfg)
    print(f"Asterisk: {site.runtime.version()}  ({'chroot ' + str(site.runtime.root) if site.runtime.chrooted else 'system'})")
    site.start()
    url = cfg.db_url()
    upgrade(url)
    engine = connect(url)
    sessions = session_factory(engine)
    campaign_id = _create_campaign(sessions)
    outcomes = asyncio.run(_run(cfg, site, campaign_id))
    print(f"\nSummary (campaign {campaign_id}): {sum(outcomes.values())} calls placed")
    for disposition, count in outcomes.most_common():
        print(f"  {LABELS.get(disposition, disposition):28s} {count}")
    with sessions() as s:
        later = s.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id,
                                                Attempt.status == "queued")
                          .order_by(Attempt.scheduled_at)).all()
        lost = s.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.campaign_id == campaign_id, Attempt.status == "dialing"))
        if later:
            print("Follow-ups queued (policy time, Asia/Shanghai):")
            for a in later:
                print(f"  {a.scheduled_at.astimezone(SHANGHAI):%m-%d %H:%M}  {a.number}  "
                      f"(after attempt {a.parent_id})")
    print(f"  database: {url}")
    return 0 if lost == 0 else 1
