"""Where survey responses are written and read in bulk: the one home of their raw SQL.

Two paths go around the ORM because they are hot or large: the group-commit writer (`surveys.ingest`)
writes each batch with plain SQL on a connection it keeps, and results (`surveys.results`) read a
version's answers, up to a million, as chunks of JSON text without a Python object per response. Their
SQL is here and nowhere else, and every table and column it names comes from the Piccolo definitions in
`surveys/tables.py` (`SurveyResponse`, `Invitation`), listed in `NAMED_COLUMNS`: a test checks that each
of them is a column of the table and of the migrated database on both engines. Values are written in the
formats Piccolo reads back (a date, a timestamp with time zone, JSON as text), so the ORM reads what this
module writes. The FFT's month of responses is small and is read through the ORM, but beside the rest.

Writing (see `SQLiteStore` and `PostgresStore`, and docs/surveys.md, "Storing responses"): on SQLite a
batch's statements run on the event loop on one connection, and only the flush to disk runs in a worker
thread; on PostgreSQL the batch runs on the writer's own asyncpg connection, as one multi-row INSERT when
no invitation is spent. Single-use invitations are spent in the same transaction with a conditional
UPDATE (`used_at IS NULL`), so a replayed link fails on its own without failing the rest of the batch.

Reading (`read_answers`): SQLite concatenates a chunk of rows into one string (`group_concat`), read in a
thread while the previous chunk is decoded; PostgreSQL streams one `COPY`, split every `CHUNK_BYTES`.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import msgspec
from piccolo.columns import Column
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from prg.db import current_engine
from prg.errors import Conflict
from surveys.tables import Invitation, SurveyResponse

_fdatasync = getattr(os, "fdatasync", os.fsync)  # fdatasync is what SQLite uses where it exists

# ---------------------------------------------------------------------------------------------------------
# Names, from the table definitions
# ---------------------------------------------------------------------------------------------------------


def _plain(name: str) -> str:
    """A table or column name as SQL, unquoted: SQLite reads an unknown name in double quotes as a string
    literal, so a quoted name that went missing would compare silently instead of failing."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"{name!r} needs quoting in SQL; the response store writes names unquoted")
    return name


def _name(column: Column) -> str:
    return _plain(column._meta.db_column_name)


RESPONSES = _plain(SurveyResponse._meta.tablename)
INVITATIONS = _plain(Invitation._meta.tablename)

#: What a stored response holds, in the order `_row` gives the values.
WRITTEN = (SurveyResponse.practice, SurveyResponse.survey, SurveyResponse.version, SurveyResponse.mode,
           SurveyResponse.language, SurveyResponse.submitted_on, SurveyResponse.submitted_at,
           SurveyResponse.invitation, SurveyResponse.answers)
_ID, _VERSION, _MODE, _LANGUAGE, _SUBMITTED_ON, _ANSWERS = map(_name, (
    SurveyResponse.id, SurveyResponse.version, SurveyResponse.mode, SurveyResponse.language,
    SurveyResponse.submitted_on, SurveyResponse.answers))
_INVITATION_ID, _USED_AT, _DRAFT = map(_name, (Invitation.id, Invitation.used_at, Invitation.draft))

#: Every column the SQL below names, per table (checked against the tables and the migrated database).
NAMED_COLUMNS: dict[str, tuple[str, ...]] = {
    SurveyResponse._meta.tablename: tuple(c._meta.db_column_name for c in (SurveyResponse.id, *WRITTEN)),
    Invitation._meta.tablename: tuple(c._meta.db_column_name for c in (Invitation.id, Invitation.used_at,
                                                                        Invitation.draft)),
}

# ---------------------------------------------------------------------------------------------------------
# Writing: one batch of submissions at a time
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Submission:
    """One checked response on its way to the database."""

    practice_id: int
    survey_id: int
    version_id: int
    mode: str
    language: str
    answers: dict[str, Any]
    anonymous: bool = True
    invitation_id: int | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _spent() -> Conflict:
    return Conflict("This survey link has already been used to send answers.")


def _row(item: Submission) -> tuple:
    # Anonymous surveys keep no invitation link and only the day; so does the invitation's spent time.
    return (item.practice_id, item.survey_id, item.version_id, item.mode, item.language, item.received_at.date(),
            None if item.anonymous else item.received_at, None if item.anonymous else item.invitation_id,
            msgspec.json.encode(item.answers).decode())


