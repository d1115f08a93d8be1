"""What every server benchmark needs: a fresh database (a SQLite file, or a PostgreSQL database made
beside a server URL and dropped afterwards), a practice with a manager and an API token made through
the `prg` CLI, and `prg serve` running on a free 127.0.0.1 port until the benchmark ends; the database is
removed afterwards."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

PRG = str(Path(sys.executable).parent / "prg")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class BenchServer:
    base: str
    port: int
    database_url: str
    api: httpx.Client  # signed in with the manager's token
    pid: int


async def admin(server_url: str, sql: str) -> None:
    """Run one statement on a PostgreSQL server (databases are made and dropped this way)."""
    conn = await asyncpg.connect(server_url)
    await conn.execute(sql)
    await conn.close()


@contextmanager
def bench_server(ods: str, *, postgres: str | None = None, env: dict[str, str] | None = None) -> Iterator[BenchServer]:
    port, dbname, folder = free_port(), None, None
    if postgres:
        dbname = f"prg_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(admin(postgres, f'CREATE DATABASE "{dbname}"'))
        url = postgres.rsplit("/", 1)[0] + "/" + dbname
    else:
        folder = tempfile.mkdtemp(prefix="prg-bench-")
        url = f"sqlite:///{folder}/bench.sqlite3"
    environment = {**os.environ, "PRG_DATABASE_URL": url, "PRG_PORT": str(port), "PRG_LOG_LEVEL": "WARNING",
                   **(env or {})}

    def prg(*args: str, **kwargs) -> str:
        return subprocess.run([PRG, *args], env=environment, check=True, capture_output=True, text=True,
                              **kwargs).stdout.strip()

    prg("practice", "add", "--ods", ods, "--name", "Bench")
    prg("user", "add", "--email", "bench@example.org", "--practice", ods, "--role", "manager",
        input="a long bench password\na long bench password\n")
    token = prg("token", "create", "--email", "bench@example.org", "--name", "bench")
    server = subprocess.Popen([PRG, "serve"], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base + "/livez", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300) as api:
            yield BenchServer(base, port, url, api, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
        if dbname:
            asyncio.run(admin(postgres, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        if folder:  # a million-response database is a quarter of a gigabyte
            shutil.rmtree(folder, ignore_errors=True)
