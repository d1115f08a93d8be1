"""HTTP for a survey's Friends and Family Test monthly counts and return.

Mounted under the practice router: /api/practices/{ods_code}/surveys/{survey_id}/fft. The FFT question is
the one in the survey's newest published version (or its draft, if never published); responses of every
version count, each read through its own version's FFT question (same wording), so a survey edited
mid-month still gives one return. Only the survey's responses in the month are loaded (filtered in the
query by `submitted_on`). See `surveys.fft` for the counting rules and the CSV layout.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
from litestar import Controller, Response, get
from litestar.params import QueryParameter

from prg.accounts.services import PracticeAccess
from prg.errors import ErrorDetail, InvalidInput, NotFound
from prg.web import CurrentPractice, RecordId
from surveys.definition import load_definition
from surveys.fft import FFTQuestion, find_fft_question, month_range, monthly_counts, parse_month, write_monthly_return
from surveys.tables import Survey, SurveyResponse, SurveyVersion

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
# Optional in the signature only so that a missing month gets the same problem document (naming `month`)
# as a malformed one; Litestar's own "missing parameter" error names no field.
Month = Annotated[str | None, QueryParameter(pattern=MONTH_PATTERN, description="A calendar month, YYYY-MM (required).")]


async def _fft_question(access: PracticeAccess, survey_id: int) -> tuple[FFTQuestion, dict[int, str]]:
    """The survey's FFT question (newest published version, else newest) and, per version id, the id of
    that version's question with the same wording (versions without one are left out)."""
    survey = await Survey.select(Survey.id, Survey.title).where(
        (Survey.id == survey_id) & (Survey.practice == access.practice_id)).first()
    if survey is None:
        raise NotFound(f"No survey {survey_id} at {access.ods_code}.")
    versions = await SurveyVersion.select(
        SurveyVersion.id, SurveyVersion.number, SurveyVersion.definition, SurveyVersion.published_at
    ).where(SurveyVersion.survey == survey_id).order_by(SurveyVersion.number).output(load_json=True)
    published = [v for v in versions if v["published_at"] is not None]
    newest = (published or versions)[-1]
    name = f"{survey_id} ({survey['title']!r})"
    question = find_fft_question(load_definition(newest["definition"]), name)
    ids: dict[int, str] = {}
    for version in versions:
        try:
            found = find_fft_question(load_definition(version["definition"]), name)
        except InvalidInput:  # an older version without the question: its responses have no FFT answer
            continue
        if found.wording == question.wording:
            ids[version["id"]] = found.question_id
    return question, ids


async def fft_counts(access: PracticeAccess, survey_id: int, month: str | None) -> dict[str, Any]:
    if month is None:
        raise InvalidInput("Say which month, as ?month=YYYY-MM.", [ErrorDetail("required", field="month")])
    first = parse_month(month)
    question, ids = await _fft_question(access, survey_id)
    start, end = month_range(first)
    rows = await SurveyResponse.select(
        SurveyResponse.version, SurveyResponse.mode, SurveyResponse.submitted_on, SurveyResponse.answers
    ).where((SurveyResponse.survey == survey_id) & (SurveyResponse.practice == access.practice_id)
            & (SurveyResponse.submitted_on >= start) & (SurveyResponse.submitted_on <= end))
    answers = []
    for r in rows:  # decoding the stored JSON is per response anyway; the counting is vectorised
        stored = json.loads(r["answers"]) if isinstance(r["answers"], str) else r["answers"]
        qid = ids.get(r["version"])
        answers.append(stored.get(qid) if qid is not None and isinstance(stored, dict) else None)
    frame = pd.DataFrame({"submitted_on": pd.to_datetime([r["submitted_on"] for r in rows]),
                          "mode": pd.Series([r["mode"] for r in rows], dtype=object),
                          question.question_id: pd.Series(answers, dtype=object)})
    result = monthly_counts(frame, question.question_id, question.wording.codes, first)
    return {"practice": access.ods_code, "survey_id": survey_id, **result}


class FFTController(Controller):
    """Friends and Family Test counts and monthly return for one survey."""

    path = "/surveys/{survey_id:int}/fft"
    tags = ["surveys"]

    @get("/")
    async def counts(self, practice: CurrentPractice, survey_id: RecordId, month: Month = None) -> dict[str, Any]:
        """Counts per FFT answer and per collection mode for `month` (by the day responses arrived), with
        totals and the shares answering the top two and bottom two categories, excluding "Don't know"."""
        return await fft_counts(practice, survey_id, month)

    @get("/return.csv", media_type="text/csv")
    async def monthly_return(self, practice: CurrentPractice, survey_id: RecordId, month: Month = None
                             ) -> Response[str]:
        """The month's return as CSV: one row per collection mode and a total row (layout in docs of
        `surveys.fft`; it approximates, not reproduces, the national submission)."""
        counts = await fft_counts(practice, survey_id, month)
        name = f"{practice.ods_code}-fft-{counts['month']}.csv"
        return Response(write_monthly_return(counts, practice.ods_code), media_type="text/csv",
                        headers={"content-disposition": f'attachment; filename="{name}"'})
