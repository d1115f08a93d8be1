from pathlib import Path

from piccolo.conf.apps import AppConfig

from prg.members.tables import Consent, Member

APP_CONFIG = AppConfig(
    app_name="members",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Member, Consent],
    migration_dependencies=["prg.accounts.piccolo_app"],
)
