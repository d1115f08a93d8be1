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
from typing import Any

import numpy as np
import pandas as pd

from prg.accounts.services import PracticeAccess
from prg.errors import ErrorDetail, InvalidInput, NotFound
from prg.representativeness import services as representativeness
from prg.settings import get_settings
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


async def survey_results(access: PracticeAccess, survey_id: int, *, weight: bool, publish: bool) -> dict[str, Any]:
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
    stored = await SurveyResponse.select(SurveyResponse.answers).where(SurveyResponse.version == version["id"])
    frame = pd.DataFrame.from_records(
        [json.loads(r["answers"]) if isinstance(r["answers"], str) else r["answers"] for r in stored])
    weighting: dict[str, Any] | None = None
    weights = None
    if weight:
        sample, margins, used = await _margins(access, definition, frame)
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
    collated = collate(definition, frame, weights=weights, publish=publish,
                       threshold=get_settings().suppression_threshold)
    return {"survey": survey_id, "title": survey["title"], "version": version["number"],
            "responses": len(frame), "weighting": weighting, **collated}
