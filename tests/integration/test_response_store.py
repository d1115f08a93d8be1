"""The response store's raw SQL names only columns that exist: in the Piccolo tables it takes them from,
and in the database the migrations build, on either engine."""

from __future__ import annotations

from piccolo.engine.sqlite import SQLiteEngine

from prg import db
from surveys.response_store import NAMED_COLUMNS
from surveys.tables import Invitation, SurveyResponse


async def database_columns(table: str) -> set[str]:
    engine = db.current_engine()
    if isinstance(engine, SQLiteEngine):
        rows = await engine.run_ddl(f"PRAGMA table_info({table})")
        return {r["name"] for r in rows}
    rows = await engine.run_ddl(
        f"SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        f"AND table_name = '{table}'")
    return {r["column_name"] for r in rows}


async def test_every_column_the_store_names_is_in_its_table_and_in_the_migrated_database(database):
    tables = {t._meta.tablename: t for t in (SurveyResponse, Invitation)}
    assert set(NAMED_COLUMNS) == set(tables)
    for name, columns in NAMED_COLUMNS.items():
        defined = {c._meta.db_column_name for c in tables[name]._meta.columns}
        in_database = await database_columns(name)
        assert columns and set(columns) <= defined, f"{name}: not in the table definition: {set(columns) - defined}"
        assert set(columns) <= in_database, f"{name}: not in the database: {set(columns) - in_database}"
    # The writer fills every column of a response but its id: a column added to the table must be added to
    # what the writer writes (surveys.response_store.WRITTEN), or web responses would leave it empty.
    unwritten = {c._meta.db_column_name for c in SurveyResponse._meta.columns} - set(
        NAMED_COLUMNS[SurveyResponse._meta.tablename])
    assert not unwritten, f"survey_response columns the writer does not write: {unwritten}"
