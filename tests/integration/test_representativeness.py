"""The representativeness check and recruitment targets through HTTP, for every dimension, on Y90001's real-
format files and a register of known members; one report is rebuilt by hand from the raw counts."""

from __future__ import annotations

import csv
import io
import math

import pytest

from tests.helpers import DATA

NHS = DATA / "nhs-digital"
BASE = "/api/practices/Y90001"
CHECK = f"{BASE}/representativeness"
TARGETS = f"{BASE}/recruitment/targets"
EXTRACT_YEAR = 2026  # EXTRACT_DATE 01OCT2026: after the assumed 1 July birthday, age = 2026 - birth year
Z95 = 1.959963984540054  # the 97.5% point of the standard normal

# Sex, year of birth, age band, ethnic category, carer, status: the register imported before each test.
MEMBERS = [
    ("F", 1950, "", "A", "Yes", "Active"), ("F", 1955, "", "A", "No", "Active"), ("F", 1958, "", "A", "No", "Active"),
    ("F", 1960, "", "B", "No", "Active"), ("F", 1962, "", "A", "Yes", "Active"), ("F", 1965, "", "C", "No", "Active"),
    ("F", 1968, "", "H", "No", "Active"), ("F", 1970, "", "A", "", "Active"), ("F", 1975, "", "J", "No", "Active"),
    ("F", 1978, "", "A", "No", "Active"), ("F", 1980, "", "N", "Maybe", "Active"), ("F", 1985, "", "A", "No", "Active"),
    ("F", 1990, "", "Z", "No", "Active"), ("F", 1995, "", "A", "No", "Active"), ("F", 2010, "", "A", "No", "Active"),
    ("F", 2015, "", "A", "No", "Active"), ("M", 1945, "", "A", "No", "Active"), ("M", 1952, "", "A", "Yes", "Active"),
    ("M", 1957, "", "K", "No", "Active"), ("M", 1963, "", "A", "No", "Active"), ("M", 1967, "", "99", "No", "Active"),
    ("M", 1972, "", "A", "No", "Active"), ("M", 1982, "", "M", "No", "Active"), ("M", None, "75+", "A", "No", "Active"),
    ("M", None, "", "A", "No", "Active"), ("M", None, "18-30", "A", "No", "Active"),
    ("Other", 1980, "", "S", "No", "Active"), ("Unknown", 1990, "", "A", "No", "Active"),
    ("F", 1950, "", "A", "Yes", "Left"), ("M", 1990, "", "A", "No", "Invited"),  # not compared: not active
]
ACTIVE = [m for m in MEMBERS if m[5] == "Active"]
DES_CUTS = [16, 25, 35, 45, 55, 65, 75]
DES_LABELS = ["Under 16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]


def register_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["First name", "Surname", "Sex", "Year of birth", "Age band", "Ethnicity", "Carer", "Status"])
    for i, (sex, born, band, ethnic, carer, status) in enumerate(MEMBERS):
        writer.writerow([f"Member{i}", "Example", sex, born or "", band, ethnic, carer, status])
    return out.getvalue().encode()


def raw_single_years() -> dict[str, dict[int, int]]:
    """Y90001's patients by sex and single year (95+ as 95), read from the files as published."""
    out: dict[str, dict[int, int]] = {}
    for sex in ("female", "male"):
        with open(NHS / f"gp-reg-pat-prac-sing-age-{sex}.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["ORG_CODE"] == "Y90001" and row["AGE"] != "ALL":
                    age = 95 if row["AGE"] == "95+" else int(row["AGE"])
                    out.setdefault(sex, {})[age] = int(row["NUMBER_OF_PATIENTS"])
    return out


def band_index(age: int, cuts: list[int]) -> int:
    return sum(1 for cut in cuts if age >= cut)


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z95 ** 2 / (2 * n)) / (1 + Z95 ** 2 / n)
    half = Z95 / (1 + Z95 ** 2 / n) * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@pytest.fixture
