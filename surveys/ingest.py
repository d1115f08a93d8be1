"""Group commit for survey responses: the submission hot path.

A commit costs a flush to disk, and one commit per request caps throughput at the disk's flush rate
(SQLite) or the server's commit latency (PostgreSQL). So every submission in a process goes through
one `ResponseWriter`: requests put their row on a queue and wait; a single task takes everything that
has queued up (up to `max_batch`), writes it in ONE transaction, and only after that commit resolves
each request's future. A 2xx therefore still means "committed" (nothing acknowledged is lost), while
32 concurrent patients share one flush. Under light load a batch is one row and no latency is added.

Single-use invitations are spent inside the same transaction with a conditional UPDATE
(`used_at IS NULL`), so a replayed link fails on its own without failing the rest of the batch.

The batch is written with plain SQL on a connection the writer keeps, not through the ORM: this is
the one hot path, and per-batch ORM work (a new SQLite connection and thread per transaction, every
statement a round trip through the busy event loop) made batches slow enough to cap throughput.
On SQLite the writer's own connection runs a batch on the event loop and flushes it to disk in a
worker thread (see SQLiteStore); on PostgreSQL the writer's own asyncpg connection runs it. Columns and
value formats are the ones Piccolo uses for `SurveyResponse` and `Invitation` (see surveys/tables.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from prg.db import current_engine
from prg.errors import Conflict

log = logging.getLogger("prg.surveys")
_fdatasync = getattr(os, "fdatasync", os.fsync)  # fdatasync is what SQLite uses where it exists


@dataclass
class Submission:
    practice_id: int
    survey_id: int
    version_id: int
    mode: str
    language: str
    answers: dict[str, Any]
    anonymous: bool = True
    invitation_id: int | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


RESPONSE_COLUMNS = ("practice", "survey", "version", "mode", "language", "submitted_on", "submitted_at",
                    "invitation", "answers")


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

    INSERT = (f"INSERT INTO survey_response ({', '.join(RESPONSE_COLUMNS)}) "
              f"VALUES ({', '.join('?' * len(RESPONSE_COLUMNS))}) RETURNING id")
    SPEND = "UPDATE invitation SET used_at = ?, draft = NULL WHERE id = ? AND used_at IS NULL"
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

    SPEND = "UPDATE invitation SET used_at = $1, draft = NULL WHERE id = $2 AND used_at IS NULL"

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
            width = len(RESPONSE_COLUMNS)
            values = ", ".join("(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")"
                               for r in range(len(rows)))
            # A multi-row VALUES insert returns its ids in the order of the rows.
            inserted = await connection.fetch(
                f"INSERT INTO survey_response ({', '.join(RESPONSE_COLUMNS)}) VALUES {values} RETURNING id",
                *(value for row in rows for value in row))
            results = [r if isinstance(r, BaseException) else inserted[r]["id"] for r in results]
        return results

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await connection.close(timeout=5)
            except Exception:  # closing a broken connection: nothing left to save
                connection.terminate()


class ResponseWriter:
    def __init__(self, max_batch: int = 500) -> None:
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Submission, asyncio.Future[int]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._store: SQLiteStore | PostgresStore | None = None
        self.batches = 0
        self.rows = 0

    @staticmethod
    def _store_for_engine() -> SQLiteStore | PostgresStore:
        engine = current_engine()
        if isinstance(engine, SQLiteEngine):
            kwargs = engine.connection_kwargs
            return SQLiteStore(kwargs["database"], kwargs.get("timeout", 10.0))
        return PostgresStore(engine)

    async def start(self) -> None:
        self._store = self._store_for_engine()
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="response-writer")

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None
        await self._store.close()

    async def submit(self, submission: Submission) -> int:
        """Store one response; returns its id once its batch has committed."""
        if self._task is None:  # not started (a CLI, or a test without the app): write it alone
            store = self._store_for_engine()
            try:
                result = (await store.write([submission]))[0]
            finally:
                await store.close()
            if isinstance(result, BaseException):
                raise result
            return result
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((submission, future))  # unbounded: never waits
        return await future

    async def _run(self) -> None:
        assert self._queue is not None and self._store is not None
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await self._store.write([s for s, _ in batch])
                self.batches += 1
                self.rows += sum(not isinstance(r, BaseException) for r in results)
            except Exception as exc:  # rolled back, or not flushed: nobody in the batch is acknowledged
                log.error("response batch of %d failed: %s", len(batch), type(exc).__name__)
                results = [exc] * len(batch)
            for (_, future), result in zip(batch, results):
                if not future.done():
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                self._queue.task_done()
