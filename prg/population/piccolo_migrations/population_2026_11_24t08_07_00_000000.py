from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-24T08:07:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the latest profile per practice and dimension in one index probe"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="population", description=DESCRIPTION)

    async def create_index():
        # Piccolo declares single-column indexes only; this composite one serves "latest of a dimension"
        # (ORDER BY extract_date DESC, id DESC LIMIT 1) and the list, on both engines.
        await engine_finder().run_querystring(QueryString(
            "CREATE INDEX population_profile_latest ON population_profile (practice, dimension, extract_date, id)"
        ), in_pool=False)

    manager.add_raw(create_index)
    return manager
