"""The population vocabulary: ethnic categories and their groups, age bands, ages from birth years, sex."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prg.population.dimensions import (
    DEFAULT_GROUPING,
    DES_TEMPLATE,
    ETHNIC_CATEGORIES,
    FIVE_YEAR,
    GROUPING_2001,
    GROUPING_2011,
    HIGH_LEVEL_GROUPS,
    NOT_RECORDED,
    NOT_STATED,
    STATED_CODES,
    TEMPLATE_2014,
    AgeBands,
    age_at,
    band_for_age,
    custom_bands,
    high_level_group,
    parse_ethnic_category,
    parse_five_year_label,
    parse_sex,
    regroup_ethnicity,
    regroup_five_year,
    regroup_single_year,
)

# ---------------------------------------------------------------------------------------------------------
# Ethnic category
# ---------------------------------------------------------------------------------------------------------


def test_codes_and_data_dictionary_labels() -> None:
    assert list(ETHNIC_CATEGORIES) == list("ABCDEFGHJKLMNPRS") + ["Z", "99"]
    assert ETHNIC_CATEGORIES["A"] == "White - British"
    assert ETHNIC_CATEGORIES["L"] == "Asian or Asian British - Any other Asian background"
    assert ETHNIC_CATEGORIES["R"] == "Other Ethnic Groups - Chinese"
    assert ETHNIC_CATEGORIES["Z"] == "Not stated"
    assert NOT_STATED == "Z" and NOT_RECORDED == "99"


def test_high_level_groups_follow_the_2001_data_dictionary_grouping() -> None:
    assert DEFAULT_GROUPING is GROUPING_2001
    by_group: dict[str, list[str]] = {}
    for code in STATED_CODES:
        by_group.setdefault(high_level_group(code), []).append(code)
    assert by_group == {
        "white": ["A", "B", "C"],
        "mixed": ["D", "E", "F", "G"],
        "asian": ["H", "J", "K", "L"],
        "black": ["M", "N", "P"],
        "other": ["R", "S"],  # Chinese under "Other ethnic groups", as its own label says
    }
    assert set(by_group) == set(HIGH_LEVEL_GROUPS)
    assert high_level_group("Z") is None and high_level_group("99") is None


def test_census_2011_grouping_is_available_as_data() -> None:
    assert high_level_group("R", GROUPING_2011) == "asian"
    assert {c: g for c, g in GROUPING_2011.items() if GROUPING_2001[c] != g} == {"R": "asian"}


def test_regroup_ethnicity_keeps_not_stated_and_not_recorded_apart() -> None:
    counts = {"A": 5425, "B": 235, "C": 1412, "R": 176, "S": 235, "H": 824, "Z": 117, "99": 744}
    assert regroup_ethnicity(counts) == {
        "white": 7072, "mixed": 0, "asian": 824, "black": 0, "other": 411, "not_stated": 117, "not_recorded": 744,
    }  # fmt: skip
    assert regroup_ethnicity(counts, GROUPING_2011)["asian"] == 1000


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("A", "A"), ("a", "A"), (" s ", "S"), ("z", "Z"),
        ("White - British", "A"), ("WHITE BRITISH", "A"), ("White British", "A"), ("British", "A"),
        ("White: English, Welsh, Scottish, Northern Irish or British", "A"),
        ("White - Irish", "B"), ("Irish", "B"),
        ("Any other White background", "C"), ("White - Any other White background", "C"), ("Other White", "C"),
        ("Mixed - White & Black Caribbean", "D"), ("White and Black African", "E"), ("Mixed: White and Asian", "F"),
        ("Any other mixed background", "G"),
        ("Asian or Asian British - Indian", "H"), ("Indian", "H"), ("Pakistani", "J"), ("Bangladeshi", "K"),
        ("Other Asian", "L"),
        ("Black Caribbean", "M"), ("Black or Black British: African", "N"), ("Any other Black background", "P"),
        ("Chinese", "R"), ("Other Ethnic Groups - Chinese", "R"),
        ("Any other ethnic group", "S"), ("Arab", "S"),
        ("A - White British", "A"), ("White - Irish (B)", "B"),
        ("Not stated", "Z"), ("NOT STATED", "Z"), ("Declined", "Z"),
        ("99", "99"), (99, "99"), (99.0, "99"), ("not known", "99"), ("Not recorded", "99"), ("", "99"),
        ("   ", "99"), (None, "99"),
    ],
)  # fmt: skip
def test_parse_ethnic_category(value: object, code: str) -> None:
    assert parse_ethnic_category(value) == code


def test_not_stated_and_not_recorded_are_distinct() -> None:
    assert parse_ethnic_category("Not stated") != parse_ethnic_category("Not recorded")


def test_every_label_parses_to_its_code() -> None:
    for code, label in ETHNIC_CATEGORIES.items():
        assert parse_ethnic_category(label) == code
        assert parse_ethnic_category(code.lower()) == code


@pytest.mark.parametrize("value", ["Martian", "Q", "I", "Asian", "A - White Irish", True, "98"])
def test_unrecognised_ethnic_category_raises_a_helpful_error(value: object) -> None:
    with pytest.raises(ValueError) as exc:
        parse_ethnic_category(value)
    assert str(value) in str(exc.value) or "not an ethnic category" in str(exc.value)


def test_code_and_label_that_disagree_say_so() -> None:
    with pytest.raises(ValueError, match="label means B"):
        parse_ethnic_category("A - White Irish")


# ---------------------------------------------------------------------------------------------------------
# Sex
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "sex"), [("FEMALE", "female"), ("f", "female"), ("Male", "male"), ("M", "male")])
def test_parse_sex(value: str, sex: str) -> None:
    assert parse_sex(value) == sex


def test_parse_sex_refuses_all_and_unknown() -> None:
    for value in ("ALL", "x", None):
        with pytest.raises(ValueError):
            parse_sex(value)


# ---------------------------------------------------------------------------------------------------------
# Age bands
# ---------------------------------------------------------------------------------------------------------


def test_five_year_bands() -> None:
    assert len(FIVE_YEAR) == 20
    assert FIVE_YEAR.labels[:3] == ["0-4", "5-9", "10-14"]
    assert FIVE_YEAR.labels[-2:] == ["90-94", "95+"]
    assert AgeBands.FIVE_YEAR is FIVE_YEAR


def test_des_template_puts_16_with_17_to_24_and_says_so() -> None:
    assert DES_TEMPLATE.labels == ["Under 16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
    assert band_for_age(DES_TEMPLATE, 15) == "Under 16"
    assert band_for_age(DES_TEMPLATE, 16) == "16-24"
    assert band_for_age(DES_TEMPLATE, 17) == "16-24"
    assert band_for_age(DES_TEMPLATE, 74) == "65-74"
    assert band_for_age(DES_TEMPLATE, 75) == "75+"
    assert band_for_age(DES_TEMPLATE, 104) == "75+"
    band = DES_TEMPLATE.bands[1]
    assert (band.lower, band.upper, band.published_label) == (16, 24, "17-24")


def test_2014_template_has_the_same_cut_points() -> None:
    assert TEMPLATE_2014.cut_points == DES_TEMPLATE.cut_points == [16, 25, 35, 45, 55, 65, 75]
    assert TEMPLATE_2014.labels[0] == "<16"
    assert AgeBands.TEMPLATE_2014 is TEMPLATE_2014 and AgeBands.DES_TEMPLATE is DES_TEMPLATE


def test_custom_bands() -> None:
    bands = custom_bands([16, 35, 65])
    assert bands.labels == ["0-15", "16-34", "35-64", "65+"]
    assert [(b.lower, b.upper) for b in bands] == [(0, 15), (16, 34), (35, 64), (65, None)]
    assert band_for_age(bands, 34) == "16-34"
    assert custom_bands(bands.cut_points) == bands


@pytest.mark.parametrize("cuts", [[], [35, 16], [16, 16], [-1, 16], [0, 16], [16.5], [True], [121]])
def test_custom_bands_are_validated(cuts: list) -> None:
    with pytest.raises(ValueError):
        custom_bands(cuts)


def test_band_for_age_refuses_negative_and_non_integer_ages() -> None:
    for age in (-1, 3.5, "12"):
        with pytest.raises(ValueError):
            band_for_age(DES_TEMPLATE, age)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# Age from a birth year (birthday assumed 1 July)
# ---------------------------------------------------------------------------------------------------------


def test_age_at_assumes_a_1_july_birthday() -> None:
    assert age_at(1950, date(2026, 10, 1)) == 76  # NHS Digital extract date: after 1 July
    assert age_at(1950, date(2026, 6, 30)) == 75
    assert age_at(1950, date(2026, 7, 1)) == 76
    assert age_at(2010, date(2026, 4, 1)) == 15
    assert age_at(2026, date(2026, 3, 1)) == 0  # born this year, before the assumed birthday: 0, not -1
    assert age_at(2025, date(2026, 3, 1)) == 0


def test_age_at_refuses_a_birth_year_after_the_date() -> None:
    with pytest.raises(ValueError):
        age_at(2027, date(2026, 10, 1))


def test_member_age_falls_in_the_des_band_of_the_extract() -> None:
    extract_date = date(2026, 10, 1)
    assert band_for_age(DES_TEMPLATE, age_at(2010, extract_date)) == "16-24"  # 16 on the extract date
    assert band_for_age(DES_TEMPLATE, age_at(2011, extract_date)) == "Under 16"


# ---------------------------------------------------------------------------------------------------------
# Regrouping
# ---------------------------------------------------------------------------------------------------------


def test_regroup_single_year_into_des_bands() -> None:
    counts = {0: 1, 15: 2, 16: 10, 17: 100, 24: 5, 25: 7, 74: 3, 75: 4, 94: 1, "95+": 6}
    assert regroup_single_year(counts, DES_TEMPLATE) == {
        "Under 16": 3, "16-24": 115, "25-34": 7, "35-44": 0, "45-54": 0, "55-64": 0, "65-74": 3, "75+": 11,
    }  # fmt: skip


def test_regroup_single_year_refuses_splitting_95_plus() -> None:
    with pytest.raises(ValueError, match="95\\+"):
        regroup_single_year({"95+": 3}, custom_bands([16, 100]))
    assert regroup_single_year({"95+": 3, 99: 1}, custom_bands([16, 95])) == {"0-15": 0, "16-94": 0, "95+": 4}


def test_regroup_single_year_refuses_bad_counts() -> None:
    for counts in ({16: -1}, {16: 1.5}, {"x": 1}):
        with pytest.raises(ValueError):
            regroup_single_year(counts, DES_TEMPLATE)  # type: ignore[arg-type]


def test_regroup_five_year_refuses_bands_that_need_single_years() -> None:
    five = {label: 1 for label in FIVE_YEAR.labels}
    with pytest.raises(ValueError, match="starts at 16.*single-year-of-age files"):
        regroup_five_year(five, DES_TEMPLATE)
    with pytest.raises(ValueError, match="single-year"):
        regroup_five_year(five, custom_bands([18, 65]))


def test_regroup_five_year_into_coarser_bands() -> None:
    five = {"0_4": 1, "5_9": 2, "10_14": 3, "15_19": 4, "60-64": 5, "65_69": 6, "90_94": 7, "95+": 8}
    assert regroup_five_year(five, custom_bands([15, 65])) == {"0-14": 6, "15-64": 9, "65+": 21}
    assert regroup_five_year(five, custom_bands([15, 95])) == {"0-14": 6, "15-94": 22, "95+": 8}


def test_parse_five_year_label() -> None:
    assert parse_five_year_label("0_4") == (0, 4)
    assert parse_five_year_label("90-94") == (90, 94)
    assert parse_five_year_label("95+") == (95, None)
    for bad in ("0_5", "3_7", "ALL"):
        with pytest.raises(ValueError):
            parse_five_year_label(bad)


@settings(database=None)  # no example database written into the project tree
@given(
    counts=st.dictionaries(st.integers(0, 94), st.integers(0, 500), max_size=60),
    top=st.integers(0, 50),
    cuts=st.lists(st.integers(1, 19), min_size=1, max_size=6, unique=True),
)
def test_five_year_and_single_year_regrouping_agree(counts: dict[int, int], top: int, cuts: list[int]) -> None:
    """Any bands cut on 5-year boundaries come out the same from either publication, totals preserved."""
    bands = custom_bands(sorted(c * 5 for c in cuts))
    single: dict[int | str, int] = {**counts, "95+": top}
    five: dict[str, int] = {}
    for age, n in counts.items():
        label = FIVE_YEAR.labels[min(age // 5, 19)]
        five[label] = five.get(label, 0) + n
    five["95+"] = top
    from_single = regroup_single_year(single, bands)
    assert from_single == regroup_five_year(five, bands)
    assert sum(from_single.values()) == sum(counts.values()) + top
