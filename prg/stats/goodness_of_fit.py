"""Pearson's statistic and the multinomial goodness-of-fit p-value, exact or by seeded Monte Carlo.

The p-value for counts against known shares is never the asymptotic chi-square one (a PRG's expected
counts are nearly always below 5): it is an exact multinomial test, the probability under the shares of
every outcome whose Pearson statistic is at least the observed one, by enumerating all compositions of n
into k groups when there are at most `EXACT_OUTCOME_LIMIT` of them, and otherwise a seeded Monte Carlo
estimate (1 + hits) / (1 + draws), which is a valid p-value for any number of draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from prg.stats.inputs import as_counts

__all__ = ["DEFAULT_P_VALUE_DRAWS", "DEFAULT_SEED", "EXACT_OUTCOME_LIMIT", "GoodnessOfFit", "PValueMethod",
           "multinomial_gof_pvalue", "multinomial_outcome_count", "pearson_chi_square", "sample_multinomial"]

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

PValueMethod = Literal["exact", "monte_carlo"]

# Monte Carlo sampler tuning: draws are processed in chunks to bound memory; the inverse-CDF tables for a
# conditional binomial are used while they stay small, else numpy's binomial sampler is used.
_MC_CHUNK = 1 << 17
_GUIDE_BINS = 1024  # a power of two, so that cdf * bins is exact in floating point
_TABLE_CELL_LIMIT = 4_000_000


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
    obs = as_counts("observed", observed)
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
    obs = as_counts("observed", observed)
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
