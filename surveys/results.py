"""Survey results: the stored responses of a survey's published version, collated (surveys/collation.py)
and, when asked, weighted to the practice's population (surveys/weighting.py).

Weighting uses the survey's demographic questions (those tagged with a population `dimension`): each
becomes a raking margin whose targets are the practice's latest population profile for that dimension,
grouped exactly as the representativeness check groups it. Respondents who did not answer every
weighting question (or chose an answer outside the groups, such as "prefer not to say") cannot be
weighted: they get weight 0 in the weighted figures and are counted in `weighting.not_weighted`. A
margin that cannot be used (a group with respondents but no patients, or the reverse) is refused with
the margin and group named, never silently weighted on.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from prg.accounts.services import PracticeAccess
from prg.errors import ErrorDetail, InvalidInput, NotFound
from prg.representativeness import services as representativeness
from prg.settings import get_settings
from prg.stats import compare_groups, difference_interval
from surveys.collation import collate
from surveys.definition import SingleChoiceQuestion, SurveyDefinition, load_definition
from surveys.tables import Survey, SurveyResponse, SurveyVersion
from surveys.weighting import rake

# How a survey dimension maps onto a representativeness comparison.
_SPECS = {"sex": {"dimension": "sex"}, "age_band": {"dimension": "age", "bands": "des"},
          "ethnicity": {"dimension": "ethnicity", "level": "high_level"}}


def _spec_for(dimension: str) -> representativeness.Spec:
    if dimension.startswith("custom:"):
        return representativeness.parse_spec(dimension)
    return representativeness.parse_spec(**_SPECS[dimension])


def _norm(key: str) -> str:
    return key.strip().lower().replace(" ", "")


async def _margins(access: PracticeAccess, definition: SurveyDefinition, frame: pd.DataFrame
                   ) -> tuple[pd.DataFrame, dict[str, dict[str, int]], list[str]]:
    """The respondents' groups per weighting question, and the population's counts for those groups."""
    columns: dict[str, pd.Series] = {}
    margins: dict[str, dict[str, int]] = {}
    used = []
    for question in definition.questions():
        if not (isinstance(question, SingleChoiceQuestion) and question.dimension) or question.id not in frame:
            continue
        population_frame = await representativeness.build_frame(access, _spec_for(question.dimension.name))
        by_key = {}
        for group in population_frame.groups:
            by_key[_norm(group.key)] = group
            by_key[_norm(group.label)] = group
        groups = {code: by_key.get(_norm(key)) for code, key in question.dimension.groups.items()}
        unknown = [key for code, key in question.dimension.groups.items() if groups[code] is None]
        if unknown:
            raise InvalidInput(
                f"Question '{question.id}' maps answers to groups the population profile does not have.",
                [ErrorDetail(f"no population group '{key}'", field=f"{question.id}.dimension") for key in unknown])
        columns[question.id] = frame[question.id].map({code: g.key for code, g in groups.items()})
        margins[question.id] = {g.key: g.population for g in {id(g): g for g in groups.values()}.values()}
        used.append(question.id)
    return pd.DataFrame(columns), margins, used


# Obvious personal identifiers in comments: e-mail addresses, UK phone numbers, NHS numbers (10 digits,
# often spaced 3-3-4). Patterns, not understanding: names and addresses are not caught.
_IDENTIFIERS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[e-mail removed]"),
    (re.compile(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b"), "[number removed]"),
    (re.compile(r"(?:\+44\s?|\b0)\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}\b"), "[phone removed]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _IDENTIFIERS:
        text = pattern.sub(replacement, text)
    return text


def _redact_comments(collated: dict[str, Any]) -> None:
    for question in collated["questions"].values():
        if question.get("comments"):
            question["comments"] = [redact(c) for c in question["comments"]]


def _respondents_vs_population(definition: SurveyDefinition, sample: pd.DataFrame, margins: dict[str, dict[str, int]],
                               threshold: int) -> dict[str, Any]:
    """Who answered, against who the patients are: the PRG check's statistics for respondents."""
    compared = {}
    for question_id, population in margins.items():
        groups = list(population)
        counts = sample[question_id].value_counts()
        result = compare_groups(groups, [population[g] for g in groups], [int(counts.get(g, 0)) for g in groups],
                                suppress_below=threshold)
        compared[question_id] = result.as_dict()
    return compared


