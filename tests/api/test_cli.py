"""The commands the lead registers: `ivr api …` (keys, caller IDs) and `ivr webhooks work`
(the delivery worker as its own process, stopped by SIGTERM)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner

from admin.api.cli import api as api_cli

from .conftest import Api


def test_keys_and_caller_ids_from_the_command_line(db_url, api_url, monkeypatch):
    monkeypatch.setenv("IVR_DATABASE_URL", db_url)
    runner = CliRunner()
    made = runner.invoke(api_cli, ["create-key", "billing", "--scope", "write", "--allow", "127.0.0.0/8"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("ivr_")
    client = Api(api_url, key)
    try:
        assert client.get("/me").json() == {"name": "billing", "prefix": key[4:12], "scope": "write",
                                            "ip_allowlist": ["127.0.0.0/8"]}
        assert key[4:12] in runner.invoke(api_cli, ["list-keys"]).output
        assert runner.invoke(api_cli, ["revoke-key", key[4:12]]).exit_code == 0
        assert client.get("/me").status_code == 401
    finally:
        client.close()
    assert runner.invoke(api_cli, ["create-key", "x", "--allow", "nonsense"]).exit_code != 0
    assert runner.invoke(api_cli, ["revoke-key", "nosuchkey"]).exit_code != 0
    assert runner.invoke(api_cli, ["caller-ids", "02160000000", "95588"]).output.strip() == "02160000000 95588"
    assert runner.invoke(api_cli, ["caller-ids"]).output.strip() == "02160000000 95588"
    assert runner.invoke(api_cli, ["caller-ids", "021;1"]).exit_code != 0
    assert runner.invoke(api_cli, ["caller-ids", "--clear"]).output.strip() == "(none)"


def test_the_worker_process_delivers_and_stops_on_sigterm(db_url, admin_api, receiver):
    hook = admin_api.post("/webhooks", {"url": receiver.url}).json()["webhook"]
    admin_api.post(f"/webhooks/{hook['id']}/ping")
    proc = subprocess.Popen([sys.executable, "-c", "from ivr.webhooks.cli import webhooks; webhooks()",
                             "work", "--interval", "0.2"],
                            env={**os.environ, "IVR_DATABASE_URL": db_url},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert receiver.wait_for(1, timeout=20), proc.stderr.read() if proc.poll() is not None else "no delivery"
        assert receiver.requests[0].json["event"] == "ping"
    finally:
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    log = admin_api.get(f"/webhooks/{hook['id']}/deliveries").json()["deliveries"]
    assert log[0]["status"] == "delivered"
