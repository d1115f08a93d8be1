"""Group commit: concurrent submissions share transactions, every acknowledged one is stored once,
and a spent single-use invitation fails alone without failing its batch."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime

import pytest

from prg.accounts.services import practice_id_for
from prg.errors import Conflict
from surveys import response_store
from surveys.ingest import ResponseWriter
from surveys.response_store import SQLiteStore, Submission
from surveys.services import PublishedSurveys
from surveys.tables import Invitation, Survey, SurveyResponse, SurveyVersion

DEFINITION = {"title": {"en": "FFT"}, "sections": [{"id": "s", "questions": [
    {"type": "short_text", "id": "fft", "label": {"en": "How was it?"}}]}]}


@pytest.fixture
async def survey(make_practice):
    practice_id = await practice_id_for(await make_practice("Y90001"))
    now = datetime.now(UTC)
    survey = Survey(practice=practice_id, title="FFT", public_id="abc", status="open", created_at=now)
    await survey.save()
    version = SurveyVersion(survey=survey.id, practice=practice_id, number=1, definition=DEFINITION, created_at=now,
                            published_at=now)
    await version.save()
    return practice_id, survey.id, version.id


def submission(survey, **extra) -> Submission:
    practice_id, survey_id, version_id = survey
    return Submission(practice_id, survey_id, version_id, "web", "en", {"fft": "very_good"}, **extra)


async def test_concurrent_submissions_are_committed_in_batches(survey):
    writer = ResponseWriter()
    await writer.start()
    ids = await asyncio.gather(*(writer.submit(submission(survey)) for _ in range(200)))
    await writer.stop()
    assert len(set(ids)) == 200
    assert await SurveyResponse.count() == 200
    assert writer.batches < 200  # they shared commits
    stored = await SurveyResponse.select().where(SurveyResponse.id == ids[0]).output(load_json=True).first()
    assert stored["answers"] == {"fft": "very_good"} and stored["submitted_at"] is None  # anonymous: day only


async def test_a_replayed_invitation_fails_alone(survey):
    practice_id, survey_id, _ = survey
    invitation = Invitation(survey=survey_id, practice=practice_id, token_hash="h" * 64, channel="sms",
                            created_at=datetime.now(UTC))
    await invitation.save()
    writer = ResponseWriter()
    await writer.start()
    results = await asyncio.gather(
        writer.submit(submission(survey, invitation_id=invitation.id)),
        writer.submit(submission(survey, invitation_id=invitation.id)),
        writer.submit(submission(survey)),
        return_exceptions=True,
    )
    await writer.stop()
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert sum(isinstance(r, int) for r in results) == 2
    assert await SurveyResponse.count() == 2
    responses = await SurveyResponse.select(SurveyResponse.invitation)
    assert all(r["invitation"] is None for r in responses)  # anonymous: no link to the invitation
    spent = await Invitation.select(Invitation.used_at).first()
    assert (spent["used_at"].hour, spent["used_at"].minute) == (0, 0)  # only the day is kept


async def test_each_acknowledged_id_is_its_own_stored_row(survey):
    """Ids come back from batched inserts (derived on SQLite, RETURNING on PostgreSQL): each must name
    the row holding that submission's answers, also around a replayed invitation skipped mid-batch."""
    practice_id, survey_id, _ = survey
    invitation = Invitation(survey=survey_id, practice=practice_id, token_hash="i" * 64, channel="sms",
                            created_at=datetime.now(UTC))
    await invitation.save()
    writer = ResponseWriter()
    await writer.start()
    await writer.submit(submission(survey))
    earlier = await SurveyResponse.select(SurveyResponse.id).first()
    await SurveyResponse.delete().where(SurveyResponse.id == earlier["id"])  # a gap before the batch
    sent = [submission(survey, invitation_id=invitation.id if n % 50 == 7 else None) for n in range(150)]
    for n, item in enumerate(sent):
        item.answers = {"n": n}
    results = await asyncio.gather(*(writer.submit(item) for item in sent), return_exceptions=True)
    await writer.stop()
    assert sum(isinstance(r, Conflict) for r in results) == 2  # three uses of one link: the first counts
    ids = {n: r for n, r in enumerate(results) if isinstance(r, int)}
    rows = await SurveyResponse.select(SurveyResponse.id, SurveyResponse.answers).output(load_json=True)
    assert {r["id"]: r["answers"]["n"] for r in rows} == {id_: n for n, id_ in ids.items()}


