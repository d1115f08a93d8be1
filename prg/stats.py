"""How representative a Patient Reference Group is of the practice's registered population. Pure numbers.

A PRG has tens to a few hundred members; the population it is compared with has thousands per group. At
these sizes the usual large-sample machinery misleads, so each group is *described* first: expected
members (n x population share), the difference in percentage points, the representation ratio (member
share / population share) and a Wilson score interval for the member share, which keeps sensible coverage
for small n and for shares near 0 or 1 where the Wald interval collapses. The whole profile is summarised by
the index of dissimilarity D (half the sum of absolute share differences: the fraction of members who would
have to be in another group for the profiles to match, so D x n members are "misplaced") and by Cohen's w
(sqrt(chi-square / n)), an effect size that does not grow with n. The goodness-of-fit p-value for the
member counts against the population shares is never the asymptotic chi-square one (expected counts are
nearly always below 5): it is an exact multinomial test, the probability under the population shares of
every outcome whose Pearson statistic is at least the observed one, by enumerating all compositions of n
into k groups when there are at most `EXACT_OUTCOME_LIMIT` of them, and otherwise a seeded Monte Carlo
estimate (1 + hits) / (1 + draws), which is a valid p-value for any number of draws. The population counts
are treated as the known shares (a register of thousands against a sample of tens). Finally
`recruitment_targets` finds the fewest additional members, by group, that bring every group up to a minimum
representation ratio, by a small exact integer search whose minimality is argued in its docstring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction
from numbers import Integral
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln, ndtri

__all__ = [
    "DEFAULT_P_VALUE_DRAWS",
    "DEFAULT_SEED",
    "EXACT_OUTCOME_LIMIT",
    "GoodnessOfFit",
    "GroupComparison",
    "GroupTarget",
    "RecruitmentTargets",
    "RepresentativenessResult",
    "compare_groups",
    "multinomial_gof_pvalue",
    "multinomial_outcome_count",
    "pearson_chi_square",
    "recruitment_targets",
    "sample_multinomial",
    "wilson_interval",
    "wilson_intervals",
]

#: Largest number of multinomial outcomes, C(n + k - 1, k - 1), enumerated for the exact test. 200 000
#: outcomes take about 15 ms and a few MB; it covers n <= 630 members in 3 groups, 104 in 4, 44 in
#: 5, 26 in 6, 15 in 8, 7 in 16. Beyond it the p-value is Monte Carlo.
EXACT_OUTCOME_LIMIT = 200_000
DEFAULT_P_VALUE_DRAWS = 100_000
#: The seed is fixed so that the same data always give the same published p-value (1 December 2011).
DEFAULT_SEED = 20111201
#: Relative tolerance when comparing statistics: outcomes whose statistic equals the observed one in exact
#: arithmetic can differ in the last bits in floating point, and must count as "at least as extreme".
TIE_RTOL = 1e-9
#: Recruitment targets above this many members are refused rather than searched for (a min_ratio so
#: close to 1 that the answer is meaningless and the search long).
MAX_TARGET_TOTAL = 1_000_000

PValueMethod = Literal["exact", "monte_carlo"]

# Monte Carlo sampler tuning: draws are processed in chunks to bound memory; the inverse-CDF tables for a
# conditional binomial are used while they stay small, else numpy's binomial sampler is used.
_MC_CHUNK = 1 << 17
_GUIDE_BINS = 1024  # a power of two, so that cdf * bins is exact in floating point
_TABLE_CELL_LIMIT = 4_000_000


# -------------------------------------------------------------------------------------------------------
# Input checking
# -------------------------------------------------------------------------------------------------------


def _as_counts(name: str, values: ArrayLike, length: int | None = None) -> NDArray[np.int64]:
    """Validate a 1-D vector of non-negative whole numbers (floats like 3.0 are accepted) as int64."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional list of counts")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} has {arr.shape[0]} values but there are {length} groups")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number) or arr.size == 0):
        raise ValueError(f"{name} must contain numbers")
    if arr.size == 0:
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must not contain NaN or infinite values")
        if not np.all(arr == np.floor(arr)):
            raise ValueError(f"{name} must contain whole numbers")
    elif not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must contain whole numbers")
    if np.any(arr < 0):
        raise ValueError(f"{name} must not contain negative counts")
    return arr.astype(np.int64)


