"""Shared fixtures. Real parts only: the tests start two real Asterisk instances (site
"test", its own ports) and use SQLite and the machine's PostgreSQL. A part that cannot
start fails the tests loudly; nothing is skipped."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.config import PROJECT_DIR, Settings
from ivr.storage import Base, connect, session_factory, upgrade

TEST_PORT_BASE = int(os.environ.get("IVR_TEST_PORT_BASE", "25000"))


def postgres_url() -> str:
    url = os.environ.get("IVR_TEST_POSTGRES_URL")
    if url:
        return url
    # One database per test port base, like the Asterisk site: parallel runs don't collide.
    proc = subprocess.run([str(PROJECT_DIR / "scripts/postgres.sh"), f"ivr_test{TEST_PORT_BASE}"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"PostgreSQL could not be started: {proc.stderr.strip()}")
    os.environ["IVR_TEST_POSTGRES_URL"] = proc.stdout.strip()
    return os.environ["IVR_TEST_POSTGRES_URL"]


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    var = tmp_path_factory.mktemp("var")
    # The site name carries the port base: two test runs on different bases never share
    # (or stop) each other's Asterisk.
    return replace(Settings(), site=f"test{TEST_PORT_BASE}", port_base=TEST_PORT_BASE, var_dir=var,
                   database_url="")


@pytest.fixture(scope="session")
def site(settings):
    """Both Asterisk instances, freshly started for this run and stopped after it."""
    from ivr.telephony.asterisk import Site

    site = Site(settings)
    site.stop()
    # What the simulated phones heard in earlier runs must not count in this one.
    shutil.rmtree(site.pstn.host_dir / "recordings", ignore_errors=True)
    site.start()
    yield site
    site.stop()


def _reset_postgres(url: str) -> None:
    engine = connect(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """An empty database at the newest schema, on each of the two supported stores."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ivr.sqlite'}"
    else:
        url = postgres_url()
        _reset_postgres(url)
    upgrade(url)
    return url


@pytest.fixture
def sessions(db_url):
    engine = connect(db_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = PROJECT_DIR / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
