"""An operator's trunk from the environment: the pbx is configured for it and no simulated
network is started (the call path itself is shown by tests/e2e/test_carrier_trunk.py)."""
from __future__ import annotations

import configparser
import shutil
from dataclasses import replace

from ivr.config import Settings
from ivr.telephony.asterisk import Site


def _sections(text: str) -> list[tuple[str, dict]]:
    """pjsip.conf repeats section names (endpoint, aor, identify share one): keep each."""
    found, name, body = [], None, {}
    for line in text.splitlines():
        line = line.split(";")[0].strip()
        if line.startswith("[") and line.endswith("]"):
            if name:
                found.append((name, body))
            name, body = line[1:-1], {}
        elif "=" in line and name:
            key, value = (p.strip() for p in line.split("=", 1))
            body.setdefault(key, value)
    if name:
        found.append((name, body))
    return found


def test_an_operator_trunk_from_the_environment(monkeypatch, settings):
    for name, value in {"IVR_TRUNK_HOST": "sip.carrier.example", "IVR_TRUNK_PORT": "5080",
                        "IVR_TRUNK_USERNAME": "02161234567", "IVR_TRUNK_PASSWORD": "s3cret-pw",
                        "IVR_TRUNK_REGISTER": "yes", "IVR_CALLER_ID": "02161234567",
                        "IVR_SIP_BIND": "0.0.0.0", "IVR_SIP_EXTERNAL_ADDRESS": "203.0.113.5"}.items():
        monkeypatch.setenv(name, value)
    cfg = replace(Settings(), site=f"trunkcfg{settings.port_base}", port_base=settings.port_base + 3600)
    site = Site(cfg)
    try:
        assert site.instances == [site.pbx]            # no pstn-sim beside a real carrier
        site.pbx.render()
        conf = _sections((site.pbx.host_dir / "etc/pjsip.conf").read_text())
        by_type = {(name, body.get("type")): body for name, body in conf}
        transport = by_type[("transport-udp", "transport")]
        assert transport["bind"] == f"0.0.0.0:{site.pbx.spec.sip_port}"
        assert transport["external_signaling_address"] == "203.0.113.5"
        endpoint = by_type[("carrier", "endpoint")]
        assert (endpoint["from_user"], endpoint["from_domain"], endpoint["outbound_auth"]) == \
            ("02161234567", "sip.carrier.example", "carrier-auth")
        assert by_type[("carrier", "aor")]["contact"] == "sip:sip.carrier.example:5080"
        assert by_type[("carrier", "identify")]["match"] == "sip.carrier.example"
        assert by_type[("carrier-auth", "auth")]["password"] == "s3cret-pw"
        registration = by_type[("carrier-registration", "registration")]
        assert registration["client_uri"] == "sip:02161234567@sip.carrier.example:5080"
        # AMI stays on loopback whatever SIP binds to
        manager = configparser.ConfigParser(strict=False, inline_comment_prefixes=(";",))
        manager.read_string((site.pbx.host_dir / "etc/manager.conf").read_text())
        assert manager["general"]["bindaddr"] == "127.0.0.1"
    finally:
        shutil.rmtree(site.host_run_dir, ignore_errors=True)


def test_without_a_trunk_host_the_site_dials_its_simulated_network(settings):
    site = Site(replace(settings, trunk_host=""))
    assert site.trunk.simulated and site.instances == [site.pbx, site.pstn]
    assert (site.trunk.host, site.trunk.port) == ("127.0.0.1", site.pstn.spec.sip_port)
