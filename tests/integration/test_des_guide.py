"""The participation year through HTTP: scheme years, priorities, meetings, action plan, report, the guide's
statuses and the payment it expects (checked against figures worked out by hand)."""

from __future__ import annotations

from datetime import date, timedelta

from prg.des.tables import ActionItem, Engagement, Priority
from tests.integration.test_des_walkthrough import demo_manager  # noqa: F401 - a fixture

API = "/api/practices/Y90001/years"


def statuses(guide: dict) -> dict[str, str]:
    return {c["key"]: c["status"] for c in guide["components"]}


async def test_years_listed_and_empty_guide(client, manager):
    years = (await client.get(API, headers=manager.headers)).json()
    codes = [y["code"] for y in years]
    assert codes[:5] == ["2011-12", "2012-13", "2013-14", "2014-15", "2015-16"] and codes[-1] >= "2026-27"
    guide = await client.get(f"{API}/2013-14", headers=manager.headers)
    assert guide.status_code == 200, guide.text
    body = guide.json()
    assert [c["status"] for c in body["components"]] == ["missing"] * 6
    assert body["next_step"].startswith("Build the group")
    # No population profile: the list size on the practice's record (12,400) x £1.10.
    assert body["payment"]["list_size"] == 12400 and body["payment"]["maximum"] == 13640.0
    assert body["payment"]["list_size_source"] == "the list size on the practice's record"
    assert body["payment"]["expected"] == 0.0
    assert (await client.get(f"{API}/2010-11", headers=manager.headers)).status_code == 404
    assert (await client.get(f"{API}/2099-00", headers=manager.headers)).status_code == 404
    scheme = (await client.get(f"{API}/2014-15/scheme", headers=manager.headers)).json()
    assert scheme["rate_per_patient"] == 0.35 and scheme["rate_confirmed"] is False


