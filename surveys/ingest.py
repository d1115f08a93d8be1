"""Group commit for survey responses: the submission hot path.

A commit costs a flush to disk, and one commit per request caps throughput at the disk's flush rate
(SQLite) or the server's commit latency (PostgreSQL). So every submission in a process goes through
one `ResponseWriter`: requests put their row on a queue and wait; a single task takes everything that
has queued up (up to `max_batch`), writes it in ONE transaction, and only after that commit resolves
each request's future. A 2xx therefore still means "committed" (nothing acknowledged is lost), while
32 concurrent patients share one flush. Under light load a batch is one row and no latency is added.

Single-use invitations are spent inside the same transaction with a conditional UPDATE
(`used_at IS NULL`), so a replayed link fails on its own without failing the rest of the batch.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prg.db import write_transaction
from prg.errors import Conflict
from surveys.tables import Invitation, SurveyResponse

log = logging.getLogger("prg.surveys")


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


class ResponseWriter:
    def __init__(self, max_batch: int = 500) -> None:
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Submission, asyncio.Future[int]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.rows = 0

    async def start(self) -> None:
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

    async def submit(self, submission: Submission) -> int:
        """Store one response; returns its id once its batch has committed."""
        if self._task is None:  # not started (e.g. a CLI or a test without the app): write it alone
            return (await self._write([submission]))[0]
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self._queue.put((submission, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await self._write([s for s, _ in batch])
            except Exception as exc:  # the transaction rolled back: nobody is acknowledged
                log.error("response batch of %d failed: %s", len(batch), type(exc).__name__)
                results = [exc] * len(batch)
            for (_, future), result in zip(batch, results):
                if not future.done():
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                self._queue.task_done()

    async def _write(self, batch: list[Submission]) -> list[int | BaseException]:
        results: list[int | BaseException] = []
        rows: list[tuple[int, SurveyResponse]] = []
        async with write_transaction():
            for index, item in enumerate(batch):
                if item.invitation_id is not None:
                    # Anonymous surveys record only the day an invitation was spent, so its time
                    # cannot be matched to a response.
                    spent_at = (datetime.combine(item.received_at.date(), datetime.min.time(), UTC)
                                if item.anonymous else item.received_at)
                    spent = await Invitation.update({Invitation.used_at: spent_at, Invitation.draft: None}).where(
                        (Invitation.id == item.invitation_id) & Invitation.used_at.is_null()
                    ).returning(Invitation.id)
                    if not spent:
                        results.append(Conflict("This survey link has already been used to send answers."))
                        continue
                results.append(0)
                rows.append((index, SurveyResponse(
                    practice=item.practice_id, survey=item.survey_id, version=item.version_id, mode=item.mode,
                    language=item.language, submitted_on=item.received_at.date(),
                    submitted_at=None if item.anonymous else item.received_at,
                    invitation=None if item.anonymous else item.invitation_id, answers=item.answers,
                )))
            for start in range(0, len(rows), 500):
                await SurveyResponse.insert(*(row for _, row in rows[start:start + 500]))
        for index, row in rows:
            results[index] = row.id
        self.batches += 1
        self.rows += len(rows)
        return results