async def practice(client, manager):
    """Y90001 with its NHS single-year profile, ethnicity report, a carers profile and the register above."""
    files = [("file", (name, (NHS / name).read_bytes(), "text/csv"))
             for name in ("gp-reg-pat-prac-sing-age-female.csv", "gp-reg-pat-prac-sing-age-male.csv")]
    response = await client.post(f"{BASE}/population/imports/nhs-digital", headers=manager.headers, files=files)
    assert response.status_code == 201, response.text
    report = (DATA / "practice-reports" / "Y90001-ethnicity.csv").read_bytes()
    response = await client.post(f"{BASE}/population/imports/ethnicity", headers=manager.headers,
                                 files={"file": ("Y90001-ethnicity.csv", report, "text/csv")},
                                 data={"extract_date": "2026-10-01"})
    assert response.status_code == 201, response.text
    carers = {"dimension": "custom", "key": "carer", "label": "Carer status", "extract_date": "2026-10-01",
              "counts": [{"group": "Yes", "patients": 1300}, {"group": "No", "patients": 11100}]}
    assert (await client.post(f"{BASE}/population", headers=manager.headers, json=carers)).status_code == 201
    response = await client.post(f"{BASE}/members/import", headers=manager.headers,
                                 files={"file": ("register.csv", register_csv(), "text/csv")})
    assert response.status_code == 201, response.text
    return manager