async def test_payment_on_the_demo_practice_and_overrides(client, demo_manager):
    h = demo_manager
    first = (await client.get(f"{API}/2011-12", headers=h)).json()
    assert statuses(first)["prg"] == "done"
    pay = first["payment"]
    # The NHS Digital extract of 1 Oct 2026 is the nearest to 1 April 2011: 12,400 patients.
    assert pay["list_size"] == 12400 and pay["list_size_date"] == "2026-10-01" and "nearest" in pay["list_size_source"]
    assert pay["maximum"] == 13640.0 and pay["expected"] == 2728.0  # 1.10 x 12,400 x 20% (the PRG component)
    assert pay["components_paid"] == ["prg"] and pay["weights_confirmed"] is False

    bad = await client.put(f"{API}/2011-12/override", headers=h, json={"weights": {"prg": 0.7, "survey": 0.5}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "weights"
    none = await client.put(f"{API}/2016-17/override", headers=h, json={"rate_per_patient": 1.0})
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "rate_per_patient"
    assert (await client.get(f"{API}/2011-12/override", headers=h)).status_code == 404
    set_ = await client.put(f"{API}/2011-12/override", headers=h, json={"rate_per_patient": 1.0, "weights": {"prg": 0.5},
                                                                        "note": "PCT letter of May 2011"})
    assert set_.status_code == 200 and set_.json()["weights"] == {"prg": 0.5}
    pay = (await client.get(f"{API}/2011-12", headers=h)).json()["payment"]
    assert (pay["rate_source"], pay["maximum"], pay["expected"]) == ("practice override", 12400.0, 6200.0)
    assert (await client.delete(f"{API}/2011-12/override", headers=h)).status_code == 204

    # 2013-14: the PRG component carries 0%; a priority agreed in the year earns its 20%.
    created = await client.post(f"{API}/2013-14/priorities", headers=h, json={
        "title": "Appointments", "status": "agreed", "agreed_on": "2013-06-01", "agreed_how": "meeting"})
    assert created.status_code == 201, created.text
    third = (await client.get(f"{API}/2013-14", headers=h)).json()
    assert third["payment"]["expected"] == 2728.0 and third["payment"]["components_paid"] == ["priorities"]
    assert (await client.get(f"{API}/2020-21", headers=h)).json()["payment"]["payable"] is False
    # Deleting the evidence takes the payment away again; the priority is only in its own year.
    priority = created.json()["id"]
    assert (await client.delete(f"{API}/2012-13/priorities/{priority}", headers=h)).status_code == 404
    assert (await client.delete(f"{API}/2013-14/priorities/{priority}", headers=h)).status_code == 204
    assert (await client.get(f"{API}/2013-14", headers=h)).json()["payment"]["components_paid"] == []
    audit = (await client.get("/api/practices/Y90001/audit", headers=h)).json()["items"]
    assert (audit[0]["action"], audit[0]["entity"], audit[0]["entity_id"]) == ("des.priority_delete", "priority", priority)


async def test_bad_input_names_the_field_and_changes_nothing(client, manager):
    h = manager.headers
    cases = [
        ("priorities", {"title": "X", "status": "agreed"}, "agreed_on"),
        ("priorities", {"title": "X", "agreed_on": "2013-05-01"}, "status"),
        ("priorities", {"title": "X", "survey_questions": [{"survey_id": 99, "question_id": "q"}]},
         "survey_questions[0].survey_id"),
        ("priorities", {"title": "X", "engagement_id": 5}, "engagement_id"),
        ("meetings", {"held_on": "2015-04-01"}, "held_on"),
        ("meetings", {"held_on": "2013-05-01", "invited": 3, "attended": 5}, "attended"),
        ("action-items", {"finding": "X", "status": "not_acting"}, "not_acting_reason"),
        ("action-items", {"finding": "X", "prg_agreed_how": "meeting"}, "prg_agreed_on"),
        ("action-items", {"finding": "X", "survey_id": 7}, "survey_id"),
        ("action-items", {"finding": "X", "prg_agreed_on": (date.today() + timedelta(days=2)).isoformat()},
         "prg_agreed_on"),
    ]
    for path, body, field in cases:
        response = await client.post(f"{API}/2013-14/{path}", headers=h, json=body)
        assert response.status_code == 422, (path, body, response.text)
        assert response.json()["errors"][0]["field"] == field, (path, body, response.json())
    formula = await client.post(f"{API}/2013-14/action-items", headers=h, json={"finding": "=HYPERLINK(\"x\")"})
    assert formula.status_code == 400
    bad_url = await client.put(f"{API}/2013-14/report", headers=h,
                               json={"published_on": "2014-03-01", "url": "javascript:alert(1)"})
    assert bad_url.status_code == 400
    early = await client.put(f"{API}/2013-14/report", headers=h,
                             json={"published_on": "2013-01-01", "url": "https://example.org/r"})
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "published_on"
    survey = (await client.post("/api/practices/Y90001/surveys/from-bank", headers=h, json={
        "title": {"en": "S"}, "sections": [{"id": "s", "questions": ["fft_2020_experience"]}]})).json()
    no_question = await client.post(f"{API}/2013-14/priorities", headers=h, json={
        "title": "X", "survey_questions": [{"survey_id": survey["id"], "question_id": "nope"}]})
    assert no_question.status_code == 422
    assert no_question.json()["errors"][0]["field"] == "survey_questions[0].question_id"
    assert await Priority.count() == 0 and await Engagement.count() == 0 and await ActionItem.count() == 0
    assert (await client.get(f"{API}/2013-14/report", headers=h)).status_code == 404


async def test_records_statuses_and_the_carried_action_plan(client, manager):
    h = manager.headers
    meeting = (await client.post(f"{API}/2012-13/meetings", headers=h, json={
        "held_on": "2012-09-12", "purpose": "discussion", "title": "Discussion <script>", "attended": 8})).json()
    guide = (await client.get(f"{API}/2012-13", headers=h)).json()
    # A discussion with no survey results in the year is not yet the DES's discussion of the findings.
    assert statuses(guide)["discussion"] == "in_progress"
    assert guide["components"][3]["evidence"][0]["link"].endswith(f"/meetings/{meeting['id']}")
    patched = await client.patch(f"{API}/2012-13/meetings/{meeting['id']}", headers=h, json={"attended": 10})
    assert patched.json()["attended"] == 10
    assert (await client.patch(f"{API}/2013-14/meetings/{meeting['id']}", headers=h, json={"attended": 1})).status_code == 404

    old = (await client.post(f"{API}/2012-13/action-items", headers=h, json={
        "finding": "Phones busy", "proposed_change": "More lines", "status": "in_progress",
        "prg_agreed_on": "2013-02-01", "prg_agreed_how": "meeting"})).json()
    await client.post(f"{API}/2012-13/action-items", headers=h, json={"finding": "Parking", "status": "done"})
    await client.post(f"{API}/2013-14/action-items", headers=h, json={"finding": "Online booking"})
    carried = (await client.get(f"{API}/2013-14/action-items", headers=h, params={"include_previous": True})).json()
    assert [(i["year"], i["finding"]) for i in carried] == [("2012-13", "Phones busy"), ("2013-14", "Online booking")]
    assert statuses((await client.get(f"{API}/2012-13", headers=h)).json())["action_plan"] == "done"
    assert statuses((await client.get(f"{API}/2013-14", headers=h)).json())["action_plan"] == "in_progress"

    signs = await client.post(f"{API}/2012-13/action-items", headers=h, json={
        "finding": "Signs <script>alert(1)</script>", "status": "not_acting", "not_acting_reason": "Listed <b>building</b>",
        "prg_agreed_on": "2013-02-01", "prg_agreed_how": "meeting"})
    page = await client.get(f"{API}/2012-13/you-said-we-did", headers=h, params={"format": "html"})
    assert "Phones busy" in page.text and "More lines" in page.text and "Parking" not in page.text
    assert "Signs &lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert "Listed &lt;b&gt;building&lt;/b&gt;" in page.text

    late = await client.put(f"{API}/2012-13/report", headers=h,
                            json={"published_on": "2013-04-10", "url": "https://example.org/report-2012-13"})
    assert late.status_code == 200
    report = (await client.get(f"{API}/2012-13", headers=h)).json()["components"][5]
    assert report["status"] == "in_progress" and "after the deadline" in report["next_step"]
    await client.put(f"{API}/2012-13/report", headers=h,
                     json={"published_on": "2013-03-28", "url": "https://example.org/report-2012-13"})
    assert statuses((await client.get(f"{API}/2012-13", headers=h)).json())["report"] == "done"
    assert (await client.delete(f"{API}/2012-13/action-items/{old['id']}", headers=h)).status_code == 204
    assert statuses((await client.get(f"{API}/2012-13", headers=h)).json())["action_plan"] == "done"  # signs
    assert (await client.delete(f"{API}/2012-13/action-items/{signs.json()['id']}", headers=h)).status_code == 204
    assert statuses((await client.get(f"{API}/2012-13", headers=h)).json())["action_plan"] == "in_progress"


async def test_2014_15_needs_the_friends_and_family_test(client, manager):
    """Survey evidence in 2014-15 must carry the FFT question: a survey without it does not count."""
    h = manager.headers
    # Responses arrive dated today, so check the rule on the current year's data through the service instead
    # of the calendar: the walk-through covers responses; here the FFT detection on a published survey.
    from prg.accounts.services import practice_access
    from prg.des import guide
    from prg.des.scheme_years import scheme_year, year_code_for
    from prg.des.schemas import SchemeYear
    from surveys.year_evidence import SurveysYearEvidence
    import msgspec

    plain = (await client.post("/api/practices/Y90001/surveys/from-bank", headers=h, json={
        "title": {"en": "Local"}, "sections": [{"id": "s", "questions": ["fft_2020_reason"]}]})).json()
    fft = (await client.post("/api/practices/Y90001/surveys/from-bank", headers=h, json={
        "title": {"en": "FFT"}, "sections": [{"id": "s", "questions": ["fft_2020_experience"]}]})).json()
    for survey in (plain, fft):
        assert (await client.post(f"/api/practices/Y90001/surveys/{survey['id']}/publish", headers=h)).status_code == 200
    access = await practice_access(manager.user_id, "Y90001")
    this_year = scheme_year(year_code_for(date.today()))
    as_2014 = msgspec.structs.replace(scheme_year("2014-15"), starts_on=this_year.starts_on,
                                      ends_on=this_year.ends_on)
    assert isinstance(as_2014, SchemeYear)
    found = await SurveysYearEvidence().surveys_in_year(access.practice_id, as_2014.starts_on, as_2014.ends_on)
    assert {s.id: s.fft for s in found} == {plain["id"]: False, fft["id"]: True}
    status, evidence, _ = await guide._survey_component(access, as_2014, found)
    assert status == "in_progress" and [e.description.startswith("Friends and Family Test") for e in evidence] == [True]
