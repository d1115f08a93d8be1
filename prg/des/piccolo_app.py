from pathlib import Path

from piccolo.conf.apps import AppConfig

from prg.des.tables import (
    ActionItem,
    Consultation,
    ConsultationDelivery,
    ContactBlock,
    Engagement,
    Priority,
    ReportPublication,
    SchemeOverride,
)

APP_CONFIG = AppConfig(
    app_name="des",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[SchemeOverride, Engagement, Consultation, Priority, ActionItem, ConsultationDelivery,
                   ContactBlock, ReportPublication],
    migration_dependencies=["prg.accounts.piccolo_app", "prg.members.piccolo_app"],
)