async def check(client, staff, **params) -> dict:
    response = await client.get(CHECK, headers=staff.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def by_group(report: dict) -> dict[str, dict]:
    return {g["group"]: g for g in report["groups"]}


# ---------------------------------------------------------------------------------------------------------
# One report rebuilt by hand
# ---------------------------------------------------------------------------------------------------------


async def test_the_des_age_report_rebuilt_by_hand_from_the_raw_counts(client, practice):
    report = await check(client, practice, dimension="age", bands="des")

    raw = raw_single_years()
    population = [0] * 8
    for sex in raw.values():
        for age, n in sex.items():
            population[band_index(age, DES_CUTS)] += n
    members = [0] * 8
    for _, born, band, *_ in ACTIVE:
        if born is not None:
            members[band_index(EXTRACT_YEAR - born, DES_CUTS)] += 1
        elif band == "75+":
            members[7] += 1  # a member who gave only an age band that fits
    pop_total, n = sum(population), sum(members)
    assert (pop_total, n) == (12400, 26)

    assert report["bands"] == "des" and report["profile"]["age_detail"] == "single_year"
    assert (report["population_total"], report["members_total"]) == (pop_total, n)
    assert [g["group"] for g in report["groups"]] == DES_LABELS
    chi_square = 0.0
    for i, group in enumerate(report["groups"]):
        pop_share, member_share = population[i] / pop_total, members[i] / n
        expected = n * pop_share
        low, high = wilson(members[i], n)
        assert (group["population"], group["members"]) == (population[i], members[i])
        assert group["expected"] == pytest.approx(expected, rel=1e-12)
        assert group["population_share"] == pytest.approx(pop_share, rel=1e-12)
        assert group["member_share"] == pytest.approx(member_share, rel=1e-12)
        assert group["difference_pp"] == pytest.approx((member_share - pop_share) * 100, rel=1e-9, abs=1e-12)
        assert group["ratio"] == pytest.approx(member_share / pop_share, rel=1e-12)
        assert (group["ci_low"], group["ci_high"]) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
        assert group["suppressed"] == (0 < members[i] < 10)
        chi_square += (members[i] - expected) ** 2 / expected
    dissimilarity = sum(abs(m / n - p / pop_total) for m, p in zip(members, population)) / 2
    assert report["chi_square"] == pytest.approx(chi_square, rel=1e-9)
    assert report["df"] == 7
    assert report["dissimilarity_index"] == pytest.approx(dissimilarity, rel=1e-12)
    assert report["misplaced_members"] == pytest.approx(dissimilarity * n, rel=1e-12)
    assert report["cohens_w"] == pytest.approx(math.sqrt(chi_square / n), rel=1e-9)
    # 26 members in 8 groups: C(33, 7) = 4,272,048 outcomes, too many to enumerate, so Monte Carlo.
    assert (report["p_value_method"], report["p_value_draws"]) == ("monte_carlo", 100_000)
    assert 1 / 100_001 <= report["p_value"] <= 1
    assert report["confidence"] == 0.95 and report["suppression_threshold"] == 10

    # Nobody dropped: the two members whose age is unknown or fits no band are listed, with the under-16.
    assert {(e["group"], e["members"]) for e in report["not_compared"]} == {("age:none", 1), ("age:band:18-30", 1)}
    assert report["members_under_16"] == 1
    under_16 = population[0] / pop_total
    assert f"People under 16 are {under_16 * 100:.0f}% of patients but fewer than 10 of the group's 26 members." \
        in report["findings"]
    assert "Fewer than 10 members were under 16 on 1 October 2026." in report["findings"]


async def test_sex_with_its_exact_p_value_enumerated_by_hand(client, practice):
    report = await check(client, practice, dimension="sex")
    female = sum(1 for m in ACTIVE if m[0] == "F")
    male = sum(1 for m in ACTIVE if m[0] == "M")
    n = female + male
    p = 6451 / 12400
    groups = by_group(report)
    assert (groups["female"]["members"], groups["male"]["members"]) == (female, male) == (16, 10)
    assert (groups["female"]["population"], groups["male"]["population"]) == (6451, 5949)

    def statistic(x: int) -> float:
        return (x - n * p) ** 2 / (n * p) + ((n - x) - n * (1 - p)) ** 2 / (n * (1 - p))

    observed = statistic(female)
    exact = sum(math.comb(n, x) * p ** x * (1 - p) ** (n - x) for x in range(n + 1)
                if statistic(x) >= observed * (1 - 1e-9))
    assert report["p_value_method"] == "exact" and report["p_value_draws"] is None
    assert report["chi_square"] == pytest.approx(observed, rel=1e-9)
    assert report["p_value"] == pytest.approx(exact, rel=1e-9)
    assert {(e["group"], e["label"], e["population"], e["members"]) for e in report["not_compared"]} == {
        ("sex:other", "Sex recorded as other", None, 1), ("sex:not_known", "Sex not known", None, 1)}


# ---------------------------------------------------------------------------------------------------------
# Every dimension
# ---------------------------------------------------------------------------------------------------------


async def test_age_bands_five_year_template_2014_and_custom_cuts(client, practice):
    five = await check(client, practice, dimension="age", bands="five_year")
    assert len(five["groups"]) == 20 and five["groups"][-1]["group"] == "95+"
    assert five["population_total"] == 12400 and five["members_total"] == 25
    # Neither '75+' nor '18-30' falls inside one 5-year band: both are reported, not guessed.
    assert {e["group"] for e in five["not_compared"]} == {"age:none", "age:band:75+", "age:band:18-30"}

    template = await check(client, practice, dimension="age", bands="template_2014")
    assert [g["group"] for g in template["groups"]][:2] == ["<16", "16-24"]

    custom = await check(client, practice, dimension="age", cuts="16,35,65")
    assert (custom["bands"], custom["cuts"]) == ("custom", [16, 35, 65])
    assert [g["group"] for g in custom["groups"]] == ["0-15", "16-34", "35-64", "65+"]
    raw = raw_single_years()
    population = [0] * 4
    for sex in raw.values():
        for age, n in sex.items():
            population[band_index(age, [16, 35, 65])] += n
    assert [g["population"] for g in custom["groups"]] == population
    # The 18-30 band fits 16-34 here, so only the member with no age is left out.
    assert [g["members"] for g in custom["groups"]] == [1, 3, 15, 8]
    assert [(e["group"], e["members"]) for e in custom["not_compared"]] == [("age:none", 1)]


async def test_age_x_sex(client, practice):
    report = await check(client, practice, dimension="age_x_sex")
    groups = by_group(report)
    assert len(groups) == 16 and report["df"] == 15
    assert groups["female:16-24"]["label"] == "Female aged 16-24"
    assert groups["female:Under 16"]["population"] == sum(n for a, n in raw_single_years()["female"].items() if a < 16)
    assert (groups["female:Under 16"]["members"], groups["male:75+"]["members"], groups["male:16-24"]["members"]) == (1, 2, 0)
    assert report["members_total"] == 24  # 28 active - 2 without a usable age - 1 other - 1 sex not known
    share = groups["male:16-24"]["population_share"]
    assert f"Men aged 16-24 are {share * 100:.0f}% of patients but none of the group's 24 members." in report["findings"]
    labels = {e["group"] for e in report["not_compared"]}
    assert labels == {"sex:other", "sex:not_known", "age:none", "age:band:18-30"}


async def test_ethnicity_at_both_levels(client, practice):
    report = await check(client, practice, dimension="ethnicity")
    groups = by_group(report)
    assert list(groups) == ["A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S"]
    assert report["population_total"] == 12400 - 117 - 744  # shares of patients with a recorded ethnicity
    assert groups["A"]["population"] == 5425 and groups["A"]["label"] == "White - British"
    stated = [m for m in ACTIVE if m[3] not in ("Z", "99")]
    assert report["members_total"] == len(stated) == 26
    assert groups["A"]["members"] == sum(1 for m in stated if m[3] == "A")
    assert groups["A"]["population_share"] == pytest.approx(5425 / 11539)
    not_compared = {e["group"]: e for e in report["not_compared"]}
    assert (not_compared["Z"]["population"], not_compared["Z"]["members"]) == (117, 1)
    assert (not_compared["99"]["population"], not_compared["99"]["members"]) == (744, 1)
    assert any("have not stated their ethnicity" in f for f in report["findings"])

    high = await check(client, practice, dimension="ethnicity", level="high_level")
    groups = by_group(high)
    assert list(groups) == ["white", "mixed", "asian", "black", "other"]
    assert groups["white"]["population"] == 5425 + 235 + 1412
    assert groups["white"]["members"] == sum(1 for m in stated if m[3] in "ABC")
    assert groups["other"]["members"] == 1 and groups["other"]["population"] == 176 + 235  # R and S
    assert high["level"] == "high_level" and high["df"] == 4
    assert high["p_value_method"] == "exact"  # C(30, 4) = 27,405 outcomes


async def test_a_custom_dimension(client, practice):
    report = await check(client, practice, dimension="custom:carer")
    groups = by_group(report)
    assert (groups["Yes"]["population"], groups["No"]["population"]) == (1300, 11100)
    assert (groups["Yes"]["members"], groups["No"]["members"]) == (3, 23)
    assert {(e["group"], e["label"], e["members"]) for e in report["not_compared"]} == {
        ("value:none", "No value recorded for 'carer'", 1), ("value:maybe", "'Maybe' matches no group", 1)}
    assert report["profile"]["label"] == "Carer status"
    assert groups["Yes"]["suppressed"] is True and report["secondary_suppression"] == ["No"]
    # The suppressed count is not given away by its complement in the findings.
    assert not any(" 23 of the group" in f for f in report["findings"])


async def test_the_suppression_threshold_is_a_setting(client, practice, configure):
    configure(suppression_threshold=3)
    report = await check(client, practice, dimension="custom:carer")
    assert report["suppression_threshold"] == 3
    assert by_group(report)["Yes"]["suppressed"] is False and report["secondary_suppression"] == []


async def test_the_latest_profile_is_used_unless_one_is_named(client, practice):
    later = {"dimension": "custom", "key": "carer", "extract_date": "2027-01-01",
             "counts": [{"group": "Yes", "patients": 2000}, {"group": "No", "patients": 10000}]}
    newer = (await client.post(f"{BASE}/population", headers=practice.headers, json=later)).json()
    latest = await check(client, practice, dimension="custom:carer")
    assert latest["profile"]["id"] == newer["id"] and by_group(latest)["Yes"]["population"] == 2000
    older = next(p for p in (await client.get(f"{BASE}/population", headers=practice.headers,
                                              params={"dimension": "custom:carer"})).json()["items"]
                 if p["id"] != newer["id"])
    named = await check(client, practice, dimension="custom:carer", profile=older["id"])
    assert by_group(named)["Yes"]["population"] == 1300


async def test_the_group_as_it_was_on_a_day(client, practice):
    """`as_at` counts who was in the group that day, against the population extract nearest before it."""
    people = [("Before", "2024-05-01", None, "active"), ("After", "2025-06-01", None, "active"),
              ("LeftBefore", "2023-01-01", "2024-12-31", "left"), ("LeftAfter", "2023-01-01", "2025-04-01", "left")]
    for name, joined, left, status in people:
        response = await client.post(f"{BASE}/members", headers=practice.headers, json={
            "first_name": name, "last_name": "Dated", "sex": "female", "joined_on": joined, "left_on": left,
            "status": status})
        assert response.status_code == 201, response.text
    earlier = {"dimension": "custom", "key": "carer", "extract_date": "2024-10-01",
               "counts": [{"group": "Yes", "patients": 900}, {"group": "No", "patients": 9000}]}
    assert (await client.post(f"{BASE}/population", headers=practice.headers, json=earlier)).status_code == 201
    females_today = sum(1 for m in ACTIVE if m[0] == "F") + 2  # Before and After
    today = await check(client, practice, dimension="sex")
    assert today["members_counted"] == "active" and by_group(today)["female"]["members"] == females_today
    # On 31 March 2025: not After (joined later), not LeftBefore; LeftAfter still belonged. The imported
    # register has no dates: its active members and its one member who left (date unknown) count.
    then = await check(client, practice, dimension="sex", as_at="2025-03-31")
    assert then["members_counted"] == "in the group on 2025-03-31"
    assert by_group(then)["female"]["members"] == females_today - 1 + 1 + 1
    # The carers comparison that day uses the extract of October 2024, not the later one.
    carers = await check(client, practice, dimension="custom:carer", as_at="2025-03-31")
    assert carers["profile"]["extract_date"] == "2024-10-01" and by_group(carers)["Yes"]["population"] == 900
    # Before any extract: the earliest there is.
    first = await check(client, practice, dimension="custom:carer", as_at="2020-01-01")
    assert first["profile"]["extract_date"] == "2024-10-01"
    future = await client.get(CHECK, headers=practice.headers, params={"dimension": "sex", "as_at": "2999-01-01"})
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "as_at"


async def test_bands_from_a_five_year_profile(client, practice):
    files = {"file": ("gp-reg-pat-prac-quin-age.csv", (NHS / "gp-reg-pat-prac-quin-age.csv").read_bytes(), "text/csv")}
    five = (await client.post(f"{BASE}/population/imports/nhs-digital", headers=practice.headers, files=files)).json()
    report = await check(client, practice, dimension="age", profile=five["id"], bands="five_year")
    assert report["profile"]["age_detail"] == "five_year" and len(report["groups"]) == 20
    default = await check(client, practice, dimension="age", profile=five["id"])
    assert default["bands"] == "five_year"
    # The DES bands cut at 16, which a 5-year file cannot split.
    response = await client.get(CHECK, headers=practice.headers,
                                params={"dimension": "age", "profile": five["id"], "bands": "des"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "bands"
    # With the same extract date, the single-year profile is the one the age check picks by default.
    assert (await check(client, practice, dimension="age"))["profile"]["age_detail"] == "single_year"


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"dimension": "height"}, 400, "dimension"),
    ({"dimension": "sex", "bands": "des"}, 422, "bands"),
    ({"dimension": "age", "bands": "custom"}, 422, "cuts"),
    ({"dimension": "age", "cuts": "35,16"}, 422, "cuts"),
    ({"dimension": "age", "bands": "des", "cuts": "16"}, 422, "cuts"),
    ({"dimension": "sex", "level": "high_level"}, 422, "level"),
    ({"dimension": "ethnicity", "profile": 1}, 422, "profile"),
])
async def test_bad_options_name_the_parameter(client, practice, params, status, field):
    response = await client.get(CHECK, headers=practice.headers, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(field in (e.get("field") or "") for e in response.json()["errors"]), response.json()


async def test_no_profile_yet_is_404(client, manager):
    response = await client.get(CHECK, headers=manager.headers, params={"dimension": "ethnicity"})
    assert response.status_code == 404 and "import" in response.json()["detail"]


# ---------------------------------------------------------------------------------------------------------
# Recruitment targets
# ---------------------------------------------------------------------------------------------------------


def reachable(population: list[int], members: list[int], total: int, ratio: float) -> bool:
    """Can a group of `total`, keeping every current member, give every group ratio >= `ratio`?"""
    pop_total = sum(population)
    need = [max(c, math.ceil(ratio * p * total / pop_total - 1e-9)) for p, c in zip(population, members)]
    return sum(need) <= total


@pytest.mark.parametrize(("params", "groups"), [
    ({"dimension": "sex"}, 2), ({"dimension": "age", "bands": "des"}, 8), ({"dimension": "age_x_sex"}, 16),
    ({"dimension": "ethnicity", "level": "high_level"}, 5), ({"dimension": "custom:carer"}, 2),
])
async def test_targets_reach_the_threshold_with_the_fewest_members(client, practice, params, groups):
    response = await client.get(TARGETS, headers=practice.headers, params={**params, "min_ratio": 0.8})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["groups"]) == groups
    population = [g["population"] for g in body["groups"]]
    members = [g["members"] for g in body["groups"]]
    after = body["members_total_after"]
    assert after == body["members_total"] + body["total_additional"] == sum(g["members_after"] for g in body["groups"])
    pop_total = sum(population)
    for g in body["groups"]:
        assert g["members_after"] == g["members"] + g["additional_needed"]
        assert g["members_after"] / after >= 0.8 * g["population"] / pop_total - 1e-12
    assert reachable(population, members, after, 0.8)
    assert after == sum(members) or not reachable(population, members, after - 1, 0.8)  # minimal
    assert body["summary"]


