"""Group commit: concurrent submissions share transactions, every acknowledged one is stored once,
and a spent single-use invitation fails alone without failing its batch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from prg.accounts.services import practice_id_for
from prg.errors import Conflict
from surveys.ingest import ResponseWriter, Submission
from surveys.tables import Invitation, Survey, SurveyResponse, SurveyVersion


@pytest.fixture
async def survey(make_practice):
    practice_id = await practice_id_for(await make_practice("Y90001"))
    now = datetime.now(UTC)
    survey = Survey(practice=practice_id, title="FFT", public_id="abc", status="open", created_at=now)
    await survey.save()
    version = SurveyVersion(survey=survey.id, practice=practice_id, number=1, definition={}, created_at=now,
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
