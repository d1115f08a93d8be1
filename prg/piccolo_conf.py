"""Piccolo's configuration module: the engine a URL names (SQLite file or PostgreSQL), the engine from
settings, and one Piccolo app per feature. The registry names each app by module path: Piccolo imports
them (their tables, nothing else of the features) when this module loads."""

from pathlib import Path

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from prg.settings import get_settings


def engine_for_url(url: str, *, busy_timeout: float = 10.0) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # `timeout` is sqlite3's busy timeout: wait for a writer's lock rather than fail at once.
        return SQLiteEngine(path=str(path), timeout=busy_timeout)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(config={"dsn": url})
    raise ValueError("PRG_DATABASE_URL must start with sqlite:/// or postgresql://")


_settings = get_settings()

DB = engine_for_url(_settings.database_url, busy_timeout=_settings.sqlite_busy_timeout)

APP_REGISTRY = AppRegistry(
    apps=[
        "prg.accounts.piccolo_app",
        "prg.accounts.audit.piccolo_app",
        "prg.members.piccolo_app",
        "prg.population.piccolo_app",
        "prg.recruitment.piccolo_app",
        "prg.des.piccolo_app",
        "surveys.piccolo_app",
    ]
)
