"""Group commit for survey responses: the submission hot path.

A commit costs a flush to disk, and one commit per request caps throughput at the disk's flush rate
(SQLite) or the server's commit latency (PostgreSQL). So every submission in a process goes through
one `ResponseWriter`: requests put their row on a queue and wait; a single task takes everything that
has queued up (up to `max_batch`), writes it in ONE transaction, and only after that commit resolves
each request's future. A 2xx therefore still means "committed" (nothing acknowledged is lost), while
32 concurrent patients share one flush. Under light load a batch is one row and no latency is added.

The batch is written with plain SQL on a connection the writer keeps, not through the ORM: this is
the one hot path, and per-batch ORM work (a new SQLite connection and thread per transaction, every
statement a round trip through the busy event loop) made batches slow enough to cap throughput.
How a batch is written, and spends single-use invitations, is `surveys.response_store`'s: on SQLite
its statements run on the event loop and only the flush to disk runs in a worker thread
(`SQLiteStore`); on PostgreSQL the writer's own asyncpg connection runs it (`PostgresStore`).
"""

from __future__ import annotations

import asyncio
import logging

from surveys.response_store import PostgresStore, SQLiteStore, Submission, store_for_engine

log = logging.getLogger("prg.surveys")


class ResponseWriter:
    def __init__(self, max_batch: int = 500) -> None:
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Submission, asyncio.Future[int]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._store: SQLiteStore | PostgresStore | None = None
        self.batches = 0
        self.rows = 0

    async def start(self) -> None:
        self._store = store_for_engine()
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
            store = store_for_engine()
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
