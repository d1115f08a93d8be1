from pathlib import Path

from piccolo.conf.apps import AppConfig

from surveys.tables import Invitation, Survey, SurveyResponse, SurveyVersion

APP_CONFIG = AppConfig(
    app_name="surveys",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Survey, SurveyVersion, Invitation, SurveyResponse],
    migration_dependencies=["prg.accounts.piccolo_app"],
)
