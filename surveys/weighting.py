"""Weighting survey respondents to the practice population: raking, post-stratification, Kish. Pure numbers.

Self-selected respondents are not the practice: weighting gives each respondent the weight that makes the
weighted sample match the population on chosen margins (age band, sex, ethnicity...). `post_stratify`
does it for one crossed variable (weight = population share / sample share, as the GP Patient Survey
does). `rake` does it for several margins at once by iterative proportional fitting (IPF): each sweep
scales the weights so that every margin in turn matches its target, until the largest gap between a
weighted and a target share is below `tolerance`, or `max_iterations` sweeps have run. Weights only
depend on a respondent's *cell* (combination of categories), so the work is done on the cell counts
(np.bincount over combined group indices) and mapped back to respondents at the end: raking a million
respondents costs a few group-index passes, not a million-row loop per sweep. Optional `trim=(low, high)`
bounds the weights (relative to a mean of 1): after every margin adjustment the weights are clipped to the
bounds and raking continues, so the margins are re-raked around the trimmed weights (the capped raking of
anesrake/weightipy); the final weights always respect the bounds, and if margins cannot then be met the
result says so. The result is never silent nonsense: a margin category that has population but no
respondents, or respondents but no population (including answers the margin does not list), is refused
with `InvalidInput` naming the margin and category (`collapse_thin` merges thin categories into a
neighbour, and says so); non-convergence is reported as ``converged=False`` with a note. Every result
carries Kish's design effect n*sum(w^2)/sum(w)^2 and effective sample size sum(w)^2/sum(w^2), the numbers
intervals for weighted figures must use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from prg.errors import ErrorDetail, InvalidInput

__all__ = [
    "CollapseResult",
    "RakingResult",
    "category_codes",
    "collapse_thin",
    "kish",
    "post_stratify",
    "rake",
]


def category_codes(values: Any, categories: Sequence[Any]) -> NDArray[np.intp]:
    """Index of each value in `categories` (-1 for missing or unknown values), vectorised. Categorical
    values (as results loads single-choice answers) are mapped through their few categories and codes."""
    wanted = pd.Index(list(categories), dtype=object)
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        categorical = values.array if isinstance(values, (pd.Series, pd.Index)) else values
        remap = np.append(wanted.get_indexer(pd.Index(categorical.categories, dtype=object)), -1)  # -1: no value
        return np.asarray(remap[categorical.codes], dtype=np.intp)
    return np.asarray(wanted.get_indexer(pd.Index(values, dtype=object)), dtype=np.intp)

#: Above this many possible cells (product of margin sizes) cells are found with np.unique, not a dense table.
_DENSE_CELL_LIMIT = 5_000_000


@dataclass(frozen=True)
class RakingResult:
    """Weights per respondent (in the sample's row order, mean 1) and how far they can be trusted.

    `max_margin_error` is the largest |weighted share - target share| over every margin category after
    the last sweep; `converged` is True only when it is within the tolerance. `notes` says, in words, what
    was done (trimming, collapsing) and what went wrong (non-convergence).
    """

    weights: NDArray[np.float64]
    converged: bool
    iterations: int
    design_effect: float
    effective_sample_size: float
    max_margin_error: float
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Everything but the weights, ready for JSON."""
        return {
            "converged": self.converged,
            "iterations": self.iterations,
            "design_effect": self.design_effect,
            "effective_sample_size": self.effective_sample_size,
            "max_margin_error": self.max_margin_error,
            "notes": list(self.notes),
        }


def kish(weights: ArrayLike) -> tuple[float, float]:
    """(design effect, effective sample size) of a set of weights, by Kish's formulas.

    deff = n * sum(w^2) / sum(w)^2 (1 for equal weights, larger the more the weights vary) and
    n_eff = sum(w)^2 / sum(w^2) = n / deff. For no weights (or all zero) both are 0.0.
    """
    w = np.asarray(weights, dtype=np.float64)
    n = w.size
    s1 = float(w.sum())
    s2 = float(np.dot(w, w))
    if n == 0 or s2 == 0.0:
        return 0.0, 0.0
    return n * s2 / (s1 * s1), s1 * s1 / s2


# ---------------------------------------------------------------------------------------------------------
# Input checking
# ---------------------------------------------------------------------------------------------------------


def _target_shares(name: str, margin: Mapping[Any, Any]) -> tuple[list[Any], NDArray[np.float64]]:
    if not isinstance(margin, Mapping) or not margin:
        raise InvalidInput(f"The margin '{name}' has no categories.", [ErrorDetail("has no categories", field=f"margins.{name}")])
    cats = list(margin.keys())
    values = np.asarray([float(margin[c]) for c in cats], dtype=np.float64)
    bad = [c for c, v in zip(cats, values) if not np.isfinite(v) or v < 0]
    if bad:
        raise InvalidInput(
            f"The margin '{name}' has negative or non-finite population figures.",
            [ErrorDetail(f"category '{c}' must be a population count or share of 0 or more", field=f"margins.{name}.{c}") for c in bad],
        )
    total = values.sum()
    if total <= 0:
        raise InvalidInput(f"The margin '{name}' has no population.", [ErrorDetail("has no population", field=f"margins.{name}")])
    return cats, values / total


def _group_index(name: str, column: pd.Series, cats: list[Any]) -> tuple[NDArray[np.intp], list[ErrorDetail]]:
    """Index into `cats` of every respondent's value (vectorised), with problems for values not in `cats`."""
    codes = category_codes(column, cats)
    problems: list[ErrorDetail] = []
    outside = codes < 0
    if outside.any():
        values = column[outside]
        missing = int(values.isna().sum())
        if missing:
            problems.append(
                ErrorDetail(
                    f"{missing} respondent(s) have no answer for '{name}'; drop them or give them a category before weighting",
                    field=f"margins.{name}",
                )
            )
        for value, count in values.dropna().value_counts().items():
            if not count:
                continue  # a category of a categorical column that no respondent has
            problems.append(
                ErrorDetail(
                    f"category '{value}' of margin '{name}' has {count} respondent(s) but no population "
                    "(it is not in the margin); collapse it into a neighbour or drop those respondents",
                    field=f"margins.{name}.{value}",
                )
            )
    return codes, problems


def _prepare(
    sample: pd.DataFrame, margins: Mapping[str, Mapping[Any, Any]]
) -> tuple[list[str], list[NDArray[np.intp]], list[NDArray[np.float64]], list[list[Any]]]:
    if not isinstance(sample, pd.DataFrame):
        raise InvalidInput("The sample must be a table of respondents (a pandas DataFrame).")
    if not margins:
        raise InvalidInput("At least one margin is needed to weight.", [ErrorDetail("is empty", field="margins")])
    if len(sample) == 0:
        raise InvalidInput("There are no respondents to weight.")
    names: list[str] = []
    indexes: list[NDArray[np.intp]] = []
    targets: list[NDArray[np.float64]] = []
    categories: list[list[Any]] = []
    problems: list[ErrorDetail] = []
    for name, margin in margins.items():
        if name not in sample.columns:
            problems.append(ErrorDetail(f"'{name}' is not a column of the sample", field=f"margins.{name}"))
            continue
        cats, shares = _target_shares(name, margin)
        idx, bad = _group_index(name, sample[name], cats)
        problems.extend(bad)
        if bad:
            continue
        counts = np.bincount(idx, minlength=len(cats))
        keep = np.ones(len(cats), dtype=bool)
        for k, cat in enumerate(cats):
            if shares[k] == 0 and counts[k] > 0:
                problems.append(
                    ErrorDetail(
                        f"category '{cat}' of margin '{name}' has {counts[k]} respondent(s) but no population; "
                        "collapse it into a neighbour or drop those respondents",
                        field=f"margins.{name}.{cat}",
                    )
                )
            elif shares[k] > 0 and counts[k] == 0:
                problems.append(
                    ErrorDetail(
                        f"category '{cat}' of margin '{name}' has population but no respondents, so no weight can "
                        "represent it; collapse it into a neighbour (collapse_thin) or drop the margin",
                        field=f"margins.{name}.{cat}",
                    )
                )
            elif shares[k] == 0 and counts[k] == 0:
                keep[k] = False  # empty on both sides: nothing to weight, nothing lost
        if not keep.all():
            remap = np.cumsum(keep) - 1
            idx = remap[idx]
            shares = shares[keep]
            cats = [c for c, k in zip(cats, keep) if k]
        names.append(name)
        indexes.append(idx)
        targets.append(shares)
        categories.append(cats)
    if problems:
        raise InvalidInput("The sample cannot be weighted to these margins.", problems)
    return names, indexes, targets, categories


def _cells(indexes: list[NDArray[np.intp]], sizes: list[int]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """(cell of each respondent, margin index per cell [margins x cells], respondents per cell)."""
    total = 1
    for s in sizes:
        total *= s
    if total <= _DENSE_CELL_LIMIT:
        combined = np.zeros(indexes[0].shape[0], dtype=np.intp)
        for idx, size in zip(indexes, sizes):
            combined *= size
            combined += idx
        dense = np.bincount(combined, minlength=total)
        occupied = np.flatnonzero(dense)
        lookup = np.full(total, -1, dtype=np.intp)
        lookup[occupied] = np.arange(occupied.size)
        cell_of = lookup[combined]
        counts = dense[occupied].astype(np.float64)
        cell_margin = np.empty((len(sizes), occupied.size), dtype=np.intp)
        rest = occupied.copy()
        for j in range(len(sizes) - 1, -1, -1):
            cell_margin[j] = rest % sizes[j]
            rest //= sizes[j]
        return cell_of, cell_margin, counts
    stacked = np.stack(indexes, axis=1)
    uniq, cell_of, counts_i = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
    return cell_of.reshape(-1), uniq.T.copy(), counts_i.astype(np.float64)


# ---------------------------------------------------------------------------------------------------------
# Raking
# ---------------------------------------------------------------------------------------------------------


def _margin_error(cell_w: NDArray[np.float64], counts: NDArray[np.float64], cell_margin: NDArray[np.intp],
                  targets: list[NDArray[np.float64]]) -> float:
    mass = cell_w * counts
    total = mass.sum()
    if total <= 0:
        return float("inf")
    worst = 0.0
    for j, target in enumerate(targets):
        shares = np.bincount(cell_margin[j], weights=mass, minlength=target.size) / total
        worst = max(worst, float(np.abs(shares - target).max()))
    return worst


def rake(
    sample: pd.DataFrame,
    margins: Mapping[str, Mapping[Any, Any]],
    *,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
    trim: tuple[float, float] | None = None,
) -> RakingResult:
    """Weights that make `sample` match every margin, by iterative proportional fitting.

    `sample` has one row per respondent and a categorical column per margin; `margins` maps a column to
    {category: population count or share} (counts and shares both work: each margin is normalised). A
    category listed with 0 population and no respondents is ignored. Refused (InvalidInput, one entry per
    problem, naming margin and category): a respondent with no answer or a category the margin does not
    list, a category with respondents but no population, and one with population but no respondents.
    `tolerance` is on shares: stop when no weighted margin share is further than it from its target.
    `trim=(low, high)` keeps every weight (mean 1) within [low, high], with 0 <= low <= 1 <= high.
    Weights are returned with mean 1 (they sum to the number of respondents).
    """
    if max_iterations < 1:
        raise ValueError("max_iterations must be at least 1")
    if not tolerance > 0:
        raise ValueError("tolerance must be positive")
    low = high = None
    if trim is not None:
        low, high = float(trim[0]), float(trim[1])
        if not (0.0 <= low <= 1.0 <= high):
            raise InvalidInput(
                "Trimming bounds must satisfy 0 <= low <= 1 <= high (weights have mean 1).",
                [ErrorDetail(f"({low}, {high}) is not a usable pair of bounds", field="trim")],
            )
    names, indexes, targets, _ = _prepare(sample, margins)
    n = indexes[0].shape[0]
    cell_of, cell_margin, counts = _cells(indexes, [t.size for t in targets])
    target_mass = [t * n for t in targets]
    cell_w = np.ones(counts.size, dtype=np.float64)
    notes: list[str] = []

    iterations = 0
    for iterations in range(1, max_iterations + 1):
        worst = 0.0
        for j, target in enumerate(target_mass):
            mass = np.bincount(cell_margin[j], weights=cell_w * counts, minlength=target.size)
            worst = max(worst, float(np.abs(mass - target).max()) / n)
            cell_w *= (target / mass)[cell_margin[j]]
            if low is not None:
                np.clip(cell_w, low, high, out=cell_w)
        if worst <= tolerance:  # every margin was already within tolerance before this sweep touched it
            break

    # Converged means the margins of the weights returned are within tolerance, checked afresh.
    total = float((cell_w * counts).sum())
    cell_w *= n / total
    if low is not None:
        np.clip(cell_w, low, high, out=cell_w)  # normalising may move a bound weight by a rounding error
        at_bound = int(counts[(cell_w <= low * (1 + 1e-12)) | (cell_w >= high * (1 - 1e-12))].sum())
        if at_bound:
            notes.append(f"Weights were trimmed to [{low:g}, {high:g}] and the margins re-raked; "
                         f"{at_bound} respondent(s) have a weight at a bound.")
    error = _margin_error(cell_w, counts, cell_margin, targets)
    converged = error <= tolerance
    if not converged:
        notes.append(
            f"Raking did not converge in {iterations} iteration(s): a weighted margin share is still "
            f"{error:.3g} from its target (tolerance {tolerance:g}). Do not use these weights; collapse thin "
            "categories, drop a margin" + (", or widen the trimming bounds." if low is not None else ".")
        )
    weights = cell_w[cell_of]
    deff, ess = kish(weights)
    return RakingResult(weights, converged, iterations, deff, ess, error, notes)


def post_stratify(sample_cells: ArrayLike | pd.Series, population_cells: Mapping[Any, Any]) -> RakingResult:
    """Post-stratification on one (crossed) variable: weight = population share / sample share of the cell.

    `sample_cells` gives each respondent's cell (e.g. 'female|16-24'); `population_cells` maps every cell
    to its population count or share. The same refusals as `rake` apply. Exact in one step.
    """
    column = sample_cells if isinstance(sample_cells, pd.Series) else pd.Series(np.asarray(sample_cells, dtype=object))
    frame = pd.DataFrame({"cell": column.reset_index(drop=True)})
    _, indexes, targets, _ = _prepare(frame, {"cell": population_cells})
    idx, target = indexes[0], targets[0]
    n = idx.shape[0]
    sample_share = np.bincount(idx, minlength=target.size) / n
    weights = (target / sample_share)[idx]
    deff, ess = kish(weights)
    return RakingResult(weights, True, 1, deff, ess, 0.0, [])


# ---------------------------------------------------------------------------------------------------------
# Collapsing thin categories
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CollapseResult:
    """The sample with `column` relabelled, the margins with that margin merged, and what was merged."""

    sample: pd.DataFrame
    margins: dict[str, dict[Any, float]]
    mapping: dict[Any, str]  # original category -> merged label (only categories that were merged)
    notes: list[str]


def collapse_thin(
    sample: pd.DataFrame,
    margins: Mapping[str, Mapping[Any, Any]],
    column: str,
    min_respondents: int,
    *,
    separator: str = "+",
) -> CollapseResult:
    """Merge categories of one margin that have fewer than `min_respondents` respondents into a neighbour.

    The rule: categories are taken in the margin's order (the order of its dict, which for age bands is
    youngest to oldest, so neighbours are adjacent bands; for nominal margins put the order you want
    neighbours to follow). While some category has fewer than `min_respondents` respondents (0 included)
    and more than one category is left, the thinnest one (the first in order on ties) is merged with the
    thinner of its two neighbours (the earlier one on ties; the only one at an end). The merged category is
    labelled by joining the labels with `separator` ('65-74+75+') and has the summed population. Only
    this margin changes; the sample column becomes strings for merged values. The notes say what merged.
    """
    if column not in margins:
        raise InvalidInput(f"'{column}' is not one of the margins.", [ErrorDetail("is not a margin", field=f"margins.{column}")])
    if column not in sample.columns:
        raise InvalidInput(f"'{column}' is not a column of the sample.", [ErrorDetail("is not a column", field=f"margins.{column}")])
    margin = margins[column]
    cats = list(margin.keys())
    known = category_codes(sample[column], cats)
    counts = np.bincount(known[known >= 0], minlength=len(cats))
    groups: list[list[Any]] = [[c] for c in cats]
    sizes = [int(x) for x in counts]
    pops = [float(margin[c]) for c in cats]
    while len(groups) > 1:
        thin = [i for i, s in enumerate(sizes) if s < min_respondents]
        if not thin:
            break
        i = min(thin, key=lambda k: (sizes[k], k))
        if i == 0:
            j = 1
        elif i == len(groups) - 1:
            j = i - 1
        else:
            j = i - 1 if sizes[i - 1] <= sizes[i + 1] else i + 1
        a, b = min(i, j), max(i, j)
        groups[a] = groups[a] + groups[b]
        sizes[a] += sizes[b]
        pops[a] += pops[b]
        del groups[b], sizes[b], pops[b]
    mapping: dict[Any, str] = {}
    notes: list[str] = []
    new_margin: dict[Any, float] = {}
    for members, pop in zip(groups, pops):
        if len(members) == 1:
            new_margin[members[0]] = pop
            continue
        label = separator.join(str(m) for m in members)
        new_margin[label] = pop
        for m in members:
            mapping[m] = label
        notes.append(f"Margin '{column}': {', '.join(repr(str(m)) for m in members)} were merged into '{label}' "
                     f"because some had fewer than {min_respondents} respondents.")
    out = sample.copy()
    if mapping and isinstance(sample[column].dtype, pd.CategoricalDtype):
        categorical = sample[column].array
        labels = [mapping.get(c, c) for c in categorical.categories]  # values outside the margin stay
        merged = pd.Index(list(dict.fromkeys(labels)), dtype=object)
        remap = np.append(merged.get_indexer(labels), -1)
        out[column] = pd.Categorical.from_codes(remap[categorical.codes], categories=merged)
    elif mapping:
        codes = category_codes(sample[column], cats)
        labels = np.asarray([mapping.get(c, c) for c in cats] + [None], dtype=object)
        relabelled = labels[codes]  # code -1 (not a margin category) picks None: keep the original value
        original = sample[column].to_numpy(dtype=object)
        out[column] = np.where(codes >= 0, relabelled, original)
    new_margins = {k: dict(v) for k, v in margins.items()}
    new_margins[column] = new_margin
    return CollapseResult(out, new_margins, mapping, notes)
