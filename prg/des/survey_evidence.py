"""What the participation year needs to know about surveys, and no more.

The year sits below surveys in the layers (surveys builds on the PRG core), yet its guide counts a year's
survey responses and its priorities and action items point at surveys and their questions. So the year
defines this small interface and surveys implements it (`surveys.year_evidence.SurveysYearEvidence`);
`prg/app.py` provides it to the HTTP handlers, and the CLI and the exports pass it in. The year never
imports surveys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class SurveyInYear:
    """A survey with evidence in a scheme year: responses dated in it, or published in it."""

    id: int
    title: str
    responses: int  # responses dated in the year
    first: date | None  # the first and last response dates in the year (None without responses)
    last: date | None
    published_on: date  # the first publication
    fft: bool  # the latest published version carries the Friends and Family Test question


class SurveyEvidence(Protocol):
    async def belongs_to(self, practice_id: int, survey_id: int) -> bool:
        """Whether survey `survey_id` is one of the practice's."""
        ...

    async def question_ids(self, survey_id: int) -> set[str]:
        """The question ids of the survey's latest version (draft or published)."""
        ...

    async def surveys_in_year(self, practice_id: int, starts_on: date, ends_on: date) -> list[SurveyInYear]:
        """The practice's published surveys with responses dated between the two days (inclusive) or first
        published between them, by first response (or publication) date."""
        ...
