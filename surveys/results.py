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

import asyncio
import gc
import re
import sqlite3
from datetime import date
from typing import Any

import msgspec
import numpy as np
import pandas as pd
from piccolo.engine.sqlite import SQLiteEngine

from prg.accounts.services import PracticeAccess
from prg.db import current_engine
from prg.errors import ErrorDetail, InvalidInput, NotFound
from prg.representativeness import services as representativeness
from prg.settings import get_settings
from prg.stats import compare_groups, difference_interval
from surveys.collation import collate
from surveys.definition import SingleChoiceQuestion, SurveyDefinition, load_definition
from surveys.tables import Survey, SurveyVersion
from surveys.weighting import collapse_thin, rake

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


async def _fetch(version_id: int, mode: str | None, language: str | None, date_from: date | None,
                 date_to: date | None) -> tuple[list[Any], list[str], list[str]]:
    """The stored answers (as JSON text), modes and languages of one version's responses.

    Read with plain SQL, not the ORM: results may cover a million responses, and a dict per row costs
    seconds. SQLite reads on a connection of its own in a worker thread; PostgreSQL uses asyncpg rows."""
    clauses, values = ["version = ?"], [version_id]
    for column, op, value in (("mode", "=", mode), ("language", "=", language), ("submitted_on", ">=", date_from),
                              ("submitted_on", "<=", date_to)):
        if value is not None:
            clauses.append(f"{column} {op} ?")
            values.append(value.isoformat() if isinstance(value, date) else value)
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        sql = f"SELECT answers, mode, language FROM survey_response WHERE {' AND '.join(clauses)}"

        def read() -> list[tuple[str, str, str]]:
            with sqlite3.connect(engine.connection_kwargs["database"]) as db:
                return db.execute(sql, values).fetchall()

        rows = await asyncio.to_thread(read)
    else:
        numbered = [c.replace("?", f"${i}") for i, c in enumerate(clauses, start=1)]
        sql = f"SELECT answers, mode, language FROM survey_response WHERE {' AND '.join(numbered)}"
        args = [date.fromisoformat(v) if c.startswith("submitted_on") else v for c, v in zip(clauses, values)]
        connection = await engine.get_new_connection()
        try:
            rows = await connection.fetch(sql, *args)
        finally:
            await connection.close()
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def _frame(texts: list[Any]) -> pd.DataFrame:
    """One row per response, one column per question, from the stored JSON, decoded in one pass.
    The cyclic garbage collector is paused meanwhile: a million fresh dicts would set it off
    again and again, for nothing (they hold no cycles)."""
    blob = b"[" + b",".join(t.encode() if isinstance(t, str) else msgspec.json.encode(t) for t in texts) + b"]"
    paused = gc.isenabled()
    gc.disable()
    try:
        return pd.DataFrame(msgspec.json.decode(blob))
    finally:
        if paused:
            gc.enable()


def _usable_margins(sample: pd.DataFrame, margins: dict[str, dict[str, int]], thin: int
                    ) -> tuple[pd.DataFrame, dict[str, dict[str, int]], list[str]]:
    """Margins raking can use, and what was changed to get them. A group with patients but no
    respondents (say, under-16s in an adult survey) cannot be represented: it leaves the margin, so the
    weighted figures describe the rest of the population. Groups with fewer than `thin` respondents are
    merged into a neighbour (collapse_thin), as one or two people must not carry a whole group."""
    notes = []
    margins = {m: dict(groups) for m, groups in margins.items()}
    for margin, groups in margins.items():
        present = set(sample[margin].unique())
        for group in [g for g in groups if g not in present]:
            notes.append(f"{margin}: no respondents in '{group}'; the weighted figures leave its "
                         f"{groups.pop(group):,} patients out.")
    for margin in list(margins):
        if len(margins[margin]) > 1:
            collapsed = collapse_thin(sample, margins, margin, thin)
            sample, margins = collapsed.sample, collapsed.margins
            notes.extend(collapsed.notes)
    return sample, margins, notes


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
    texts, modes, languages = await _fetch(version["id"], mode, language, date_from, date_to)
    frame = _frame(texts)
    context = pd.DataFrame({"mode": modes, "language": languages})
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
        sample, margins, prepared = _usable_margins(sample[complete].reset_index(drop=True), margins,
                                                    get_settings().suppression_threshold)
        result = rake(sample, margins)
        weights = np.zeros(len(frame))
        weights[complete] = result.weights
        weighting = {"by": used, "converged": result.converged, "iterations": result.iterations,
                     "design_effect": result.design_effect, "effective_sample_size": result.effective_sample_size,
                     "weighted_respondents": int(complete.sum()), "not_weighted": int((~complete).sum()),
                     "notes": prepared + list(result.notes)}
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
