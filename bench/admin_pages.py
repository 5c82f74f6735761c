"""Page load times of the staff admin with 10,000 accounts and 100,000 attempts.

    .venv/bin/python bench/admin_pages.py [--accounts 10000] [--attempts 100000] [--runs 5]

Seeds a fresh SQLite database (WAL, as deployed by default) in a temporary folder, signs in
with Flask's test client and times each main page (server time to a complete response, the
median of --runs after one warm-up), then prints a table. Pass --keep to leave the database.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.policy.windows import local_today
from admin import create_app  # noqa: E402
from admin.security import create_user  # noqa: E402
from ivr.storage import (Account, Attempt, Campaign, Contact, Payment, Phone, connect,  # noqa: E402
                         session_factory, upgrade)

DISPOSITIONS = [("answered", "ANSWER", 16, 0.35), ("no_answer", "NOANSWER", 19, 0.25), ("busy", "BUSY", 17, 0.15),
                ("unreachable", "CHANUNAVAIL", 1, 0.05), ("failed", "CONGESTION", 34, 0.05),
                ("hung_up_early", "ANSWER", 16, 0.1), ("machine", "ANSWER", 16, 0.05)]


def seed(url: str, n_accounts: int, n_attempts: int) -> dict:
    rng = random.Random(7)
    engine = connect(url)
    now = datetime.now(timezone.utc)
    today = local_today()
    with engine.begin() as conn:
        accounts, phones = [], []
        for i in range(n_accounts):
            building = f"{i // 400 + 1}栋"
            accounts.append(dict(id=i + 1, room=f"{building}{(i // 100) % 4 + 1}单元{(i % 100) // 4 + 1:02d}{i % 4 + 1:02d}",
                                 building=building, area=("幸福家园" if i % 3 else "阳光小区"),
                                 owner_name=rng.choice("张王李赵刘陈杨黄周吴") + rng.choice(["伟", "娜", "芳", "洋", "静", "磊", "敏"]),
                                 title=rng.choice(["先生", "女士"]), amount_owed=Decimal(rng.randrange(20000, 500000)) / 100,
                                 months_owed=rng.randrange(1, 13), due_date=today + timedelta(days=30),
                                 account_class=rng.choice("AABBBBCDE"), variables={}, created_at=now, updated_at=now,
                                 promised_date=(today + timedelta(days=rng.randrange(-10, 10))) if i % 5 == 0 else None,
                                 complaint=("物业服务差" if i % 97 == 0 else None),
                                 paid_claim_at=(now if i % 89 == 0 else None)))
            phones.append(dict(account_id=i + 1, number=f"138{i:08d}", kind="mobile", position=0))
            if i % 4 == 0:
                phones.append(dict(account_id=i + 1, number=f"021{60000000 + i}", kind="landline", position=1))
        conn.execute(insert(Account), accounts)
        conn.execute(insert(Phone), phones)
        conn.execute(insert(Campaign), [
            dict(id=1, name="十月物业费催缴", kind="arrears", status="completed", template="arrears-first",
                 settings={"variables": {"company": "幸福家园物业服务中心"}}, trunk="carrier",
                 created_at=now - timedelta(days=30), started_at=now - timedelta(days=30)),
            dict(id=2, name="十一月物业费催缴", kind="arrears", status="running", template="arrears-first",
                 settings={"variables": {"company": "幸福家园物业服务中心"}}, trunk="carrier",
                 created_at=now - timedelta(days=5), started_at=now - timedelta(days=5))])
        contacts = [dict(id=c * n_accounts + a + 1, campaign_id=c + 1, account_id=a + 1, status="active",
                         message_stage="first", created_at=now) for c in range(2) for a in range(n_accounts)]
        conn.execute(insert(Contact), contacts)
        weights = [d[3] for d in DISPOSITIONS]
        batch = []
        for k in range(n_attempts):
            c = 0 if k < n_attempts * 0.6 else 1
            a = k % n_accounts
            disposition, dial_status, cause, _w = rng.choices(DISPOSITIONS, weights)[0]
            when = now - timedelta(days=(30 if c == 0 else 5) - (k // n_accounts) * 0.5, minutes=rng.randrange(600))
            queued = c == 1 and k >= n_attempts - 500
            batch.append(dict(campaign_id=c + 1, contact_id=c * n_accounts + a + 1, account_id=a + 1,
                              number=f"138{a:08d}", status="queued" if queued else "done",
                              disposition=None if queued else disposition, dial_status=None if queued else dial_status,
                              hangup_cause=None if queued else cause, stage="completed" if disposition == "answered" else None,
                              keys="1" if disposition == "answered" else None, key_log="1" if disposition == "answered" else "",
                              choice="promise_date" if disposition == "answered" and a % 5 == 0 else None,
                              promised_date=(today + timedelta(days=a % 10 - 3)) if disposition == "answered" and a % 5 == 0 else None,
                              message_text="张先生您好，这里是幸福家园物业服务中心。", operator="clerk", dialer="bench",
                              scheduled_at=when, dialed_at=None if queued else when,
                              ended_at=None if queued else when + timedelta(seconds=40)))
            if len(batch) == 10_000:
                conn.execute(insert(Attempt), batch)
                batch = []
        if batch:
            conn.execute(insert(Attempt), batch)
        payments = [dict(account_id=a + 1, amount=Decimal("100.00"), paid_on=today - timedelta(days=a % 20),
                         source="import", created_at=now) for a in range(0, n_accounts, 3)]
        conn.execute(insert(Payment), payments)
        conn.execute(Account.__table__.update().where(Account.id % 3 == 1).values(paid_at=now))
    with session_factory(engine)() as s:
        create_user(s, username="bench", password="bench-password-1", role="admin")
        s.commit()
    engine.dispose()
    return {"campaign": 2, "account": 1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--http", action="store_true",
                        help="time over a real socket (werkzeug server in a thread, httpx) instead of the test client")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="admin-bench-"))
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    upgrade(url)
    started = time.monotonic()
    ids = seed(url, args.accounts, args.attempts)
    print(f"seeded {args.accounts:,} accounts, {args.attempts:,} attempts, 2 campaigns in "
          f"{time.monotonic() - started:.1f} s ({url})")

    app = create_app({"TESTING": True, "DATABASE_URL": url, "IMPORT_DIR": folder / "imports",
                      "AUDIO_DIR": folder / "audio", "SECRET_KEY": "bench"})
    import re
    login_re = r'name="csrf_token" type="hidden" value="([^"]+)"'
    if args.http:
        import threading

        import httpx
        from werkzeug.serving import make_server

        import logging
        logging.getLogger("werkzeug").setLevel(logging.ERROR)   # no request log in the table
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        client = httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}", timeout=60)
        token = re.search(login_re, client.get("/login").text).group(1)
        assert client.post("/login", data={"username": "bench", "password": "bench-password-1",
                                           "csrf_token": token}).status_code == 302
        fetch = lambda path: client.get(path)  # noqa: E731
        body = lambda response: response.content  # noqa: E731
    else:
        client = app.test_client()
        token = re.search(login_re, client.get("/login").get_data(as_text=True)).group(1)
        assert client.post("/login", data={"username": "bench", "password": "bench-password-1",
                                           "csrf_token": token}).status_code == 302
        fetch = lambda path: client.get(path)  # noqa: E731
        body = lambda response: response.get_data()  # noqa: E731
    print("timing over " + ("HTTP (werkzeug threaded server, httpx)" if args.http else "Flask's test client"))

    c, a = ids["campaign"], ids["account"]
    pages = [("概览 overview", "/"), ("账户列表 accounts", "/accounts/"), ("账户搜索 account search", "/accounts/?q=1380000"),
             ("账户历史 account history", f"/accounts/{a}"), ("催缴记录 evidence", f"/accounts/{a}/evidence"),
             ("导入 import", "/imports/"), ("活动列表 campaigns", "/campaigns/"), ("活动 campaign", f"/campaigns/{c}"),
             ("新建活动 wizard", "/campaigns/new"), ("实时列表 live", "/live/"), ("实时 live view", f"/live/{c}"),
             ("实时数据 live JSON (every 2 s)", f"/live/{c}/state.json"),
             ("待办 tomorrow", "/results/tomorrow"), ("待办 broken", "/results/broken"),
             ("待办 unreachable", "/results/unreachable"), ("待办 complaints", "/results/complaints"),
             ("待办 claims", "/results/claims"), ("报表 report (campaign)", f"/reports/?campaign={c}"),
             ("报表 report (all accounts)", "/reports/?campaign=all"),
             ("导出 export CSV (10k rows)", f"/reports/export.csv?campaign={c}"),
             ("导出 export XLSX (10k rows)", f"/reports/export.xlsx?campaign={c}"),
             ("审计日志 audit log", "/audit/"), ("用户 users", "/users/")]
    print(f"\n{'page':34s} {'median ms':>10s} {'max ms':>8s} {'KB':>7s}")
    worst = 0.0
    for name, path in pages:
        response = fetch(path)
        assert response.status_code == 200, (path, response.status_code)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = fetch(path)
            body(response)
            times.append((time.perf_counter() - t0) * 1000)
        median = statistics.median(times)
        worst = max(worst, median)
        print(f"{name:34s} {median:10.0f} {max(times):8.0f} {len(body(response)) / 1024:7.0f}")
    print(f"\nslowest page median: {worst:.0f} ms")
    app.extensions["ivr_engine"].dispose()
    if args.keep:
        print(folder)
    if not args.keep:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
