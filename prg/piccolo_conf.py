"""Piccolo's configuration module: the engine from settings, and one Piccolo app per feature."""

from piccolo.conf.apps import AppRegistry

from prg.db import engine_for_url
from prg.settings import get_settings

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
