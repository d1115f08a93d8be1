"""Paper entry through HTTP: the workbook's drop-downs come from the survey, keyed rows come back as
`paper` responses (all or none, each bad row and column named), and a workbook for another survey or
version is refused."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl

API = "/api/practices/Y90001/surveys"
EXPORTS = "/api/practices/Y90001/exports/surveys"
QUESTIONS = [
    {"type": "single_choice", "id": "fft", "required": True, "label": {"en": "Overall, how was it?"},
     "options": [{"code": "good", "label": {"en": "Good"}}, {"code": "poor", "label": {"en": "Poor"}}]},
    {"type": "multiple_choice", "id": "contact", "label": {"en": "How do you contact us?"},
     "options": [{"code": "phone", "label": {"en": "Phone"}}, {"code": "web", "label": {"en": "Website"}}]},
    {"type": "rating_grid", "id": "staff", "label": {"en": "Rate our staff"},
     "rows": [{"id": "gp", "label": {"en": "GPs"}}, {"id": "reception", "label": {"en": "Reception"}}],
     "options": [{"code": "1", "label": {"en": "Bad"}}, {"code": "2", "label": {"en": "OK"}},
                 {"code": "3", "label": {"en": "Great"}}]},
    {"type": "scale_0_10", "id": "recommend", "label": {"en": "Recommend us?"}},
    {"type": "number", "id": "visits", "label": {"en": "Visits this year"}, "min": 0, "max": 50},
    {"type": "date", "id": "last_visit", "label": {"en": "Last visit"}},
    {"type": "long_text", "id": "comment", "label": {"en": "Anything else?"}, "max_length": 200},
]
DEFINITION = {"title": {"en": "Paper test"}, "sections": [{"id": "s", "questions": QUESTIONS}]}


async def published(client, manager, definition=DEFINITION) -> int:
    survey = (await client.post(API, headers=manager.headers, json={"definition": definition})).json()
    assert (await client.post(f"{API}/{survey['id']}/publish", headers=manager.headers)).status_code == 200
    return survey["id"]


async def workbook(client, manager, survey_id: int):
    response = await client.get(f"{EXPORTS}/{survey_id}/paper-entry.xlsx", headers=manager.headers)
    assert response.status_code == 200, response.text
    assert f"Y90001-survey-{survey_id}-v1-paper-entry-" in response.headers["content-disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.content))


def fill(book, rows: list[list]) -> bytes:
    sheet = book["Responses"]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            sheet.cell(r, c).value = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def upload(client, manager, survey_id: int, content: bytes):
    return await client.post(f"{EXPORTS}/{survey_id}/paper-entry.xlsx", headers=manager.headers,
                             files={"file": ("paper.xlsx", content, "application/octet-stream")})


async def test_the_workbook_offers_the_surveys_answers(client, manager):
    survey_id = await published(client, manager)
    book = await workbook(client, manager, survey_id)
    assert book.sheetnames[0] == "Responses" and book["_survey"].sheet_state == "veryHidden"
    header = [c.value for c in book["Responses"][1]]
    assert [h.split(":")[0] for h in header] == ["Questionnaire", "fft", "contact.phone", "contact.web", "staff.gp",
                                                 "staff.reception", "recommend", "visits", "last_visit", "comment"]
    rules = {str(dv.sqref).split(":")[0]: dv for dv in book["Responses"].data_validations.dataValidation}
    lists = book["Lists"]
    fft_range = rules["B2"].formula1.replace("$", "").split("!")[1]
    assert [c.value for row in lists[fft_range] for c in row] == ["Good", "Poor"]
    assert rules["G2"].type == "whole" and (rules["G2"].formula1, rules["G2"].formula2) == ("0", "10")
    assert rules["C2"].formula1 == '"Yes"'


async def test_keyed_questionnaires_become_paper_responses(client, manager):
    survey_id = await published(client, manager)
    book = await workbook(client, manager, survey_id)
    content = fill(book, [
        [1, "Good", "Yes", None, "Great", "OK", 9, 3, datetime(2026, 10, 2), "-1+2 lovely staff"],
        [2, "poor", None, "Yes", "Bad", None, 2, 0, None, None],
        [3, "Good"],
    ])
    response = await upload(client, manager, survey_id, content)
    assert response.status_code == 201, response.text
    assert response.json() == {"survey_id": survey_id, "version": 1, "imported": 3}
    results = (await client.get(f"{API}/{survey_id}/results", headers=manager.headers, params={"mode": "paper"})).json()
    assert results["responses"] == 3
    fft = {o["code"]: o["count"] for o in results["questions"]["fft"]["options"]}
    assert fft == {"good": 2, "poor": 1}
    contact = {o["code"]: o["count"] for o in results["questions"]["contact"]["options"]}
    assert contact == {"phone": 1, "web": 1}
    assert results["questions"]["visits"]["mean"] == 1.5
    assert results["questions"]["comment"]["comments"] == ["-1+2 lovely staff"]
    stored = (await client.get(f"{API}/{survey_id}/responses", headers=manager.headers)).json()
    assert {r["mode"] for r in stored["items"]} == {"paper"}
    assert stored["items"][0]["answers"]["last_visit"] == "2026-10-02"


async def test_one_bad_row_rejects_the_file_and_names_every_problem(client, manager):
    survey_id = await published(client, manager)
    book = await workbook(client, manager, survey_id)
    content = fill(book, [
        [1, "Good"],
        [2, None, "Yes"],  # the required question left blank
        [3, "Maybe"],  # not an answer of the question
        [4, "Good", "perhaps", None, None, None, 11, 51],  # not yes; out of range twice
    ])
    response = await upload(client, manager, survey_id, content)
    assert response.status_code == 422, response.text
    problems = {(e["row"], e["column"]) for e in response.json()["errors"]}
    assert problems == {(3, "B"), (4, "B"), (5, "C"), (5, "G"), (5, "H")}
    results = (await client.get(f"{API}/{survey_id}/results", headers=manager.headers)).json()
    assert results["responses"] == 0


async def test_a_workbook_for_another_survey_or_version_is_refused(client, manager):
    survey_id = await published(client, manager)
    other_id = await published(client, manager)
    content = fill(await workbook(client, manager, other_id), [[1, "Good"]])
    response = await upload(client, manager, survey_id, content)
    assert response.status_code == 409 and "another survey" in response.text
    content = fill(await workbook(client, manager, survey_id), [[1, "Good"]])
    changed = {**DEFINITION, "title": {"en": "Paper test, second edition"}}
    assert (await client.put(f"{API}/{survey_id}/definition", headers=manager.headers, json={"definition": changed})).status_code == 200
    assert (await client.post(f"{API}/{survey_id}/publish", headers=manager.headers)).status_code == 200
    response = await upload(client, manager, survey_id, content)
    assert response.status_code == 409 and "version 1" in response.json()["detail"]
    not_ours = io.BytesIO()
    openpyxl.Workbook().save(not_ours)
    response = await upload(client, manager, survey_id, not_ours.getvalue())
    assert response.status_code == 400
    results = (await client.get(f"{API}/{survey_id}/results", headers=manager.headers)).json()
    assert results["responses"] == 0
