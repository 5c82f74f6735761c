"""The OpenAPI description is true: every route is described (and nothing else), and
schemathesis, generating requests from the served document against the running API, finds
no 5xx and no response that breaks the document."""
from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from admin.api.openapi import document

from .conftest import make_app, owners, serving

EXAMPLES = 10  # per operation and mode: about 540 requests, well under a minute per store
# Every other built-in check runs (no 5xx, status codes, content types, response schemas,
# negative data rejected, auth not ignored, unsupported methods → 405, ...). Left out:
# "schema-valid data must be accepted": some rules cannot be said in JSON Schema — a string
# may not hold NUL or lone surrogates (PostgreSQL cannot store them), a phone number must be a
# real Chinese mobile or landline (phonenumbers), a deadline must be in the future, a caller ID
# on the allowlist — and those requests are rightly refused with 400.
EXCLUDED = [positive_data_acceptance]


def test_every_route_is_described_and_every_description_routed(api_app):
    doc = document()
    routed = {}
    for rule in api_app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.fallback":
            path = rule.rule.removeprefix("/api/v1")
            for converter in ("int:", "path:"):
                path = path.replace("<" + converter, "<")
            path = path.replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routed[(path, method.lower())] = api_app.view_functions[rule.endpoint]
    described = {(path, method) for path, methods in doc["paths"].items() for method in methods}
    assert set(routed) == described
    for (path, method), view in routed.items():
        operation = doc["paths"][path][method]
        scope = getattr(view, "api_scope", None)
        if scope is None:
            assert operation.get("security") == []  # only the description itself is public
        else:
            assert f"Scope: `{scope}`" in operation["description"], (path, method)
        if method == "post":
            names = [p["name"] for p in operation["parameters"]]
            assert "Idempotency-Key" in names, path


def test_the_document_is_served_and_is_openapi_3(api_url):
    doc = httpx.get(f"{api_url}/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert doc["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


@pytest.fixture
def fuzzed_api(db_url, sessions):
    """A running API with some data in it and an admin key, on each store (PostgreSQL is the
    one that refuses over-long strings and NUL, so both are fuzzed)."""
    from admin.api import create_api_key

    with sessions() as s:
        _rec, key = create_api_key(s, "schemathesis", "admin", actor="test")
        s.commit()
    with serving(make_app(db_url)) as url:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
            http.post("/accounts", json={"accounts": owners("st", 3)}, headers={"Idempotency-Key": "seed-1"})
            http.post("/campaigns", json={"name": "seed", "accounts": ["st-0", "st-1"], "start": True},
                      headers={"Idempotency-Key": "seed-2"})
        yield url, key, sessions


def _fuzz(schema, key: str, mode: GenerationMode, examples: int, excluded: list) -> dict[str, str]:
    """Run `examples` generated cases per operation; return {operation: first failure}."""
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        def run(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, excluded_checks=excluded)

        try:
            run()
        except BaseException as exc:  # noqa: BLE001 — schemathesis raises BaseExceptionGroups
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            failures[f"{mode.value} {operation.label}"] = str(exc)[:3000]
    return failures


def test_schemathesis_finds_no_server_errors_and_no_schema_violations(fuzzed_api):
    url, key, _sessions = fuzzed_api
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    failures = {}
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        failures.update(_fuzz(schema, key, mode, EXAMPLES, EXCLUDED))
    assert not failures, "\n\n".join(f"== {k}\n{v}" for k, v in failures.items())
