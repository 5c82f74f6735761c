"""Pure AMI wire format: bytes -> Message objects, action dict -> bytes.

No I/O here so the framing rules can be tested by replaying recorded traffic
split at arbitrary byte boundaries (as TCP is free to do).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["Message", "Parser", "serialize"]

_OK_RESPONSES = frozenset({"success", "goodbye", "follows"})
_GREETING_PREFIX = "Asterisk Call Manager"
_END_COMMAND = "--END COMMAND--"
# Headers Asterisk <= 13 wrote before the raw output of `Response: Follows`.
_FOLLOWS_HEADERS = frozenset({"privilege", "actionid"})
# Key under which header-less lines (legacy command output) are kept, so
# old and new (`Output: ...`) command responses read the same way.
OUTPUT = "Output"

# Parser states
_HEADERS, _FOLLOWS_HEAD, _FOLLOWS_BODY = range(3)


class Message:
    """An AMI message: ordered headers, repeated keys allowed, keys case-insensitive."""

    # `_first`: lower-cased name -> value of its first occurrence, built on the first lookup
    # (the dialer looks up a few headers of every event it receives).
    __slots__ = ("_items", "_first")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(str(k), str(v)) for k, v in items]
        self._first: dict[str, str] | None = None

    @classmethod
    def _parsed(cls, items: list[tuple[str, str]]) -> Message:
        """From the parser, whose items are already (str, str) pairs: no copy."""
        msg = cls.__new__(cls)
        msg._items = items
        msg._first = None
        return msg

    def _index(self) -> dict[str, str]:
        first = self._first
        if first is None:
            first = {}
            for name, value in self._items:
                first.setdefault(name.lower(), value)
            self._first = first
        return first

    # -- mapping-ish access -------------------------------------------------
    def __getitem__(self, key: str) -> str:
        try:
            return (self._first if self._first is not None else self._index())[key.lower()]
        except KeyError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return (self._first if self._first is not None else self._index()).get(key.lower(), default)

    def getall(self, key: str) -> list[str]:
        """Every value of a repeated header (Output, ChanVariable, ...), in order."""
        wanted = key.lower()
        return [value for name, value in self._items if name.lower() == wanted]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in (
            self._first if self._first is not None else self._index())

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name, _ in self._items:
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name

    def keys(self) -> list[str]:
        return list(self)

    def items(self) -> list[tuple[str, str]]:
        """All header lines in wire order, duplicates included."""
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self._items == other._items

    def __repr__(self) -> str:
        return f"Message({self._items!r})"

    # -- AMI semantics ------------------------------------------------------
    @property
    def name(self) -> str | None:
        """Event name, or None for responses."""
        return self.get("Event")

    @property
    def is_event(self) -> bool:
        return "Event" in self

    @property
    def is_response(self) -> bool:
        # OriginateResponse carries a `Response:` header but is an event.
        return "Response" in self and not self.is_event

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def ok(self) -> bool:
        return self.is_response and self["Response"].strip().lower() in _OK_RESPONSES


class Parser:
    """Incremental AMI parser; feed it whatever the socket returned."""

    def __init__(self) -> None:
        self.greeting: str | None = None
        self._buf = bytearray()
        self._started = False
        self._items: list[tuple[str, str]] = []
        self._state = _HEADERS

    def feed(self, data: bytes) -> list[Message]:
        """Add bytes; return the messages they complete (possibly none)."""
        buf = self._buf
        buf += data
        end = buf.rfind(b"\n") + 1
        if not end:
            return []
        # Decoded up to the last complete line only, so a UTF-8 sequence split between two
        # reads is never mangled ("\n" never occurs inside a UTF-8 sequence).
        lines = buf[:end].decode("utf-8", errors="replace").split("\n")
        del buf[:end]
        lines.pop()                                # "" after the last "\n"
        out: list[Message] = []
        line_of = self._line
        for line in lines:
            if line.endswith("\r"):
                line = line[:-1]
            msg = line_of(line)
            if msg is not None:
                out.append(msg)
        return out

    def _line(self, line: str) -> Message | None:
        if not self._started:
            self._started = True
            if line.startswith(_GREETING_PREFIX):
                self.greeting = line
                return None

        if self._state == _FOLLOWS_BODY:
            # Legacy command output: raw CLI text, may contain blank lines
            # and colons; only the terminator ends it.
            if line.endswith(_END_COMMAND):
                rest = line[: -len(_END_COMMAND)]
                if rest:
                    self._items.append((OUTPUT, rest))
                self._state = _HEADERS  # the following blank line ends it
            else:
                self._items.append((OUTPUT, line))
            return None

        key, sep, value = line.partition(":")
        is_header = bool(sep) and bool(key) and key == key.strip()

        if self._state == _FOLLOWS_HEAD:
            if is_header and key.lower() in _FOLLOWS_HEADERS:
                self._items.append((key, value[1:] if value.startswith(" ") else value))
                return None
            self._state = _FOLLOWS_BODY
            return self._line(line)

        if not line:
            if not self._items:
                return None  # stray blank line between messages
            msg = Message._parsed(self._items)
            self._items = []
            return msg

        if not is_header:
            self._items.append((OUTPUT, line))
            return None

        value = value[1:] if value.startswith(" ") else value
        if not self._items and key.lower() == "response" and value.strip().lower() == "follows":
            self._state = _FOLLOWS_HEAD
        self._items.append((key, value))
        return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, Mapping):  # {"Variable": {"A": 1}} -> "Variable: A=1"
        return [f"{k}={_as_text(v)}" for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [_as_text(v) for v in value]
    return [_as_text(value)]


def serialize(action: Mapping[str, Any]) -> bytes:
    """Encode an action; list values become repeated header lines.

    CR/LF anywhere is refused: one would let a caller-supplied value (a phone
    number, a TTS text) inject extra headers or a whole second action.
    """
    if not action:
        raise ValueError("empty action")
    lines: list[str] = []
    for key, value in action.items():
        if not key or ":" in key or key != key.strip() or "\r" in key or "\n" in key:
            raise ValueError(f"invalid AMI header name {key!r}")
        for text in _values(value):
            if "\r" in text or "\n" in text:
                raise ValueError(f"CR/LF not allowed in AMI header {key!r}")
            lines.append(f"{key}: {text}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
