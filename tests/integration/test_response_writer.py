"""Group commit: concurrent submissions share transactions, every acknowledged one is stored once,
and a spent single-use invitation fails alone without failing its batch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from prg.accounts.services import practice_id_for
from prg.errors import Conflict
from surveys.ingest import ResponseWriter, Submission
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
