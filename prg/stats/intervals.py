"""Intervals for proportions: Wilson's score interval for one (vectorised), Newcombe's hybrid score interval
for the difference of two. Used by survey results (shares, changes between surveys) and by the PRG check.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

__all__ = ["difference_interval", "wilson_interval", "wilson_intervals", "z_for"]


def z_for(confidence: float) -> float:
    """The normal quantile for a two-sided `confidence` (1.96 for 0.95); ValueError outside (0, 1)."""
    if not (0.0 < float(confidence) < 1.0):
        raise ValueError("confidence must be strictly between 0 and 1")
    return float(ndtri(0.5 + float(confidence) / 2.0))


def wilson_intervals(
    successes: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score intervals (no continuity correction) for proportions, vectorised over arrays.

    `successes` and `n` broadcast against each other. Where n == 0 the interval is (0.0, 1.0): with no
    observations every proportion is consistent with the data, and 0..1 says so without putting NaN into
    JSON. The bounds are exactly 0 when successes == 0 and exactly 1 when successes == n (the formula gives
    these in exact arithmetic; floating point can miss by an ulp).
    """
    z = z_for(confidence)
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
