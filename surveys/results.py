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

import gc
import re
from datetime import date
from operator import attrgetter
from typing import Any, Literal

import msgspec
import numpy as np
import pandas as pd

from prg.accounts.services import PracticeAccess
from prg.errors import ErrorDetail, InvalidInput
from prg.representativeness import services as representativeness
from prg.settings import get_settings
from prg.stats.intervals import difference_interval
from prg.stats.representativeness import compare_groups
from surveys.collation import collate
from surveys.definition import (
    DateQuestion,
    LongTextQuestion,
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    ScaleQuestion,
    ShortTextQuestion,
    SingleChoiceQuestion,
    SurveyDefinition,
)
from surveys.response_store import AnswersWanted, read_answers
from surveys.services import published_version
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


def _relabel(column: pd.Series, labels: dict[str, str]) -> pd.Series:
    """Each answer's label (None for answers without one); a categorical column is relabelled through its
    categories, not answer by answer."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column.map(labels)
    categories = column.cat.categories
    new = pd.Index(list(dict.fromkeys(v for v in labels.values() if v is not None)), dtype=object)
    remap = np.append(new.get_indexer([labels.get(c) for c in categories]), -1)  # code -1 (no answer) stays -1
    return pd.Series(pd.Categorical.from_codes(remap[column.cat.codes.to_numpy()], categories=new),
                     index=column.index, name=column.name)


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
        columns[question.id] = _relabel(frame[question.id], {code: g.key for code, g in groups.items()})
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


# ---------------------------------------------------------------------------------------------------------
# Loading the stored answers as columns
# ---------------------------------------------------------------------------------------------------------


def _stored_type(question: Question) -> Any:
    """The msgspec type of a stored answer (see surveys.answers), so that decoding also checks it."""
    if isinstance(question, SingleChoiceQuestion):
        return Literal[tuple(o.code for o in question.options)]
    if isinstance(question, MultipleChoiceQuestion):
        return tuple[Literal[tuple(o.code for o in question.options)], ...]  # type: ignore[misc]
    if isinstance(question, (ScaleQuestion, NumberQuestion)):
        return float  # msgspec takes JSON integers too
    if isinstance(question, (DateQuestion, ShortTextQuestion, LongTextQuestion)):
        return str
    return Any  # rating grids: {row: code} dicts, kept as stored


class _Columns:
    """The responses' answers as one array per question, built chunk by chunk.

    A chunk is a JSON array of stored answers (or, with `context`, of ``[mode, language, answers]``).
    msgspec decodes it into Structs typed from the definition (no dict per response), and each
    question's values are pulled out with C-level iterators: single-choice answers become small
    integer codes (a pandas Categorical whose categories are the option codes, which collation and
    weighting use as they are), 0-10 and numbers become float arrays (NaN = no answer), the rest stay
    as stored. Only the current chunk's Structs exist at any time. With `typed=False` chunks are decoded
    into dicts and framed with pandas, as stored, whatever the types: the fallback for answers that do
    not match the definition (decoding raises msgspec.ValidationError in typed mode).
    """

    def __init__(self, definition: SurveyDefinition, *, context: bool, typed: bool = True) -> None:
        self.questions = list(definition.questions())
        self.context, self.typed = context, typed
        self.rows = 0
        self.parts: dict[str, list[Any]] = {q.id: [] for q in self.questions}
        self.frames: list[pd.DataFrame] = []
        self.modes: list[str] = []
        self.languages: list[str] = []
        self.lookups = {q.id: {None: -1, **{o.code: i for i, o in enumerate(q.options)}}
                        for q in self.questions if isinstance(q, SingleChoiceQuestion)}
        names = {q.id: f"a{i}" for i, q in enumerate(self.questions)}  # ids need not be identifiers
        self.getters = {q.id: attrgetter(names[q.id]) for q in self.questions}
        answers: Any = msgspec.defstruct(
            "StoredAnswers", [(names[q.id], _stored_type(q) | None, None) for q in self.questions],
            rename={name: qid for qid, name in names.items()}, gc=False) if typed else dict[str, Any]
        row: Any = msgspec.defstruct("StoredResponse", [("mode", str), ("language", str), ("answers", answers)],
                                     array_like=True, gc=False) if context else answers
        self.decoder = msgspec.json.Decoder(list[row])

    def add(self, chunk: bytes) -> None:
        """Decode one chunk: `chunk` holds the JSON values, separated by commas, without brackets."""
        paused = gc.isenabled()
        gc.disable()  # decoding makes many containers and no cycles: nothing for the collector to find
        try:
            decoded = self.decoder.decode(b"[" + chunk + b"]")
        finally:
            if paused:
                gc.enable()
        n = len(decoded)
        if self.context:
            self.modes.extend(map(attrgetter("mode"), decoded))
            self.languages.extend(map(attrgetter("language"), decoded))
            decoded = list(map(attrgetter("answers"), decoded))
        self.rows += n
        if not self.typed:
            self.frames.append(pd.DataFrame(decoded, index=pd.RangeIndex(n)))
            return
        for q in self.questions:
            values = map(self.getters[q.id], decoded)
            if q.id in self.lookups:
                part: Any = np.fromiter(map(self.lookups[q.id].__getitem__, values), dtype=np.int16, count=n)
            elif isinstance(q, (ScaleQuestion, NumberQuestion)):
                part = np.array(list(values), dtype=np.float64)  # None becomes NaN
            elif isinstance(q, MultipleChoiceQuestion):
                # few distinct sets of choices: one shared list per set, as stored, not one per response
                found, sets = pd.factorize(np.fromiter(values, dtype=object, count=n))
                shared = np.empty(len(sets) + 1, dtype=object)  # ends with None: code -1 (no answer) picks it
                for i, chosen in enumerate(sets):
                    shared[i] = list(chosen)
                part = shared[found]
            else:
                part = np.fromiter(values, dtype=object, count=n)
            self.parts[q.id].append(part)

    def frame(self) -> pd.DataFrame:
        """One row per response, a column per question that someone answered (as framing the stored
        dicts would give: a question nobody answered has no column)."""
        index = pd.RangeIndex(self.rows)
        if not self.typed:
            return pd.concat(self.frames, ignore_index=True) if self.frames else pd.DataFrame(index=index)
        columns: dict[str, Any] = {}
        for q in self.questions:
            parts = self.parts[q.id]
            values = np.concatenate(parts) if parts else np.empty(0)
            if q.id in self.lookups:
                if (values >= 0).any():
                    codes = pd.Index([o.code for o in q.options], dtype=object)  # type: ignore[attr-defined]
                    columns[q.id] = pd.Categorical.from_codes(values, categories=codes)
            elif values.dtype == np.float64:
                if not np.isnan(values).all():
                    columns[q.id] = values
            elif pd.notna(values).any():
                columns[q.id] = pd.Series(values, index=index, dtype=object, copy=False)  # not str: no copying
        return pd.DataFrame(columns, index=index, copy=False)

    def context_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"mode": pd.Categorical(self.modes), "language": pd.Categorical(self.languages)})


async def _load(definition: SurveyDefinition, version_id: int, mode: str | None, language: str | None,
                date_from: date | None, date_to: date | None, *, context: bool, typed: bool = True
                ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The answers to one version (filtered), a row per response; with `context`, their modes and
    languages too. Plain SQL (`surveys.response_store`), not the ORM: results may cover a million responses."""
    columns = _Columns(definition, context=context, typed=typed)
    try:
        await read_answers(AnswersWanted(version_id, mode, language, date_from, date_to), context=context,
                           add=columns.add)
    except msgspec.ValidationError:
        if not typed:
            raise
        # Answers that do not fit the definition (a storage error): read them again as they are.
        return await _load(definition, version_id, mode, language, date_from, date_to, context=context, typed=False)
    return columns.frame(), columns.context_frame() if context else None


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
    survey, version, definition = await published_version(access, survey_id)
    ids = {q.id for q in definition.questions()}
    if by is not None and by not in ("mode", "language") and (
            by not in ids or not isinstance(next(q for q in definition.questions() if q.id == by),
                                            SingleChoiceQuestion)):
        raise InvalidInput("Results can be broken down by a single-choice question, mode or language.",
                           [ErrorDetail("not a single-choice question of this survey", field="by")])
    frame, context = await _load(definition, version["id"], mode, language, date_from, date_to,
                                 context=by in ("mode", "language"))
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
        column = context[by] if context is not None else frame.get(by, pd.Series([None] * len(frame)))
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
