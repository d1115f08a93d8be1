"""Test harness: every test gets its own database, on SQLite or PostgreSQL.

SQLite (default): the migrations run once into a template file; each test gets a copy of it under
its own tmp_path (Piccolo's SQLite engine opens a connection per query, so `:memory:` cannot work).
PostgreSQL: set PRG_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test). The run creates
a fresh database beside it, migrates it once, empties every table before each test and drops the
database at the end.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

os.environ.setdefault("PRG_DATABASE_URL", "sqlite:///" + str(Path(__file__).parent / ".unused.sqlite3"))

from prg import db  # noqa: E402
from prg.accounts import schemas as account_schemas  # noqa: E402
from prg.accounts import services as accounts  # noqa: E402
from prg.app import create_app  # noqa: E402
from prg.settings import Settings, get_settings  # noqa: E402

PG_URL = os.environ.get("PRG_TEST_DATABASE_URL", "")
from tests.helpers import PASSWORD  # noqa: E402


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def _all_tables() -> list[str]:
    return [t._meta.tablename for t in db.all_tables()]


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate once per run: a template SQLite file, or a fresh PostgreSQL database."""
    if PG_URL:
        name = f"prg_test_{uuid.uuid4().hex[:12]}"

        async def create() -> None:
            conn = await asyncpg.connect(PG_URL)
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()

        asyncio.run(create())
        url = _with_database(PG_URL, name)
        db.use_engine(PostgresEngine(config={"dsn": url}))
        asyncio.run(db.migrate())
        yield url

        async def drop() -> None:
            conn = await asyncpg.connect(PG_URL)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()

        asyncio.run(drop())
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        db.use_engine(SQLiteEngine(path=str(path)))
        asyncio.run(db.migrate())
        yield "sqlite:///" + str(path)


@pytest.fixture
async def database(database_template, tmp_path) -> AsyncIterator[str]:
    """A database for this test alone; yields its URL."""
    from surveys.services import published_surveys

    published_surveys.clear()  # its cache is keyed by ids, which every fresh database reuses
    if PG_URL:
        engine = PostgresEngine(config={"dsn": database_template})
        db.use_engine(engine)
        tables = ", ".join(f'"{t}"' for t in _all_tables())
        await engine.run_ddl(f"TRUNCATE {tables} RESTART IDENTITY CASCADE", in_pool=False)
        yield database_template
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(database_template.removeprefix("sqlite:///"), path)
        db.use_engine(SQLiteEngine(path=str(path), timeout=10))
        yield "sqlite:///" + str(path)


@pytest.fixture
def configure(monkeypatch):
    """Set PRG_* settings for this test (the cached settings are re-read, then restored after)."""

    def apply(**values: object) -> Settings:
        for name, value in values.items():
            monkeypatch.setenv(f"PRG_{name.upper()}", str(value))
        get_settings.cache_clear()
        return get_settings()

    yield apply
    get_settings.cache_clear()


@pytest.fixture
def settings(database, configure) -> Settings:
    return configure(database_url=database)


@pytest.fixture
async def app(settings):
    # No pool: the test client runs the app on its own event loop, and fixtures on the test's loop
    # share the engine; asyncpg pools belong to one loop. The real-server tests cover the pool.
    return create_app(settings, pool=False)


@pytest.fixture
async def client(app) -> AsyncIterator[AsyncTestClient]:
    """An anonymous HTTPS client (so Secure cookies travel as in production)."""
    async with AsyncTestClient(app, base_url="https://testserver.local") as c:
        c.follow_redirects = False  # tests see each 303 as a browser would
        yield c


@dataclass
class Staff:
    """A signed-in member of staff: `headers` carry their API token."""

    user_id: int
    email: str
    headers: dict[str, str]


@pytest.fixture
def make_practice(database):
    async def make(ods: str = "Y90001", name: str = "Test Surgery", list_size: int | None = 12400) -> str:
        await accounts.create_practice(account_schemas.PracticeIn(ods_code=ods, name=name, list_size=list_size), None)
        return ods

    return make


@pytest.fixture
def make_staff(database):
    """A user with a role at a practice (or a host admin), reached through an API token."""

    async def make(ods: str | None = None, role: str = "manager", *, email: str | None = None,
                   admin: bool = False) -> Staff:
        email = email or f"{role}.{uuid.uuid4().hex[:6]}@example.org"
        user = await accounts.create_user(
            account_schemas.UserIn(email=email, password=PASSWORD, is_admin=admin), None
        )
        if ods:
            await accounts.grant_role(await accounts.practice_id_for(ods), email, role, None)
        token = await accounts.create_token(user.id, "tests", None)
        return Staff(user.id, email, {"Authorization": f"Bearer {token.secret}"})

    return make


@pytest.fixture
async def manager(make_practice, make_staff) -> Staff:
    await make_practice("Y90001")
    return await make_staff("Y90001", "manager")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_server(database, tmp_path):
    """`prg demo --serve` in a real process on a free port; yields (base URL, password, output lines)."""
    port = free_port()
    env = {**os.environ, "PRG_DATABASE_URL": database, "PRG_PORT": str(port), "PRG_LOG_LEVEL": "INFO"}
    command = [str(Path(sys.executable).parent / "prg"), "demo", "--serve"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    password = None
    deadline = time.monotonic() + 60
    while password is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            assert process.poll() is None, "".join(output)
            continue
        if match := re.search(r"Password:\s+(\S+)", line):
            password = match.group(1)
    assert password, "".join(output)
    base = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/livez", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    yield base, password, output
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    reader.join(timeout=5)
    process.stdout.close()
