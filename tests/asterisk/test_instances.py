"""The Asterisk instances as provisioned: loopback-only AMI, per-instance secrets, a dialer
user without system/command/config rights, and a clean stop/start."""
from __future__ import annotations

import asyncio
import configparser
import stat
import subprocess

import pytest

from ivr.config import PROJECT_DIR
from ivr.telephony.ami import AMIError
from ivr.telephony.asterisk.site import ami_client


def _manager(instance) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, inline_comment_prefixes=(";",))
    cp.read_string((instance.host_dir / "etc/manager.conf").read_text())
    return cp


def test_ami_is_loopback_only_with_generated_secrets(site):
    secrets = set()
    for inst in site.instances:
        conf = _manager(inst)
        assert conf["general"]["bindaddr"].strip() == "127.0.0.1"
        secret = inst.ami_secret
        assert len(secret) >= 24 and secret not in secrets
        secrets.add(secret)
        assert stat.S_IMODE((inst.host_dir / "ami.secret").stat().st_mode) == 0o600
    tracked = subprocess.run(["git", "grep", "-l", "-F", *sum((["-e", s] for s in secrets), [])],
                             cwd=PROJECT_DIR, capture_output=True, text=True).stdout
    assert tracked == "", "an AMI secret is in the repository"


def test_dialer_user_has_only_what_it_needs(site):
    write = {p.strip() for p in _manager(site.pbx)["ivr-dialer"]["write"].split(",")}
    assert write == {"originate", "call", "reporting"}

    async def probe():
        client = ami_client(site.pbx)
        await client.start()
        try:
            await client.wait_ready(20)
            refused = []
            for action in ({"Action": "Command", "Command": "core show version"},
                           {"Action": "GetConfig", "Filename": "manager.conf"},
                           {"Action": "DBPut", "Family": "x", "Key": "y", "Val": "z"}):
                with pytest.raises(AMIError) as err:
                    await client.send_action(action, timeout=5)
                refused.append(err.value.response.get("Message", ""))
            channels, _ = await client.send_list_action({"Action": "CoreShowChannels"}, timeout=5)
            return refused, channels
        finally:
            await client.close()

    refused, channels = asyncio.run(probe())
    assert all("ermission" in m for m in refused), refused
    assert channels.ok


def test_stop_and_start_again(site):
    site.pstn.stop()
    assert site.pstn.pid() is None and not site.pstn.status()["running"]
    site.pstn.start()
    assert site.pstn.pid()

    async def ready():
        client = ami_client(site.pstn)
        await client.start()
        try:
            await client.wait_ready(20)
        finally:
            await client.close()

    asyncio.run(ready())
