"""The live view follows real calls: the dialer places them through both Asterisk instances
while a signed-in viewer polls /live/<id>/state.json, as the page does every two seconds."""
from __future__ import annotations

import asyncio

from dialer_helpers import campaign_for

from ivr.storage import connect, session_factory
from ivr.telephony.pstn_sim import Behaviour


def test_live_state_updates_while_real_calls_run(app, sqlite_url, client_for, run_dialers):
    engine = connect(sqlite_url)
    sessions = session_factory(engine)
    answer = [f"1363000{i:04d}" for i in range(4)]
    busy = [f"1363001{i:04d}" for i in range(2)]
    campaign_id = campaign_for(sessions, answer + busy, dial_timeout=4, key_timeout=1)
    viewer = client_for("viewer")
    snapshots: list[dict] = []

    async def watch(_dialers):
        while True:
            response = await asyncio.to_thread(viewer.get, f"/live/{campaign_id}/state.json")
            assert response.status_code == 200
            snapshots.append(response.get_json())
            if snapshots[-1]["statuses"]["done"] >= 6:
                return
            await asyncio.sleep(0.3)

    behaviours = {n: Behaviour.answer(0.5, [(1.0, "1")], hangup_after=3) for n in answer}
    behaviours |= {n: Behaviour.busy() for n in busy}
    run_dialers(sessions, behaviours, trunk_channels=2, cps=2, until_idle=1, during=watch)
    engine.dispose()

    assert snapshots[0]["statuses"]["done"] < 6
    assert any(s["in_progress"] > 0 for s in snapshots), "never saw a call in progress"
    done = [s["statuses"]["done"] for s in snapshots]
    assert done == sorted(done) and done[-1] == 6        # only ever forward
    final = {o["code"]: o["count"] for o in snapshots[-1]["outcomes"]}
    assert final["busy"] == 2 and sum(final.values()) == 6
    assert {row["number"] for row in snapshots[-1]["latest"]} >= set(answer + busy)
