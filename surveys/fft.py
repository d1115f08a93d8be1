"""Friends and Family Test: the monthly counts a practice returns, from stored survey answers (pure, pandas).

The FFT question of a survey is found by its option codes (`find_fft_question`): a single-choice question
whose codes are exactly those of the question bank's April 2020 wording ("Overall, how was your experience
of our service?": very_good, good, neither, poor, very_poor, dont_know) or of the December 2014 to March
2020 wording ("How likely are you to recommend our GP practice...": extremely_likely, likely, neither,
unlikely, extremely_unlikely, dont_know). If a survey has several, the first in reading order is used.

`monthly_counts` counts, for one calendar month (by the day a response arrived, `submitted_on`), the
responses in each category and each collection mode (web, paper, kiosk, sms, email), with totals.
Following NHS England's FFT guidance, the "positive" and "negative" percentages are worked out on the
responses *excluding "Don't know"*: `top_two_share` = (Very good + Good) / (total - Don't know), or
(Extremely likely + Likely) for the 2014 wording; `bottom_two_share` likewise with Poor + Very poor
(Unlikely + Extremely unlikely). A share is None when no one gave an answer other than "Don't know".
Responses that did not answer the FFT question (it may be optional) are not counted in any category or
total; they are reported as `not_answered`.

`write_monthly_return` writes the monthly return as CSV. The layout is ours, plain and documented, and
only *approximates* the national submission (which practices make through NHS England's data collection
system, whose exact template and column names we do not reproduce): one row per collection mode (every
known mode, zeros included, in a fixed order) plus a final `Total` row; columns `practice_code`, `month`
(YYYY-MM), `mode`, one count per response category in the question's order (labelled with the national
wording, e.g. "Very good"), `Don't know` and `Total` (all responses including "Don't know"). Every cell is
a number or one of our fixed labels, never patient text; it is still written with the csv module.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from prg.errors import ErrorDetail, InvalidInput
from surveys.definition import SingleChoiceQuestion, SurveyDefinition

__all__ = ["MODES", "WORDINGS", "FFTQuestion", "Wording", "find_fft_question", "month_range", "monthly_counts",
           "parse_month", "write_monthly_return"]

DONT_KNOW = "dont_know"
# Collection modes as stored on SurveyResponse.mode, in the order the return lists them.
MODES = ("web", "paper", "kiosk", "sms", "email")


@dataclass(frozen=True)
class Wording:
    """One national wording of the FFT question: its codes in order (Don't know last) and labels."""

    name: str  # "2020" | "2014"
    codes: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def top_two(self) -> tuple[str, str]:
        return self.codes[0], self.codes[1]

    @property
    def bottom_two(self) -> tuple[str, str]:
        return self.codes[3], self.codes[4]

    def label(self, code: str) -> str:
        return self.labels[self.codes.index(code)]


WORDINGS = (
    Wording("2020", ("very_good", "good", "neither", "poor", "very_poor", DONT_KNOW),
            ("Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know")),
    Wording("2014", ("extremely_likely", "likely", "neither", "unlikely", "extremely_unlikely", DONT_KNOW),
            ("Extremely likely", "Likely", "Neither likely nor unlikely", "Unlikely", "Extremely unlikely",
             "Don't know")),
)


@dataclass(frozen=True)
class FFTQuestion:
    question_id: str
    wording: Wording


def wording_of(codes: Sequence[str]) -> Wording | None:
    """The national wording whose codes are exactly `codes` (in any order), if any."""
    found = set(codes)
    return next((w for w in WORDINGS if set(w.codes) == found and len(found) == len(codes)), None)


def find_fft_question(definition: SurveyDefinition, survey_name: str) -> FFTQuestion:
    """The survey's FFT question (the first single-choice question with a national FFT code set)."""
    for question in definition.questions():
        if isinstance(question, SingleChoiceQuestion):
            wording = wording_of([o.code for o in question.options])
            if wording is not None:
                return FFTQuestion(question.id, wording)
    raise InvalidInput(
        f"Survey {survey_name} has no Friends and Family Test question (a single-choice question with the "
        "national FFT answers: very_good ... very_poor, dont_know, or extremely_likely ... extremely_unlikely, "
        "dont_know).",
        [ErrorDetail("no Friends and Family Test question in this survey", field="survey_id")],
    )


def parse_month(text: str) -> date:
    """'YYYY-MM' -> the first day of that month; InvalidInput naming `month` otherwise."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2 or not (year.isdigit() and month.isdigit()):
            raise ValueError(text)
        return date(int(year), int(month), 1)
    except ValueError:
        raise InvalidInput("The month must be a real calendar month written YYYY-MM, e.g. 2025-06.",
                           [ErrorDetail("not a month in the form YYYY-MM", field="month")]) from None


def month_range(first: date) -> tuple[date, date]:
    """The first and last day of the month starting on `first`."""
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _share(part: int, base: int) -> float | None:
    return part / base if base else None


def _summary(counts: pd.Series, wording: Wording) -> dict[str, Any]:
    values = {code: int(counts.get(code, 0)) for code in wording.codes}
    total = sum(values.values())
    base = total - values[DONT_KNOW]
    return {
        "counts": {code: values[code] for code in wording.codes if code != DONT_KNOW},
        "dont_know": values[DONT_KNOW],
        "total": total,
        "base_excluding_dont_know": base,
        "top_two": sum(values[c] for c in wording.top_two),
        "bottom_two": sum(values[c] for c in wording.bottom_two),
        "top_two_share": _share(sum(values[c] for c in wording.top_two), base),
        "bottom_two_share": _share(sum(values[c] for c in wording.bottom_two), base),
    }


def monthly_counts(answers_frame: pd.DataFrame, question_id: str, codes: Sequence[str], month: date | str
                   ) -> dict[str, Any]:
    """Counts per category and per collection mode for one calendar month.

    `answers_frame` has one row per response with columns `submitted_on` (dates), `mode` and
    `question_id` (the answer code, missing when not answered); `codes` is the question's code set, which
    must be one of the national wordings; `month` is the month's first day or 'YYYY-MM'. Rows outside the
    month are ignored. Shares exclude "Don't know" (see the module docstring)."""
    wording = wording_of(codes)
    if wording is None:
        raise InvalidInput("Those answer codes are not a Friends and Family Test wording.",
                           [ErrorDetail("not the FFT codes", field="codes")])
    first = parse_month(month) if isinstance(month, str) else month.replace(day=1)
    start, end = month_range(first)
    columns = {"submitted_on": pd.Series(dtype="datetime64[ns]"), "mode": pd.Series(dtype=object),
               question_id: pd.Series(dtype=object)}
    frame = answers_frame if len(answers_frame) else pd.DataFrame(columns)
    days = pd.to_datetime(frame["submitted_on"])
    in_month = frame[(days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))]
    answer = in_month[question_id] if question_id in in_month else pd.Series(index=in_month.index, dtype=object)
    known = answer.isin(list(wording.codes))
    table = pd.crosstab(in_month["mode"][known], answer[known])
    extra_modes = sorted(set(in_month["mode"].dropna()) - set(MODES))
    modes = [{"mode": mode, **_summary(table.loc[mode] if mode in table.index else pd.Series(dtype=int), wording)}
             for mode in (*MODES, *extra_modes)]
    return {
        "month": f"{first:%Y-%m}",
        "question": question_id,
        "wording": wording.name,
        "categories": [{"code": c, "label": wording.label(c)} for c in wording.codes],
        "responses": int(len(in_month)),
        "not_answered": int((~known).sum()),
        "modes": modes,
        "total": {"mode": "total", **_summary(answer[known].value_counts(), wording)},
    }


def write_monthly_return(counts: dict[str, Any], practice_code: str) -> str:
    """The monthly return as CSV text (layout in the module docstring), from `monthly_counts`'s result."""
    categories = [c for c in counts["categories"] if c["code"] != DONT_KNOW]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["practice_code", "month", "mode", *[c["label"] for c in categories], "Don't know", "Total"])
    for row in [*counts["modes"], {**counts["total"], "mode": "Total"}]:
        writer.writerow([practice_code, counts["month"], row["mode"], *[row["counts"][c["code"]] for c in categories],
                         row["dont_know"], row["total"]])
    return out.getvalue()