def _spent_at(item: Submission) -> datetime:
    if item.anonymous:
        return datetime.combine(item.received_at.date(), datetime.min.time(), UTC)
    return item.received_at


_WRITTEN_NAMES = ", ".join(map(_name, WRITTEN))


def _insert(values: str) -> str:
    return f"INSERT INTO {RESPONSES} ({_WRITTEN_NAMES}) VALUES {values} RETURNING {_ID}"


def _spend(used_at: str, invitation: str) -> str:
    return (f"UPDATE {INVITATIONS} SET {_USED_AT} = {used_at}, {_DRAFT} = NULL "
            f"WHERE {_INVITATION_ID} = {invitation} AND {_USED_AT} IS NULL")


class SQLiteStore:
    """One connection that writes each batch on the event loop and flushes it to disk in a thread.

    A batch's statements take microseconds, so they run on the loop, without a thread hop per
    statement or per batch (the hops, and the GIL changing hands on each, were most of this path's
    cost). What takes time is the flush, so the connection commits with `synchronous=NORMAL`, which
    writes the WAL without flushing it, and the flush SQLite would otherwise make inside COMMIT
    (fdatasync of the `-wal` file, as `synchronous=FULL` does) runs in a worker thread while the loop
    serves other requests. The batch is acknowledged only after that flush: a 2xx still means on disk.
    Automatic checkpoints are off on this connection for the same reason (they would run, with their
    own flushes, inside a COMMIT on the loop); the worker runs a passive one every few batches.
    """

    INSERT = _insert(f"({', '.join('?' * len(WRITTEN))})")
    SPEND = _spend("?", "?")
    CHECKPOINT_EVERY = 100  # batches: keeps the WAL to a few MB between checkpoints

    def __init__(self, path: str, busy_timeout: float) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="response-flush")
        self._path, self._timeout = path, busy_timeout
        self._connection: sqlite3.Connection | None = None
        self._directory_synced = False
        self._batches_since_checkpoint = 0

    async def _in_thread(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA foreign_keys = 1")
        # WAL, as prepare() sets at start-up (a database made without it, as in tests, is switched here):
        # the flush below is of the WAL, and readers must not make a COMMIT wait.
        if db.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
            raise RuntimeError(f"{self._path}: survey responses need an SQLite file in WAL mode")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA wal_autocheckpoint = 0")
        # On the loop a locked database must fail at once, not wait: see _begin.
        db.execute("PRAGMA busy_timeout = 0")
        return db

    async def _begin(self, db: sqlite3.Connection) -> None:
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # the primary code, under extended ones
                raise
            # Another connection (a staff request through the ORM) holds the write lock: wait for it
            # in the worker, for as long as the configured busy timeout, and not on the loop.
            await self._in_thread(self._begin_waiting, db)

    def _begin_waiting(self, db: sqlite3.Connection) -> None:
        db.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        try:
            db.execute("BEGIN IMMEDIATE")
        finally:
            db.execute("PRAGMA busy_timeout = 0")

    def _flush(self, db: sqlite3.Connection) -> None:
        # fdatasync reaches the pages SQLite wrote through its own descriptor: they are the same file.
        wal = os.open(f"{self._path}-wal", os.O_RDONLY)
        try:
            _fdatasync(wal)
        finally:
            os.close(wal)
        if not self._directory_synced and os.name == "posix":  # the WAL file's own entry, once
            directory = os.open(os.path.dirname(os.path.abspath(self._path)), os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
            self._directory_synced = True
        self._batches_since_checkpoint += 1
        if self._batches_since_checkpoint >= self.CHECKPOINT_EVERY:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._batches_since_checkpoint = 0

    async def write(self, batch: list[Submission]) -> list[int | BaseException]:
        if self._connection is None:
            self._connection = await self._in_thread(self._connect)
        db = self._connection
        await self._begin(db)
        try:
            results: list[int | BaseException] = []
            for item in batch:
                if item.invitation_id is not None and db.execute(
                        self.SPEND, (_spent_at(item), item.invitation_id)).rowcount == 0:
                    results.append(_spent())
                    continue
                results.append(db.execute(self.INSERT, _row(item)).fetchone()[0])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        # A failed flush fails the batch's requests: their rows are committed and may yet reach the disk,
        # like those of a connection that broke after the commit (never acknowledged, maybe stored).
        await self._in_thread(self._flush, db)
        return results

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._in_thread(connection.close)  # the last connection to close checkpoints
        self._executor.shutdown(wait=True)


class PostgresStore:
    """Batches written on one connection the writer keeps for itself.

    Its own connection, not one from the pool: a pooled connection costs a reset query on every
    release, and round trips are this path's main cost (each is a socket write and a wake-up of the
    server on this event loop). For the same reason a batch without invitations is one INSERT, atomic
    on its own, with no BEGIN and COMMIT around it."""

    SPEND = _spend("$1", "$2")

    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine
        self._connection: asyncpg.Connection | None = None

    async def write(self, batch: list[Submission]) -> list[int | BaseException]:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(**self._engine.config)
        try:
            if any(item.invitation_id is not None for item in batch):
                async with self._connection.transaction():
                    return await self._write(self._connection, batch)
            return await self._write(self._connection, batch)
        except BaseException:
            await self.close()  # its state is unknown: the next batch starts on a fresh connection
            raise

    async def _write(self, connection: asyncpg.Connection, batch: list[Submission]) -> list[int | BaseException]:
        results: list[int | BaseException] = []  # a row's place in `rows` until its id is known
        rows = []
        for item in batch:
            if item.invitation_id is not None and (await connection.execute(
                    self.SPEND, _spent_at(item), item.invitation_id)) == "UPDATE 0":
                results.append(_spent())
                continue
            results.append(len(rows))
            rows.append(_row(item))
        if rows:
            width = len(WRITTEN)
            values = ", ".join("(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")"
                               for r in range(len(rows)))
            # A multi-row VALUES insert returns its ids in the order of the rows.
            inserted = await connection.fetch(_insert(values), *(value for row in rows for value in row))
            results = [r if isinstance(r, BaseException) else inserted[r][0] for r in results]
        return results

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await connection.close(timeout=5)
            except Exception:  # closing a broken connection: nothing left to save
                connection.terminate()


def store_for_engine() -> SQLiteStore | PostgresStore:
    """A store for the database the application uses."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        kwargs = engine.connection_kwargs
        return SQLiteStore(kwargs["database"], kwargs.get("timeout", 10.0))
    return PostgresStore(engine)


# ---------------------------------------------------------------------------------------------------------
# Reading a version's answers in bulk, for results
# ---------------------------------------------------------------------------------------------------------

#: Responses (SQLite) or bytes of JSON (PostgreSQL) handed over at a time: memory stays flat however many.
CHUNK_ROWS = 100_000
CHUNK_BYTES = 16 * 2**20


@dataclass(frozen=True)
class AnswersWanted:
    """Which responses to read: one version's, narrowed by collection mode, language and days."""

    version_id: int
    mode: str | None = None
    language: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def where(self) -> tuple[list[str], list[Any]]:
        """SQL conditions with `?` placeholders, and their values."""
        clauses, values = [f"{_VERSION} = ?"], [self.version_id]
        for column, op, value in ((_MODE, "=", self.mode), (_LANGUAGE, "=", self.language),
                                  (_SUBMITTED_ON, ">=", self.date_from), (_SUBMITTED_ON, "<=", self.date_to)):
            if value is not None:
                clauses.append(f"{column} {op} ?")
                values.append(value)
        return clauses, values


async def read_answers(wanted: AnswersWanted, *, context: bool, add: Callable[[bytes], None]) -> None:
    """Hand the stored answers of the wanted responses to `add`, a chunk at a time, in id order on SQLite.

    A chunk is JSON values separated by commas, without brackets: each response's answers object as
    stored or, with `context`, ``[mode, language, answers]``. On SQLite `add` runs in a worker thread.
    Whatever `add` raises stops the read and is raised here."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        await asyncio.to_thread(_read_sqlite, engine.connection_kwargs["database"], wanted, context, add)
    else:
        await _read_postgres(engine, wanted, context, add)


def _read_sqlite(path: str, wanted: AnswersWanted, context: bool, add: Callable[[bytes], None]) -> None:
    """Chunks of responses in id order, each as ONE string made by SQLite (group_concat), so no Python
    object is made per response; read on a connection of its own (this runs in a worker thread)."""
    row = (f"'[' || json_quote({_MODE}) || ',' || json_quote({_LANGUAGE}) || ',' || {_ANSWERS} || ']'"
           if context else _ANSWERS)
    clauses, values = wanted.where()
    sql = (f"SELECT count(*), max({_ID}), CAST(group_concat(row, ',') AS BLOB) FROM (SELECT {_ID}, {row} AS row "
           f"FROM {RESPONSES} WHERE {' AND '.join(clauses)} AND {_ID} > ? ORDER BY {_ID} LIMIT ?)")
    args = [v.isoformat() if isinstance(v, date) else v for v in values]
    # SQLite lets go of the GIL while it works: the next chunk is read meanwhile this one is decoded.
    db = sqlite3.connect(path, check_same_thread=False)  # used by one thread at a time, the reader's
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="results-reader") as reader:
            def read(after: int) -> Future[tuple[int, int, bytes]]:
                return reader.submit(lambda: db.execute(sql, [*args, after, CHUNK_ROWS]).fetchone())

            pending = read(-1)
            while True:
                count, last, chunk = pending.result()
                if not count:
                    break
                if count == CHUNK_ROWS:
                    pending = read(last)
                add(chunk)
                if count < CHUNK_ROWS:
                    break
    finally:
        db.close()


# COPY's text format escapes a backslash as two, and control characters as \t, \n, \r, \b, \f, \v. In
# JSON tab, newline and carriage return are only ever spacing (inside strings they are escaped already), so
# they become spaces; the other three cannot occur in valid JSON and are put back as they were.
_COPY_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)
_COPY_UNESCAPED = {b"t": b" ", b"n": b" ", b"r": b" ", b"b": b"\b", b"f": b"\f", b"v": b"\v"}


def _copy_unescape(match: re.Match[bytes]) -> bytes:
    return _COPY_UNESCAPED.get(match.group(1), match.group(1))


async def _read_postgres(engine: Any, wanted: AnswersWanted, context: bool, add: Callable[[bytes], None]) -> None:
    """All responses in one COPY streamed to us, handed over every CHUNK_BYTES: no record per response.
    A raw newline in COPY's output only ever ends a row, so rows are split before unescaping."""
    row = (f"'[' || to_json({_MODE})::text || ',' || to_json({_LANGUAGE})::text || ',' || {_ANSWERS}::text || ']'"
           if context else _ANSWERS)
    clauses, values = wanted.where()
    numbered = [c.replace("?", f"${i}") for i, c in enumerate(clauses, start=1)]
    sql = f"SELECT {row} FROM {RESPONSES} WHERE {' AND '.join(numbered)}"
    buffer = bytearray()

    def flush(upto: int) -> None:
        data = bytes(buffer[:upto]).rstrip(b"\n").replace(b"\n", b",")
        del buffer[:upto]
        if data:
            add(_COPY_ESCAPE.sub(_copy_unescape, data) if b"\\" in data else data)

    async def receive(data: bytes) -> None:
        buffer.extend(data)
        if len(buffer) >= CHUNK_BYTES and (end := buffer.rfind(b"\n")) >= 0:
            flush(end + 1)

    connection = await engine.get_new_connection()
    try:
        await connection.copy_from_query(sql, *values, output=receive)
    except BaseException:
        connection.terminate()  # a polite close can wait forever after a COPY that stopped half way
        raise
    await connection.close()
    flush(len(buffer))


# ---------------------------------------------------------------------------------------------------------
# Reading a month of a survey's responses, for the Friends and Family Test
# ---------------------------------------------------------------------------------------------------------


async def responses_between(practice_id: int, survey_id: int, first: date, last: date) -> list[dict[str, Any]]:
    """The survey's responses that arrived from `first` to `last` (inclusive), each as a dict of
    `version`, `mode`, `submitted_on` and `answers` (the stored JSON: text, or already decoded)."""
    return await SurveyResponse.select(
        SurveyResponse.version, SurveyResponse.mode, SurveyResponse.submitted_on, SurveyResponse.answers
    ).where((SurveyResponse.survey == survey_id) & (SurveyResponse.practice == practice_id)
            & (SurveyResponse.submitted_on >= first) & (SurveyResponse.submitted_on <= last))
