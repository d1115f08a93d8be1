from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-24T10:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one delivery per member and consultation; one report, override and block per practice"

INDEXES = [
    "CREATE UNIQUE INDEX consultation_delivery_once_uq ON consultation_delivery (consultation, member)",
    "CREATE UNIQUE INDEX report_publication_year_uq ON report_publication (practice, year_code)",
    "CREATE UNIQUE INDEX scheme_override_year_uq ON scheme_override (practice, year_code)",
    "CREATE UNIQUE INDEX contact_block_member_uq ON contact_block (practice, member)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="des", description=DESCRIPTION)

    async def create_indexes():
        # Piccolo has no composite unique constraint; a unique index does the same on both engines.
        for sql in INDEXES:
            await engine_finder().run_querystring(QueryString(sql), in_pool=False)

    manager.add_raw(create_indexes)
    return manager
