from pathlib import Path

from piccolo.conf.apps import AppConfig

from prg.recruitment.tables import Campaign, CampaignGroup, TemplateOverride

APP_CONFIG = AppConfig(
    app_name="recruitment",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Campaign, CampaignGroup, TemplateOverride],
    migration_dependencies=["prg.accounts.piccolo_app"],
)
