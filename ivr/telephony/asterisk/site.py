"""A site: the dialer's Asterisk (pbx) and the simulated phone network (pstn-sim), with
ports derived from one base so a test run and a demo can run side by side."""
from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from ivr.config import PROJECT_DIR, Settings

from .instance import Instance, InstanceSpec, Trunk
from .root import AsteriskRuntime, setup

AUDIO_DIR = PROJECT_DIR / "audio"
STAFF_EXTENSION = "8001"


class Site:
    def __init__(self, settings: Settings, runtime: AsteriskRuntime | None = None):
        self.settings = settings
        self.runtime = runtime or setup(settings.asterisk_root, settings.debian_mirror)
        base = settings.port_base
        self.run_dir = f"/var/lib/ivr/run/{settings.site}"
        self.host_run_dir = self.runtime.host_path(self.run_dir)
        self.sounds_dir = f"{self.run_dir}/sounds"
        self.trunk = _trunk(settings)
        self.staff_extension = {"number": STAFF_EXTENSION, "password": self._staff_password()}
        self.pbx = Instance(self.runtime, self.run_dir, InstanceSpec(
            name="pbx", role="pbx", ami_user="ivr-dialer", ami_port=base + 38, sip_port=base + 60,
            rtp_start=base + 1000, rtp_end=base + 1999,
            context={"trunk": self.trunk, "sounds_dir": self.sounds_dir,
                     "extensions": [self.staff_extension], "sip_bind": settings.sip_bind,
                     "external_address": settings.sip_external_address}))
        self.pstn = Instance(self.runtime, self.run_dir, InstanceSpec(
            name="pstn", role="pstn", ami_user="pstn-sim", ami_port=base + 39, sip_port=base + 70,
            rtp_start=base + 2000, rtp_end=base + 2999,
            context={"sounds_dir": self.sounds_dir, "peer_sip_port": base + 60, "trunk": self.trunk}))
        # pyVoIP handset (a staff member's test phone) ports.
        self.handset_sip_port = base + 80
        self.handset_rtp = (base + 3000, base + 3099)

    @property
    def instances(self) -> list[Instance]:
        """With an operator's trunk there is no simulated network to run."""
        return [self.pbx, self.pstn] if self.trunk.simulated else [self.pbx]

    def _staff_password(self) -> str:
        path = self.host_run_dir / "staff-extension.secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(12))
            path.chmod(0o600)
        return path.read_text().strip()

    def sound(self, relative: str) -> str:
        """Path Asterisk plays for a file under audio/ (without extension)."""
        return f"{self.sounds_dir}/{relative}"

    def host_sounds_dir(self) -> Path:
        return self.runtime.host_path(self.sounds_dir)

    def install_sounds(self) -> None:
        """Copy the shipped prompts where the (possibly chrooted) Asterisk can read them."""
        target = self.host_sounds_dir()
        for src in AUDIO_DIR.rglob("*.wav"):
            dst = target / src.relative_to(AUDIO_DIR)
            if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)

    def start(self) -> None:
        self.install_sounds()
        for inst in self.instances:
            inst.start()

    def stop(self) -> None:
        for inst in self.instances:
            inst.stop()


def _trunk(settings: Settings) -> Trunk:
    common = dict(caller_id=settings.caller_id, username=settings.trunk_username,
                  password=settings.trunk_password, register=settings.trunk_register)
    if not settings.trunk_host:
        return Trunk(port=settings.port_base + 70, simulated=True, **common)
    return Trunk(host=settings.trunk_host, port=settings.trunk_port, simulated=False, **common)


def ami_client(instance: Instance, **options):
    """An AMIClient for one instance (its generated secret, loopback only)."""
    from ivr.telephony.ami import AMIClient

    return AMIClient("127.0.0.1", instance.spec.ami_port, instance.spec.ami_user,
                     instance.ami_secret, name=instance.spec.name, **options)