async def test_targets_with_acceptance_rates_and_an_upper_bound(client, practice):
    response = await client.get(TARGETS, headers=practice.headers, params=[
        ("dimension", "age_x_sex"), ("min_ratio", "0.8"), ("max_ratio", "1.5"), ("acceptance_rate", "0.1"),
        ("acceptance", "male:16-24=0.05")])
    assert response.status_code == 200, response.text
    body = response.json()
    groups = by_group(body)
    young_men = groups["male:16-24"]
    assert young_men["acceptance_rate"] == 0.05 and young_men["additional_needed"] > 0
    assert young_men["invitations"] == math.ceil(young_men["additional_needed"] / 0.05)
    assert groups["female:16-24"]["invitations"] == math.ceil(groups["female:16-24"]["additional_needed"] / 0.1)
    assert body["total_invitations"] == sum(g["invitations"] for g in body["groups"])
    assert body["over_represented"] == [g["group"] for g in body["groups"] if g["over_represented"]]
    assert body["over_represented"] and all(groups[g]["ratio_after"] > 1.5 for g in body["over_represented"])
    assert any("invitations" in s for s in body["summary"])


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"dimension": "sex", "min_ratio": "1.5"}, 400, "min_ratio"),
    ({"dimension": "sex", "acceptance": "martians=0.1"}, 422, "acceptance"),
    ({"dimension": "sex", "acceptance": "female=2"}, 422, "acceptance"),
    ({"dimension": "sex", "min_ratio": "0.9", "max_ratio": "0.5"}, 422, "max_ratio"),
])
async def test_bad_target_options(client, practice, params, status, field):
    response = await client.get(TARGETS, headers=practice.headers, params=params)
    assert response.status_code == status, response.text
    assert any(field in (e.get("field") or "") for e in response.json()["errors"]), response.json()


# ---------------------------------------------------------------------------------------------------------
# Roles and tenancy
# ---------------------------------------------------------------------------------------------------------


async def test_a_viewer_may_check_and_another_practice_gets_404(client, practice, make_staff, make_practice):
    viewer = await make_staff("Y90001", "viewer")
    assert (await client.get(CHECK, headers=viewer.headers, params={"dimension": "sex"})).status_code == 200
    assert (await client.get(TARGETS, headers=viewer.headers, params={"dimension": "sex"})).status_code == 200
    await make_practice("Y90002")
    other = await make_staff("Y90002", "manager")
    for path in (CHECK, TARGETS):
        response = await client.get(path, headers=other.headers, params={"dimension": "sex"})
        assert response.status_code == 404 and "Y90001" in response.json()["detail"]
    # Y90002's own check cannot reach Y90001's profile by naming it.
    profile = (await check(client, practice, dimension="sex"))["profile"]["id"]
    response = await client.get("/api/practices/Y90002/representativeness", headers=other.headers,
                                params={"dimension": "sex", "profile": profile})
    assert response.status_code == 404
