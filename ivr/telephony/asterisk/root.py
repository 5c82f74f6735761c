"""Where the Asterisk binary lives: the system's, or a Debian sid chroot we build.

Debian bookworm ships no `asterisk` package; sid does (22.x). When the machine has no
asterisk of its own we debootstrap a minimal sid root once (about a minute) and run
Asterisk inside it with chroot. Every runtime path is given as the path *inside* the
root; `host_path()` maps it to the path Python sees.
"""
from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("ivr.asterisk.root")

APT_OPTS = ["-o", "Acquire::Check-Valid-Until=false", "-o", "Acquire::Retries=3"]
SID_PACKAGES = ["asterisk"]


class AsteriskUnavailable(RuntimeError):
    """No asterisk could be found or provisioned; the message says why."""


@dataclass(frozen=True)
class AsteriskRuntime:
    root: Path  # "/" for a system Asterisk

    @property
    def chrooted(self) -> bool:
        return self.root != Path("/")

    def host_path(self, inner: str | Path) -> Path:
        inner = Path(inner)
        return self.root / inner.relative_to("/") if self.chrooted else inner

    def command(self, *args: str) -> list[str]:
        binary = "/usr/sbin/asterisk" if self.chrooted else (shutil.which("asterisk") or "asterisk")
        return (["chroot", str(self.root)] if self.chrooted else []) + [binary, *args]

    def version(self) -> str:
        out = subprocess.run(self.command("-V"), capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise AsteriskUnavailable(f"asterisk -V failed: {out.stderr.strip() or out.stdout.strip()}")
        return out.stdout.strip()

    def module_dir(self) -> str:
        """astmoddir from the package's own asterisk.conf (it differs between distributions)."""
        conf = self.host_path("/etc/asterisk/asterisk.conf")
        if conf.exists():
            for line in conf.read_text(errors="replace").splitlines():
                key, _, value = line.partition("=>")
                if key.strip() == "astmoddir" and value.strip():
                    return value.split(";")[0].strip()
        for candidate in ("/usr/lib/x86_64-linux-gnu/asterisk/modules", "/usr/lib/asterisk/modules",
                          "/usr/lib64/asterisk/modules"):
            if self.host_path(candidate).is_dir():
                return candidate
        raise AsteriskUnavailable("cannot find the Asterisk module directory")


def _healthy(runtime: AsteriskRuntime) -> bool:
    try:
        return runtime.version().startswith("Asterisk")
    except (AsteriskUnavailable, OSError, subprocess.TimeoutExpired):
        return False


def find(root: Path) -> AsteriskRuntime | None:
    """The system Asterisk if there is one, else a healthy chroot at `root`."""
    if shutil.which("asterisk"):
        runtime = AsteriskRuntime(Path("/"))
        if _healthy(runtime):
            return runtime
    if (root / "usr/sbin/asterisk").exists():
        runtime = AsteriskRuntime(root)
        if _healthy(runtime):
            return runtime
    return None


@contextmanager
def _lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _run(cmd: list[str], what: str) -> None:
    log.info("%s: %s", what, " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise AsteriskUnavailable(f"{what} failed (exit {proc.returncode}):\n{tail}")


def setup(root: Path, mirror: str) -> AsteriskRuntime:
    """Find or build an Asterisk. Safe to run twice, and from two processes at once."""
    with _lock(root.parent / ".setup.lock"):
        runtime = find(root)
        if runtime:
            return runtime
        if shutil.which("debootstrap") is None:
            raise AsteriskUnavailable("debootstrap is not installed (run scripts/bootstrap.sh)")
        if os.geteuid() != 0:
            raise AsteriskUnavailable("building the Asterisk root needs root (debootstrap, chroot)")
        # Build beside the final place and rename at the end: a root half-built by a
        # killed run is never mistaken for a good one.
        work = root.with_name(root.name + ".building")
        shutil.rmtree(work, ignore_errors=True)
        _run(["debootstrap", "--variant=minbase", "sid", str(work), mirror], "debootstrap sid")
        shutil.copy("/etc/resolv.conf", work / "etc/resolv.conf")
        # Keep apt from trying to start services inside the chroot.
        policy = work / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        apt = ["chroot", str(work), "apt-get", *APT_OPTS]
        _run([*apt, "update", "-qq"], "apt-get update (sid)")
        env_cmd = ["env", "DEBIAN_FRONTEND=noninteractive"]
        _run([*env_cmd, *apt, "install", "-y", "-qq", "--no-install-recommends", *SID_PACKAGES],
             "apt-get install asterisk (sid)")
        _run(["chroot", str(work), "apt-get", "clean"], "apt-get clean")
        if not _healthy(AsteriskRuntime(work)):
            raise AsteriskUnavailable("asterisk installed in the sid root but does not run")
        if root.exists():
            shutil.rmtree(root)  # present but broken: rebuilt
        work.rename(root)
        return AsteriskRuntime(root)
