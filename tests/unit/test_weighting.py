"""Weighting: raking against the closed-form 2x2 answer, a slow reference IPF and weightipy; refusals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from prg.errors import InvalidInput
from surveys.weighting import collapse_thin, kish, post_stratify, rake


def _sample(cells: dict[tuple[str, str], int]) -> pd.DataFrame:
    rows = [(a, b) for (a, b), k in cells.items() for _ in range(k)]
    return pd.DataFrame(rows, columns=["a", "b"])


def _reference_ipf(sample: pd.DataFrame, margins: dict, iterations: int = 2000) -> np.ndarray:
    """Deliberately slow and obviously correct: a loop over respondents, margin by margin, to convergence."""
    n = len(sample)
    w = [1.0] * n
    records = sample.to_dict("records")
    for _ in range(iterations):
        for col, margin in margins.items():
            total_pop = sum(margin.values())
            sums = {cat: 0.0 for cat in margin}
            for i, rec in enumerate(records):
                sums[rec[col]] += w[i]
            for i, rec in enumerate(records):
                w[i] *= (margin[rec[col]] / total_pop * n) / sums[rec[col]]
    return np.asarray(w)


def test_two_by_two_matches_closed_form() -> None:
    # Sample cells n11=30, n12=10, n21=20, n22=40 (n=100); targets (as counts of n) rows a: x=50, y=50,
    # columns b: p=30, q=70. For a 2x2 table with all cells positive, IPF converges to the unique table
    # with the target margins and the sample's odds ratio theta = n11*n22/(n12*n21) = 30*40/(10*20) = 6.
    # Write the fitted table as [[t, r1-t], [c1-t, r2-c1+t]] with r1=50, r2=50, c1=30; the odds ratio
    # condition t*(r2-c1+t) = theta*(r1-t)*(c1-t) is the quadratic
    #   (1-theta) t^2 + (r2 - c1 + theta*(r1+c1)) t - theta*r1*c1 = 0,
    # i.e. -5 t^2 + 500 t - 9000 = 0, t = 50 - sqrt(700) = 23.542486889354094 (the root in (0, 30)).
    # Each respondent's weight is (fitted cell) / (sample cell).
    cells = {("x", "p"): 30, ("x", "q"): 10, ("y", "p"): 20, ("y", "q"): 40}
    sample = _sample(cells)
    r1, r2, c1, theta = 50.0, 50.0, 30.0, 6.0
    a, b, c = 1 - theta, r2 - c1 + theta * (r1 + c1), -theta * r1 * c1
    roots = [(-b + s * math.sqrt(b * b - 4 * a * c)) / (2 * a) for s in (1, -1)]
    t = next(x for x in roots if 0 < x < min(r1, c1))
    assert t == pytest.approx(50 - math.sqrt(700), abs=1e-12)
    fitted = {("x", "p"): t, ("x", "q"): r1 - t, ("y", "p"): c1 - t, ("y", "q"): r2 - c1 + t}
    expected = np.asarray([fitted[(ra, rb)] / cells[(ra, rb)] for ra, rb in sample.itertuples(index=False)])

    result = rake(sample, {"a": {"x": 500, "y": 500}, "b": {"p": 0.3, "q": 0.7}}, tolerance=1e-12, max_iterations=1000)
    assert result.converged
    np.testing.assert_allclose(result.weights, expected, atol=1e-6)
    assert result.weights.mean() == pytest.approx(1.0)


def test_post_stratification_is_population_share_over_sample_share() -> None:
    cells = ["f|young"] * 10 + ["f|old"] * 30 + ["m|young"] * 20 + ["m|old"] * 40
    population = {"f|young": 250, "f|old": 250, "m|young": 300, "m|old": 200}
    result = post_stratify(cells, population)
    sample_share = {"f|young": 0.1, "f|old": 0.3, "m|young": 0.2, "m|old": 0.4}
    expected = [population[c] / 1000 / sample_share[c] for c in cells]
    np.testing.assert_allclose(result.weights, expected, rtol=1e-12)
    assert result.converged and result.weights.mean() == pytest.approx(1.0)


def test_kish_design_effect() -> None:
    deff, ess = kish(np.ones(50))
    assert deff == pytest.approx(1.0) and ess == pytest.approx(50.0)
    # w = 1, 2, 3: n = 3, sum w = 6, sum w^2 = 14; deff = 3*14/36 = 7/6; n_eff = 36/14 = 18/7.
    deff, ess = kish([1.0, 2.0, 3.0])
    assert deff == pytest.approx(7 / 6) and ess == pytest.approx(18 / 7)
    result = rake(_sample({("x", "p"): 10, ("y", "q"): 30}), {"a": {"x": 1, "y": 1}})
    # weights 2 (x10) and 2/3 (x30): deff = 40*(40+13.333)/40^2 = 4/3
    assert result.design_effect == pytest.approx(4 / 3) and result.effective_sample_size == pytest.approx(30.0)


def test_equal_margins_give_equal_weights() -> None:
    sample = _sample({("x", "p"): 25, ("x", "q"): 25, ("y", "p"): 25, ("y", "q"): 25})
    result = rake(sample, {"a": {"x": 1, "y": 1}, "b": {"p": 5, "q": 5}})
    np.testing.assert_allclose(result.weights, 1.0)
    assert result.design_effect == pytest.approx(1.0) and result.iterations == 1


def test_impossible_margins_are_reported_not_returned_as_converged() -> None:
    # Only (x, p) and (y, q) exist: a = x exactly when b = p, so a 50/50 and b 20/80 cannot both hold.
    sample = _sample({("x", "p"): 10, ("y", "q"): 10})
    result = rake(sample, {"a": {"x": 50, "y": 50}, "b": {"p": 20, "q": 80}}, max_iterations=50)
    assert not result.converged
    assert result.max_margin_error > 1e-3
    assert any("did not converge" in note for note in result.notes)


def test_iteration_cap_is_reported() -> None:
    sample = _sample({("x", "p"): 30, ("x", "q"): 10, ("y", "p"): 20, ("y", "q"): 40})
    result = rake(sample, {"a": {"x": 1, "y": 1}, "b": {"p": 3, "q": 7}}, max_iterations=1)
    assert not result.converged and result.iterations == 1 and result.notes


@pytest.mark.parametrize(
    ("margins", "field"),
    [
        ({"a": {"x": 0, "y": 10}}, "margins.a.x"),  # respondents but no population
        ({"a": {"x": 5, "y": 5, "z": 5}}, "margins.a.z"),  # population but no respondents
        ({"a": {"x": 5}}, "margins.a.y"),  # respondents in a category the margin does not list
        ({"c": {"x": 5}}, "margins.c"),  # not a column
    ],
)
def test_empty_cells_are_refused(margins: dict, field: str) -> None:
    sample = _sample({("x", "p"): 3, ("y", "q"): 3})
    with pytest.raises(InvalidInput) as info:
        rake(sample, margins)
    assert field in [e.field for e in info.value.errors]


def test_missing_answers_are_refused() -> None:
    sample = pd.DataFrame({"a": ["x", None, "y"]})
    with pytest.raises(InvalidInput) as info:
        rake(sample, {"a": {"x": 1, "y": 1}})
    assert "no answer" in info.value.errors[0].message


def test_category_empty_on_both_sides_is_ignored() -> None:
    sample = _sample({("x", "p"): 3, ("y", "q"): 3})
    result = rake(sample, {"a": {"x": 1, "y": 3, "z": 0}})
    np.testing.assert_allclose(result.weights, [0.5] * 3 + [1.5] * 3)


def test_trimming_bounds_are_respected() -> None:
    rng = np.random.default_rng(5)
    sample = pd.DataFrame({"age": rng.choice(list("abcd"), 2000, p=[0.55, 0.3, 0.1, 0.05]), "sex": rng.choice(["f", "m"], 2000, p=[0.7, 0.3])})
    margins = {"age": {"a": 25, "b": 25, "c": 25, "d": 25}, "sex": {"f": 50, "m": 50}}
    untrimmed = rake(sample, margins)
    assert untrimmed.weights.max() > 3
    trimmed = rake(sample, margins, trim=(0.3, 3.0), max_iterations=500)
    assert trimmed.weights.min() >= 0.3 and trimmed.weights.max() <= 3.0
    assert trimmed.design_effect < untrimmed.design_effect
    assert any("trimmed" in note for note in trimmed.notes)
    if not trimmed.converged:
        assert any("did not converge" in note for note in trimmed.notes)
    with pytest.raises(InvalidInput):
        rake(sample, margins, trim=(1.5, 3.0))


def _random_case(seed: int) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(60, 200))
    sample = pd.DataFrame({
        "age": rng.choice(["16-34", "35-54", "55-74", "75+"], n, p=[0.15, 0.3, 0.35, 0.2]),
        "sex": rng.choice(["female", "male"], n, p=[0.6, 0.4]),
        "eth": rng.choice(["white", "asian", "black"], n, p=[0.7, 0.2, 0.1]),
    })
    margins = {
        "age": {k: int(v) for k, v in zip(["16-34", "35-54", "55-74", "75+"], rng.integers(500, 3000, 4))},
        "sex": {"female": int(rng.integers(4000, 6000)), "male": int(rng.integers(4000, 6000))},
        "eth": {"white": 7000, "asian": int(rng.integers(800, 2000)), "black": int(rng.integers(300, 1200))},
    }
    return sample, margins


@pytest.mark.parametrize("seed", range(5))
def test_matches_slow_reference_ipf(seed: int) -> None:
    sample, margins = _random_case(seed)
    ours = rake(sample, margins, tolerance=1e-12, max_iterations=2000)
    assert ours.converged
    np.testing.assert_allclose(ours.weights, _reference_ipf(sample, margins, 300), atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_matches_weightipy(seed: int) -> None:
    weightipy = pytest.importorskip("weightipy")
    sample, margins = _random_case(seed)
    percent = {col: {k: 100 * v / sum(m.values()) for k, v in m.items()} for col, m in margins.items()}
    scheme = weightipy.scheme_from_dict(percent, rim_params={"convcrit": 1e-10, "max_iterations": 5000})
    theirs = np.asarray(weightipy.weight(sample, scheme), dtype=float)
    ours = rake(sample, margins, tolerance=1e-12, max_iterations=2000)
    np.testing.assert_allclose(ours.weights, theirs / theirs.mean(), atol=1e-5)


def test_collapse_thin_merges_into_the_thinner_neighbour() -> None:
    sample = pd.DataFrame({"age": ["16-34"] * 30 + ["35-54"] * 20 + ["55-74"] * 3 + ["75+"] * 12})
    margins = {"age": {"16-34": 100, "35-54": 100, "55-74": 100, "75+": 100, "85+": 10}}
    # 85+ (0 respondents) is thinnest: merges with its only neighbour 75+ -> '75++85+' (12).
    # 55-74 (3) merges with the thinner neighbour: '75++85+' (12) rather than 35-54 (20).
    collapsed = collapse_thin(sample, margins, "age", 10)
    assert collapsed.margins["age"] == {"16-34": 100, "35-54": 100, "55-74+75++85+": 210}
    assert collapsed.mapping["55-74"] == "55-74+75++85+"
    assert collapsed.notes
    result = rake(collapsed.sample, collapsed.margins)
    assert result.converged
    with pytest.raises(InvalidInput):
        rake(sample, margins)


def test_categorical_columns_weight_like_strings() -> None:
    # Results hand raking categorical columns (codes): same weights, same refusals, same merges.
    rng = np.random.default_rng(7)
    plain = pd.DataFrame({"a": rng.choice(["x", "y", "z"], 500, p=[0.6, 0.38, 0.02]),
                          "b": rng.choice(["p", "q"], 500)})
    coded = plain.assign(a=pd.Categorical(plain["a"], categories=["z", "y", "x", "never"]),
                         b=pd.Categorical(plain["b"], categories=["q", "p"]))
    margins = {"a": {"x": 50, "y": 45, "z": 5}, "b": {"p": 40, "q": 60}}
    np.testing.assert_allclose(rake(coded, margins).weights, rake(plain, margins).weights, rtol=0, atol=1e-12)

    merged_plain = collapse_thin(plain, margins, "a", 30)
    merged_coded = collapse_thin(coded, margins, "a", 30)
    assert merged_coded.margins == merged_plain.margins and merged_coded.notes == merged_plain.notes
    assert list(merged_coded.sample["a"].astype(object)) == list(merged_plain.sample["a"])
    np.testing.assert_allclose(rake(merged_coded.sample, merged_coded.margins).weights,
                               rake(merged_plain.sample, merged_plain.margins).weights, rtol=0, atol=1e-12)

    outside = {"a": {"x": 50, "y": 45}, "b": margins["b"]}  # z has respondents but no population
    with pytest.raises(InvalidInput) as plain_error:
        rake(plain, outside)
    with pytest.raises(InvalidInput) as coded_error:
        rake(coded, outside)
    assert [(e.field, e.message) for e in coded_error.value.errors] == [
        (e.field, e.message) for e in plain_error.value.errors]
    assert [e.field for e in coded_error.value.errors] == ["margins.a.z"]  # not the unused 'never'
