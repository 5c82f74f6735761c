"""Settings read from the environment, one place for every knob the engine has."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    # Where Python keeps its own state (SQLite file, logs); not where Asterisk runs.
    var_dir: Path = field(default_factory=lambda: Path(_env("IVR_VAR_DIR", str(PROJECT_DIR / "var"))))
    database_url: str = field(default_factory=lambda: _env("IVR_DATABASE_URL", ""))
    # A "site" is one pair of Asterisk instances (pbx + pstn-sim) with its own ports,
    # so the test suite and a running demo never collide.
    site: str = field(default_factory=lambda: _env("IVR_SITE", "demo"))
    port_base: int = field(default_factory=lambda: int(_env("IVR_PORT_BASE", "15000")))
    asterisk_root: Path = field(
        default_factory=lambda: Path(_env("IVR_ASTERISK_ROOT", "/var/lib/ivr/sid-root"))
    )
    debian_mirror: str = field(
        default_factory=lambda: _env("IVR_DEBIAN_MIRROR", "http://deb.debian.org/debian")
    )
    tts_engine: str = field(default_factory=lambda: _env("IVR_TTS_ENGINE", "espeak"))
    # Holidays announced after the installed chinese_calendar (ivr.policy.calendar_file).
    holidays_file: str = field(default_factory=lambda: _env("IVR_HOLIDAYS_FILE", ""))
    # What the messages tell owners to call or pay through; set these for a real utility.
    company: str = field(default_factory=lambda: _env("IVR_COMPANY", "物业服务中心"))
    hotline: str = field(default_factory=lambda: _env("IVR_HOTLINE", "02160000000"))
    pay_channel: str = field(default_factory=lambda: _env("IVR_PAY_CHANNEL", "微信公众号“物业服务”"))

    # The carrier trunk calls leave by. No host: the simulated phone network (pstn-sim) of
    # the site. A host: the operator's SIP trunk, and no pstn-sim is started. A username
    # makes the trunk answer digest challenges (and the simulator demand them).
    trunk_host: str = field(default_factory=lambda: _env("IVR_TRUNK_HOST", ""))
    trunk_port: int = field(default_factory=lambda: int(_env("IVR_TRUNK_PORT", "5060")))
    trunk_username: str = field(default_factory=lambda: _env("IVR_TRUNK_USERNAME", ""))
    trunk_password: str = field(default_factory=lambda: _env("IVR_TRUNK_PASSWORD", ""))
    trunk_register: bool = field(default_factory=lambda: _env("IVR_TRUNK_REGISTER", "no").lower()
                                 in ("1", "yes", "true", "on"))
    caller_id: str = field(default_factory=lambda: _env("IVR_CALLER_ID", "02160000000"))
    # Where the dialer's Asterisk listens for SIP: loopback unless a real trunk needs more;
    # behind NAT, the public address the carrier should send SIP and RTP to.
    sip_bind: str = field(default_factory=lambda: _env("IVR_SIP_BIND", "127.0.0.1"))
    sip_external_address: str = field(default_factory=lambda: _env("IVR_SIP_EXTERNAL_ADDRESS", ""))

    def holidays_path(self) -> Path:
        return Path(self.holidays_file) if self.holidays_file else self.var_dir / "holidays.csv"

    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / (self.site + '.sqlite')}"


def settings() -> Settings:
    return Settings()
