"""A survey's Friends and Family Test counts for one month, from its stored responses.

The FFT question is the one in the survey's newest published version (or its draft, if never published);
responses of every version count, each read through its own version's FFT question (same wording), so a
survey edited mid-month still gives one return. Only the survey's responses in the month are loaded
(filtered in the query by `submitted_on`). The counting rules and the CSV layout are `surveys.fft`'s.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from prg.accounts.services import PracticeAccess
from prg.errors import InvalidInput, NotFound
from surveys.definition import load_definition
from surveys.fft import FFTQuestion, find_fft_question, month_range, monthly_counts, parse_month
from surveys.response_store import responses_between
from surveys.tables import Survey, SurveyVersion


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


async def fft_counts(access: PracticeAccess, survey_id: int, month: str) -> dict[str, Any]:
    """The month's counts per FFT answer and collection mode (`surveys.fft.monthly_counts`), for the
    practice; `month` is 'YYYY-MM' (InvalidInput naming `month` otherwise)."""
    first = parse_month(month)
    question, ids = await _fft_question(access, survey_id)
    rows = await responses_between(access.practice_id, survey_id, *month_range(first))
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
