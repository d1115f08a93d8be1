"""The database engine: one SQLite file by default, PostgreSQL when the URL names one.

Piccolo finds its engine through `prg.piccolo_conf.DB` (migrations) and through each table's
`_meta.db` (queries). `use_engine` points both at one engine, so tests can give each test a fresh
database and the CLI can honour `PRG_DATABASE_URL` without a second configuration path.
"""

from __future__ import annotations

import os
from pathlib import Path

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

os.environ.setdefault("PICCOLO_CONF", "prg.piccolo_conf")


def engine_for_url(url: str, *, busy_timeout: float = 10.0) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # `timeout` is sqlite3's busy timeout: wait for a writer's lock rather than fail at once.
        return SQLiteEngine(path=str(path), timeout=busy_timeout)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(config={"dsn": url})
    raise ValueError("PRG_DATABASE_URL must start with sqlite:/// or postgresql://")


def use_engine(engine: Engine) -> None:
    """Make every table, and Piccolo's migration runner, use `engine`."""
    from piccolo.apps.migrations.tables import Migration

    from prg import piccolo_conf

    piccolo_conf.DB = engine
    for table in [*all_tables(), Migration]:
        table._meta.db = engine


def all_tables() -> list:
    """Every table of every feature, in the registry's app order."""
    from prg import piccolo_conf

    registry = piccolo_conf.APP_REGISTRY
    return [table for config in registry.app_configs.values() for table in config.table_classes]


def current_engine() -> Engine:
    from prg import piccolo_conf

    return piccolo_conf.DB


def is_sqlite(engine: Engine | None = None) -> bool:
    return (engine or current_engine()).engine_type == "sqlite"


async def prepare(engine: Engine) -> None:
    """Once per process start: WAL lets readers work while one writer commits (it persists in the file)."""
    if engine.engine_type == "sqlite":
        await engine.run_ddl("PRAGMA journal_mode=WAL")


async def migrate() -> None:
    """Apply every pending Piccolo migration, app by app in dependency order."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

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
    from piccolo.engine.sqlite import TransactionType

    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def utcnow():
    from datetime import UTC, datetime

    return datetime.now(UTC)
