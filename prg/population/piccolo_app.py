from pathlib import Path

from piccolo.conf.apps import AppConfig

from prg.population.tables import PopulationCount, PopulationProfile

APP_CONFIG = AppConfig(
    app_name="population",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[PopulationProfile, PopulationCount],
    migration_dependencies=["prg.accounts.piccolo_app"],
)
