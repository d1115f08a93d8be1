"""The database engine: one SQLite file by default, PostgreSQL when the URL names one.

Piccolo finds its engine through `prg.piccolo_conf.DB` (migrations) and through each table's
`_meta.db` (queries). `use_engine` points both at one engine, so tests can give each test a fresh
database and the CLI can honour `PRG_DATABASE_URL` without a second configuration path.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

os.environ.setdefault("PICCOLO_CONF", "prg.piccolo_conf")

from prg import piccolo_conf  # noqa: E402 - after PICCOLO_CONF, which Piccolo reads when the tables load


def use_engine(engine: Engine) -> None:
    """Make every table, and Piccolo's migration runner, use `engine`."""
    piccolo_conf.DB = engine
    for table in [*all_tables(), Migration]:
        table._meta.db = engine


def all_tables() -> list:
    """Every table of every feature, in the registry's app order."""
    registry = piccolo_conf.APP_REGISTRY
    return [table for config in registry.app_configs.values() for table in config.table_classes]


def current_engine() -> Engine:
    return piccolo_conf.DB


def is_sqlite(engine: Engine | None = None) -> bool:
    return (engine or current_engine()).engine_type == "sqlite"


async def prepare(engine: Engine) -> None:
    """Once per process start: WAL lets readers work while one writer commits (it persists in the file)."""
    if engine.engine_type == "sqlite":
        await engine.run_ddl("PRAGMA journal_mode=WAL")


async def migrate() -> None:
    """Apply every pending Piccolo migration, app by app in dependency order."""
    result = await run_forwards("all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")


async def start_pool(engine: Engine, max_size: int) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=max_size)


async def close_pool(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()


def write_transaction():
    """A transaction for a block that reads then writes.

    On SQLite it is IMMEDIATE: the write lock is taken at BEGIN, so two such blocks queue on the busy
    timeout instead of one failing with "database is locked" when it tries to upgrade its read lock.
    """
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def utcnow() -> datetime:
    return datetime.now(UTC)
