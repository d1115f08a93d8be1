"""Migrations run forward on a fresh database of either engine, and leave the newest columns usable."""

from __future__ import annotations

import os
import uuid

import asyncpg
import pytest
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from prg import db
from prg.members.tables import Member


async def migrate_fresh_and_use(engine) -> None:
    db.use_engine(engine)
    await db.migrate()
    await db.migrate()  # a second run finds nothing to do
    for table in db.all_tables():
        assert await table.table_exists(), table._meta.tablename
    # The newest columns are there and usable.
    columns = {c._meta.name for c in Member._meta.columns}
    assert {"characteristics", "preferred_contact", "ethnic_category"} <= columns


async def test_migrations_on_a_fresh_sqlite_file(tmp_path, database):
    await migrate_fresh_and_use(SQLiteEngine(path=str(tmp_path / "fresh.sqlite3")))
    journal = await SQLiteEngine(path=str(tmp_path / "fresh.sqlite3")).run_ddl("PRAGMA journal_mode")
    assert journal  # the file answers


@pytest.mark.skipif(not os.environ.get("PRG_TEST_DATABASE_URL"), reason="needs PRG_TEST_DATABASE_URL (PostgreSQL)")
async def test_migrations_on_a_fresh_postgresql_database(database):
    server = os.environ["PRG_TEST_DATABASE_URL"]
    name = f"prg_fresh_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(server)
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        await migrate_fresh_and_use(PostgresEngine(config={"dsn": server.rsplit("/", 1)[0] + "/" + name}))
    finally:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()
