"""How representative a Patient Reference Group is of the practice's registered population.

A PRG has tens to a few hundred members; the population it is compared with has thousands per group. At
these sizes the usual large-sample machinery misleads, so each group is *described* first: expected
members (n x population share), the difference in percentage points, the representation ratio (member
share / population share) and a Wilson score interval for the member share, which keeps sensible coverage
for small n and for shares near 0 or 1 where the Wald interval collapses. The whole profile is summarised by
the index of dissimilarity D (half the sum of absolute share differences: the fraction of members who would
have to be in another group for the profiles to match, so D x n members are "misplaced") and by Cohen's w
(sqrt(chi-square / n)), an effect size that does not grow with n. The goodness-of-fit p-value is the exact
(or Monte Carlo) multinomial test of `prg.stats.goodness_of_fit`; the population counts are treated as the
known shares (a register of thousands against a sample of tens).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from prg.stats.goodness_of_fit import (
    DEFAULT_P_VALUE_DRAWS,
    DEFAULT_SEED,
    EXACT_OUTCOME_LIMIT,
    PValueMethod,
    multinomial_gof_pvalue,
    pearson_chi_square,
)
from prg.stats.inputs import as_counts, check_groups
from prg.stats.intervals import wilson_intervals, z_for

__all__ = ["GroupComparison", "RepresentativenessResult", "compare_groups"]


@dataclass(frozen=True)
class GroupComparison:
    """One group's row. Shares are fractions (0..1); `difference_pp` is in percentage points."""

    group: str
    population: int
    members: int
    expected: float  # members_total x population_share
    population_share: float
    member_share: float
    difference_pp: float  # (member_share - population_share) x 100
    ratio: float | None  # member_share / population_share; None when the population share is 0
    ci_low: float  # Wilson interval for the member share
    ci_high: float
    suppressed: bool  # 0 < members < suppress_below: the caller must not publish this row's small count


@dataclass(frozen=True)
class RepresentativenessResult:
    """The comparison of a PRG with its practice population, per group and overall.

    `chi_square`, `df`, `p_value` and `cohens_w` are about the members in groups with a positive population
    share (zero-share groups are listed in `excluded_from_test`); they and `dissimilarity_index` and
    `misplaced_members` are None when there is nothing to compare. `notes` says why, in words.
    """

    rows: tuple[GroupComparison, ...]
    population_total: int
    members_total: int
    chi_square: float | None
    df: int | None
    p_value: float | None
    p_value_method: PValueMethod | None
    p_value_draws: int | None
    dissimilarity_index: float | None
    misplaced_members: float | None
    cohens_w: float | None
    confidence: float
    excluded_from_test: tuple[str, ...]
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (rows as a list of dicts), ready for JSON."""
        out = asdict(self)
        out["rows"] = list(out["rows"])
        out["excluded_from_test"] = list(out["excluded_from_test"])
        out["notes"] = list(out["notes"])
        return out


def compare_groups(
    groups: Sequence[str],
    population: ArrayLike,
    members: ArrayLike,
    *,
    confidence: float = 0.95,
    suppress_below: int = 0,
    p_value_draws: int = DEFAULT_P_VALUE_DRAWS,
    seed: int = DEFAULT_SEED,
    exact_limit: int = EXACT_OUTCOME_LIMIT,
) -> RepresentativenessResult:
    """Compare PRG member counts with population counts over the same groups (e.g. age bands).

    Per group: expected members, shares, difference in percentage points, representation ratio and a
    Wilson interval for the member share; `suppressed` flags 0 < members < `suppress_below` (the numbers
    are still returned: blanking them is the publisher's job). Overall: Pearson chi-square with
    df = (groups with positive population share) - 1, its exact or Monte Carlo p-value
    (`multinomial_gof_pvalue`), the index of dissimilarity D in 0..1 over all groups, D x members_total
    misplaced members, and Cohen's w = sqrt(chi-square / n). Members in a group with zero population share
    cannot be tested against a zero expectation: those groups are left out of the test (noted) but count in
    D. With no members nothing is compared: member shares are 0, every interval is 0..1 and the overall
    figures are None (noted). Raises ValueError for malformed input or a population total of 0.
    """
    names = check_groups(groups)
    pop = as_counts("population", population, len(names))
    mem = as_counts("members", members, len(names))
    if int(suppress_below) < 0:
        raise ValueError("suppress_below must be 0 or more")
    if int(p_value_draws) < 1:
        raise ValueError("p_value_draws must be at least 1")
    z_for(confidence)
    population_total, members_total = int(pop.sum()), int(mem.sum())
    if population_total == 0:
        raise ValueError("the population counts are all 0: there is nothing to compare with")

    pop_share = pop / population_total
    member_share = mem / members_total if members_total else np.zeros(len(names))
    expected = members_total * pop_share
    positive = pop > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(positive, member_share / np.where(positive, pop_share, 1.0), np.nan)
    ci_low, ci_high = wilson_intervals(mem, members_total, confidence)
    rows = tuple(
        GroupComparison(
            group=names[i],
            population=int(pop[i]),
            members=int(mem[i]),
            expected=float(expected[i]),
            population_share=float(pop_share[i]),
            member_share=float(member_share[i]),
            difference_pp=float((member_share[i] - pop_share[i]) * 100.0),
            ratio=float(ratio[i]) if positive[i] else None,
            ci_low=float(ci_low[i]),
            ci_high=float(ci_high[i]),
            suppressed=bool(0 < mem[i] < int(suppress_below)),
        )
        for i in range(len(names))
    )

    notes: list[str] = []
    excluded = tuple(names[i] for i in range(len(names)) if not positive[i])
    if excluded:
        notes.append(
            "Groups with no registered patients are left out of the chi-square test and p-value: "
            + ", ".join(excluded)
        )
    if members_total == 0:
        notes.append("The group has no members: shares are shown as 0 and no overall figures are computed.")
        return RepresentativenessResult(
            rows, population_total, 0, None, None, None, None, None, None, None, None, float(confidence),
            excluded, tuple(notes),
        )

    dissimilarity = float(0.5 * np.abs(member_share - pop_share).sum())
    dissimilarity = min(max(dissimilarity, 0.0), 1.0)
    obs, shares = mem[positive], pop[positive] / pop[positive].sum()
    n_test = int(obs.sum())
    chi_square = df = p_value = method = draws_used = cohens_w = None
    if n_test == 0:
        notes.append("Every member is in a group with no registered patients: no test is possible.")
    else:
        if n_test < members_total:
            notes.append(
                f"The test uses the {n_test} members in groups with registered patients, not all "
                f"{members_total}."
            )
        chi_square = pearson_chi_square(obs, shares)
        df = int(obs.shape[0] - 1)
        fit = multinomial_gof_pvalue(obs, shares, draws=p_value_draws, seed=seed, exact_limit=exact_limit)
        p_value, method, draws_used = fit.p_value, fit.method, fit.draws
        cohens_w = math.sqrt(chi_square / n_test)
    return RepresentativenessResult(
        rows=rows,
        population_total=population_total,
        members_total=members_total,
        chi_square=chi_square,
        df=df,
        p_value=p_value,
        p_value_method=method,
        p_value_draws=draws_used,
        dissimilarity_index=dissimilarity,
        misplaced_members=dissimilarity * members_total,
        cohens_w=cohens_w,
        confidence=float(confidence),
        excluded_from_test=excluded,
        notes=tuple(notes),
    )
