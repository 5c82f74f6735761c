"""The API over real HTTP: the blueprint in a small Flask app served by werkzeug on
127.0.0.1 in a thread, called with httpx, on the `db_url` database (SQLite and PostgreSQL).

admin.create_app() registers the same blueprint the same way (url_prefix="/api/v1"); this app
keeps the API's tests independent of the staff admin's."""
from __future__ import annotations

import itertools
import json
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from flask import Flask
from werkzeug.serving import make_server

from admin.api import bp, create_api_key


def make_app(db_url: str, **config) -> Flask:
    app = Flask("ivr-api-tests")
    app.config.update(TESTING=True, DATABASE_URL=db_url, API_RATE_LIMIT="100000/minute", **config)
    app.register_blueprint(bp, url_prefix="/api/v1")
    return app


@contextmanager
def serving(app: Flask, host: str = "127.0.0.1"):
    """The app on a real socket; yields the API's base URL."""
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}/api/v1"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        engine = app.extensions.get("ivr_api", {}).get("engine")
        if engine is not None:
            engine.dispose()


@pytest.fixture
def api_app(db_url):
    return make_app(db_url)


@pytest.fixture
def api_url(api_app):
    with serving(api_app) as url:
        yield url


@pytest.fixture
def keys(sessions) -> dict[str, str]:
    """Plaintext keys by scope: read, write, admin."""
    made = {}
    with sessions() as s:
        for scope in ("read", "write", "admin"):
            _record, made[scope] = create_api_key(s, f"test {scope}", scope, actor="test")
        s.commit()
    return made


_counter = itertools.count()


class Api:
    """httpx against the running API, with a key and a fresh Idempotency-Key per POST."""

    def __init__(self, base_url: str, key: str | None, **client_options):
        self.base_url = base_url
        self.key = key
        self.http = httpx.Client(base_url=base_url, timeout=30, **client_options)

    def headers(self, key: str | None = None, idem: str | None = None, **extra) -> dict:
        key = self.key if key is None else key
        h = {"Authorization": f"Bearer {key}"} if key else {}
        if idem is not None:
            h["Idempotency-Key"] = idem
        return {**h, **extra}

    def get(self, path: str, *, key: str | None = None, **kw) -> httpx.Response:
        return self.http.get(path, headers=self.headers(key), **kw)

    def post(self, path: str, body=None, *, key: str | None = None, idem: str | None = "auto",
             **kw) -> httpx.Response:
        if idem == "auto":
            idem = f"test-{next(_counter)}-{uuid.uuid4()}"
        return self.http.post(path, json=body, headers=self.headers(key, idem), **kw)

    def delete(self, path: str, *, key: str | None = None) -> httpx.Response:
        return self.http.delete(path, headers=self.headers(key))

    def close(self):
        self.http.close()


@pytest.fixture
def api(api_url, keys):
    client = Api(api_url, keys["write"])
    yield client
    client.close()


@pytest.fixture
def admin_api(api_url, keys):
    client = Api(api_url, keys["admin"])
    yield client
    client.close()


# -- a webhook receiver ----------------------------------------------------------------------------

@dataclass
class Received:
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A tiny HTTP server standing for a business system: records each POST and answers with
    the next scripted status (200 once the script is used up)."""
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    got: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        with self.got:
            self.got.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.got:
                state.requests.append(Received(dict(self.headers.items()), body))
                status = state.script.pop(0) if state.script else 200
                state.got.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/ivr"
    yield state
    server.shutdown()
    thread.join(10)
    server.server_close()


# -- data ---------------------------------------------------------------------------------------

def owners(prefix: str, n: int, *, area: str = "幸福家园", first_number: int = 13800000001) -> list[dict]:
    """n accounts for POST /accounts, with distinct valid mobile numbers."""
    return [{"external_id": f"{prefix}-{i}", "room": f"3栋2单元{1500 + i}", "building": "3栋", "area": area,
             "owner_name": f"业主{i}", "title": "先生", "amount_owed": "1234.50", "months_owed": 3,
             "due_date": "2026-11-30", "phones": [str(first_number + i)]} for i in range(n)]



@pytest.fixture
def running_dialer(site, db_url):
    """The real dialer service (flows planner, simulated business-hours policy clock) for
    this test's database, in a thread with its own event loop; stopped at teardown."""
    import asyncio
    import threading

    from dialer_helpers import BUSINESS_HOURS

    from ivr.dialer.flow_planner import flow_planner
    from ivr.dialer.main import simulated_clock
    from ivr.dialer.service import Dialer, DialerConfig
    from ivr.storage import connect, session_factory
    from ivr.telephony.asterisk.site import ami_client

    clock = simulated_clock(BUSINESS_HOURS)
    engine = connect(db_url)
    state: dict = {}
    ready = threading.Event()

    async def serve():
        state["stop"] = asyncio.Event()
        state["loop"] = asyncio.get_running_loop()
        client = ami_client(site.pbx)
        await client.start()
        await client.wait_ready(20)
        dialer = Dialer(client, session_factory(engine), flow_planner(site, clock=clock),
                        DialerConfig(dialer_id="api-e2e", trunk_channels=10, cps=10,
                                     cdr_path=site.pbx.host_dir / "log/cdr-csv/Master.csv"),
                        clock=clock)
        ready.set()
        try:
            await dialer.run(state["stop"])
        finally:
            await client.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(30), "the dialer did not connect to the pbx"
    yield
    state["loop"].call_soon_threadsafe(state["stop"].set)
    thread.join(60)
    engine.dispose()
