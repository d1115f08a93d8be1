"""Tests for prg.stats, checked against published reference values and hand calculations, not the code."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from prg.stats.goodness_of_fit import (
    EXACT_OUTCOME_LIMIT,
    multinomial_gof_pvalue,
    multinomial_outcome_count,
    pearson_chi_square,
    sample_multinomial,
)
from prg.stats.intervals import wilson_interval, wilson_intervals
from prg.stats.recruitment import recruitment_targets
from prg.stats.representativeness import compare_groups

# -------------------------------------------------------------------------------------------------------
# Wilson score interval
# -------------------------------------------------------------------------------------------------------


# Newcombe RG (1998) "Two-sided confidence intervals for the single proportion: comparison of seven
# methods", Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score, no continuity correction).
@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_table_i(successes: int, n: int, low: float, high: float) -> None:
    got_low, got_high = wilson_interval(successes, n)
    assert round(got_low, 4) == pytest.approx(low, abs=1e-12)
    assert round(got_high, 4) == pytest.approx(high, abs=1e-12)


def test_wilson_all_successes_mirrors_none() -> None:
    # 29/29: the mirror image of 0/29, whose Wilson upper limit is z^2 / (29 + z^2) = 0.1170 by hand
    # (z = 1.959964, z^2 = 3.841459); so 29/29 gives 1 - 0.1170 = 0.8830 to 1.
    low, high = wilson_interval(29, 29)
    assert round(low, 4) == 0.8830
    assert high == 1.0
    low0, high0 = wilson_interval(0, 29)
    assert low0 == 0.0
    assert high0 == pytest.approx(1 - low, abs=1e-12)


def test_wilson_n_zero_is_uninformative() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_intervals([0, 3, 0], [0, 10, 0])
    assert low[0] == 0.0 and high[0] == 1.0 and low[2] == 0.0 and high[2] == 1.0


def test_wilson_vectorised_agrees_with_scalar_and_scipy() -> None:
    n = np.array([1, 2, 5, 10, 17, 40, 263, 300])
    for confidence in (0.90, 0.95, 0.99):
        for size in n:
            x = np.arange(size + 1)
            low, high = wilson_intervals(x, size, confidence)
            for xi, lo_i, hi_i in zip(x, low, high):
                assert (lo_i, hi_i) == wilson_interval(int(xi), int(size), confidence)
                ci = sps.binomtest(int(xi), int(size)).proportion_ci(confidence, method="wilson")
                assert lo_i == pytest.approx(ci.low, abs=1e-12)
                assert hi_i == pytest.approx(ci.high, abs=1e-12)


@pytest.mark.parametrize(("x", "n", "confidence"), [(-1, 5, 0.95), (6, 5, 0.95), (1, 5, 1.0), (1, 5, 0.0)])
def test_wilson_rejects_bad_input(x: int, n: int, confidence: float) -> None:
    with pytest.raises(ValueError):
        wilson_interval(x, n, confidence)


# -------------------------------------------------------------------------------------------------------
# Pearson chi-square statistic
# -------------------------------------------------------------------------------------------------------


def test_chi_square_matches_scipy_documented_examples() -> None:
    # scipy.stats.chisquare docs: chisquare([16, 18, 16, 14, 12, 12]) -> statistic 2.0 (asymptotic p
    # 0.84914503608460956, which we deliberately do not use), and with f_exp=[16, 16, 16, 16, 16, 8]
    # -> statistic 3.5 (p 0.62338762774958223).
    observed = [16, 18, 16, 14, 12, 12]
    assert pearson_chi_square(observed, [1] * 6) == pytest.approx(2.0, rel=1e-12)
    assert pearson_chi_square(observed, [16, 16, 16, 16, 16, 8]) == pytest.approx(3.5, rel=1e-12)
    result = compare_groups(list("abcdef"), [1000] * 6, observed, p_value_draws=1000)
    assert result.chi_square == pytest.approx(2.0, rel=1e-12)
    assert result.df == 5
    result = compare_groups(list("abcdef"), [16, 16, 16, 16, 16, 8], observed, p_value_draws=1000)
    assert result.chi_square == pytest.approx(3.5, rel=1e-12)
    assert sps.chisquare(observed).statistic == pytest.approx(2.0)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 60)), min_size=2, max_size=12).filter(
        lambda rows: sum(m for _, m in rows) > 0
    )
)
def test_chi_square_matches_scipy_with_f_exp(rows: list[tuple[int, int]]) -> None:
    population = np.array([p for p, _ in rows])
    members = np.array([m for _, m in rows])
    f_exp = members.sum() * population / population.sum()
    expected = sps.chisquare(members, f_exp=f_exp).statistic
    assert pearson_chi_square(members, population) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    result = compare_groups([str(i) for i in range(len(rows))], population, members, p_value_draws=50)
    assert result.chi_square == pytest.approx(expected, rel=1e-9, abs=1e-9)


# -------------------------------------------------------------------------------------------------------
# Exact multinomial p-value
# -------------------------------------------------------------------------------------------------------


def test_exact_pvalue_three_members_two_equal_groups() -> None:
    # n = 3 into 2 groups with p = 1/2; expected 1.5 each.
    #   outcome  probability  X^2 = sum (x - 1.5)^2 / 1.5
    #   (3, 0)   1/8          (2.25 + 2.25) / 1.5 = 3
    #   (2, 1)   3/8          (0.25 + 0.25) / 1.5 = 1/3
    #   (1, 2)   3/8          1/3
    #   (0, 3)   1/8          3
    # observed (2, 1): every outcome has X^2 >= 1/3, p = 1; observed (3, 0): p = 1/8 + 1/8 = 1/4.
    fit = multinomial_gof_pvalue([2, 1], [1, 1])
    assert fit.method == "exact" and fit.draws is None and fit.outcomes == 4
    assert fit.p_value == pytest.approx(1.0, rel=1e-12)
    assert multinomial_gof_pvalue([3, 0], [1, 1]).p_value == pytest.approx(0.25, rel=1e-12)
    assert multinomial_gof_pvalue([0, 3], [1, 1]).p_value == pytest.approx(0.25, rel=1e-12)


def test_exact_pvalue_three_members_three_equal_groups() -> None:
    # n = 3 into 3 groups with p = 1/3; expected 1 each; C(5, 2) = 10 outcomes.
    #   kind       how many  probability each      X^2
    #   (3, 0, 0)  3         1/27                  4 + 1 + 1 = 6
    #   (2, 1, 0)  6         3!/(2!1!0!)/27 = 3/27  1 + 0 + 1 = 2
    #   (1, 1, 1)  1         3!/27 = 6/27          0
    # total 3/27 + 18/27 + 6/27 = 1.
    # observed (2, 1, 0): p = 18/27 + 3/27 = 7/9; observed (3, 0, 0): p = 3/27 = 1/9; (1, 1, 1): p = 1.
    assert multinomial_outcome_count(3, 3) == 10
    assert multinomial_gof_pvalue([2, 1, 0], [1, 1, 1]).p_value == pytest.approx(7 / 9, rel=1e-12)
    assert multinomial_gof_pvalue([0, 0, 3], [1, 1, 1]).p_value == pytest.approx(1 / 9, rel=1e-12)
    assert multinomial_gof_pvalue([1, 1, 1], [1, 1, 1]).p_value == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("n", [1, 2, 7, 10, 25, 60, 151])
def test_exact_pvalue_two_equal_groups_equals_two_sided_binomial_test(n: int) -> None:
    # For k = 2, X^2 = (x - n p)^2 / (n p (1 - p)): ordering by X^2 is ordering by |x - n p|. With p = 1/2
    # the binomial pmf is symmetric and unimodal, so scipy's two-sided binomtest (which orders by pmf)
    # uses the same ordering and must give the same p-value.
    for x in range(n + 1):
        expected = sps.binomtest(x, n, 0.5).pvalue
        got = multinomial_gof_pvalue([x, n - x], [1, 1]).p_value
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_exact_pvalue_two_unequal_groups_by_hand_sum() -> None:
    # p = (0.3, 0.7), n = 20, expected 6 members in the first group. Observed 11: |11 - 6| = 5, so the
    # extreme outcomes are x <= 1 or x >= 11 (|x - 6| >= 5), p = P(X <= 1) + P(X >= 11) for Bin(20, 0.3).
    by_hand = sps.binom.cdf(1, 20, 0.3) + sps.binom.sf(10, 20, 0.3)
    assert multinomial_gof_pvalue([11, 9], [3, 7]).p_value == pytest.approx(by_hand, rel=1e-10)
    # Observed 2: |2 - 6| = 4, extreme x <= 2 or x >= 10.
    by_hand = sps.binom.cdf(2, 20, 0.3) + sps.binom.sf(9, 20, 0.3)
    assert multinomial_gof_pvalue([2, 18], [3, 7]).p_value == pytest.approx(by_hand, rel=1e-10)


def _brute_force_pvalue(observed: list[int], population: list[int]) -> float:
    """Independent exact test in rational arithmetic: no float ties, no vectorisation."""
    n, total = sum(observed), sum(population)
    shares = [Fraction(p, total) for p in population]

    def stat(xs: tuple[int, ...]) -> Fraction:
        return sum(((x - n * s) ** 2 / (n * s) for x, s in zip(xs, shares)), Fraction(0))

    observed_stat = stat(tuple(observed))
    p = Fraction(0)
    for xs in itertools.product(range(n + 1), repeat=len(observed)):
        if sum(xs) != n or stat(xs) < observed_stat:
            continue
        prob = Fraction(math.factorial(n))
        for x, s in zip(xs, shares):
            prob *= s**x / math.factorial(x)
        p += prob
    return float(p)


@pytest.mark.parametrize(
    ("observed", "population"),
    [
        ([10, 10, 0], [600, 300, 100]),
        ([4, 1, 1], [1, 1, 1]),  # many exact ties among permutations
        ([0, 5, 2, 1], [5, 2, 2, 1]),
        ([3, 3, 3, 3], [1, 1, 1, 1]),
        ([7, 0], [9, 1]),
    ],
)
def test_exact_pvalue_agrees_with_rational_brute_force(observed: list[int], population: list[int]) -> None:
    got = multinomial_gof_pvalue(observed, population)
    assert got.method == "exact"
    assert got.p_value == pytest.approx(_brute_force_pvalue(observed, population), rel=1e-9)


def test_single_group_or_no_members_has_p_one() -> None:
    assert multinomial_gof_pvalue([12], [5]).p_value == 1.0
    assert multinomial_gof_pvalue([0, 0, 0], [1, 2, 3]).p_value == 1.0


# -------------------------------------------------------------------------------------------------------
# Monte Carlo p-value
# -------------------------------------------------------------------------------------------------------


def test_monte_carlo_agrees_with_exact_on_mid_size_case() -> None:
    # n = 30 into 4 groups: C(33, 3) = 5456 outcomes, enumerable; force Monte Carlo with exact_limit=0.
    # With 100 000 draws the Monte Carlo standard error is at most 0.0016; allow about 4 of them.
    observed, population = [4, 12, 9, 5], [1500, 1200, 800, 500]
    exact = multinomial_gof_pvalue(observed, population)
    assert exact.method == "exact" and exact.outcomes == 5456
    mc = multinomial_gof_pvalue(observed, population, exact_limit=0, draws=100_000)
    assert mc.method == "monte_carlo" and mc.draws == 100_000
    assert mc.p_value == pytest.approx(exact.p_value, abs=0.0065)
    for observed in ([15, 5, 5, 5], [2, 2, 14, 12], [11, 9, 6, 4]):
        exact = multinomial_gof_pvalue(observed, population)
        mc = multinomial_gof_pvalue(observed, population, exact_limit=0, draws=100_000)
        assert mc.p_value == pytest.approx(exact.p_value, abs=0.0065)


def test_monte_carlo_is_reproducible_with_the_seed() -> None:
    observed, population = [30, 40, 20, 10, 0, 5, 15], [20, 25, 15, 15, 5, 10, 10]
    a = multinomial_gof_pvalue(observed, population, draws=20_000, seed=7)
    b = multinomial_gof_pvalue(observed, population, draws=20_000, seed=7)
    c = multinomial_gof_pvalue(observed, population, draws=20_000, seed=8)
    assert a.method == "monte_carlo"
    assert a == b
    assert c.p_value != a.p_value and c.p_value == pytest.approx(a.p_value, abs=0.02)


def test_monte_carlo_never_returns_zero() -> None:
    # Everyone in the smallest group: no simulated sample is as extreme, p = 1 / (1 + draws).
    fit = multinomial_gof_pvalue([0] * 15 + [200], [10] * 15 + [1], draws=999)
    assert fit.method == "monte_carlo"
    assert fit.p_value == pytest.approx(1 / 1000)


def test_method_switches_at_the_documented_limit() -> None:
    # C(n + k - 1, k - 1) for n = 4, k = 16 is C(19, 15) = 3876 (exact); n = 300 is far beyond the limit.
    assert multinomial_outcome_count(4, 16) == 3876
    assert multinomial_gof_pvalue([1, 1, 2] + [0] * 13, [1] * 16).method == "exact"
    assert multinomial_outcome_count(300, 16) > EXACT_OUTCOME_LIMIT
    fit = multinomial_gof_pvalue([20] * 15 + [0], [1] * 16, draws=2000)
    assert fit.method == "monte_carlo" and fit.draws == 2000
    # right at the limit: 631 into 3 groups has C(633, 2) = 200 028 outcomes, 630 has 199 396
    assert multinomial_gof_pvalue([210, 210, 210], [1, 1, 1]).method == "exact"
    assert multinomial_gof_pvalue([211, 210, 210], [1, 1, 1], draws=10).method == "monte_carlo"


def test_sampler_has_multinomial_moments() -> None:
    # E[X_j] = n p_j, Var[X_j] = n p_j (1 - p_j), and E[Pearson X^2] = k - 1 exactly for a multinomial.
    p = np.array([0.02, 0.05, 0.08, 0.1, 0.15, 0.25, 0.35])
    n, size = 120, 200_000
    counts = sample_multinomial(n, p, size, np.random.Generator(np.random.PCG64(1)))
    assert counts.shape == (size, 7) and counts.min() >= 0
    assert np.all(counts.sum(axis=1) == n)
    se_mean = np.sqrt(n * p * (1 - p) / size)
    assert np.all(np.abs(counts.mean(axis=0) - n * p) < 5 * se_mean)
    assert counts.var(axis=0) / (n * p * (1 - p)) == pytest.approx(np.ones(7), abs=0.02)
    chi = ((counts - n * p) ** 2 / (n * p)).sum(axis=1)
    assert chi.mean() == pytest.approx(6.0, abs=0.05)
    # agrees in distribution with numpy's own sampler (two-sample check of the X^2 quantiles)
    reference = np.random.Generator(np.random.PCG64(2)).multinomial(n, p, size)
    chi_ref = ((reference - n * p) ** 2 / (n * p)).sum(axis=1)
    levels = [0.5, 0.9, 0.99]
    assert np.quantile(chi, levels) == pytest.approx(np.quantile(chi_ref, levels), rel=0.03)


# -------------------------------------------------------------------------------------------------------
# compare_groups
# -------------------------------------------------------------------------------------------------------


def test_compare_groups_hand_worked_example() -> None:
    # population 600 / 300 / 100 (total 1000) -> shares 0.6, 0.3, 0.1; members 10 / 10 / 0 (n = 20)
    #   expected = 20 x share = 12, 6, 2
    #   member shares 0.5, 0.5, 0; differences -10, +20, -10 percentage points
    #   ratios 0.5/0.6 = 0.8333, 0.5/0.3 = 1.6667, 0
    #   D = (0.1 + 0.2 + 0.1) / 2 = 0.2, misplaced = 0.2 x 20 = 4 members
    #   X^2 = (10-12)^2/12 + (10-6)^2/6 + (0-2)^2/2 = 1/3 + 8/3 + 2 = 5, df = 2, w = sqrt(5/20) = 0.5
    #   Wilson 95% for 10/20: 0.2993 to 0.7007 (centre (10 + 1.9208)/23.8415 = 0.5, half 0.2007);
    #   for 0/20: 0 to 0.1611 (Newcombe Table I).
    result = compare_groups(["A", "B", "C"], [600, 300, 100], [10, 10, 0])
    a, b, c = result.rows
    assert [r.group for r in result.rows] == ["A", "B", "C"]
    assert [r.expected for r in result.rows] == pytest.approx([12, 6, 2])
    assert [r.population_share for r in result.rows] == pytest.approx([0.6, 0.3, 0.1])
    assert [r.member_share for r in result.rows] == pytest.approx([0.5, 0.5, 0.0])
    assert [r.difference_pp for r in result.rows] == pytest.approx([-10, 20, -10])
    assert [a.ratio, b.ratio, c.ratio] == pytest.approx([5 / 6, 5 / 3, 0.0])
    assert (round(a.ci_low, 4), round(a.ci_high, 4)) == (0.2993, 0.7007)
    assert (c.ci_low, round(c.ci_high, 4)) == (0.0, 0.1611)
    assert result.population_total == 1000 and result.members_total == 20
    assert result.dissimilarity_index == pytest.approx(0.2)
    assert result.misplaced_members == pytest.approx(4.0)
    assert result.chi_square == pytest.approx(5.0)
    assert result.df == 2
    assert result.cohens_w == pytest.approx(0.5)
    # C(22, 2) = 231 outcomes: exact
    assert result.p_value_method == "exact" and result.p_value_draws is None
    assert result.p_value == pytest.approx(_brute_force_pvalue([10, 10, 0], [600, 300, 100]), rel=1e-9)
    assert not any(r.suppressed for r in result.rows)
    assert result.notes == ()
    json.dumps(result.as_dict())  # API-ready: plain types only


def test_compare_groups_with_no_members_does_not_crash() -> None:
    result = compare_groups(["A", "B"], [700, 300], [0, 0])
    assert result.members_total == 0
    assert all(r.member_share == 0.0 and r.expected == 0.0 for r in result.rows)
    assert all((r.ci_low, r.ci_high) == (0.0, 1.0) for r in result.rows)
    assert [r.ratio for r in result.rows] == [0.0, 0.0]
    assert result.p_value is None and result.p_value_method is None and result.p_value_draws is None
    assert result.chi_square is None and result.cohens_w is None and result.dissimilarity_index is None
    assert any("no members" in note for note in result.notes)
    json.dumps(result.as_dict())


def test_compare_groups_excludes_zero_population_groups_from_the_test() -> None:
    # "X" has no registered patients but 2 members: ratio None, left out of X^2 (noted), counted in D.
    result = compare_groups(["A", "B", "X"], [500, 500, 0], [4, 4, 2])
    x = result.rows[2]
    assert x.ratio is None and x.population_share == 0.0 and x.member_share == pytest.approx(0.2)
    assert result.excluded_from_test == ("X",)
    assert any("X" in note for note in result.notes)
    # test on the 8 members in A and B: (4, 4) against (1/2, 1/2): X^2 = 0, p = 1, df = 1
    assert result.chi_square == pytest.approx(0.0) and result.df == 1
    assert result.p_value == pytest.approx(1.0)
    # D = (|0.4 - 0.5| + |0.4 - 0.5| + |0.2 - 0|) / 2 = 0.2
    assert result.dissimilarity_index == pytest.approx(0.2)


def test_compare_groups_all_members_in_zero_population_groups() -> None:
    result = compare_groups(["A", "X"], [100, 0], [0, 3])
    assert result.p_value is None and result.chi_square is None
    assert result.dissimilarity_index == pytest.approx(1.0)


def test_suppression_flags_small_non_zero_counts() -> None:
    result = compare_groups(["A", "B", "C", "D"], [100, 100, 100, 100], [0, 4, 5, 30], suppress_below=5)
    assert [r.suppressed for r in result.rows] == [False, True, False, False]
    assert not any(r.suppressed for r in compare_groups(["A"], [1], [3]).rows)


@pytest.mark.parametrize(
    ("groups", "population", "members"),
    [
        (["A", "B"], [1, 2, 3], [1, 2]),  # length mismatch
        (["A", "B"], [1, 2], [1, -2]),  # negative
        (["A", "B"], [1, 2], [1.5, 2]),  # not whole
        (["A", "A"], [1, 2], [1, 2]),  # duplicate names
        (["A", "B"], [0, 0], [1, 2]),  # no population
        ([], [], []),  # no groups
        (["A", "B"], [1, float("nan")], [1, 2]),
    ],
)
def test_compare_groups_rejects_bad_input(
    groups: list[str], population: list[float], members: list[float]
) -> None:
    with pytest.raises(ValueError):
        compare_groups(groups, population, members)


_profiles = st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 40)), min_size=1, max_size=10).filter(
    lambda rows: sum(p for p, _ in rows) > 0
)


@settings(max_examples=200, deadline=None)
@given(_profiles)
def test_shares_sum_to_one_and_dissimilarity_in_range(rows: list[tuple[int, int]]) -> None:
    population = [p for p, _ in rows]
    members = [m for _, m in rows]
    result = compare_groups([f"g{i}" for i in range(len(rows))], population, members, p_value_draws=100)
    assert sum(r.population_share for r in result.rows) == pytest.approx(1.0)
    assert sum(r.expected for r in result.rows) == pytest.approx(sum(members))
    if sum(members):
        assert sum(r.member_share for r in result.rows) == pytest.approx(1.0)
        assert 0.0 <= result.dissimilarity_index <= 1.0
        half_sum = sum(abs(r.difference_pp) for r in result.rows) / 200  # pp -> fraction, halved
        assert result.dissimilarity_index == pytest.approx(half_sum)
        if result.p_value is not None:
            assert 0.0 < result.p_value <= 1.0
    for r in result.rows:
        assert 0.0 <= r.ci_low <= r.member_share <= r.ci_high <= 1.0


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=12), st.integers(1, 400))
def test_mirror_image_profile_is_perfectly_representative(members: list[int], scale: int) -> None:
    population = [m * scale for m in members]
    result = compare_groups([f"g{i}" for i in range(len(members))], population, members, p_value_draws=200)
    assert all(r.ratio == pytest.approx(1.0) for r in result.rows)
    assert all(r.difference_pp == pytest.approx(0.0, abs=1e-9) for r in result.rows)
    assert result.dissimilarity_index == pytest.approx(0.0, abs=1e-12)
    assert result.chi_square == pytest.approx(0.0, abs=1e-9)
    assert result.cohens_w == pytest.approx(0.0, abs=1e-4)
    assert result.p_value == pytest.approx(1.0)


# -------------------------------------------------------------------------------------------------------
# Recruitment targets
# -------------------------------------------------------------------------------------------------------


def test_targets_hand_worked_example() -> None:
    # shares 0.6 / 0.3 / 0.1, members 10 / 10 / 0 (C = 20), min_ratio 0.8: group g needs
    # m_g >= ceil(0.8 x share x N) for the final total N.
    #   N = 20: 0.48x20 = 9.6 -> 10, 0.24x20 = 4.8 -> 5 (has 10), 0.08x20 = 1.6 -> 2: 10+10+2 = 22 > 20
    #   N = 21: 10.08 -> 11, 10, 1.68 -> 2: 23 > 21
    #   N = 22: 10.56 -> 11, 10, 1.76 -> 2: 23 > 22
    #   N = 23: 11.04 -> 12, 10, 1.84 -> 2: 24 > 23
    #   N = 24: 11.52 -> 12, 10, 1.92 -> 2: 24 <= 24  -> +2 in A, +0 in B, +2 in C, 4 in all
    # ratios after: (12/24)/0.6 = 0.8333, (10/24)/0.3 = 1.3889, (2/24)/0.1 = 0.8333
    result = recruitment_targets(["A", "B", "C"], [600, 300, 100], [10, 10, 0], min_ratio=0.8)
    assert [r.additional_needed for r in result.rows] == [2, 0, 2]
    assert [r.members_after for r in result.rows] == [12, 10, 2]
    assert [r.ratio_after for r in result.rows] == pytest.approx([5 / 6, 25 / 18, 5 / 6])
    assert result.total_additional == 4 and result.members_total_after == 24
    assert result.total_invitations is None and all(r.invitations is None for r in result.rows)
    json.dumps(result.as_dict())


def test_targets_min_ratio_one_needs_exact_proportions() -> None:
    # min_ratio 1: m_g = share x N exactly, so N is a multiple of 1000/gcd(600, 300, 100) = 10, and
    # N >= 10/0.3 = 33.3 (B already has 10): N = 40 -> 24 / 12 / 4, i.e. +14, +2, +4.
    result = recruitment_targets(["A", "B", "C"], [600, 300, 100], [10, 10, 0], min_ratio=1)
    assert [r.members_after for r in result.rows] == [24, 12, 4]
    assert result.total_additional == 20
    assert all(r.ratio_after == pytest.approx(1.0) for r in result.rows)
    assert _brute_force_min_additional([600, 300, 100], [10, 10, 0], Fraction(1), limit=20) == 20


def test_targets_from_an_empty_group() -> None:
    # No members, shares 0.6 / 0.3 / 0.1, min_ratio 0.8:
    #   N = 1: 1 + 1 + 1 = 3 > 1 (and likewise N = 2: 1 + 1 + 1 = 3 > 2)
    #   N = 3: ceil(1.44) = 2, ceil(0.72) = 1, ceil(0.24) = 1: 4 > 3
    #   N = 4: ceil(1.92) = 2, ceil(0.96) = 1, ceil(0.32) = 1: 4 <= 4  -> 2 / 1 / 1
    result = recruitment_targets(["A", "B", "C"], [600, 300, 100], [0, 0, 0], min_ratio=0.8)
    assert [r.members_after for r in result.rows] == [2, 1, 1]
    assert all(r.ratio is None for r in result.rows)
    # min_ratio 0 and nobody yet: at least one member, in the largest group
    result = recruitment_targets(["A", "B", "C"], [300, 600, 100], [0, 0, 0], min_ratio=0)
    assert [r.members_after for r in result.rows] == [0, 1, 0]


def test_targets_read_min_ratio_as_written() -> None:
    # shares 0.8 / 0.2, members 16 / 9 (N = 25): 0.8 x 0.8 x 25 = 16 exactly, so nobody is needed. In
    # binary floating point 0.8 * 0.8 * 25 = 16.000000000000004 and a naive ceiling would ask for a 17th.
    assert 0.8 * (800 / 1000) * 25 > 16
    result = recruitment_targets(["A", "B"], [800, 200], [16, 9], min_ratio=0.8)
    assert result.total_additional == 0
    assert [r.ratio_after for r in result.rows] == pytest.approx([0.8, 1.8])


def test_targets_infeasible_min_ratio_raises() -> None:
    with pytest.raises(ValueError, match="min_ratio"):
        recruitment_targets(["A", "B"], [50, 50], [3, 3], min_ratio=1.2)
    with pytest.raises(ValueError, match="min_ratio"):
        recruitment_targets(["A", "B"], [50, 0], [3, 3], min_ratio=1.0)  # B's members can't be removed
    with pytest.raises(ValueError):
        recruitment_targets(["A", "B"], [50, 50], [3, 3], min_ratio=-0.1)
    with pytest.raises(ValueError):
        recruitment_targets(["A", "B"], [50, 50], [3, 3], min_ratio=float("nan"))
    with pytest.raises(ValueError, match="more than"):
        recruitment_targets(["A", "B"], [1, 9_999_999], [0, 1], min_ratio=0.9999999)


def test_targets_report_over_representation_without_looping() -> None:
    # B has 10 of 20 members for 30% of patients. After recruiting (N = 24) B's ratio is 1.3889: above a
    # max_ratio of 1.25, and it stays so (members are never removed). max_ratio == min_ratio also ends.
    result = recruitment_targets(["A", "B", "C"], [600, 300, 100], [10, 10, 0], min_ratio=0.8, max_ratio=1.25)
    assert result.over_represented == ("B",)
    assert [r.over_represented for r in result.rows] == [False, True, False]
    assert result.total_additional == 4
    assert any("B" in note for note in result.notes)
    tight = recruitment_targets(["A", "B", "C"], [600, 300, 100], [10, 10, 0], min_ratio=0.8, max_ratio=0.8)
    assert set(tight.over_represented) == {"A", "B", "C"}  # 0.8333 > 0.8 is unavoidable in whole people
    with pytest.raises(ValueError):
        recruitment_targets(["A", "B"], [1, 1], [1, 1], min_ratio=0.8, max_ratio=0.5)
    # members in a zero-share group are above any max_ratio
    odd = recruitment_targets(["A", "X"], [10, 0], [1, 1], min_ratio=0.5, max_ratio=2)
    assert odd.over_represented == ("X",)


def test_targets_invitations_from_acceptance_rates() -> None:
    # +2 in A at 25% acceptance -> 8 letters; +2 in C at 30% -> ceil(6.67) = 7; B needs none -> 0.
    result = recruitment_targets(
        ["A", "B", "C"],
        [600, 300, 100],
        [10, 10, 0],
        min_ratio=0.8,
        acceptance_rates={"A": 0.25, "B": 0.5, "C": 0.3},
    )
    assert [r.invitations for r in result.rows] == [8, 0, 7]
    assert result.total_invitations == 15
    # 0.1 read as written: 1 / 0.1 = 10 letters, not 11
    one = recruitment_targets(["A", "B"], [1, 1], [0, 1], min_ratio=1, acceptance_rates={"A": 0.1})
    assert one.rows[0].invitations == 10
    with pytest.raises(ValueError, match="unknown"):
        recruitment_targets(["A"], [1], [1], acceptance_rates={"Z": 0.5})
    with pytest.raises(ValueError):
        recruitment_targets(["A"], [1], [1], acceptance_rates={"A": 0})
    with pytest.raises(ValueError):
        recruitment_targets(["A"], [1], [1], acceptance_rates={"A": 1.5})


def _meets(after: list[int], population: list[int], r: Fraction) -> bool:
    n, total = sum(after), sum(population)
    if n == 0:
        return False
    # (m / N) / (pop / P) >= r  <=>  m P >= r pop N, exactly
    return all(m * total >= r * p * n for m, p in zip(after, population) if p > 0)


def _brute_force_min_additional(
    population: list[int], members: list[int], r: Fraction, limit: int
) -> int | None:
    """Smallest s such that some way of adding s people (never removing) meets the target; None if > limit."""
    k = len(members)
    for s in range(limit + 1):
        for cuts in itertools.combinations(range(s + k - 1), k - 1):  # stars and bars: all compositions
            bounds = (-1, *cuts, s + k - 1)
            adds = [bounds[i + 1] - bounds[i] - 1 for i in range(k)]
            if _meets([m + a for m, a in zip(members, adds)], population, r):
                return s
    return None


_RATIOS = [Fraction(0), Fraction(1, 4), Fraction(1, 2), Fraction(3, 5), Fraction(3, 4), Fraction(4, 5)]
_RATIOS += [Fraction(9, 10), Fraction(1)]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    st.lists(st.tuples(st.integers(0, 25), st.integers(0, 5)), min_size=1, max_size=4).filter(
        lambda rows: sum(p for p, _ in rows) > 0
    ),
    st.sampled_from(_RATIOS),
)
def test_targets_reach_min_ratio_and_are_minimal(rows: list[tuple[int, int]], r: Fraction) -> None:
    population = [p for p, _ in rows]
    members = [m for _, m in rows]
    if r == 1 and any(m for p, m in rows if p == 0):
        with pytest.raises(ValueError):
            recruitment_targets([f"g{i}" for i in range(len(rows))], population, members, min_ratio=r)
        return
    result = recruitment_targets([f"g{i}" for i in range(len(rows))], population, members, min_ratio=r)
    after = [row.members_after for row in result.rows]
    assert all(row.additional_needed >= 0 for row in result.rows)
    assert after == [m + row.additional_needed for m, row in zip(members, result.rows)]
    assert sum(after) == result.members_total_after == sum(members) + result.total_additional
    assert _meets(after, population, r)
    for row in result.rows:
        if row.ratio_after is not None:
            assert row.ratio_after >= float(r) - 1e-12
    assume(result.total_additional <= 14)  # keeps the brute force small
    smallest = _brute_force_min_additional(population, members, r, result.total_additional)
    assert smallest == result.total_additional


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 40)), min_size=2, max_size=16),
    st.sampled_from([0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95]),
)
def test_targets_at_realistic_sizes_meet_the_ratio_and_no_smaller_total_works(
    rows: list[tuple[int, int]], r: float
) -> None:
    # Too big to brute force: check the targets hold and that no smaller final total can work
    # (every total below the answer is impossible, by the necessary condition sum of requirements <= N).
    population = [p for p, _ in rows]
    members = [m for _, m in rows]
    result = recruitment_targets([f"g{i}" for i in range(len(rows))], population, members, min_ratio=r)
    ratio = Fraction(repr(r))
    after = [row.members_after for row in result.rows]
    assert _meets(after, population, ratio)
    total = sum(population)
    for n in range(max(sum(members), 1), result.members_total_after):
        need = sum(max(m, math.ceil(ratio * p * n / total)) for p, m in zip(population, members))
        assert need > n


def test_difference_interval_matches_newcombe_1998_method_10():
    from prg.stats.intervals import difference_interval

    # Newcombe (1998) Statistics in Medicine 17:873-890, Table II, example (a): 56/70 - 48/80.
    d, low, high = difference_interval(56, 70, 48, 80)
    assert round(d, 4) == 0.2000 and round(low, 4) == 0.0524 and round(high, 4) == 0.3339
    # Example (h): 10/10 - 0/10 stays within [-1, 1].
    d, low, high = difference_interval(10, 10, 0, 10)
    assert d == 1.0 and round(low, 4) == 0.6075 and high <= 1.0
