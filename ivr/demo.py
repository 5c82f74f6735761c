"""`ivr demo`: a small arrears campaign placed through the real Asterisk to the simulated
phone network, each outcome printed as it happens, then a summary."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import date
from decimal import Decimal

from ivr.config import Settings
from ivr.dialer.originate import CallPlan
from ivr.dialer.runner import run_campaign
from ivr.dialer.seed import campaign_with_accounts
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
            template="arrears-first", actor="demo")
        return campaign.id


async def _run(cfg: Settings, site: Site, sessions, campaign_id: int) -> Counter:
    pbx, pstn = ami_client(site.pbx), ami_client(site.pstn)
    await pbx.start()
    await pstn.start()
    try:
        await pbx.wait_ready(30)
        await pstn.wait_ready(30)
        sim = PstnSim(pstn, site.pstn.host_dir / "recordings")
        await sim.script_many({o[3]: o[6] for o in DEMO_OWNERS})
        what = {o[3]: o[7] for o in DEMO_OWNERS}
        started = time.monotonic()
        done = 0

        def show(attempt: Attempt) -> None:
            nonlocal done
            done += 1
            keys = f"  keys={attempt.key_log or attempt.keys}" if (attempt.key_log or attempt.keys) else ""
            print(f"[{done}/{len(DEMO_OWNERS)}] {time.monotonic() - started:5.1f}s  "
                  f"{attempt.number}  {LABELS.get(attempt.disposition or '', attempt.disposition)}"
                  f"  (DIALSTATUS={attempt.dial_status} cause={attempt.hangup_cause}){keys}"
                  f"   — scripted: {what[attempt.number]}", flush=True)

        plan = CallPlan(prompt=site.sound("prompts/first-call"), goodbye=site.sound("prompts/goodbye"),
                        trunk=site.trunk.name, dial_timeout=8, key_timeout=3)
        print(f"Dialing {len(DEMO_OWNERS)} owners, 4 at a time, through {site.pbx.spec.name} "
              f"→ trunk → pstn-sim ...", flush=True)
        return await run_campaign(pbx, sessions, campaign_id, lambda _c: plan, concurrency=4,
                                  on_settled=show)
    finally:
        await pbx.close()
        await pstn.close()


def run_demo(cfg: Settings) -> int:
    site = Site(cfg)
    print(f"Asterisk: {site.runtime.version()}  ({'chroot ' + str(site.runtime.root) if site.runtime.chrooted else 'system'})")
    site.start()
    url = cfg.db_url()
    upgrade(url)
    engine = connect(url)
    sessions = session_factory(engine)
    campaign_id = _create_campaign(sessions)
    outcomes = asyncio.run(_run(cfg, site, sessions, campaign_id))
    print("\nSummary (campaign %d):" % campaign_id)
    for disposition, count in outcomes.most_common():
        print(f"  {LABELS.get(disposition, disposition):28s} {count}")
    print(f"  database: {url}")
    return 0 if sum(outcomes.values()) == len(DEMO_OWNERS) else 1