def _check_groups(groups: Sequence[str]) -> tuple[str, ...]:
    names = tuple(groups)
    if not names:
        raise ValueError("at least one group is needed")
    if len(set(names)) != len(names):
        raise ValueError("group names must be unique")
    return names


def _z_for(confidence: float) -> float:
    if not (0.0 < float(confidence) < 1.0):
        raise ValueError("confidence must be strictly between 0 and 1")
    return float(ndtri(0.5 + float(confidence) / 2.0))


def _as_fraction(name: str, value: object) -> Fraction:
    """Read a ratio as the decimal it was written as: 0.8 means 4/5, not the binary double near 0.8.

    Without this, 0.8 * 0.8 * 25 evaluates to 16.000000000000004 and a ceiling asks for a 17th member.
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number")
    if isinstance(value, (Integral, Fraction, Decimal)):
        frac = Fraction(value)  # type: ignore[arg-type]
    elif isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite")
        frac = Fraction(repr(float(value)))  # shortest round-trip decimal, i.e. what was written
    else:
        raise ValueError(f"{name} must be a number")
    return frac


# -------------------------------------------------------------------------------------------------------
# Wilson score interval
# -------------------------------------------------------------------------------------------------------


def wilson_intervals(
    successes: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score intervals (no continuity correction) for proportions, vectorised over arrays.

    `successes` and `n` broadcast against each other. Where n == 0 the interval is (0.0, 1.0): with no
    observations every proportion is consistent with the data, and 0..1 says so without putting NaN into
    JSON. The bounds are exactly 0 when successes == 0 and exactly 1 when successes == n (the formula gives
    these in exact arithmetic; floating point can miss by an ulp).
    """
    z = _z_for(confidence)
    x, m = np.broadcast_arrays(np.asarray(successes, dtype=np.float64), np.asarray(n, dtype=np.float64))
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(m))):
        raise ValueError("successes and n must be finite")
    if np.any(x < 0) or np.any(x > m):
        raise ValueError("need 0 <= successes <= n")
    z2 = z * z
    empty = m == 0
    m_safe = np.where(empty, 1.0, m)  # avoids 0/0 warnings; those cells are overwritten below
    denom = m_safe + z2
    centre = (x + z2 / 2.0) / denom
    half = z * np.sqrt(x * (m_safe - x) / m_safe + z2 / 4.0) / denom
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    low = np.where(empty | (x == 0), 0.0, low)
    high = np.where(empty | (x == m), 1.0, high)
    return low, high


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for one proportion `successes / n`; (0.0, 1.0) when n == 0.

    E.g. 81 of 263 at 95% gives (0.2553, 0.3662) to 4 dp (Newcombe 1998, Table I).
    """
    low, high = wilson_intervals(successes, n, confidence)
    return float(low), float(high)


# -------------------------------------------------------------------------------------------------------
# Pearson statistic and the multinomial goodness-of-fit p-value
# -------------------------------------------------------------------------------------------------------


def _as_probabilities(probabilities: ArrayLike, k: int | None = None) -> NDArray[np.float64]:
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 1 or p.shape[0] == 0 or (k is not None and p.shape[0] != k):
        raise ValueError("probabilities must be one value per group")
    if not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError("probabilities must be positive and finite (leave out groups with zero share)")
    return p / p.sum()


def pearson_chi_square(observed: ArrayLike, probabilities: ArrayLike) -> float:
    """Pearson's X^2 = sum (O - E)^2 / E with E = n x p, for counts against positive shares.

    `probabilities` are normalised to sum to 1 (so population counts can be passed as they are); groups with
    a zero share must be left out by the caller, as their expected count is 0. Returns 0.0 when n == 0.
    """
    obs = _as_counts("observed", observed)
    p = _as_probabilities(probabilities, obs.shape[0])
    n = int(obs.sum())
    if n == 0:
        return 0.0
    expected = n * p
    return float(np.sum((obs - expected) ** 2 / expected))


def multinomial_outcome_count(n: int, k: int) -> int:
    """How many ways n members can fall into k groups: C(n + k - 1, k - 1)."""
    return math.comb(n + k - 1, k - 1)


@dataclass(frozen=True)
class GoodnessOfFit:
    """A goodness-of-fit p-value and how it was obtained (`draws` is None for the exact test)."""

    p_value: float
    method: PValueMethod
    draws: int | None
    outcomes: int  # number of possible outcomes, C(n + k - 1, k - 1)


def _statistic_core(counts: NDArray[Any], inv_p: NDArray[np.float64]) -> NDArray[np.float64] | float:
    # X^2 = sum x^2 / (n p) - n, so for a fixed n ordering outcomes by X^2 is ordering by
    # T = sum x^2 / p. T avoids the cancellation in "- n" and is what the tests compare.
    return (counts.astype(np.float64) ** 2) @ inv_p


def _exact_pvalue(obs: NDArray[np.int64], p: NDArray[np.float64], threshold: float) -> float:
    """Sum the multinomial probabilities of all outcomes with T >= threshold, by enumeration.

    Compositions are grown one group at a time as flat arrays (remaining members, partial T, partial log
    probability); each parent with r remaining members has r + 1 children. The last group takes the rest.
    The arrays never exceed the final number of outcomes.
    """
    n = int(obs.sum())
    k = p.shape[0]
    log_fact = gammaln(np.arange(n + 1, dtype=np.float64) + 1.0)
    log_p = np.log(p)
    inv_p = 1.0 / p
    remaining = np.array([n], dtype=np.int64)
    t_partial = np.zeros(1)
    logprob = np.zeros(1)
    for j in range(k - 1):
        fan = remaining + 1
        parent = np.repeat(np.arange(remaining.shape[0]), fan)
        starts = np.repeat(np.cumsum(fan) - fan, fan)
        x = np.arange(parent.shape[0], dtype=np.int64) - starts  # 0..r within each parent
        remaining = remaining[parent] - x
        t_partial = t_partial[parent] + x * x * inv_p[j]
        logprob = logprob[parent] + x * log_p[j] - log_fact[x]
    x = remaining
    t_all = t_partial + x * x * inv_p[k - 1]
    logprob = logprob + x * log_p[k - 1] - log_fact[x] + log_fact[n]
    extreme = t_all >= threshold
    return float(min(1.0, np.exp(logprob[extreme]).sum()))


def _binomial_by_inversion(
    trials: NDArray[np.int64], q: float, u: NDArray[np.float64], log_fact: NDArray[np.float64]
) -> NDArray[np.int64] | None:
    """Binomial(trials[i], q) variates by inverting the CDF at uniforms u, or None if the table is too big.

    numpy's binomial sampler re-initialises for every element when the number of trials varies (about
    150 ns each), which made 100 000 draws of a 16-group multinomial take ~250 ms. Here the CDF rows for
    every trial count present are tabulated once, a guide table (Chen and Asau) maps u to a starting point
    never past the answer, and a vectorised walk finishes; the walk is almost always 0-2 steps.
    """
    lo = int(trials.min())
    hi = int(trials.max())
    rows, width = hi - lo + 1, hi + 1
    if rows * width > _TABLE_CELL_LIMIT:
        return None
    r = np.arange(lo, hi + 1)[:, None]
    x = np.arange(width)[None, :]
    valid = x <= r
    rest = np.where(valid, r - x, 0)
    log_pmf = log_fact[r] - log_fact[x] - log_fact[rest] + x * math.log(q) + rest * math.log1p(-q)
    cdf = np.minimum(np.cumsum(np.where(valid, np.exp(log_pmf), 0.0), axis=1), 1.0)
    cdf[~(x < r)] = 1.0  # F(r) = 1 exactly: the walk stops at x <= r whatever the rounding
    # guide[i, b] = #{x : cdf[i, x] < b / M}, via floor(cdf * M) < b (exact for integer b, M = 2^10)
    bins = _GUIDE_BINS
    level = np.minimum(np.floor(cdf * bins), bins).astype(np.int64)
    hist = np.bincount((np.arange(rows)[:, None] * (bins + 1) + level).ravel(), minlength=rows * (bins + 1))
    guide = np.zeros((rows, bins), dtype=np.int64)
    np.cumsum(hist.reshape(rows, bins + 1)[:, : bins - 1], axis=1, out=guide[:, 1:])
    row = trials - lo
    flat_cdf = cdf.ravel()
    pos = row * width + guide[row, (u * bins).astype(np.int64)]
    # the answer is the first x with F(x) >= u, i.e. #{x : F(x) < u}; guide <= answer since b / M <= u
    active = np.flatnonzero(flat_cdf[pos] < u)
    while active.size:
        pos[active] += 1
        active = active[flat_cdf[pos[active]] < u[active]]
    return pos - row * width


def sample_multinomial(
    n: int, probabilities: ArrayLike, size: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """`size` multinomial(n, probabilities) count vectors, shape (size, k), from the generator `rng`.

    Drawn as a chain of conditional binomials, X_j ~ Bin(n - X_1 - ... - X_{j-1}, p_j / (p_j + ... + p_k)),
    each by table inversion (see `_binomial_by_inversion`); the same distribution as
    `rng.multinomial(n, p, size)`, several times faster at PRG sizes, and reproducible for a given seed.
    """
    n, size = int(n), int(size)
    if size < 0 or n < 0:
        raise ValueError("n and size must be non-negative")
    p = _as_probabilities(probabilities)
    k = p.shape[0]
    out = np.empty((size, k), dtype=np.int64)
    if size == 0:
        return out
    tail = np.cumsum(p[::-1])[::-1]
    log_fact = gammaln(np.arange(n + 1, dtype=np.float64) + 1.0)
    remaining = np.full(size, n, dtype=np.int64)
    for j in range(k - 1):
        q = float(p[j] / tail[j])
        if q >= 1.0 or not remaining.any():
            x = remaining.copy() if q >= 1.0 else np.zeros(size, dtype=np.int64)
        else:
            x = _binomial_by_inversion(remaining, q, rng.random(size), log_fact)
            if x is None:
                x = rng.binomial(remaining, q).astype(np.int64)
        out[:, j] = x
        remaining = remaining - x
    out[:, k - 1] = remaining
    return out


def multinomial_gof_pvalue(
    observed: ArrayLike,
    probabilities: ArrayLike,
    *,
    draws: int = DEFAULT_P_VALUE_DRAWS,
    seed: int = DEFAULT_SEED,
    exact_limit: int = EXACT_OUTCOME_LIMIT,
) -> GoodnessOfFit:
    """P-value of the Pearson goodness-of-fit test of `observed` counts against `probabilities`.

    p = P(X^2 >= observed X^2) under Multinomial(n, probabilities), i.e. outcomes ordered by Pearson's
    statistic (with relative tolerance `TIE_RTOL` so float ties count as extreme). Exact by enumeration
    when C(n + k - 1, k - 1) <= `exact_limit`; otherwise Monte Carlo with `draws` samples from
    `Generator(PCG64(seed))`, p = (1 + #{simulated >= observed}) / (1 + draws), which never returns 0 and is
    a valid (slightly conservative) p-value. A single group, or n == 0, has one outcome: p = 1 exactly.
    `probabilities` must be positive (normalised here); leave zero-share groups out.
    """
    obs = _as_counts("observed", observed)
    p = _as_probabilities(probabilities, obs.shape[0])
    if int(draws) < 1:
        raise ValueError("draws must be at least 1")
    n, k = int(obs.sum()), p.shape[0]
    outcomes = multinomial_outcome_count(n, k)
    inv_p = 1.0 / p
    threshold = float(_statistic_core(obs, inv_p)) * (1.0 - TIE_RTOL)
    if outcomes <= max(int(exact_limit), 1):
        if outcomes == 1:
            return GoodnessOfFit(1.0, "exact", None, outcomes)
        return GoodnessOfFit(_exact_pvalue(obs, p, threshold), "exact", None, outcomes)
    draws = int(draws)
    rng = np.random.Generator(np.random.PCG64(seed))
    hits = 0
    for start in range(0, draws, _MC_CHUNK):
        counts = sample_multinomial(n, p, min(_MC_CHUNK, draws - start), rng)
        hits += int(np.count_nonzero(_statistic_core(counts, inv_p) >= threshold))
    return GoodnessOfFit((1 + hits) / (1 + draws), "monte_carlo", draws, outcomes)


# -------------------------------------------------------------------------------------------------------
# Comparing a PRG with the practice population
# -------------------------------------------------------------------------------------------------------


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
    names = _check_groups(groups)
    pop = _as_counts("population", population, len(names))
    mem = _as_counts("members", members, len(names))
    if int(suppress_below) < 0:
        raise ValueError("suppress_below must be 0 or more")
    if int(p_value_draws) < 1:
        raise ValueError("p_value_draws must be at least 1")
    _z_for(confidence)
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


# -------------------------------------------------------------------------------------------------------
# Recruitment targets
# -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupTarget:
    """One group's recruitment target. Ratios are (member share) / (population share)."""

    group: str
    population: int
    population_share: float
    members: int
    ratio: float | None  # now; None with no members or a zero population share
    additional_needed: int
    members_after: int
    ratio_after: float | None  # None for a zero population share
    invitations: int | None  # ceil(additional_needed / acceptance rate), if a rate was given
    over_represented: bool  # ratio_after > max_ratio (only when max_ratio is given)


@dataclass(frozen=True)
class RecruitmentTargets:
    """Fewest additional members per group to reach `min_ratio` everywhere; see `recruitment_targets`."""

    rows: tuple[GroupTarget, ...]
    min_ratio: float
    max_ratio: float | None
    total_additional: int
    members_total_after: int
    total_invitations: int | None  # over the groups with a rate; None if no rates were given
    over_represented: tuple[str, ...]
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (rows as a list of dicts), ready for JSON."""
        out = asdict(self)
        for key in ("rows", "over_represented", "notes"):
            out[key] = list(out[key])
        return out


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _next_candidate(total: int, current: list[int], need_now: list[int], slopes: list[Fraction]) -> int:
    """The least integer x > total with x >= sum_g max(current_g, need_now_g, slope_g x) (min_ratio < 1).

    Any achievable total above an unachievable `total` satisfies this, because need_g is non-decreasing
    and need_g(x) >= slope_g x. The right side minus x is convex and strictly decreasing in x (its slope is
    at most min_ratio - 1 < 0), so the root is found by walking the breakpoints x = floor_g / slope_g at
    which groups switch from their floor to their linear requirement, in exact rational arithmetic.
    """
    floors = [max(c, need) for c, need in zip(current, need_now)]
    linear = sorted(
        ((Fraction(f) / b, Fraction(f), b) for f, b in zip(floors, slopes) if b > 0), key=lambda t: t[0]
    )
    constant = Fraction(sum(floors))  # sum of requirements still at their floor
    rate = Fraction(0)  # sum of slopes of requirements already linear
    root = constant
    for breakpoint, floor, slope in linear:
        root = constant / (1 - rate)
        if root <= breakpoint:
            break
        constant -= floor
        rate += slope
    else:
        root = constant / (1 - rate)
    return max(total + 1, math.ceil(root))


def recruitment_targets(
    groups: Sequence[str],
    population: ArrayLike,
    members: ArrayLike,
    *,
    min_ratio: float = 0.8,
    max_ratio: float | None = None,
    acceptance_rates: Mapping[str, float] | None = None,
) -> RecruitmentTargets:
    """The fewest additional members, by group, so that every group has ratio >= `min_ratio`.

    With p_g = population_g / population_total, current members c_g (total C) and final total N, group g
    (p_g > 0) meets the target iff m_g / N >= min_ratio x p_g, i.e. m_g >= need_g(N) = ceil(min_ratio x p_g
    x N), computed in exact rational arithmetic (`min_ratio` read as written, so 0.8 is 4/5). Nobody is
    removed, so m_g >= c_g; zero-share groups keep their members (they count in N but have no target). A
    final total N is achievable iff L(N) = sum_g max(c_g, need_g(N)) <= N, and the additions total N - C,
    so the answer is the least achievable N >= max(C, 1) (at least one member even from an empty group).

    Search and minimality: L is non-decreasing in N. Start at N_0 = max(C, 1) and, while L(N_t) > N_t,
    jump to N_{t+1} = the least integer x > N_t with x >= R_t(x) = sum_g max(c_g, need_g(N_t),
    min_ratio * p_g * x), a convex piecewise-linear bound solved exactly (`_next_candidate`). Any
    achievable N* > N_t has N* >= L(N*) >= R_t(N*) (need_g never decreases and need_g(x) >=
    min_ratio * p_g * x), so
    N_{t+1} <= N*; as N_0 <= N* too, by induction no achievable total is ever skipped, and the sequence
    strictly increases, so it stops at the least achievable N. (N_{t+1} >= L(N_t), so this is never slower
    than the plain fixed-point step N_{t+1} = L(N_t), and far faster when min_ratio is near 1.) No smaller
    total can work (any final total must be achievable), so the additions are minimal. Then m_g =
    max(c_g, need_g(N)) and the slack N - L(N) is handed out one at a time to the group with the lowest
    ratio; slack cannot break a target because N is already final and a larger m_g only raises m_g / N.
    The slack is in fact 0 except in one case: if the search ends at N > N_0, every x in [N_0, N) is
    unachievable, so L(N) >= L(N - 1) >= N, and with L(N) <= N that gives L(N) = N; if it stops at
    N_0 = C then L(C) >= sum c_g = C; so slack is only possible at N_0 = 1 > C = 0 with nobody needed at
    N = 1, i.e. min_ratio = 0 and no members.

    Feasibility: targets sum to min_ratio x N over the shares, so min_ratio > 1 is impossible; min_ratio
    < 1 is always achievable (L(N) < C + min_ratio x N + k <= N once N >= (C + k) / (1 - min_ratio));
    min_ratio = 1 needs exact proportionality (solved in closed form) and no members in zero-share
    groups. Impossible or absurd (> `MAX_TARGET_TOTAL`) targets raise ValueError with the reason.

    `max_ratio` is reported, not enforced: members are never removed, so groups whose ratio after recruiting
    exceeds it (including members in zero-share groups) are flagged `over_represented`. `acceptance_rates`
    maps group -> expected fraction of invited patients who join (0 < rate <= 1); `invitations` is then
    ceil(additional_needed / rate) for those groups.
    """
    names = _check_groups(groups)
    pop = _as_counts("population", population, len(names))
    cur = _as_counts("members", members, len(names))
    population_total = int(pop.sum())
    if population_total == 0:
        raise ValueError("the population counts are all 0: there is nothing to be representative of")
    r = _as_fraction("min_ratio", min_ratio)
    if r < 0:
        raise ValueError("min_ratio must be 0 or more")
    if r > 1:
        raise ValueError(
            f"min_ratio {min_ratio} cannot be met by every group at once: member shares add up to 1, so "
            "the targets (min_ratio x population share) would add up to more than the whole group"
        )
    r_max: Fraction | None = None
    if max_ratio is not None:
        r_max = _as_fraction("max_ratio", max_ratio)
        if r_max <= 0 or r_max < r:
            raise ValueError("max_ratio must be positive and at least min_ratio")
    rates: dict[str, Fraction] = {}
    for name, rate in (acceptance_rates or {}).items():
        if name not in names:
            raise ValueError(f"acceptance rate given for unknown group {name!r}")
        frac = _as_fraction(f"acceptance rate for {name!r}", rate)
        if not (0 < frac <= 1):
            raise ValueError(f"acceptance rate for {name!r} must be above 0 and at most 1")
        rates[name] = frac

    pops = [int(v) for v in pop]
    curs = [int(v) for v in cur]
    positive = [v > 0 for v in pops]
    current_total = sum(curs)
    in_zero_share = sum(c for c, ok in zip(curs, positive) if not ok)
    num, den = r.numerator, r.denominator
    scale = den * population_total

    def needs(total: int) -> list[int]:
        # ceil(r * pop_g * N / P) exactly; 0 for zero-share groups
        return [_ceil_div(num * p * total, scale) if ok else 0 for p, ok in zip(pops, positive)]

    def load(total: int) -> int:
        return sum(max(c, need) for c, need in zip(curs, needs(total)))

    if r == 1:
        if in_zero_share:
            raise ValueError(
                "min_ratio 1 needs every member in a group with registered patients, but "
                f"{in_zero_share} member(s) are in groups with none"
            )
        # m_g = p_g N exactly: N a multiple of P / gcd(populations) and p_g N >= c_g for every group
        step = population_total // math.gcd(*[p for p in pops if p])
        lower = max([_ceil_div(c * population_total, p) for c, p in zip(curs, pops) if p] + [1])
        total = step * _ceil_div(lower, step)
    else:
        slopes = [r * p / population_total for p in pops]  # r p_g, exact
        total = max(current_total, 1)
        while load(total) > total:
            total = _next_candidate(total, curs, needs(total), slopes)
            if total > MAX_TARGET_TOTAL:
                break
    if total > MAX_TARGET_TOTAL:
        raise ValueError(
            f"min_ratio {min_ratio} would need more than {MAX_TARGET_TOTAL} members in total; choose a lower "
            "min_ratio"
        )

    after = [max(c, need) for c, need in zip(curs, needs(total))]
    slack = total - sum(after)
    while slack > 0:  # only min_ratio == 0 with no members (see docstring); lowest ratio first
        best = min(
            (i for i in range(len(names)) if positive[i]),
            key=lambda i: (Fraction(after[i] * population_total, pops[i]), -pops[i], i),
        )
        after[best] += 1
        slack -= 1

    notes: list[str] = []
    rows: list[GroupTarget] = []
    over: list[str] = []
    total_invitations: int | None = 0 if rates else None
    missing_rates: list[str] = []
    for i, name in enumerate(names):
        add = after[i] - curs[i]
        share = pops[i] / population_total
        ratio_now = (curs[i] / current_total) / share if positive[i] and current_total else None
        ratio_after = (after[i] / total) / share if positive[i] else None
        if r_max is None:
            is_over = False
        elif positive[i]:
            # m / N > r_max * pop / P, exactly
            is_over = after[i] * population_total * r_max.denominator > r_max.numerator * pops[i] * total
        else:
            is_over = after[i] > 0
        if is_over:
            over.append(name)
        invitations = None
        if name in rates:
            rate = rates[name]
            invitations = _ceil_div(add * rate.denominator, rate.numerator)
            total_invitations = (total_invitations or 0) + invitations
        elif rates and add:
            missing_rates.append(name)
        rows.append(
            GroupTarget(
                group=name,
                population=pops[i],
                population_share=share,
                members=curs[i],
                ratio=ratio_now,
                additional_needed=add,
                members_after=after[i],
                ratio_after=ratio_after,
                invitations=invitations,
                over_represented=is_over,
            )
        )
    if over:
        notes.append(
            "Above max_ratio after recruiting (members are never removed; recruit elsewhere to dilute): "
            + ", ".join(over)
        )
    if missing_rates:
        notes.append("No acceptance rate given, so no invitation count, for: " + ", ".join(missing_rates))
    beyond = [names[i] for i in range(len(names)) if after[i] > pops[i]]
    if beyond:
        notes.append("The target exceeds the registered patients in: " + ", ".join(beyond))
    return RecruitmentTargets(
        rows=tuple(rows),
        min_ratio=float(min_ratio),
        max_ratio=None if max_ratio is None else float(max_ratio),
        total_additional=total - current_total,
        members_total_after=total,
        total_invitations=total_invitations,
        over_represented=tuple(over),
        notes=tuple(notes),
    )


def difference_interval(x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """The difference of two independent proportions x1/n1 - x2/n2 with Newcombe's hybrid score interval
    (Newcombe 1998, Statistics in Medicine 17:873-890, method 10), built from each proportion's Wilson
    interval: it stays within [-1, 1] and behaves at small counts, where the Wald interval does not.
    Returns (difference, low, high); with an empty sample the interval is the whole range."""
    if n1 == 0 or n2 == 0:
        return (float("nan"), -1.0, 1.0)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    return (d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
