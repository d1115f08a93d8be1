from pathlib import Path

from piccolo.conf.apps import AppConfig

from prg.accounts.audit.tables import AuditEvent

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[AuditEvent],
    migration_dependencies=["prg.accounts.piccolo_app"],
)
