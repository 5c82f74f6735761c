"""Scripting the simulated phone network (the pstn-sim Asterisk instance).

Each number's behaviour is written into the sim's AstDB over AMI (family sim/<number>);
its dialplan (dialplans/pstn/extensions.conf) reads it when the call arrives. Tests and
the demo use this to stand in for owners: answer after N seconds and press keys at given
times (sent as RFC 4733 events), be busy, never answer, be unreachable, hang up mid-message,
or be an answering machine with a long greeting.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

# Seconds SendDTMF takes per digit (250 ms between digits, 120 ms tone), so scripted
# times stay true after a multi-digit entry.
DIGIT_SECONDS = 0.37
KINDS = ("answer", "busy", "noanswer", "congestion", "unreachable")


@dataclass(frozen=True)
class Behaviour:
    kind: str
    ring: float = 1.0                 # seconds of ringing before answering
    steps: tuple[str, ...] = field(default_factory=tuple)
    record: bool = False              # keep what the phone heard, for audio checks

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown behaviour kind {self.kind!r}; one of {KINDS}")
        for step in self.steps:
            if "|" in step or "\n" in step:
                raise ValueError(f"bad step {step!r}")

    # -- the behaviours owners have ---------------------------------------------------
    @classmethod
    def answer(cls, after: float = 1.0, keys: list[tuple[float, str]] = (), *,
               hangup_after: float | None = None, record: bool = False) -> Behaviour:
        """Answer after `after` s; press each (seconds after answer, digits) in order."""
        steps, clock = [], 0.0
        for at, digits in sorted(keys):
            if at > clock:
                steps.append(f"wait={at - clock:.2f}")
                clock = at
            steps.append(f"dtmf={digits}")
            clock += DIGIT_SECONDS * len(digits)
        if hangup_after is not None:
            if hangup_after > clock:
                steps.append(f"wait={hangup_after - clock:.2f}")
            steps.append("hangup=")
        return cls("answer", ring=after, steps=tuple(steps), record=record)

    @classmethod
    def hang_up_mid_message(cls, after: float = 1.0, listen: float = 2.0, record: bool = False):
        return cls.answer(after, hangup_after=listen, record=record)

    @classmethod
    def answering_machine(cls, after: float = 2.0, record: bool = False) -> Behaviour:
        return cls("answer", ring=after, steps=("play=sim/machine-greeting",), record=record)

    @classmethod
    def busy(cls) -> Behaviour:
        return cls("busy")

    @classmethod
    def no_answer(cls) -> Behaviour:
        return cls("noanswer")

    @classmethod
    def congestion(cls) -> Behaviour:
        return cls("congestion")

    @classmethod
    def unreachable(cls) -> Behaviour:
        return cls("unreachable")

    @classmethod
    def from_dict(cls, data: dict) -> Behaviour:
        """The data-file form: {"kind": "answer", "after": 1, "keys": [[1.5, "1"]], ...}."""
        kind = data.get("kind", "answer")
        if kind == "answer":
            return cls.answer(float(data.get("after", 1.0)),
                              [(float(t), str(d)) for t, d in data.get("keys", [])],
                              hangup_after=data.get("hangup_after"),
                              record=bool(data.get("record", False)))
        if kind == "machine":
            return cls.answering_machine(float(data.get("after", 2.0)), bool(data.get("record")))
        return cls(kind)

    def db_values(self) -> dict[str, str]:
        return {"kind": self.kind, "ring": f"{self.ring:.2f}", "steps": "|".join(self.steps),
                "record": "1" if self.record else "0"}


class PstnSim:
    """Control of the simulated network over its AMI connection (an AMIClient)."""

    def __init__(self, client, recordings_dir: Path):
        self.client = client
        self.recordings_dir = recordings_dir

    async def script(self, number: str, behaviour: Behaviour) -> None:
        if not number.isdigit():
            raise ValueError(f"simulated numbers are digits only: {number!r}")
        for key, value in behaviour.db_values().items():
            await self.client.send_action(
                {"Action": "DBPut", "Family": f"sim/{number}", "Key": key, "Val": value})

    async def script_many(self, behaviours: dict[str, Behaviour]) -> None:
        for number, behaviour in behaviours.items():
            await self.script(number, behaviour)

    async def load_file(self, path: Path) -> dict[str, Behaviour]:
        behaviours = {num: Behaviour.from_dict(spec)
                      for num, spec in json.loads(Path(path).read_text()).items()}
        await self.script_many(behaviours)
        return behaviours

    def recordings(self, number: str) -> list[Path]:
        """What the phone at `number` heard, one WAV per answered call, oldest first."""
        files = [p for p in self.recordings_dir.glob(f"{number}-*.wav")
                 if not p.name.endswith("-both.wav")]
        return sorted(files, key=lambda p: p.stat().st_mtime)


class OwnerScript:
    """A scripted owner for the IVR flows: says hello on answering (so answering-machine
    detection hears a person), then presses keys, plays audio or hangs up at given seconds
    after answer. Each step returns when it ends, to time the next one from the real
    durations of what the flow plays."""

    def __init__(self, hello_seconds: float | None, ring: float = 0.5):
        self.steps: list[str] = ["play=sim/hello"] if hello_seconds else []
        self.clock = hello_seconds or 0.0
        self.ring = ring

    def _wait_until(self, t: float) -> None:
        if t < self.clock - 0.01:
            raise ValueError(f"script goes back in time: {t:.2f} < {self.clock:.2f}")
        if t > self.clock:
            self.steps.append(f"wait={t - self.clock:.2f}")
            self.clock = t

    def press(self, t: float, digits: str) -> float:
        self._wait_until(t)
        self.steps.append(f"dtmf={digits}")
        self.clock += DIGIT_SECONDS * len(digits)
        return self.clock

    def say(self, t: float, sound: str, seconds: float) -> float:
        self._wait_until(t)
        self.steps.append(f"play={sound}")
        self.clock += seconds
        return self.clock

    def hang_up(self, t: float) -> None:
        self._wait_until(t)
        self.steps.append("hangup=")

    def behaviour(self, record: bool = False) -> Behaviour:
        return Behaviour("answer", ring=self.ring, steps=tuple(self.steps), record=record)


async def script_phones(site, behaviours: dict[str, Behaviour], timeout: float = 30) -> None:
    """Script a site's simulated phones over a connection of its own, closed afterwards."""
    from ivr.telephony.asterisk.site import ami_client

    pstn = ami_client(site.pstn)
    await pstn.start()
    try:
        await pstn.wait_ready(timeout)
        await PstnSim(pstn, site.pstn.host_dir / "recordings").script_many(behaviours)
    finally:
        await pstn.close()
