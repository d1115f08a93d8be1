"""Surveys end to end through HTTP: a practice creates and publishes a survey, patients answer it on
the public form (in two languages, without JavaScript), kiosks through the JSON API; single-use links
work once; open links are rate limited; nothing invalid is stored."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from surveys.definition import load_definition
from surveys.tables import SurveyResponse
from tests.data.xlsform.build import xlsform_bytes
from tests.helpers import DATA

API = "/api/practices/Y90001/surveys"
DEFINITION = json.loads((DATA / "surveys" / "two_languages.json").read_text())


async def make_survey(client, manager, **options) -> dict:
    created = await client.post(API, headers=manager.headers, json={"definition": DEFINITION, **options})
    assert created.status_code == 201, created.text
    survey = created.json()
    published = await client.post(f"{API}/{survey['id']}/publish", headers=manager.headers)
    assert published.status_code == 200
    return published.json()


def hidden_fields(html: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html):
        fields.setdefault(name, []).append(value)
    return fields


async def test_draft_is_not_public_and_published_survey_renders(client, manager):
    draft = (await client.post(API, headers=manager.headers, json={"definition": DEFINITION})).json()
    assert draft["status"] == "draft" and draft["draft_version"] == 1
    assert (await client.get(draft["link"])).status_code == 404
    survey = await make_survey(client, manager)
    page = await client.get(survey["link"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="en" dir="ltr">' in page.text
    assert "Overall, how was your experience of our service?" in page.text
    assert "Section 1 of 2" in page.text


async def test_language_from_browser_or_link(client, manager):
    survey = await make_survey(client, manager)
    polish = await client.get(survey["link"], headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert '<html lang="pl"' in polish.text and "Ogólnie rzecz biorąc" in polish.text and "Dalej" in polish.text
    chosen = await client.get(survey["link"], params={"lang": "en"}, headers={"Accept-Language": "pl"})
    assert "Overall, how was" in chosen.text
    fallback = await client.get(survey["link"], headers={"Accept-Language": "de-DE"})
    assert '<html lang="en"' in fallback.text


async def test_patient_answers_two_pages_and_the_response_is_stored(client, manager):
    survey = await make_survey(client, manager)
    missing = await client.post(survey["link"], data={"_page": "0", "_lang": "en", "_action": "next"})
    assert missing.status_code == 422
    assert "There is a problem" in missing.text and 'href="#fft-field"' in missing.text
    page2 = await client.post(survey["link"], data={"_page": "0", "_lang": "en", "_action": "next", "fft": "good",
                                                    "why_poor": "typed before changing my mind",
                                                    "contact": ["phone", "online"]})
    assert page2.status_code == 200 and "Section 2 of 2" in page2.text
    carried = hidden_fields(page2.text)
    assert carried["fft"] == ["good"] and carried["contact"] == ["phone", "online"]
    done = await client.post(survey["link"], data={
        **{k: v for k, v in carried.items()}, "_action": "submit",
        "clinician[listening]": "good", "clinician[time]": "poor", "recommend": "9",
        "visit-day": "3", "visit-month": "11", "visit-year": "2026", "comment": "  Lovely staff  "})
    assert done.status_code == 303 and done.headers["location"].endswith("/thanks?lang=en")
    thanks = await client.get(done.headers["location"])
    assert "Thank you" in thanks.text
    stored = await SurveyResponse.select().output(load_json=True)
    assert len(stored) == 1
    assert stored[0]["answers"] == {"fft": "good", "contact": ["phone", "online"],
                                    "clinician": {"listening": "good", "time": "poor"}, "recommend": 9,
                                    "visit": "2026-11-03", "comment": "Lovely staff"}
    assert stored[0]["mode"] == "web" and stored[0]["submitted_at"] is None


async def test_missing_answer_on_last_page_is_shown_with_escaped_text(client, manager):
    survey = await make_survey(client, manager)
    response = await client.post(survey["link"], data={"_page": "1", "_lang": "en", "_action": "submit",
                                                       "fft": "poor", "why_poor": "<script>alert(1)</script>",
                                                       "clinician[listening]": "good"})
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert 'href="#clinician[time]-field"' in response.text
    assert await SurveyResponse.count() == 0


async def test_honeypot_thanks_the_bot_and_stores_nothing(client, manager):
    survey = await make_survey(client, manager)
    response = await client.post(survey["link"], data={"_action": "submit", "fft": "good", "website": "http://spam",
                                                       "clinician[listening]": "good", "clinician[time]": "good"})
    assert response.status_code == 303
    assert await SurveyResponse.count() == 0


async def test_open_link_is_rate_limited(client, manager, configure):
    configure(survey_submissions_per_hour=2)
    survey = await make_survey(client, manager)
    answers = {"_action": "submit", "_page": "1", "fft": "good", "clinician[listening]": "good",
               "clinician[time]": "good"}
    statuses = [(await client.post(survey["link"], data=answers)).status_code for _ in range(3)]
    assert statuses == [303, 303, 429]
    assert await SurveyResponse.count() == 2


async def test_single_use_links_work_once(client, manager):
    survey = await make_survey(client, manager, access="invitation", anonymous=True)
    sheet = await client.post(f"{API}/{survey['id']}/invitations", headers=manager.headers,
                              json={"channel": "sms", "count": 3})
    assert sheet.status_code == 201 and sheet.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert len(rows) == 3 and all(len(r["code"]) >= 22 for r in rows)  # 128 bits
    assert (await client.get(survey["link"])).status_code == 403  # no link, no form
    link = rows[0]["link"].replace("https://testserver.local", "")
    token = rows[0]["code"]
    assert (await client.get(link)).status_code == 200
    answers = {"_action": "submit", "_page": "1", "_t": token, "fft": "good", "clinician[listening]": "good",
               "clinician[time]": "good"}
    assert (await client.post(survey["link"], data=answers)).status_code == 303
    replay = await client.post(survey["link"], data=answers)
    assert replay.status_code == 409 and "already been sent" in replay.text
    assert (await client.get(link)).status_code == 409
    assert await SurveyResponse.count() == 1
    wrong = await client.get(survey["link"], params={"t": "not-a-real-token-at-all"})
    assert wrong.status_code == 404


async def test_save_and_resume(client, manager):
    survey = await make_survey(client, manager)
    saved = await client.post(survey["link"], data={"_page": "0", "_lang": "en", "_action": "save", "fft": "poor",
                                                    "why_poor": "the wait"})
    assert saved.status_code == 200 and "Your answers are saved" in saved.text
    link = re.search(r'href="https://testserver.local(/s/[^"]+)"', saved.text).group(1).replace("&amp;", "&")
    resumed = await client.get(link)
    assert resumed.status_code == 200 and 'value="poor" checked' in resumed.text and "the wait" in resumed.text


async def test_kiosk_json_api_validates_like_the_form(client, manager):
    survey = await make_survey(client, manager)
    url = f"{API}/{survey['id']}/responses"
    bad = await client.post(url, headers=manager.headers, json={"answers": {"fft": "splendid"}})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"fft", "clinician[listening]", "clinician[time]"}
    hidden = await client.post(url, headers=manager.headers, json={"answers": {
        "fft": "good", "why_poor": "x", "clinician": {"listening": "good", "time": "good"}}})
    assert hidden.status_code == 422 and hidden.json()["errors"][0]["field"] == "why_poor"
    good = await client.post(url, headers=manager.headers, json={"answers": {
        "fft": "very_good", "clinician": {"listening": "good", "time": "good"}}, "language": "pl"})
    assert good.status_code == 201
    listed = (await client.get(url, headers=manager.headers)).json()
    assert listed["total"] == 1 and listed["items"][0]["mode"] == "kiosk" and listed["items"][0]["language"] == "pl"
    response_id = listed["items"][0]["id"]
    assert (await client.delete(f"{url}/{response_id}", headers=manager.headers)).status_code == 204
    assert await SurveyResponse.count() == 0
    audit = (await client.get("/api/practices/Y90001/audit", headers=manager.headers)).json()["items"]
    assert audit[0]["action"] == "survey.response_delete"


async def test_editing_a_published_survey_makes_a_new_version(client, manager):
    survey = await make_survey(client, manager)
    await client.post(f"{API}/{survey['id']}/responses", headers=manager.headers, json={"answers": {
        "fft": "good", "clinician": {"listening": "good", "time": "good"}}})
    changed = {**DEFINITION, "title": {"en": "Changed", "pl": "Zmieniona"}}
    edited = await client.put(f"{API}/{survey['id']}/definition", headers=manager.headers, json={"definition": changed})
    assert edited.json()["draft_version"] == 2 and edited.json()["published_version"] == 1
    v1 = (await client.get(f"{API}/{survey['id']}/definition", headers=manager.headers, params={"version": 1})).json()
    assert v1["definition"]["title"]["en"] == DEFINITION["title"]["en"]
    assert (await client.post(f"{API}/{survey['id']}/publish", headers=manager.headers)).json()["published_version"] == 2
    assert (await client.get(f"{API}/{survey['id']}/responses", headers=manager.headers)).json()["items"][0]["version"] == 1


async def test_bad_definitions_are_refused_naming_the_field(client, manager):
    broken = json.loads(json.dumps(DEFINITION))
    broken["sections"][0]["questions"][1]["show_if"] = "nonexistent = 'x'"
    response = await client.post(API, headers=manager.headers, json={"definition": broken})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("definition.sections[0].questions[1]")
    wrong_type = await client.post(API, headers=manager.headers, json={"definition": {"title": 5}})
    assert wrong_type.status_code == 400


async def test_closed_survey_says_so(client, manager):
    survey = await make_survey(client, manager)
    await client.post(f"{API}/{survey['id']}/close", headers=manager.headers)
    from surveys.services import published_surveys

    published_surveys.forget(survey["public_id"])
    page = await client.get(survey["link"])
    assert page.status_code == 410 and "This survey has closed" in page.text


@pytest.mark.parametrize("path", ["/s/unknown", "/s/" + "x" * 200])
async def test_unknown_survey_is_a_polite_404(client, path):
    page = await client.get(path)
    assert page.status_code == 404 and "We cannot find this survey" in page.text


async def test_survey_from_the_question_bank_in_two_languages(client, manager):
    bank = (await client.get(f"{API}/bank", headers=manager.headers, params={"collection": "fft", "lang": "pl"})).json()
    assert bank and all(q["collection"] == "fft" for q in bank)
    ids = [q["id"] for q in bank if q["id"].startswith("fft_2020")]
    created = await client.post(f"{API}/from-bank", headers=manager.headers, json={
        "title": {"en": "Friends and Family Test", "pl": "Test Przyjaciół i Rodziny"},
        "sections": [{"id": "fft", "questions": ids}], "languages": ["en", "pl"]})
    assert created.status_code == 201, created.text
    survey = created.json()
    await client.post(f"{API}/{survey['id']}/publish", headers=manager.headers)
    page = await client.get(survey["link"], params={"lang": "pl"})
    assert page.status_code == 200 and "Ogólnie" in page.text
    unknown = await client.post(f"{API}/from-bank", headers=manager.headers, json={
        "title": {"en": "X"}, "sections": [{"id": "s", "questions": ["no_such_question"]}]})
    assert unknown.status_code == 404


async def test_xlsform_round_trip_through_http(client, manager):
    survey = await make_survey(client, manager)
    exported = await client.get(f"{API}/{survey['id']}/xlsform", headers=manager.headers)
    assert exported.status_code == 200 and exported.content[:2] == b"PK"
    assert 'filename="Y90001-survey-' in exported.headers["content-disposition"]
    imported = await client.post(f"{API}/xlsform", headers=manager.headers,
                                 files={"file": ("form.xlsx", exported.content, "application/octet-stream")})
    assert imported.status_code == 201, imported.text
    again = (await client.get(f"{API}/{imported.json()['id']}/definition", headers=manager.headers)).json()
    original = (await client.get(f"{API}/{survey['id']}/definition", headers=manager.headers)).json()
    assert load_definition(again["definition"]) == load_definition(original["definition"])


async def test_unsupported_xlsform_names_the_row(client, manager):
    content = (DATA / "xlsform" / "unsupported_repeat.xlsx").read_bytes()
    response = await client.post(f"{API}/xlsform", headers=manager.headers,
                                 files={"file": ("form.xlsx", content, "application/octet-stream")})
    assert response.status_code == 422
    assert any("repeat" in e["message"].lower() for e in response.json()["errors"])
    assert (await client.get(API, headers=manager.headers)).json() == []


async def test_oversized_submission_is_refused_before_reading(client, manager, configure):
    configure(max_upload_bytes=10_000)
    from prg.app import create_app
    from litestar.testing import AsyncTestClient

    survey = await make_survey(client, manager)
    async with AsyncTestClient(create_app(pool=False), base_url="https://testserver.local") as small:
        response = await small.post(survey["link"], data={"fft": "good", "comment": "x" * 200_000})
    assert response.status_code == 413
    assert await SurveyResponse.count() == 0


async def test_xlsform_import_returns_its_report_and_stores_it_with_the_draft(client, manager):
    content = (DATA / "xlsform" / "kobo_fft_translated.xlsx").read_bytes()
    response = await client.post(f"{API}/xlsform", headers=manager.headers,
                                 files={"file": ("fft.xlsx", content, "application/octet-stream")})
    assert response.status_code == 201, response.text
    created = response.json()
    report = created["import_report"]
    assert {"kind": "left_out", "sheet": "survey", "column": "type", "rows": [2], "row_count": 1,
            "message": "start: metadata is not recorded: the product keeps the day a response arrives and nothing "
                       "about the device or the person"} in report
    assert any(e.get("column") == "$kuid" and e["row_count"] == 22 for e in report)
    stored = (await client.get(f"{API}/{created['id']}/definition", headers=manager.headers)).json()
    assert stored["import_report"] == report
    bank = (await client.post(API, headers=manager.headers, json={"definition": DEFINITION})).json()
    assert (await client.get(f"{API}/{bank['id']}/definition", headers=manager.headers)).json()["import_report"] is None


async def test_the_public_form_honours_what_an_xlsform_asks_for(client, manager):
    """Answers shown back in text, cascading choices, notes with conditions, defaults, a range as a row of
    choices and a calculation feeding a condition: imported from XLSForm, shown and checked on the web form."""
    content = xlsform_bytes(
        [["type", "name", "label", "relevant", "choice_filter", "default", "parameters", "calculation"],
         ["begin_group", "where", "Where", None, None, None, None, None],
         ["select_one sites", "site", "Which surgery?", None, None, "north", None, None],
         ["range", "pain", "Pain today", None, None, None, "start=1 end=5 step=1", None],
         ["end_group", None, None, None, None, None, None, None],
         ["calculate", "doubled", None, None, None, None, None, "${pain} * 2"],
         ["begin_group", "who", "Who", None, None, None, None, None],
         ["select_one clinicians", "clinician", "At ${site}, who did you see?", None, "site=${site}", None, None, None],
         ["note", "ouch", "Sorry it hurts (${doubled}).", "${doubled} >= 8", None, None, None, None],
         ["text", "why", "Anything else?", None, None, None, None, None],
         ["end_group", None, None, None, None, None, None, None]],
        [["list_name", "name", "label", "site"], ["sites", "north", "North Street", None],
         ["sites", "south", "South Road", None], ["clinicians", "ahmed", "Dr Ahmed", "north"],
         ["clinicians", "clark", "Nurse Clark", "south"]],
        [["form_title"], ["Your visit"]],
    )  # fmt: skip
    created = await client.post(f"{API}/xlsform", headers=manager.headers,
                                files={"file": ("visit.xlsx", content, "application/octet-stream")})
    assert created.status_code == 201, created.text
    survey = (await client.post(f"{API}/{created.json()['id']}/publish", headers=manager.headers)).json()
    first = await client.get(survey["link"])
    assert 'value="north" checked' in first.text  # the default, filled in
    assert [v for v in re.findall(r'name="pain" value="([^"]+)"', first.text)] == ["1", "2", "3", "4", "5"]
    second = await client.post(survey["link"], data={"_page": "0", "_lang": "en", "_action": "next",
                                                     "site": "south", "pain": "4"})
    assert second.status_code == 200, second.text
    assert "At South Road, who did you see?" in second.text
    assert "Nurse Clark" in second.text and "Dr Ahmed" not in second.text
    assert "Sorry it hurts (8)." in second.text
    calm = await client.post(survey["link"], data={"_page": "0", "_lang": "en", "_action": "next",
                                                   "site": "south", "pain": "2"})
    assert "Sorry it hurts" not in calm.text
    refused = await client.post(survey["link"], data={"_page": "1", "_lang": "en", "_action": "submit",
                                                      "site": "south", "pain": "4", "clinician": "ahmed"})
    assert refused.status_code == 422 and "Select one of the answers given" in refused.text
    done = await client.post(survey["link"], data={"_page": "1", "_lang": "en", "_action": "submit",
                                                   "site": "south", "pain": "4", "clinician": "clark"})
    assert done.status_code == 303
    stored = await SurveyResponse.select(SurveyResponse.answers).output(load_json=True)
    assert stored[0]["answers"] == {"site": "south", "pain": 4, "clinician": "clark"}
