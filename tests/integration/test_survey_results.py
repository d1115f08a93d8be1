"""Survey results through HTTP: counts, shares and intervals recomputed independently from the raw
responses; weighting to the practice population from its NHS Digital file; publication suppression."""

from __future__ import annotations

from prg.stats import wilson_interval
from tests.helpers import DATA

API = "/api/practices/Y90001/surveys"
SEX = {"type": "single_choice", "id": "sex", "label": {"en": "Are you...?"},
       "options": [{"code": "f", "label": {"en": "Female"}}, {"code": "m", "label": {"en": "Male"}},
                   {"code": "x", "label": {"en": "Prefer not to say"}}],
       "dimension": {"name": "sex", "groups": {"f": "female", "m": "male"}}}
FFT = {"type": "single_choice", "id": "fft", "required": True, "label": {"en": "Overall?"}, "top_box": ["good"],
       "options": [{"code": "good", "label": {"en": "Good"}}, {"code": "poor", "label": {"en": "Poor"}}]}
DEFINITION = {"title": {"en": "Results test"}, "sections": [{"id": "s", "questions": [FFT, SEX]}]}
# 30 women who liked it, 10 men who did not, 2 who did not say their sex (and liked it).
RESPONSES = [{"fft": "good", "sex": "f"}] * 30 + [{"fft": "poor", "sex": "m"}] * 10 + [{"fft": "good", "sex": "x"}] * 2


async def answered_survey(client, manager) -> int:
    survey = (await client.post(API, headers=manager.headers, json={"definition": DEFINITION})).json()
    await client.post(f"{API}/{survey['id']}/publish", headers=manager.headers)
    for answers in RESPONSES:
        sent = await client.post(f"{API}/{survey['id']}/responses", headers=manager.headers, json={"answers": answers})
        assert sent.status_code == 201
    return survey["id"]


async def test_unweighted_results_match_a_hand_count(client, manager):
    survey_id = await answered_survey(client, manager)
    results = (await client.get(f"{API}/{survey_id}/results", headers=manager.headers)).json()
    assert results["responses"] == 42 and results["weighting"] is None
    fft = {o["code"]: o for o in results["questions"]["fft"]["options"]}
    assert fft["good"]["count"] == 32 and fft["poor"]["count"] == 10
    assert abs(fft["good"]["share"] - 32 / 42) < 1e-12
    low, high = wilson_interval(32, 42)
    assert abs(fft["good"]["ci_low"] - low) < 1e-12 and abs(fft["good"]["ci_high"] - high) < 1e-12


async def test_weighted_to_the_practice_population(client, manager):
    nhs = DATA / "nhs-digital" / "gp-reg-pat-prac-quin-age.csv"
    imported = await client.post("/api/practices/Y90001/population/imports/nhs-digital", headers=manager.headers,
                                 files={"file": (nhs.name, nhs.read_bytes(), "text/csv")})
    assert imported.status_code == 201
    survey_id = await answered_survey(client, manager)
    results = (await client.get(f"{API}/{survey_id}/results", headers=manager.headers,
                                params={"weight": "true"})).json()
    weighting = results["weighting"]
    assert weighting["by"] == ["sex"] and weighting["converged"]
    assert weighting["weighted_respondents"] == 40 and weighting["not_weighted"] == 2
    # Y90001 has 6,451 women and 5,949 men: weighted, the women's share is the population's.
    female_share = 6451 / 12400
    sex = {o["code"]: o for o in results["questions"]["sex"]["options"]}
    assert abs(sex["f"]["weighted_share"] - female_share) < 1e-6
    fft = {o["code"]: o for o in results["questions"]["fft"]["options"]}
    assert abs(fft["good"]["weighted_share"] - female_share) < 1e-6  # every woman said good, every man poor
    assert fft["good"]["share"] == 32 / 42  # the unweighted figure stays beside it
    # Kish: weights w_f = 0.52*40/30 and w_m = 0.48*40/10 for 30 and 10 people.
    w_f, w_m = female_share * 40 / 30, (1 - female_share) * 40 / 10
    n_eff = (30 * w_f + 10 * w_m) ** 2 / (30 * w_f**2 + 10 * w_m**2)
    assert abs(weighting["effective_sample_size"] - n_eff) < 1e-6


async def test_weighting_without_a_population_profile_says_what_to_import(client, manager):
    survey_id = await answered_survey(client, manager)
    response = await client.get(f"{API}/{survey_id}/results", headers=manager.headers, params={"weight": "true"})
    assert response.status_code == 404 and "import" in response.json()["detail"]


async def test_published_results_hide_small_numbers(client, manager):
    survey_id = await answered_survey(client, manager)
    published = (await client.get(f"{API}/{survey_id}/results", headers=manager.headers,
                                  params={"publish": "true"})).json()
    sex = {o["code"]: o for o in published["questions"]["sex"]["options"]}
    assert sex["x"]["count"] == "*"  # 2 people
    assert sex["m"]["count"] != 10 or sex["f"]["count"] == "*"  # and the 2 cannot be worked out from the rest