def _changes(definition: SurveyDefinition, now: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """Per single-choice question present in both surveys (same id and answer codes): each answer's
    share now minus before, with Newcombe's interval, and the same for the top box."""
    changes = {}
    for question in definition.questions():
        if not isinstance(question, SingleChoiceQuestion):
            continue
        a, b = now["questions"].get(question.id), before["questions"].get(question.id)
        if not a or not b or "options" not in b or {o["code"] for o in a["options"]} != {o["code"] for o in b["options"]}:
            continue
        counts_b = {o["code"]: o["count"] for o in b["options"]}
        shares_b = {o["code"]: o["share"] for o in b["options"]}
        rows = []
        for option in a["options"]:
            d, low, high = difference_interval(option["count"], a["base"], counts_b[option["code"]], b["base"])
            rows.append({"code": option["code"], "share": option["share"], "previous_share": shares_b[option["code"]],
                         "difference": d, "ci_low": low, "ci_high": high})
        entry: dict[str, Any] = {"base": a["base"], "previous_base": b["base"], "options": rows}
        if question.top_box:
            x1 = sum(o["count"] for o in a["options"] if o["code"] in question.top_box)
            x2 = sum(counts_b[c] for c in question.top_box)
            d, low, high = difference_interval(x1, a["base"], x2, b["base"])
            entry["top_box"] = {"difference": d, "ci_low": low, "ci_high": high}
        changes[question.id] = entry
    return changes


async def survey_results(access: PracticeAccess, survey_id: int, *, weight: bool, publish: bool,
                         by: str | None = None, mode: str | None = None, language: str | None = None,
                         date_from: date | None = None, date_to: date | None = None,
                         compare: bool = False, redact_comments: bool = False,
                         compare_with: int | None = None) -> dict[str, Any]:
    """Results of the survey's published version; filters narrow the responses first. `by` (a
    single-choice question id, `mode` or `language`) adds the same results for each of its answers."""
    survey = await Survey.select(Survey.id, Survey.title).where(
        (Survey.id == survey_id) & (Survey.practice == access.practice_id)).first()
    if survey is None:
        raise NotFound(f"No survey {survey_id} at {access.ods_code}.")
    version = await SurveyVersion.select(SurveyVersion.id, SurveyVersion.number, SurveyVersion.definition).where(
        (SurveyVersion.survey == survey_id) & SurveyVersion.published_at.is_not_null()
    ).order_by(SurveyVersion.number, ascending=False).output(load_json=True).first()
    if version is None:
        raise NotFound("This survey has no published version, so it has no results yet.")
    definition = load_definition(version["definition"])
    where = [SurveyResponse.version == version["id"]]
    if mode:
        where.append(SurveyResponse.mode == mode)
    if language:
        where.append(SurveyResponse.language == language)
    if date_from:
        where.append(SurveyResponse.submitted_on >= date_from)
    if date_to:
        where.append(SurveyResponse.submitted_on <= date_to)
    stored = await SurveyResponse.select(SurveyResponse.answers, SurveyResponse.mode, SurveyResponse.language
                                         ).where(*where)
    frame = pd.DataFrame.from_records(
        [json.loads(r["answers"]) if isinstance(r["answers"], str) else r["answers"] for r in stored])
    context = pd.DataFrame.from_records([(r["mode"], r["language"]) for r in stored], columns=["mode", "language"])
    ids = {q.id for q in definition.questions()}
    if by is not None and by not in ("mode", "language") and (
            by not in ids or not isinstance(next(q for q in definition.questions() if q.id == by),
                                            SingleChoiceQuestion)):
        raise InvalidInput("Results can be broken down by a single-choice question, mode or language.",
                           [ErrorDetail("not a single-choice question of this survey", field="by")])
    weighting: dict[str, Any] | None = None
    weights = None
    respondents = None
    if weight or compare:
        sample, margins, used = await _margins(access, definition, frame)
        if compare:
            respondents = _respondents_vs_population(definition, sample, margins,
                                                     get_settings().suppression_threshold)
    if weight:
        if not used:
            raise InvalidInput("The survey has no demographic questions to weight by.",
                               [ErrorDetail("needs questions tagged with a population dimension", field="weight")])
        complete = sample.notna().all(axis=1).to_numpy()
        if not complete.any():
            raise InvalidInput("No respondent answered every weighting question.", [ErrorDetail("no one", field="weight")])
        result = rake(sample[complete], margins)
        weights = np.zeros(len(frame))
        weights[complete] = result.weights
        weighting = {"by": used, "converged": result.converged, "iterations": result.iterations,
                     "design_effect": result.design_effect, "effective_sample_size": result.effective_sample_size,
                     "weighted_respondents": int(complete.sum()), "not_weighted": int((~complete).sum()),
                     "notes": list(result.notes)}
    threshold = get_settings().suppression_threshold
    collated = collate(definition, frame, weights=weights, publish=publish, threshold=threshold)
    breakdown = None
    if by is not None:
        column = context[by] if by in ("mode", "language") else frame.get(by, pd.Series([None] * len(frame)))
        breakdown = {}
        for value in sorted(v for v in column.dropna().unique()):
            chosen = (column == value).to_numpy()
            part = collate(definition, frame[chosen].reset_index(drop=True),
                           weights=None if weights is None else weights[chosen], publish=publish, threshold=threshold)
            breakdown[str(value)] = part
    changes = None
    if compare_with is not None:
        if compare_with == survey_id:
            raise InvalidInput("Compare with another survey.", [ErrorDetail("is this survey", field="compare_with")])
        before = await survey_results(access, compare_with, weight=False, publish=False)
        changes = {"previous_survey": compare_with, "previous_title": before["title"],
                   "questions": _changes(definition, collate(definition, frame, threshold=threshold), before)}
    for part in [collated, *(breakdown or {}).values()]:
        if redact_comments:
            _redact_comments(part)
    return {"survey": survey_id, "title": survey["title"], "version": version["number"],
            "responses": len(frame), "filters": {"mode": mode, "language": language, "date_from": date_from,
                                                 "date_to": date_to},
            "weighting": weighting, "respondents_vs_population": respondents, **collated,
            "breakdown_by": by, "breakdown": breakdown, "changes": changes}
