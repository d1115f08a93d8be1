"""Collation: every number recomputed by hand on a small fixture, Wilson from prg.stats.intervals, disclosure control."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import t as student_t

from prg.stats.intervals import wilson_interval
from surveys.collation import STAR, collate, crosstab, suppress_counts, suppress_table
from surveys.definition import load_definition


def _options(*codes: str) -> list[dict]:
    return [{"code": c, "label": {"en": c}} for c in codes]


DEFINITION = load_definition({
    "title": {"en": "Practice survey"},
    "sections": [{"id": "s1", "questions": [
        {"type": "single_choice", "id": "sex", "label": {"en": "Sex"}, "options": _options("f", "m"),
         "dimension": {"name": "sex", "groups": {"f": "female", "m": "male"}}},
        {"type": "single_choice", "id": "overall", "label": {"en": "Overall"},
         "options": _options("vg", "g", "n", "p", "vp"), "top_box": ["vg", "g"]},
        {"type": "multiple_choice", "id": "problems", "label": {"en": "Problems"}, "options": _options("phone", "web", "desk")},
        {"type": "scale_0_10", "id": "recommend", "label": {"en": "Recommend"}, "show_if": "overall = 'p' or overall = 'vp'"},
        {"type": "number", "id": "visits", "label": {"en": "Visits"}},
        {"type": "rating_grid", "id": "staff", "label": {"en": "Staff"}, "rows": [{"id": "gp", "label": {"en": "GP"}},
         {"id": "nurse", "label": {"en": "Nurse"}}], "options": _options("yes", "no"), "top_box": ["yes"]},
        {"type": "date", "id": "visited_on", "label": {"en": "When"}},
        {"type": "long_text", "id": "why", "label": {"en": "Why"}},
    ]}],
})

# Six responses in the stored (normalised) format; only answered, shown questions are present.
ANSWERS = [
    {"sex": "f", "overall": "vg", "problems": ["phone", "web"], "visits": 3, "staff": {"gp": "yes", "nurse": "no"},
     "visited_on": "2024-01-02", "why": "Kind staff"},
    {"sex": "m", "overall": "p", "recommend": 3, "problems": ["desk"], "visits": 1, "staff": {"gp": "no"}},
    {"sex": "f", "overall": "g", "visits": 5, "visited_on": "2023-12-30"},
    {"overall": "vp", "recommend": 0, "problems": ["phone"]},
    {"sex": "m"},
    {"sex": "f", "overall": "vg", "staff": {"gp": "yes", "nurse": "yes"}, "why": "Quick"},
]


def test_single_choice_by_hand() -> None:
    q = collate(DEFINITION, ANSWERS)["questions"]["overall"]
    # overall answered by responses 1,2,3,4,6: base 5, skipped 1 (response 5), none hidden.
    assert (q["base"], q["skipped"], q["not_shown"], q["respondents"]) == (5, 1, 0, 6)
    counts = {o["code"]: o["count"] for o in q["options"]}
    assert counts == {"vg": 2, "g": 1, "n": 0, "p": 1, "vp": 1}
    for o in q["options"]:
        assert o["share"] == pytest.approx(counts[o["code"]] / 5)
        assert (o["ci_low"], o["ci_high"]) == pytest.approx(wilson_interval(counts[o["code"]], 5))
    assert q["top_box"]["count"] == 3 and q["top_box"]["share"] == pytest.approx(0.6)
    assert (q["top_box"]["ci_low"], q["top_box"]["ci_high"]) == pytest.approx(wilson_interval(3, 5))


def test_skip_logic_multiple_choice_scale_number_grid_date_text_by_hand() -> None:
    result = collate(DEFINITION, ANSWERS)["questions"]
    rec = result["recommend"]
    # shown only when overall is p or vp: responses 2 and 4 (both answered); 4 not shown.
    assert (rec["base"], rec["skipped"], rec["not_shown"]) == (2, 0, 4)
    assert rec["mean"] == pytest.approx(1.5)
    sd = math.sqrt(((3 - 1.5) ** 2 + (0 - 1.5) ** 2) / 1)
    half = student_t.ppf(0.975, 1) * sd / math.sqrt(2)
    assert (rec["ci_low"], rec["ci_high"]) == pytest.approx((1.5 - half, 1.5 + half))
    assert [d["count"] for d in rec["distribution"]] == [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]

    mc = result["problems"]
    # answered by responses 1, 2, 4: phone 2 of 3, web 1 of 3, desk 1 of 3.
    assert mc["base"] == 3
    assert {o["code"]: (o["count"], o["share"]) for o in mc["options"]} == {
        "phone": (2, pytest.approx(2 / 3)), "web": (1, pytest.approx(1 / 3)), "desk": (1, pytest.approx(1 / 3))}

    visits = result["visits"]
    assert visits["base"] == 3 and visits["mean"] == pytest.approx(3.0)
    assert (visits["min"], visits["median"], visits["max"]) == (1.0, 3.0, 5.0)
    assert visits["sd"] == pytest.approx(2.0)

    gp, nurse = result["staff"]["rows"]
    assert gp["base"] == 3 and {o["code"]: o["count"] for o in gp["options"]} == {"yes": 2, "no": 1}
    assert gp["top_box"]["share"] == pytest.approx(2 / 3)
    assert nurse["base"] == 2 and {o["code"]: o["count"] for o in nurse["options"]} == {"yes": 1, "no": 1}

    assert (result["visited_on"]["earliest"], result["visited_on"]["latest"]) == ("2023-12-30", "2024-01-02")
    assert result["why"]["comments"] == ["Kind staff", "Quick"] and result["why"]["base"] == 2


def test_weighted_figures_sit_beside_unweighted_and_use_kish_n() -> None:
    weights = np.asarray([1.0, 2.0, 1.0, 1.0, 0.5, 0.5])
    result = collate(DEFINITION, pd.DataFrame(ANSWERS), weights=weights)
    assert result["design_effect"] == pytest.approx(6 * np.sum(weights**2) / np.sum(weights) ** 2)
    q = result["questions"]["overall"]
    w = weights[[0, 1, 2, 3, 5]]  # the base
    n_eff = w.sum() ** 2 / (w**2).sum()
    assert q["effective_base"] == pytest.approx(n_eff) and q["weighted_base"] == pytest.approx(5.5)  # 1 + 2 + 1 + 1 + 0.5
    vg = q["options"][0]
    assert vg["count"] == 2 and vg["weighted_count"] == pytest.approx(1.5)
    share = 1.5 / 5.5
    assert vg["weighted_share"] == pytest.approx(share)
    # Wilson with the effective sample size as n and share * n_eff "successes"
    z = 1.959963984540054
    centre = (share * n_eff + z * z / 2) / (n_eff + z * z)
    half = z * math.sqrt(share * (1 - share) * n_eff + z * z / 4) / (n_eff + z * z)
    assert (vg["weighted_ci_low"], vg["weighted_ci_high"]) == pytest.approx((centre - half, centre + half))
    x = np.asarray([3.0, 1.0, 5.0])
    wv = weights[[0, 1, 2]]
    assert result["questions"]["visits"]["weighted_mean"] == pytest.approx(np.dot(wv, x) / wv.sum())


def test_publish_withholds_small_bases_and_hides_comments() -> None:
    result = collate(DEFINITION, ANSWERS, publish=True)["questions"]
    overall = result["overall"]
    assert overall["withheld"] is True
    assert all(o["count"] is None and o["share"] is None for o in overall["options"])
    assert result["why"]["comments"] is None


def _big_answers(counts: dict[str, int]) -> list[dict]:
    return [{"overall": code} for code, k in counts.items() for _ in range(k)] + [{"sex": "m"}] * 12


def test_publish_stars_small_counts_with_secondary_suppression() -> None:
    q = collate(DEFINITION, _big_answers({"vg": 40, "g": 30, "n": 3, "p": 12, "vp": 0}), publish=True)["questions"]["overall"]
    assert q["withheld"] is False and q["base"] == 85 and q["skipped"] == 12
    published = {o["code"]: o["count"] for o in q["options"]}
    # n=3 is starred; alone it equals 85-40-30-12, so the next smallest non-zero (p=12) is starred too.
    assert published == {"vg": 40, "g": 30, "n": STAR, "p": STAR, "vp": 0}
    assert q["options"][2]["share"] is None and q["options"][3]["ci_low"] is None
    assert q["top_box"]["count"] == 70  # the top box holds no starred count


def test_top_box_with_a_starred_count_is_withheld() -> None:
    q = collate(DEFINITION, _big_answers({"vg": 40, "g": 2, "n": 5, "p": 12, "vp": 0}), publish=True)["questions"]["overall"]
    assert q["top_box"]["count"] is None and q["top_box"]["withheld"] is True


def _recoverable(published: list, counts: list[int], total: int) -> bool:
    hidden = [i for i, p in enumerate(published) if p == STAR]
    if not hidden:
        return False
    rest = total - sum(p for p in published if p != STAR)
    # every hidden count is at least 1 (zeros are shown); values for cell i range over [1, rest - h + 1]
    return len(hidden) == 1 or rest == len(hidden)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=2, max_size=8), st.integers(min_value=2, max_value=10))
def test_no_starred_count_can_be_recovered(counts: list[int], star_below: int) -> None:
    published, ok = suppress_counts(counts, star_below)
    total = sum(counts)
    for c, p in zip(counts, published):
        if 0 < c < star_below:
            assert p == STAR
        if p != STAR:
            assert p == c
    if ok:
        assert not _recoverable(published, counts, total)
        # brute force: every hidden count can take at least two values consistent with the total
        hidden = [i for i, p in enumerate(published) if p == STAR]
        rest = total - sum(p for p in published if p != STAR)
        for i in hidden:
            possible = {v for v in range(1, rest + 1) if rest - v >= len(hidden) - 1}
            assert len(possible) >= 2
    else:
        # the only way to fail: every non-zero count starred and still pinned down
        assert all(p == STAR for c, p in zip(counts, published) if c > 0)


def test_suppress_table_rows_and_columns() -> None:
    table = [[20, 3, 30], [25, 15, 40], [30, 22, 50]]
    hidden, ok = suppress_table(table, 8)
    assert ok
    for row in hidden:
        assert sum(row) != 1
    for c in range(3):
        assert sum(hidden[r][c] for r in range(3)) != 1
    assert hidden[0][1]


def test_crosstab_by_demographic() -> None:
    result = crosstab(DEFINITION, ANSWERS, "overall", "sex")
    groups = {g["group"]: g["result"] for g in result["groups"]}
    assert {o["code"]: o["count"] for o in groups["f"]["options"]} == {"vg": 2, "g": 1, "n": 0, "p": 0, "vp": 0}
    assert {o["code"]: o["count"] for o in groups["m"]["options"]}["p"] == 1 and groups["m"]["skipped"] == 1
    assert groups[None]["base"] == 1
    published = crosstab(DEFINITION, ANSWERS, "overall", "sex", publish=True)
    assert all(g["result"]["withheld"] for g in published["groups"])


def test_crosstab_refuses_a_non_choice_breakdown() -> None:
    from prg.errors import InvalidInput

    with pytest.raises(InvalidInput):
        crosstab(DEFINITION, ANSWERS, "overall", "visits")


def test_empty_answers() -> None:
    result = collate(DEFINITION, [])
    assert result["respondents"] == 0
    assert result["questions"]["overall"]["base"] == 0
    assert result["questions"]["visits"]["mean"] is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=30), min_size=3, max_size=3), min_size=2, max_size=5))
def test_suppress_table_never_leaves_a_lone_hidden_cell(table: list[list[int]]) -> None:
    hidden, ok = suppress_table(table, 8)
    for r, row in enumerate(table):
        for c, v in enumerate(row):
            if 0 < v < 8:
                assert hidden[r][c]
    if ok:
        for r, row in enumerate(hidden):
            values = [v for v, h in zip(table[r], row) if h]
            assert len(values) != 1 and not (values and sum(values) == len(values))
        for c in range(3):
            col = [table[r][c] for r in range(len(table)) if hidden[r][c]]
            assert len(col) != 1 and not (col and sum(col) == len(col))


def test_published_number_hides_extremes() -> None:
    answers = [{"visits": v} for v in range(20)]
    q = collate(DEFINITION, answers, publish=True)["questions"]["visits"]
    assert q["withheld"] is False and q["mean"] == pytest.approx(9.5)
    assert q["min"] is None and q["max"] is None and q["median"] == pytest.approx(9.5)


def test_skip_logic_on_a_multiple_choice_dependency() -> None:
    definition = load_definition({"title": {"en": "T"}, "sections": [{"id": "s", "questions": [
        {"type": "multiple_choice", "id": "used", "label": {"en": "Used"}, "options": _options("phone", "web")},
        {"type": "single_choice", "id": "phone_ok", "label": {"en": "OK?"}, "options": _options("yes", "no"),
         "show_if": "selected(used, 'phone')"},
    ]}]})
    answers = [{"used": ["phone"], "phone_ok": "yes"}, {"used": ["phone", "web"]}, {"used": ["web"]}, {}]
    q = collate(definition, answers)["questions"]["phone_ok"]
    assert (q["base"], q["skipped"], q["not_shown"]) == (1, 1, 2)


def _as_categorical(frame: pd.DataFrame, column: str, categories: list[str]) -> pd.DataFrame:
    return frame.assign(**{column: pd.Categorical(frame[column], categories=categories)})


@pytest.mark.parametrize("publish", [False, True])
def test_categorical_answers_give_the_same_results_as_codes(publish: bool) -> None:
    # Results load single-choice answers as pandas categoricals (codes, not strings): every figure must be
    # what the same answers as strings give, whatever the order of the categories, with unused
    # categories, and with skip logic (recommend) depending on a categorical question.
    answers = ANSWERS * 3  # 18 responses, so that publish=True shows some figures
    weights = np.linspace(0.5, 2.0, len(answers))
    plain = pd.DataFrame(answers)
    coded = _as_categorical(plain, "overall", ["vp", "p", "n", "g", "vg", "unused"])
    coded = _as_categorical(coded, "sex", ["m", "f"])
    for w in (None, weights):
        assert collate(DEFINITION, coded, weights=w, publish=publish) == collate(DEFINITION, plain, weights=w,
                                                                                 publish=publish)
    assert crosstab(DEFINITION, coded, "overall", "sex", publish=publish) == crosstab(
        DEFINITION, plain, "overall", "sex", publish=publish)


def test_a_categorical_answer_outside_the_options_counts_as_answered_but_as_no_option() -> None:
    plain = pd.DataFrame([{"overall": "vg"}, {"overall": "zz"}, {}])
    coded = _as_categorical(plain, "overall", ["vg", "zz"])
    expected = collate(DEFINITION, plain)["questions"]["overall"]
    assert collate(DEFINITION, coded)["questions"]["overall"] == expected
    assert expected["base"] == 2 and sum(o["count"] for o in expected["options"]) == 1
