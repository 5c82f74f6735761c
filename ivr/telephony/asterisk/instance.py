"""One Asterisk instance: its rendered configuration, its process, its AMI credentials."""
from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from ivr.config import PROJECT_DIR

from .root import AsteriskRuntime, AsteriskUnavailable

log = logging.getLogger("ivr.asterisk")

TEMPLATES = PROJECT_DIR / "dialplans"


@dataclass(frozen=True)
class Trunk:
    """The SIP trunk calls leave by. Defaults point at the simulated phone network."""
    name: str = "carrier"
    host: str = "127.0.0.1"
    port: int = 5060
    caller_id: str = "02160000000"
    username: str = ""
    password: str = ""
    register: bool = False   # send REGISTER (carriers that find us by registration)
    simulated: bool = True   # the site's pstn-sim, not an operator's trunk


@dataclass(frozen=True)
class InstanceSpec:
    name: str            # also the runtime folder name
    role: str            # template folder under dialplans/: pbx or pstn
    ami_user: str
    ami_port: int
    sip_port: int
    rtp_start: int
    rtp_end: int
    max_calls: int = 500
    context: dict = field(default_factory=dict)


class Instance:
    def __init__(self, runtime: AsteriskRuntime, run_dir: str, spec: InstanceSpec):
        self.runtime = runtime
        self.spec = spec
        self.dir = f"{run_dir}/{spec.name}"          # as Asterisk sees it
        self.host_dir = runtime.host_path(self.dir)  # as we see it

    # -- configuration -------------------------------------------------------------
    @property
    def conf(self) -> str:
        return f"{self.dir}/etc/asterisk.conf"

    @property
    def ami_secret(self) -> str:
        """Generated once per instance folder, never committed, readable by root only."""
        path = self.host_dir / "ami.secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(24))
        return path.read_text().strip()

    def render(self) -> None:
        for sub in ("etc", "lib", "spool", "run", "log", "log/cdr-csv", "cache", "recordings"):
            (self.host_dir / sub).mkdir(parents=True, exist_ok=True)
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(
            [str(TEMPLATES / self.spec.role), str(TEMPLATES / "common")]),
            undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        context = {
            "name": self.spec.name, "dir": self.dir, "module_dir": self.runtime.module_dir(),
            "data_dir": "/usr/share/asterisk", "ami_port": self.spec.ami_port,
            "ami_user": self.spec.ami_user, "ami_secret": self.ami_secret,
            "sip_port": self.spec.sip_port, "rtp_start": self.spec.rtp_start,
            "rtp_end": self.spec.rtp_end, "max_calls": self.spec.max_calls,
            "recordings_dir": f"{self.dir}/recordings", **self.spec.context,
        }
        names = {p.name for d in (self.spec.role, "common") for p in (TEMPLATES / d).glob("*.conf")}
        for name in sorted(names):
            text = env.get_template(name).render(**context)
            target = self.host_dir / "etc" / name
            tmp = target.with_suffix(".tmp")
            tmp.write_text(text)
            os.chmod(tmp, 0o600)
            tmp.replace(target)

    # -- process -------------------------------------------------------------------
    def pid(self) -> int | None:
        path = self.host_dir / "run" / "asterisk.pid"
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        # A recycled pid is not our Asterisk.
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"asterisk" in cmdline and self.conf.encode() in cmdline else None

    def start(self) -> None:
        """Render the configuration and start the daemon (no-op when already running).
        Readiness (FullyBooted over AMI) is awaited by the caller: see Site.wait_ready."""
        if self.pid():
            return
        self.render()
        (self.host_dir / "run" / "asterisk.ctl").unlink(missing_ok=True)
        proc = subprocess.run(self.runtime.command("-C", self.conf), capture_output=True,
                              text=True, timeout=30)
        if proc.returncode != 0:
            raise AsteriskUnavailable(
                f"asterisk {self.spec.name} did not start: {proc.stderr.strip() or proc.stdout.strip()}")
        deadline = time.monotonic() + 15
        while not (self.pid() and self._ami_listening()):
            if time.monotonic() > deadline:
                raise AsteriskUnavailable(
                    f"asterisk {self.spec.name} did not come up; see {self.host_dir}/log/messages.log")
            time.sleep(0.05)

    def _ami_listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.spec.ami_port), timeout=1).close()
            return True
        except OSError:
            return False

    def cli(self, command: str, timeout: float = 15) -> str:
        """Run a CLI command over the console socket (root only; for ops and tests)."""
        proc = subprocess.run(self.runtime.command("-C", self.conf, "-rx", command),
                              capture_output=True, text=True, timeout=timeout)
        return proc.stdout

    def stop(self, timeout: float = 10) -> None:
        pid = self.pid()
        if not pid:
            return
        try:
            self.cli("core stop now", timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    return
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if not self.pid():
                    return
                time.sleep(0.05)
        raise AsteriskUnavailable(f"asterisk {self.spec.name} (pid {pid}) would not stop")

    def status(self) -> dict:
        pid = self.pid()
        return {"name": self.spec.name, "running": bool(pid), "pid": pid,
                "ami": f"127.0.0.1:{self.spec.ami_port}", "sip": f"127.0.0.1:{self.spec.sip_port}",
                "dir": str(self.host_dir)}
