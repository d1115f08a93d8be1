from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-24T07:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one role per user and practice"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def create_index():
        # Piccolo has no composite unique constraint; a unique index does the same on both engines.
        # run_querystring joins the migration's transaction.
        await engine_finder().run_querystring(QueryString('CREATE UNIQUE INDEX practice_role_user_practice ON practice_role ("user", practice)'), in_pool=False)

    manager.add_raw(create_index)
    return manager
