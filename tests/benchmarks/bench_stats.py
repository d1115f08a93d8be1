"""Benchmark: the representativeness check for a 300-member PRG over 16 groups, with its p-value.

Run by hand: `/work/main/.venv/bin/python tests/benchmarks/bench_stats.py`. Exits 1 if the median is at or
above the target. The baseline, timed in the same run on the same counts, is scipy's bare asymptotic
chi-square test: the ratio shows what the exact/Monte Carlo p-value and the descriptive figures cost.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.report import figure  # noqa: E402

import numpy as np  # noqa: E402
from scipy import stats as sps  # noqa: E402

from prg.stats.representativeness import compare_groups  # noqa: E402

TARGET_MS = 200.0
REPEATS = 21

# A practice of about 6,300 patients by sex x the 2014/15 reporting template's age bands.
BANDS = ["0-16", "17-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
GROUPS = [f"{sex} {band}" for sex in ("Female", "Male") for band in BANDS]
POPULATION = np.array(
    [610, 330, 420, 440, 460, 390, 330, 300] + [640, 320, 430, 450, 470, 380, 300, 210], dtype=np.int64
)
# A PRG of 300 that is somewhat unrepresentative: too few children, too many over-55s (X^2 about 25.5).
MEMBERS = np.array([20, 10, 17, 20, 24, 22, 23, 21] + [19, 10, 15, 20, 24, 21, 19, 15], dtype=np.int64)


def _median_ms(fn, repeats: int = REPEATS) -> float:
    fn()  # warm-up: imports, caches
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples)


def main() -> int:
    assert MEMBERS.sum() == 300 and len(GROUPS) == len(POPULATION) == len(MEMBERS) == 16
    f_exp = MEMBERS.sum() * POPULATION / POPULATION.sum()
    baseline = _median_ms(lambda: sps.chisquare(MEMBERS, f_exp=f_exp))
    median = _median_ms(lambda: compare_groups(GROUPS, POPULATION, MEMBERS))
    result = compare_groups(GROUPS, POPULATION, MEMBERS)
    figure("representativeness check, 300 members x 16 groups", target=f"< {TARGET_MS:.0f} ms",
           measured=f"{median:.1f} ms", baseline=f"{baseline:.3f} ms (scipy chisquare)", ratio=median / baseline,
           ok=median < TARGET_MS)
    print(
        f"  chi-square {result.chi_square:.2f} on {result.df} df, p = {result.p_value:.5f} "
        f"({result.p_value_method}, {result.p_value_draws} draws), D = {result.dissimilarity_index:.3f}, "
        f"w = {result.cohens_w:.3f}; asymptotic p would be {sps.chisquare(MEMBERS, f_exp=f_exp).pvalue:.5f}"
    )
    return 0 if median < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