async def test_concurrent_requests_share_one_read_of_an_expired_survey(survey, monkeypatch):
    """When the cached survey expires under load, the requests in flight wait for one read of it
    instead of each reading it again; a survey forgotten (closed, edited) is read afresh."""
    surveys = PublishedSurveys()
    reads = 0
    load = surveys._load

    async def counted_load(public_id: str):
        nonlocal reads
        reads += 1
        return await load(public_id)

    monkeypatch.setattr(surveys, "_load", counted_load)
    found = await asyncio.gather(*(surveys.get("abc") for _ in range(32)))
    assert reads == 1 and found[0] is not None and all(f is found[0] for f in found)
    assert await surveys.get("abc") is found[0] and reads == 1  # cached
    await Survey.update({Survey.status: "closed"}).where(Survey.public_id == "abc")
    surveys.forget("abc")
    assert (await surveys.get("abc")).status == "closed" and reads == 2


sqlite_only = pytest.mark.skipif(bool(os.environ.get("PRG_TEST_DATABASE_URL")), reason="the SQLite store")


@sqlite_only
async def test_a_batch_is_acknowledged_only_after_its_flush_to_disk(survey, database, monkeypatch):
    """The commit is flushed in a worker thread: until that flush returns, the submission waits,
    though other connections already see the committed row."""
    flushing, release = threading.Event(), threading.Event()

    def held_fdatasync(fd: int) -> None:
        flushing.set()
        release.wait(10)
        os.fdatasync(fd)

    monkeypatch.setattr(response_store, "_fdatasync", held_fdatasync)
    writer = ResponseWriter()
    await writer.start()
    try:
        pending = asyncio.create_task(writer.submit(submission(survey)))
        assert await asyncio.to_thread(flushing.wait, 10)
        await asyncio.sleep(0.2)
        assert not pending.done()  # committed, not yet acknowledged
        assert await SurveyResponse.count() == 1
        release.set()
        assert isinstance(await pending, int)
    finally:
        release.set()
        await writer.stop()


@sqlite_only
async def test_a_write_lock_held_elsewhere_is_waited_for_off_the_event_loop(survey, database):
    """A staff request holding SQLite's write lock delays a batch without stalling the server."""
    path = database.removeprefix("sqlite:///")
    writer = ResponseWriter()
    await writer.start()
    await writer.submit(submission(survey))  # connected
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        pending = asyncio.create_task(writer.submit(submission(survey)))
        started = time.monotonic()
        for _ in range(20):  # the loop keeps running while the batch waits for the lock
            await asyncio.sleep(0.01)
        assert time.monotonic() - started < 1 and not pending.done()
    finally:
        other.execute("COMMIT")
        other.close()
    assert isinstance(await pending, int)
    await writer.stop()
    assert await SurveyResponse.count() == 2


@sqlite_only
async def test_the_writer_checkpoints_so_the_wal_stays_small(survey, database):
    path = database.removeprefix("sqlite:///")
    writer = ResponseWriter()
    await writer.start()
    wal_sizes = []
    for batches in range(1, SQLiteStore.CHECKPOINT_EVERY * 6 + 1):  # one batch each
        await writer.submit(submission(survey))
        if batches % (SQLiteStore.CHECKPOINT_EVERY * 2) == 0:
            wal_sizes.append(os.path.getsize(path + "-wal"))
    await writer.stop()
    assert writer.batches == SQLiteStore.CHECKPOINT_EVERY * 6
    assert wal_sizes[2] <= wal_sizes[0] * 1.1  # checkpointed and reused, not growing with every batch
