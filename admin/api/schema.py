"""Validating JSON against the OpenAPI description's own schemas, so what the document says
the API accepts is what it accepts (one source, no drift).

A deliberately small subset of JSON Schema — the one the description uses: type, nullable,
enum, string length / pattern / format (date, date-time), integer bounds, arrays with
min/maxItems and uniqueItems, objects with properties / required / additionalProperties /
maxProperties, and $ref. Patterns are always anchored and matched with `fullmatch`, so a
trailing newline cannot slip past `$` as it would with Python's `re.search`.

Every string anywhere must be valid Unicode (no lone surrogates) without NUL: PostgreSQL
cannot store either.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

MAX_ERRORS = 20
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
                       r"([Zz]|[+-][0-9]{2}:[0-9]{2})")


@lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern:
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise ValueError(f"schema patterns must be anchored: {pattern!r}")
    return re.compile(pattern[1:-1])


def parse_date(text: str) -> date:
    if not DATE.fullmatch(text):
        raise ValueError("not a date (YYYY-MM-DD)")
    return date.fromisoformat(text)


def parse_datetime(text: str) -> datetime:
    """RFC 3339 with an offset; a time without one is refused (whose midnight would it be?)."""
    if not DATE_TIME.fullmatch(text):
        raise ValueError("not a date-time with an offset (e.g. 2026-11-30T09:30:00+08:00)")
    value = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    return value


class Validator:
    def __init__(self, components: dict[str, Any]):
        self.components = components

    def errors(self, value: Any, schema: dict, path: str = "") -> dict[str, str]:
        found: dict[str, str] = {}
        self._check(value, schema, path, found)
        return found

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def _check(self, value: Any, schema: dict, path: str, found: dict[str, str]) -> None:
        if len(found) >= MAX_ERRORS:
            return
        schema = self.resolve(schema)
        where = path or "body"

        def fail(message: str) -> None:
            found.setdefault(where, message)

        if value is None:
            if not schema.get("nullable"):
                fail("must not be null")
            return
        kind = schema.get("type")
        if kind == "string":
            if not isinstance(value, str):
                return fail("must be a string")
            if "\x00" in value:
                return fail("must not contain NUL characters")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return fail("must be valid Unicode text")
            if len(value) < schema.get("minLength", 0):
                return fail(f"must be at least {schema['minLength']} characters"
                            if schema["minLength"] > 1 else "must not be empty")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                return fail(f"must be at most {schema['maxLength']} characters")
            if "pattern" in schema and not _compiled(schema["pattern"]).fullmatch(value):
                return fail(schema.get("x-message", f"must match {schema['pattern']}"))
            fmt = schema.get("format")
            try:
                if fmt == "date":
                    parse_date(value)
                elif fmt == "date-time":
                    parse_datetime(value)
            except ValueError as exc:
                return fail(str(exc) if "not a" in str(exc) else f"not a valid {fmt}: {exc}")
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                return fail("must be a whole number")
            if "minimum" in schema and value < schema["minimum"]:
                return fail(f"must be at least {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                return fail(f"must be at most {schema['maximum']}")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    isinstance(value, float) and not math.isfinite(value)):
                return fail("must be a number")
        elif kind == "boolean":
            if not isinstance(value, bool):
                return fail("must be true or false")
        elif kind == "array":
            if not isinstance(value, list):
                return fail("must be a list")
            if len(value) < schema.get("minItems", 0):
                return fail(f"must have at least {schema['minItems']} item(s)")
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                return fail(f"must have at most {schema['maxItems']} items")
            if schema.get("uniqueItems"):
                seen = []
                for item in value:
                    if item in seen:
                        return fail(f"must not repeat {item!r}")
                    seen.append(item)
            for i, item in enumerate(value):
                self._check(item, schema.get("items", {}), f"{path}[{i}]", found)
        elif kind == "object":
            if not isinstance(value, dict):
                return fail("must be an object")
            props = schema.get("properties", {})
            if "maxProperties" in schema and len(value) > schema["maxProperties"]:
                return fail(f"must have at most {schema['maxProperties']} entries")
            for name in schema.get("required", []):
                if name not in value:
                    found.setdefault(f"{path}.{name}" if path else name, "is required")
            extra = schema.get("additionalProperties", True)
            for name, item in value.items():
                sub = f"{path}.{name}" if path else str(name)
                if name in props:
                    self._check(item, props[name], sub, found)
                elif extra is False:
                    found.setdefault(sub, "is not a known field")
                elif isinstance(extra, dict):
                    self._check(item, extra, sub, found)
        if "enum" in schema and value not in schema["enum"]:
            fail("must be one of: " + ", ".join(map(str, schema["enum"])))
