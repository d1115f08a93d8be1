"""Survey results through HTTP: counts, shares and intervals recomputed independently from the raw
responses; weighting to the practice population from its NHS Digital file; publication suppression."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from prg.stats.intervals import wilson_interval
from surveys import response_store
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


async def test_filters_breakdowns_comparison_and_redaction(client, manager):
    nhs = DATA / "nhs-digital" / "gp-reg-pat-prac-quin-age.csv"
    await client.post("/api/practices/Y90001/population/imports/nhs-digital", headers=manager.headers,
                      files={"file": (nhs.name, nhs.read_bytes(), "text/csv")})
    definition = {**DEFINITION, "sections": [{"id": "s", "questions": [
        FFT, SEX, {"type": "long_text", "id": "comment", "label": {"en": "Anything else?"}}]}]}
    survey = (await client.post(API, headers=manager.headers, json={"definition": definition})).json()
    url = f"{API}/{survey['id']}"
    await client.post(f"{url}/publish", headers=manager.headers)
    for answers, mode in [({"fft": "good", "sex": "f", "comment": "Ring me on 07700 900123"}, "paper"),
                          ({"fft": "poor", "sex": "m"}, "kiosk"), ({"fft": "good", "sex": "m"}, "kiosk")]:
        sent = await client.post(f"{url}/responses", headers=manager.headers, json={"answers": answers, "mode": mode})
        assert sent.status_code == 201, sent.text

    paper = (await client.get(f"{url}/results", headers=manager.headers, params={"mode": "paper"})).json()
    assert paper["responses"] == 1
    by_sex = (await client.get(f"{url}/results", headers=manager.headers, params={"by": "sex"})).json()
    men = {o["code"]: o["count"] for o in by_sex["breakdown"]["m"]["questions"]["fft"]["options"]}
    assert set(by_sex["breakdown"]) == {"f", "m"} and men == {"good": 1, "poor": 1}
    by_mode = (await client.get(f"{url}/results", headers=manager.headers, params={"by": "mode"})).json()
    assert {k: v["respondents"] for k, v in by_mode["breakdown"].items()} == {"kiosk": 2, "paper": 1}
    bad = await client.get(f"{url}/results", headers=manager.headers, params={"by": "comment"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "by"

    compared = (await client.get(f"{url}/results", headers=manager.headers, params={"compare": "true"})).json()
    rows = {r["group"]: r for r in compared["respondents_vs_population"]["sex"]["rows"]}
    assert (rows["female"]["members"], rows["male"]["members"]) == (1, 2)
    assert rows["female"]["population"] == 6451 and rows["male"]["population"] == 5949

    plain = (await client.get(f"{url}/results", headers=manager.headers)).json()
    redacted = (await client.get(f"{url}/results", headers=manager.headers, params={"redact": "true"})).json()
    assert plain["questions"]["comment"]["comments"] == ["Ring me on 07700 900123"]
    assert redacted["questions"]["comment"]["comments"] == ["Ring me on [phone removed]"]


async def test_change_since_an_earlier_survey_with_newcombes_interval(client, manager):
    from prg.stats.intervals import difference_interval

    earlier = await answered_survey(client, manager)  # good 32 of 42
    later = (await client.post(API, headers=manager.headers, json={"definition": DEFINITION})).json()
    await client.post(f"{API}/{later['id']}/publish", headers=manager.headers)
    for answers in [{"fft": "good"}] * 20 + [{"fft": "poor"}] * 20:
        await client.post(f"{API}/{later['id']}/responses", headers=manager.headers, json={"answers": answers})
    result = (await client.get(f"{API}/{later['id']}/results", headers=manager.headers,
                               params={"compare_with": earlier})).json()
    change = result["changes"]["questions"]["fft"]
    good = next(o for o in change["options"] if o["code"] == "good")
    d, low, high = difference_interval(20, 40, 32, 42)
    assert (good["difference"], good["ci_low"], good["ci_high"]) == (d, low, high)
    assert abs(good["difference"] - (20 / 40 - 32 / 42)) < 1e-12
    assert change["top_box"]["difference"] == d
    other = await client.get(f"{API}/{later['id']}/results", headers=manager.headers, params={"compare_with": 999})
    assert other.status_code == 404


async def test_groups_without_respondents_leave_the_margin_and_thin_ones_merge(client, manager):
    singles = [DATA / "nhs-digital" / f"gp-reg-pat-prac-sing-age-{sex}.csv" for sex in ("female", "male")]
    imported = await client.post("/api/practices/Y90001/population/imports/nhs-digital", headers=manager.headers,
                                 files=[("file", (f.name, f.read_bytes(), "text/csv")) for f in singles])
    assert imported.status_code == 201
    bands = ["Under 16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
    age = {"type": "single_choice", "id": "age", "label": {"en": "Age"},
           "options": [{"code": f"a{i}", "label": {"en": b}} for i, b in enumerate(bands)],
           "dimension": {"name": "age_band", "groups": {f"a{i}": b for i, b in enumerate(bands)}}}
    survey = (await client.post(API, headers=manager.headers, json={"definition": {
        "title": {"en": "Ages"}, "sections": [{"id": "s", "questions": [FFT, age]}]}})).json()
    await client.post(f"{API}/{survey['id']}/publish", headers=manager.headers)
    # Nobody under 16; 3 people aged 16-24 (thin); 20 in each older band.
    answers = [{"fft": "good", "age": "a1"}] * 3 + [{"fft": "good", "age": f"a{i}"} for i in range(2, 8) for _ in range(20)]
    for a in answers:
        await client.post(f"{API}/{survey['id']}/responses", headers=manager.headers, json={"answers": a})
    result = (await client.get(f"{API}/{survey['id']}/results", headers=manager.headers,
                               params={"weight": "true"})).json()
    notes = " ".join(result["weighting"]["notes"])
    assert "no respondents in 'Under 16'" in notes and "16-24" in notes
    assert result["weighting"]["converged"] and result["weighting"]["weighted_respondents"] == 123


CONTACT = {"type": "multiple_choice", "id": "contact", "label": {"en": "How did you contact us?"},
           "options": [{"code": c, "label": {"en": c}} for c in ["phone", "online", "in_person"]]}
RECOMMEND = {"type": "scale_0_10", "id": "recommend", "label": {"en": "Recommend?"}}
VISITS = {"type": "number", "id": "visits", "label": {"en": "Visits"}, "min": 0, "max": 100, "integer": False}
COMMENT = {"type": "long_text", "id": "comment", "label": {"en": "Anything else?"}}
# Text that JSON and PostgreSQL's COPY both escape: backslashes, quotes, line breaks, non-ASCII.
TRICKY = ["Back\\slash and \\n not a newline", 'She said "fine"', "Two\nlines", "Café ñ 😀 — ok", "C:\\\\path\\",
          "Tab\there"]


def _hand_count(stored: list[dict]) -> dict:
    """Every figure the test checks, counted from the stored answers one response at a time."""
    def answered(qid: str) -> list:
        return [a[qid] for a in stored if qid in a]

    numbers = {q: answered(q) for q in ("recommend", "visits")}
    return {
        "fft": {c: answered("fft").count(c) for c in ("good", "poor")},
        "sex": {c: answered("sex").count(c) for c in ("f", "m", "x")},
        "contact": (len(answered("contact")), {c: sum(c in a for a in answered("contact"))
                                                for c in ("phone", "online", "in_person")}),
        "recommend": [numbers["recommend"].count(i) for i in range(11)],
        "means": pytest.approx({q: sum(v) / len(v) for q, v in numbers.items()}, rel=1e-12),
        "comments": sorted(answered("comment")),
    }


def _figures(questions: dict) -> dict:
    return {
        "fft": {o["code"]: o["count"] for o in questions["fft"]["options"]},
        "sex": {o["code"]: o["count"] for o in questions["sex"]["options"]},
        "contact": (questions["contact"]["base"], {o["code"]: o["count"] for o in questions["contact"]["options"]}),
        "recommend": [d["count"] for d in questions["recommend"]["distribution"]],
        "means": {q: questions[q]["mean"] for q in ("recommend", "visits")},
        "comments": sorted(questions["comment"]["comments"]),
    }


async def test_every_kind_of_answer_read_in_small_chunks_matches_a_hand_count(client, manager, monkeypatch):
    # Results read stored answers in chunks straight into columns (codes for single choice); with tiny
    # chunks every boundary case is crossed. The figures are recounted from the stored answers as the
    # API lists them, one response at a time.
    monkeypatch.setattr(response_store, "CHUNK_ROWS", 7)
    monkeypatch.setattr(response_store, "CHUNK_BYTES", 300)
    definition = {**DEFINITION, "sections": [{"id": "s", "questions": [FFT, SEX, CONTACT, RECOMMEND, VISITS, COMMENT]}]}
    survey = (await client.post(API, headers=manager.headers, json={"definition": definition})).json()
    url = f"{API}/{survey['id']}"
    await client.post(f"{url}/publish", headers=manager.headers)
    rng = random.Random(5)
    modes = ["web", "paper", "kiosk"]
    for i in range(45):
        answers: dict = {"fft": rng.choice(["good", "poor"])}
        if rng.random() < 0.8:
            answers["sex"] = rng.choice(["f", "m", "x"])
        if rng.random() < 0.7:
            answers["contact"] = rng.sample(["phone", "online", "in_person"], rng.randint(1, 3))
        if rng.random() < 0.9:
            answers["recommend"] = rng.randint(0, 10)
        if rng.random() < 0.9:
            answers["visits"] = rng.choice([rng.randint(0, 20), round(rng.uniform(0, 20), 2)])
        if rng.random() < 0.5:
            answers["comment"] = rng.choice(TRICKY)
        sent = await client.post(f"{url}/responses", headers=manager.headers,
                                 json={"answers": answers, "mode": modes[i % 3]})
        assert sent.status_code == 201, sent.text
    listed = (await client.get(f"{url}/responses", headers=manager.headers, params={"limit": 1000})).json()
    stored = {r["id"]: r for r in listed["items"]}
    assert len(stored) == 45

    results = (await client.get(f"{url}/results", headers=manager.headers)).json()
    assert results["responses"] == 45
    assert _figures(results["questions"]) == _hand_count([r["answers"] for r in stored.values()])
    assert set(TRICKY) & set(results["questions"]["comment"]["comments"])

    by_mode = (await client.get(f"{url}/results", headers=manager.headers, params={"by": "mode"})).json()
    assert set(by_mode["breakdown"]) == set(modes)
    for mode in modes:
        mine = [r["answers"] for r in stored.values() if r["mode"] == mode]
        assert _figures(by_mode["breakdown"][mode]["questions"]) == _hand_count(mine)
        paper = (await client.get(f"{url}/results", headers=manager.headers, params={"mode": mode})).json()
        assert paper["responses"] == len(mine) and _figures(paper["questions"]) == _hand_count(mine)
    by_language = (await client.get(f"{url}/results", headers=manager.headers, params={"by": "language"})).json()
    assert {k: v["respondents"] for k, v in by_language["breakdown"].items()} == {"en": 45}

    today = date.fromisoformat(next(iter(stored.values()))["submitted_on"])
    for date_from, date_to, expected in [(today, today, 45), (today + timedelta(days=1), None, 0),
                                         (None, today - timedelta(days=1), 0)]:
        params = {k: v.isoformat() for k, v in (("date_from", date_from), ("date_to", date_to)) if v}
        dated = (await client.get(f"{url}/results", headers=manager.headers, params=params)).json()
        assert dated["responses"] == expected


async def test_stored_answers_that_do_not_fit_the_definition_are_still_counted_as_stored(client, manager,
                                                                                        monkeypatch):
    # Answers written by something other than this app: JSON with line breaks and tabs between its
    # parts (valid JSON, escaped by PostgreSQL's COPY) and, later, an answer code the survey does not
    # have, met in the middle of the read (one response per chunk). Every figure stays what the stored
    # answers say: the unknown code is answered but no option.
    from surveys.tables import SurveyResponse, SurveyVersion

    monkeypatch.setattr(response_store, "CHUNK_ROWS", 1)
    monkeypatch.setattr(response_store, "CHUNK_BYTES", 1)

    definition = {**DEFINITION, "sections": [{"id": "s", "questions": [FFT, SEX, COMMENT]}]}
    survey = (await client.post(API, headers=manager.headers, json={"definition": definition})).json()
    url = f"{API}/{survey['id']}"
    await client.post(f"{url}/publish", headers=manager.headers)
    version = await SurveyVersion.select(SurveyVersion.id, SurveyVersion.practice).where(
        SurveyVersion.survey == survey["id"]).first()

    async def store(text: str) -> None:
        await SurveyResponse.insert(SurveyResponse(
            practice=version["practice"], survey=survey["id"], version=version["id"], mode="paper", language="en",
            submitted_on=date.today(), answers=text))

    await store('{\n  "fft": "good",\t"sex": "f",\r\n  "comment": "Line\\none \\"quoted\\" back\\\\slash"\n}')
    await store('{"fft":\t"poor"}')
    first = (await client.get(f"{url}/results", headers=manager.headers)).json()["questions"]
    assert {o["code"]: o["count"] for o in first["fft"]["options"]} == {"good": 1, "poor": 1}
    assert first["sex"]["base"] == 1 and first["comment"]["comments"] == ['Line\none "quoted" back\\slash']

    await store('{"fft": "good", "sex": "zz"}')  # not an option of 'sex'
    await store('{"fft": "poor"}')
    second = (await client.get(f"{url}/results", headers=manager.headers)).json()["questions"]
    assert {o["code"]: o["count"] for o in second["fft"]["options"]} == {"good": 2, "poor": 2}
    assert second["sex"]["base"] == 2 and {o["code"]: o["count"] for o in second["sex"]["options"]} == {
        "f": 1, "m": 0, "x": 0}
    assert second["comment"]["comments"] == ['Line\none "quoted" back\\slash']
