from pathlib import Path

from piccolo.conf.apps import AppConfig

from prg.accounts.tables import ApiToken, LoginFailure, Practice, PracticeRole, StaffSession, StaffUser

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Practice, StaffUser, PracticeRole, StaffSession, ApiToken, LoginFailure],
)
