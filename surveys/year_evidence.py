"""Surveys as evidence for the participation year: the implementation of `prg.des.survey_evidence.SurveyEvidence`
(the year defines what it needs; surveys, above it in the layers, answers)."""

from __future__ import annotations

from datetime import date, datetime

from piccolo.query.functions.aggregate import Count, Max, Min

from prg.db import is_sqlite
from prg.des.survey_evidence import SurveyInYear
from surveys.definition import load_definition
from surveys.fft import find_fft_question
from surveys.tables import Survey, SurveyResponse, SurveyVersion


class SurveysYearEvidence:
    async def belongs_to(self, practice_id: int, survey_id: int) -> bool:
        return await Survey.exists().where((Survey.id == survey_id) & (Survey.practice == practice_id))

    async def question_ids(self, survey_id: int) -> set[str]:
        row = await SurveyVersion.select(SurveyVersion.definition).where(SurveyVersion.survey == survey_id).order_by(
            SurveyVersion.number, ascending=False).output(load_json=True).first()
        return {q.id for q in load_definition(row["definition"]).questions()} if row else set()

    async def surveys_in_year(self, practice_id: int, starts_on: date, ends_on: date) -> list[SurveyInYear]:
        responses = await SurveyResponse.select(
            SurveyResponse.survey, Count(SurveyResponse.id, alias="n"),
            Min(SurveyResponse.submitted_on, alias="first"), Max(SurveyResponse.submitted_on, alias="last"),
        ).where((SurveyResponse.practice == practice_id) & (SurveyResponse.submitted_on >= starts_on)
                & (SurveyResponse.submitted_on <= ends_on)).group_by(SurveyResponse.survey)
        by_survey = {r["survey"]: r for r in responses}
        versions = await SurveyVersion.select(
            SurveyVersion.survey, SurveyVersion.published_at, SurveyVersion.definition, SurveyVersion.number,
        ).where((SurveyVersion.practice == practice_id) & SurveyVersion.published_at.is_not_null()
                ).order_by(SurveyVersion.number).output(load_json=True)
        published: dict[int, dict] = {}
        for v in versions:
            published.setdefault(v["survey"], {"first": v["published_at"], "definition": v["definition"]})
            published[v["survey"]]["definition"] = v["definition"]  # the latest published version
        titles = {r["id"]: r["title"] for r in await Survey.select(Survey.id, Survey.title).where(
            Survey.practice == practice_id)}
        out = []
        for survey_id, info in published.items():
            published_on = info["first"].date() if isinstance(info["first"], datetime) else info["first"]
            stats = by_survey.get(survey_id)
            if stats is None and not starts_on <= published_on <= ends_on:
                continue
            try:
                find_fft_question(load_definition(info["definition"]), titles.get(survey_id, ""))
                fft = True
            except Exception:  # no FFT question: a DomainError, or a definition this reader cannot parse
                fft = False
            first, last = (stats["first"], stats["last"]) if stats else (None, None)
            if is_sqlite() and isinstance(first, str):  # aggregates come back as text on SQLite
                first, last = date.fromisoformat(first), date.fromisoformat(last)
            out.append(SurveyInYear(id=survey_id, title=titles.get(survey_id, ""),
                                    responses=stats["n"] if stats else 0, first=first, last=last,
                                    published_on=published_on, fft=fft))
        out.sort(key=lambda s: (s.first or s.published_on, s.id))
        return out
