"""Collating stored survey answers into results: bases, counts, shares, intervals, means, disclosure control.

`collate(definition, answers)` turns the normalised stored answers (one row per response, one column per
question id; see `surveys.answers`) into one result per question, with pandas/numpy over whole columns
(no per-response Python loop, so a million responses take seconds). A column may also be a pandas
categorical (results loads single-choice answers so): it is then used through its integer codes. Per question: `respondents` (all
responses), `not_shown` (hidden by skip logic), `skipped` (shown but not answered) and `base` (answered);
for choices, counts and shares per option with Wilson 95% intervals (`prg.stats.intervals.wilson_intervals`), and the
`top_box` share where the question has one; for rating grids the same per row; for multiple choice the
share of respondents (who answered) selecting each option; for 0-10 and number questions the distribution
or summary and the mean with a t-interval; for dates the range; free text as a list of comments (never
counted, and left out of published output: comments can identify people). "Shown" is worked out from
`show_if` on the stored answers (hidden questions never have stored answers), evaluating the compiled
skip-logic predicate once per distinct combination of the answers it refers to, not once per response.
With `weights` (e.g. `surveys.weighting.rake(...).weights`), every figure gets a `weighted_*` twin beside
the unweighted one; weighted intervals use Kish's effective sample size of the question's base as n.
With `publish=True` disclosure control applies: a question (or grid row) whose base is below `threshold`
(or below `star_below`, should that be the larger) is `withheld` (numbers None); minimum, maximum and
date range are never published (each is one person's answer); counts 1..`star_below`-1 are shown as "*" (their shares, intervals and
weighted twins become None); and secondary suppression makes sure no starred count can be worked out from
the base minus the other counts (see `suppress_counts`); a top-box figure that includes a starred count is
withheld too. `crosstab` breaks one question down by the answers to another (e.g. a demographic one),
suppressing cells within each group and across groups (column totals are the overall counts).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import t as student_t

from prg.errors import ErrorDetail, InvalidInput
from prg.stats.intervals import wilson_intervals
from surveys.answers import conditions
from surveys.definition import (
    DateQuestion,
    LongTextQuestion,
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    RatingGridQuestion,
    ScaleQuestion,
    ShortTextQuestion,
    SingleChoiceQuestion,
    SurveyDefinition,
)
from surveys.weighting import category_codes

__all__ = ["STAR", "collate", "crosstab", "suppress_counts", "suppress_table"]


STAR = "*"
Count = int | str | None

# ---------------------------------------------------------------------------------------------------------
# Disclosure control
# ---------------------------------------------------------------------------------------------------------


def _recoverable(values: Sequence[int], hidden: Sequence[bool]) -> bool:
    """Can a hidden count be worked out from the total and the shown counts?

    Hidden counts are known to be at least 1 (zeros are shown). With h hidden counts summing to R
    (= total - shown counts), each lies in [1, R - h + 1]: it is pinned down exactly when h == 1 or R == h.
    """
    h = sum(hidden)
    if h == 0:
        return False
    rest = sum(v for v, x in zip(values, hidden) if x)
    return h == 1 or rest == h


def _secondary(values: Sequence[int], hidden: list[bool]) -> bool:
    """Hide the next smallest non-zero shown count until no hidden count is recoverable; False if impossible."""
    while _recoverable(values, hidden):
        candidates = [i for i, v in enumerate(values) if v > 0 and not hidden[i]]
        if not candidates:
            return False
        hidden[min(candidates, key=lambda i: (values[i], i))] = True
    return True


def suppress_counts(counts: Sequence[int], star_below: int = 8) -> tuple[list[Count], bool]:
    """Counts as published for a set of counts that add up to a published total (a question's base).

    Counts 1..star_below-1 become "*" (primary suppression); then, while a starred count could be worked
    out from the total (only one starred, or all starred counts being 1), the next smallest non-zero
    count is starred too (secondary suppression). Returns (published counts, ok); ok is False when even
    starring every non-zero count leaves one recoverable: the caller must withhold the whole set.
    """
    values = [int(c) for c in counts]
    hidden = [0 < v < star_below for v in values]
    ok = _secondary(values, hidden)
    return [STAR if x else v for v, x in zip(values, hidden)], ok


def suppress_table(table: Sequence[Sequence[int]], star_below: int = 8, hidden_rows: Sequence[bool] = ()) -> tuple[list[list[bool]], bool]:
    """Which cells of a table to hide when both row totals and column totals are published.

    Primary suppression of 1..star_below-1, every cell of a `hidden_rows` row hidden (a withheld group),
    then the one-dimensional rule applied to every row and every column in turn until nothing changes.
    This is the usual row/column heuristic, not a linear-programming audit. Returns (hidden, ok).
    """
    values = [[int(v) for v in row] for row in table]
    rows = len(values)
    cols = len(values[0]) if rows else 0
    hidden = [[0 < v < star_below for v in row] for row in values]
    for r, whole in enumerate(hidden_rows):
        if whole:
            hidden[r] = [True] * cols
    ok = True
    changed = True
    while changed:
        changed = False
        for r in range(rows):
            if hidden_rows and hidden_rows[r]:
                continue  # its cells are all hidden already
            before = list(hidden[r])
            ok &= _secondary(values[r], hidden[r])
            changed |= before != hidden[r]
        for c in range(cols):
            column = [values[r][c] for r in range(rows)]
            col_hidden = [hidden[r][c] for r in range(rows)]
            # a withheld row's zero is unknown too: treat those cells as hidden counts of at least 0
            if any(col_hidden):
                before = list(col_hidden)
                ok &= _secondary(column, col_hidden) if not any(hidden_rows) else _secondary_with_zeros(column, col_hidden)
                for r in range(rows):
                    hidden[r][c] = col_hidden[r]
                changed |= before != col_hidden
    return hidden, ok


def _secondary_with_zeros(values: Sequence[int], hidden: list[bool]) -> bool:
    # Conservative: hidden cells may be 0 here, so a single hidden non-zero cell is recoverable only if
    # it is the only hidden cell; require at least two hidden cells whenever any is hidden.
    while sum(hidden) == 1:
        candidates = [i for i, v in enumerate(values) if v > 0 and not hidden[i]] or [
            i for i in range(len(values)) if not hidden[i]
        ]
        if not candidates:
            return False
        hidden[min(candidates, key=lambda i: (values[i], i))] = True
    return True


# ---------------------------------------------------------------------------------------------------------
# Small numeric helpers
# ---------------------------------------------------------------------------------------------------------


def _f(x: Any) -> float | None:
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _share_block(counts: NDArray[np.float64], base: float, n_eff: float | None = None) -> tuple[list[float | None], list[float | None], list[float | None]]:
    """Shares and Wilson 95% bounds; with n_eff (weighted), the interval uses n_eff as the sample size."""
    if base <= 0:
        k = counts.size
        return [None] * k, [None] * k, [None] * k
    shares = np.minimum(counts / base, 1.0)
    if n_eff is None:
        low, high = wilson_intervals(counts, base)
    else:
        low, high = wilson_intervals(np.minimum(shares * n_eff, n_eff), n_eff)
    return [_f(s) for s in shares], [_f(v) for v in low], [_f(v) for v in high]


def _n_eff(w: NDArray[np.float64]) -> float:
    s2 = float(np.dot(w, w))
    return float(w.sum()) ** 2 / s2 if s2 > 0 else 0.0


def _mean_interval(x: NDArray[np.float64], w: NDArray[np.float64] | None) -> dict[str, float | None]:
    """Mean, standard deviation and t-based 95% interval; weighted: weighted mean, Kish n_eff for the df/SE."""
    n = x.size
    if n == 0:
        return {"mean": None, "sd": None, "ci_low": None, "ci_high": None}
    if w is None:
        mean = float(x.mean())
        m = float(n)
        sd = float(x.std(ddof=1)) if n > 1 else None
    else:
        sw = float(w.sum())
        mean = float(np.dot(w, x) / sw)
        m = _n_eff(w)
        var = float(np.dot(w, (x - mean) ** 2) / sw)
        sd = math.sqrt(var * m / (m - 1)) if m > 1 else None
    if sd is None or m <= 1:
        return {"mean": mean, "sd": sd, "ci_low": None, "ci_high": None}
    half = float(student_t.ppf(0.975, m - 1)) * sd / math.sqrt(m)
    return {"mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half}


# ---------------------------------------------------------------------------------------------------------
# Reading the answers
# ---------------------------------------------------------------------------------------------------------


def _frame(answers: pd.DataFrame | Sequence[Mapping[str, Any]], ids: Sequence[str]) -> pd.DataFrame:
    if isinstance(answers, pd.DataFrame):
        frame = answers.reset_index(drop=True)
    else:
        frame = pd.DataFrame.from_records(list(answers)) if len(answers) else pd.DataFrame()
    missing = [i for i in ids if i not in frame.columns]
    if missing:
        frame = frame.assign(**{i: pd.Series([None] * len(frame), dtype=object) for i in missing})
    return frame


def _answered(col: pd.Series) -> NDArray[np.bool_]:
    """Which responses answered: not None/NaN and not '' (vectorised).

    Stored answers (see `surveys.answers`) hold only answered questions, so empty lists and objects never
    occur in them; '' is still treated as unanswered for answers loaded from elsewhere.
    """
    answered = col.notna().to_numpy()
    if col.dtype == object:
        answered = answered & (col.to_numpy() != "")
    return answered


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(v)
    if isinstance(v, dict):
        return tuple(sorted(v.items()))
    return v


def _shown(frame: pd.DataFrame, pred: Callable[[Mapping[str, Any]], bool], deps: frozenset[str],
           containers: frozenset[str] = frozenset()) -> NDArray[np.bool_]:
    """Evaluate a show_if predicate once per distinct combination of the answers it reads.

    Answers are factorised column by column (vectorised), so the predicate runs once per combination, not
    per response. `containers` names multiple-choice and grid questions, whose list/dict answers are
    turned into tuples first (the only per-answer Python step, and only for those questions).
    """
    names = sorted(deps)
    n = len(frame)
    if n == 0:
        return np.zeros(0, dtype=bool)
    codes = np.zeros(n, dtype=np.int64)
    uniques_per: list[list[Any]] = []
    for name in names:
        col = frame[name]
        if name in containers:  # list/dict answers must be made hashable: one Python call per answer
            col = col.map(_hashable, na_action="ignore")
        c, uniq = pd.factorize(col, use_na_sentinel=True)
        uniq_list = list(uniq) + [None]
        c = np.where(c < 0, len(uniq_list) - 1, c)
        codes = codes * len(uniq_list) + c
        uniques_per.append(uniq_list)
    combo, inverse = np.unique(codes, return_inverse=True)
    results = np.empty(combo.size, dtype=bool)
    sizes = [len(u) for u in uniques_per]
    for k, code in enumerate(combo):
        answers: dict[str, Any] = {}
        rest = int(code)
        for name, uniq, size in zip(reversed(names), reversed(uniques_per), reversed(sizes)):
            value = uniq[rest % size]
            rest //= size
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                answers[name] = list(value) if isinstance(value, tuple) and not _is_grid(value) else (
                    dict(value) if isinstance(value, tuple) else _plain(value))
        results[k] = bool(pred(answers))
    return results[inverse.reshape(-1)]


def _containers(definition: SurveyDefinition) -> frozenset[str]:
    return frozenset(q.id for q in definition.questions() if isinstance(q, (MultipleChoiceQuestion, RatingGridQuestion)))


def _is_grid(value: tuple[Any, ...]) -> bool:
    return bool(value) and all(isinstance(x, tuple) and len(x) == 2 for x in value)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------------------------------------------------
# Per question
# ---------------------------------------------------------------------------------------------------------


class _Context:
    def __init__(self, weights: NDArray[np.float64] | None, publish: bool, threshold: int, star_below: int) -> None:
        self.weights = weights
        self.publish = publish
        self.threshold = threshold
        self.star_below = star_below


def _choice_block(codes: Sequence[str], idx: NDArray[np.intp], w: NDArray[np.float64] | None, ctx: _Context,
                  top_box: Sequence[str], partition: bool = True) -> dict[str, Any]:
    """Counts per code for answered rows (idx = code index per answered row); `partition` = counts sum to base."""
    k = len(codes)
    counts = np.bincount(idx, minlength=k).astype(np.float64)[:k]
    base = int(idx.size) if partition else None
    return _option_figures(codes, counts, base, w, idx, ctx, top_box, partition)


def _option_figures(codes: Sequence[str], counts: NDArray[np.float64], base: int | None, w: NDArray[np.float64] | None,
                    idx: NDArray[np.intp], ctx: _Context, top_box: Sequence[str], partition: bool,
                    respondents: int | None = None, w_base: NDArray[np.float64] | None = None) -> dict[str, Any]:
    k = len(codes)
    n = base if base is not None else int(respondents or 0)
    shares, lows, highs = _share_block(counts, float(n))
    wshares = wlows = whighs = None
    wcounts = None
    n_eff = None
    w_total = None
    if w is not None:
        wb = w if w_base is None else w_base
        w_total = float(wb.sum())
        n_eff = _n_eff(wb)
        wcounts = np.bincount(idx, weights=w, minlength=k)[:k]
        wshares, wlows, whighs = _share_block(wcounts, w_total, n_eff) if w_total > 0 else ([None] * k,) * 3
    options = []
    for i, code in enumerate(codes):
        row: dict[str, Any] = {"code": code, "count": int(counts[i]), "share": shares[i], "ci_low": lows[i], "ci_high": highs[i]}
        if w is not None:
            row.update(weighted_count=_f(wcounts[i]), weighted_share=wshares[i], weighted_ci_low=wlows[i], weighted_ci_high=whighs[i])  # type: ignore[index]
        options.append(row)
    out: dict[str, Any] = {"options": options}
    if w is not None:
        out["weighted_base"] = w_total
        out["effective_base"] = n_eff
    if top_box:
        mask = np.isin(np.asarray(codes, dtype=object), np.asarray(list(top_box), dtype=object))
        c = float(counts[mask].sum())
        (s,), (lo,), (hi,) = _share_block(np.asarray([c]), float(n))
        tb: dict[str, Any] = {"codes": list(top_box), "count": int(c), "share": s, "ci_low": lo, "ci_high": hi}
        if w is not None and wcounts is not None and w_total:
            wc = float(wcounts[mask].sum())
            (ws,), (wlo,), (whi,) = _share_block(np.asarray([wc]), w_total, n_eff)
            tb.update(weighted_count=wc, weighted_share=ws, weighted_ci_low=wlo, weighted_ci_high=whi)
        out["top_box"] = tb
    if ctx.publish:
        _suppress_options(out, [int(c) for c in counts], partition, ctx)
    return out


_FIGURES = ("count", "share", "ci_low", "ci_high", "weighted_count", "weighted_share", "weighted_ci_low", "weighted_ci_high")


def _suppress_options(out: dict[str, Any], counts: list[int], partition: bool, ctx: _Context) -> None:
    if partition:
        published, ok = _published_counts(counts, ctx.star_below)
    else:  # multiple choice: counts do not add up to a published total, so only primary suppression
        published, ok = [STAR if 0 < c < ctx.star_below else c for c in counts], True
    if not ok:
        out["withheld"] = True
    _star_options(out, [value == STAR for value in published])


def _published_counts(counts: Sequence[int], star_below: int) -> tuple[list[Count], bool]:
    """`suppress_counts`, with every non-zero count starred when that alone cannot hide them (ok False)."""
    published, ok = suppress_counts(counts, star_below)
    return (published if ok else [STAR if c > 0 else c for c in counts]), ok


def _star_options(result: dict[str, Any], hidden: Sequence[bool]) -> None:
    """Show each hidden option's count as "*", with its shares, intervals and weighted twins None; a top
    box that counts a hidden option is withheld."""
    starred = set()
    for row, hide in zip(result["options"], hidden):
        if hide:
            starred.add(row["code"])
            for key in _FIGURES:
                if key in row:
                    row[key] = None
            row["count"] = STAR
    tb = result.get("top_box")
    if tb is not None and starred & set(tb["codes"]):
        for key in _FIGURES:
            if key in tb:
                tb[key] = None
        tb["withheld"] = True


def _withhold(result: dict[str, Any]) -> None:
    """Replace every number under a result (but the structure) by None; mark it withheld."""
    def blank(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (v if k in ("code", "codes", "row", "id", "type") else blank(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [blank(v) for v in node]
        if isinstance(node, bool) or (isinstance(node, str) and node != STAR):
            return node
        return None

    for key in list(result):
        if key in ("id", "type", "respondents", "withheld"):
            continue
        result[key] = blank(result[key])
    result["withheld"] = True


def _counts_header(respondents: int, shown: NDArray[np.bool_], answered: NDArray[np.bool_], ctx: _Context) -> dict[str, Any]:
    shown = shown | answered  # an answer proves the question was shown
    base = int(answered.sum())
    n_shown = int(shown.sum())
    head: dict[str, Any] = {"respondents": respondents, "not_shown": respondents - n_shown, "skipped": n_shown - base, "base": base}
    if ctx.publish:
        published, _ = _published_counts([head["not_shown"], head["skipped"], base], ctx.star_below)
        head["not_shown"], head["skipped"] = published[0], published[1]
        head["base"] = published[2]
    return head


def _question(q: Question, frame: pd.DataFrame, shown: NDArray[np.bool_], ctx: _Context) -> dict[str, Any]:
    col = frame[q.id]
    answered = _answered(col)
    n = len(frame)
    result: dict[str, Any] = {"id": q.id, "type": q.__struct_config__.tag}
    result.update(_counts_header(n, shown, answered, ctx))
    base = int(answered.sum())
    rows_at: Any = slice(None) if base == n else np.flatnonzero(answered)  # everyone answered: no copies
    w_all = ctx.weights
    w = w_all[rows_at] if w_all is not None else None
    # a categorical column stays one: its values are then taken as codes, not one object per answer
    data = col.array if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
    values = data[rows_at] if base else np.empty(0, dtype=object)

    if isinstance(q, SingleChoiceQuestion):
        codes = [o.code for o in q.options]
        idx = category_codes(values, codes)
        known = idx >= 0  # stored answers are valid; an unknown code would be a storage error, not counted
        idx = idx[known]
        w = w[known] if w is not None else None
        result.update(_choice_block(codes, idx, w, ctx, q.top_box))
    elif isinstance(q, MultipleChoiceQuestion):
        codes = [o.code for o in q.options]
        exploded = pd.Series(values, dtype=object).explode()
        pos = exploded.index.to_numpy()
        idx = category_codes(exploded.to_numpy(), codes)
        keep = idx >= 0
        idx, pos = idx[keep], pos[keep]
        counts = np.bincount(idx, minlength=len(codes)).astype(np.float64)
        wsel = w[pos] if w is not None else None
        result.update(_option_figures(codes, counts, base, wsel, idx, ctx, (), partition=False, w_base=w))
    elif isinstance(q, RatingGridQuestion):
        codes = [o.code for o in q.options]
        table = pd.DataFrame.from_records(list(values), columns=[r.id for r in q.rows]) if base else pd.DataFrame(columns=[r.id for r in q.rows])
        rows = []
        for r in q.rows:
            cat = category_codes(table[r.id].to_numpy(dtype=object), codes)
            ok = cat >= 0
            block: dict[str, Any] = {"row": r.id, "base": int(ok.sum())}
            block.update(_choice_block(codes, np.asarray(cat[ok], dtype=np.intp), w[ok] if w is not None else None, ctx, q.top_box))
            if ctx.publish and block["base"] < max(ctx.threshold, ctx.star_below):
                _withhold(block)
            rows.append(block)
        result["rows"] = rows
    elif isinstance(q, ScaleQuestion):
        x = np.asarray(values, dtype=np.float64)
        counts = np.bincount(x.astype(np.intp), minlength=11)[:11].astype(np.float64)
        dist = _option_figures([str(i) for i in range(11)], counts, base, w, x.astype(np.intp), ctx, (), True)
        result["distribution"] = dist["options"]
        if "withheld" in dist:
            result["withheld"] = True
        result.update(_summary(x, w))
    elif isinstance(q, NumberQuestion):
        x = np.asarray(values, dtype=np.float64)
        result.update(_summary(x, w))
        extremes = base and not ctx.publish  # a published minimum or maximum is one person's answer
        result.update(min=_f(x.min()) if extremes else None, median=_f(np.median(x)) if base else None,
                      max=_f(x.max()) if extremes else None)
    elif isinstance(q, DateQuestion):
        extremes = base and not ctx.publish
        dates = np.sort(np.asarray(values, dtype="datetime64[D]")) if extremes else None
        result["earliest"] = str(dates[0]) if dates is not None else None
        result["latest"] = str(dates[-1]) if dates is not None else None
    elif isinstance(q, (ShortTextQuestion, LongTextQuestion)):
        if ctx.publish:
            result["comments"] = None
            result["note"] = "Free-text comments are staff-only: they can identify people and are not published."
        else:
            result["comments"] = values.tolist()

    if ctx.publish and base < max(ctx.threshold, ctx.star_below) and not isinstance(q, RatingGridQuestion):
        _withhold(result)
    elif ctx.publish and result.get("withheld") is None:
        result["withheld"] = False
    return result


def _summary(x: NDArray[np.float64], w: NDArray[np.float64] | None) -> dict[str, Any]:
    out: dict[str, Any] = dict(_mean_interval(x, None))
    if w is not None:
        out.update({f"weighted_{k}": v for k, v in _mean_interval(x, w).items()})
    return out


# ---------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------


def _check_weights(weights: Any, n: int) -> NDArray[np.float64] | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.size != n:
        raise InvalidInput("There must be one weight per response.", [ErrorDetail(f"has {w.size} weights for {n} responses", field="weights")])
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InvalidInput("Weights must be finite and not negative.", [ErrorDetail("has a negative or non-finite weight", field="weights")])
    return w


def collate(
    definition: SurveyDefinition,
    answers: pd.DataFrame | Sequence[Mapping[str, Any]],
    *,
    weights: Any = None,
    publish: bool = False,
    threshold: int = 10,
    star_below: int = 8,
) -> dict[str, Any]:
    """Results for every question of `definition` from stored answers (one row or dict per response).

    Returns ``{"respondents", "weighted", "publish", "threshold", "star_below", "design_effect",
    "effective_sample_size", "questions": {question id: result}}`` (design figures only when weighted),
    questions in survey order; see the module docstring for what each result holds.
    """
    ids = [q.id for q in definition.questions()]
    frame = _frame(answers, ids)
    n = len(frame)
    w = _check_weights(weights, n)
    ctx = _Context(w, publish, threshold, star_below)
    visibility = conditions(definition)
    out: dict[str, Any] = {"respondents": n, "weighted": w is not None, "publish": publish}
    if publish:
        out.update(threshold=threshold, star_below=star_below)
    if w is not None:
        s1, s2 = float(w.sum()), float(np.dot(w, w))
        out["design_effect"] = n * s2 / (s1 * s1) if s1 > 0 else None
        out["effective_sample_size"] = s1 * s1 / s2 if s2 > 0 else None
    questions: dict[str, Any] = {}
    all_shown = np.ones(n, dtype=bool)
    containers = _containers(definition)
    for q in definition.questions():
        shown = _shown(frame, *visibility[q.id], containers) if q.id in visibility else all_shown
        questions[q.id] = _question(q, frame, shown, ctx)
    out["questions"] = questions
    return out


def crosstab(
    definition: SurveyDefinition,
    answers: pd.DataFrame | Sequence[Mapping[str, Any]],
    question_id: str,
    by_question_id: str,
    *,
    weights: Any = None,
    publish: bool = False,
    threshold: int = 10,
    star_below: int = 8,
) -> dict[str, Any]:
    """`question_id` collated separately for each answer to the single-choice question `by_question_id`.

    Groups are the options of `by` in order, then ``None`` for responses that did not answer it. Each
    group's result is what `collate` gives for that question on the group's responses. When publishing,
    option counts (single choice) are also suppressed across groups, because each option's counts over
    the groups add up to its overall published count.
    """
    by_id = {q.id: q for q in definition.questions()}
    problems = []
    if question_id not in by_id:
        problems.append(ErrorDetail(f"'{question_id}' is not a question of this survey", field="question"))
    by_q = by_id.get(by_question_id)
    if by_q is None or not isinstance(by_q, SingleChoiceQuestion):
        problems.append(ErrorDetail(f"'{by_question_id}' is not a single-choice question of this survey", field="by"))
    if problems:
        raise InvalidInput("This breakdown cannot be made.", problems)
    assert isinstance(by_q, SingleChoiceQuestion)
    q = by_id[question_id]
    frame = _frame(answers, list(by_id))
    n = len(frame)
    w = _check_weights(weights, n)
    visibility = conditions(definition)
    shown = _shown(frame, *visibility[q.id], _containers(definition)) if q.id in visibility else np.ones(n, dtype=bool)
    group_codes = [o.code for o in by_q.options]
    gidx = category_codes(frame[by_question_id].to_numpy(dtype=object), group_codes)
    groups = []
    for g, code in enumerate([*group_codes, None]):
        mask = gidx == (g if code is not None else -1)
        ctx = _Context(w[mask] if w is not None else None, publish, threshold, star_below)
        sub = frame.loc[mask].reset_index(drop=True)
        groups.append({"group": code, "result": _question(q, sub, shown[mask], ctx), "_counts": _raw_counts(q, sub)})
    if publish and isinstance(q, SingleChoiceQuestion):
        table = [grp["_counts"] for grp in groups]
        withheld = [bool(grp["result"].get("withheld")) for grp in groups]
        hidden, _ = suppress_table(table, star_below, withheld)
        for grp, row_hidden in zip(groups, hidden):
            if not grp["result"].get("withheld"):
                _star_options(grp["result"], row_hidden)
    for grp in groups:
        del grp["_counts"]
    return {"question": question_id, "by": by_question_id, "respondents": n, "publish": publish, "groups": groups}


def _raw_counts(q: Question, frame: pd.DataFrame) -> list[int]:
    if not isinstance(q, SingleChoiceQuestion):
        return []
    codes = [o.code for o in q.options]
    cat = category_codes(frame[q.id].to_numpy(dtype=object), codes)
    return [int(c) for c in np.bincount(cat[cat >= 0], minlength=len(codes))[: len(codes)]]
