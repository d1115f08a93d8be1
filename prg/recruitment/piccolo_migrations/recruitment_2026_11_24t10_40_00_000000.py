from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-24T10:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one override per practice, template kind and language"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="recruitment", description=DESCRIPTION)

    async def create_index():
        # Piccolo has no composite unique constraint; a unique index does the same on both engines.
        await engine_finder().run_querystring(QueryString(
            "CREATE UNIQUE INDEX template_override_practice_kind_language "
            "ON template_override (practice, kind, language)"), in_pool=False)

    manager.add_raw(create_index)
    return manager
