"""The results workbook through HTTP: opened back with openpyxl, its numbers are the results API's."""

from __future__ import annotations

import io
import zipfile

import openpyxl

API = "/api/practices/Y90001/surveys"
FFT = {"type": "single_choice", "id": "fft", "required": True, "label": {"en": "Overall?"}, "top_box": ["good"],
       "options": [{"code": "good", "label": {"en": "Good"}}, {"code": "poor", "label": {"en": "Poor"}}]}
SEX = {"type": "single_choice", "id": "sex", "label": {"en": "Are you...?"},
       "options": [{"code": "f", "label": {"en": "Female"}}, {"code": "m", "label": {"en": "Male"}},
                   {"code": "x", "label": {"en": "Prefer not to say"}}],
       "dimension": {"name": "sex", "groups": {"f": "female", "m": "male"}}}
CONTACT = {"type": "multiple_choice", "id": "contact", "label": {"en": "How do you contact us?"},
           "options": [{"code": "phone", "label": {"en": "Phone"}}, {"code": "web", "label": {"en": "=web form"}}]}
COMMENT = {"type": "long_text", "id": "comment", "label": {"en": "Anything else?"}}
DEFINITION = {"title": {"en": "Results workbook test"}, "sections": [{"id": "s", "questions": [FFT, SEX, CONTACT, COMMENT]}]}
RESPONSES = ([{"fft": "good", "sex": "f", "contact": ["phone"]}] * 30 + [{"fft": "poor", "sex": "m", "contact": ["phone", "web"]}] * 10
             + [{"fft": "good", "sex": "x", "comment": "=HYPERLINK(\"http://evil\")"}] * 2)


async def answered_survey(client, manager) -> int:
    survey = (await client.post(API, headers=manager.headers, json={"definition": DEFINITION})).json()
    await client.post(f"{API}/{survey['id']}/publish", headers=manager.headers)
    for answers in RESPONSES:
        sent = await client.post(f"{API}/{survey['id']}/responses", headers=manager.headers, json={"answers": answers})
        assert sent.status_code == 201, sent.text
    return survey["id"]


def summary_rows(sheet) -> dict[tuple[str, str], tuple]:
    """(question id, answer code) -> the row's cells, read as a user reads the Summary sheet."""
    found, question = {}, None
    for row in sheet.iter_rows(min_row=7, values_only=True):
        if row[0] and ":" in str(row[0]) and not row[1]:
            question = str(row[0]).split(":")[0]
        elif row[1]:
            found[(question, row[1])] = row
    return found


async def test_the_workbook_holds_the_apis_numbers_data_and_charts(client, manager):
    survey_id = await answered_survey(client, manager)
    api = (await client.get(f"{API}/{survey_id}/results", headers=manager.headers)).json()
    response = await client.get(f"/api/practices/Y90001/exports/surveys/{survey_id}/results.xlsx", headers=manager.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f"Y90001-survey-{survey_id}-results-" in disposition
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert {"Summary", "Charts", "Data", "Responses", "Comments", "By sex = f"} <= set(book.sheetnames)
    rows = summary_rows(book["Summary"])
    for question in ("fft", "sex", "contact"):
        for option in api["questions"][question]["options"]:
            row = rows[(question, option["code"])]
            assert row[3] == option["count"]
            assert abs(row[4] - option["share"]) < 1e-12
            assert abs(row[5] - option["ci_low"]) < 1e-12 and abs(row[6] - option["ci_high"]) < 1e-12
    assert rows[("fft", "good")][3] == 32
    # Long data: one row per answer; multiple choice gives one row per ticked option.
    data = list(book["Data"].iter_rows(min_row=2, values_only=True))
    assert len(data) == 42 + 42 + 30 + 20 + 2  # fft, sex, contact (1 or 2 each), comments
    wide = list(book["Responses"].iter_rows(values_only=True))
    header = wide[0]
    assert header[4:] == ("fft", "sex", "contact.phone", "contact.web", "comment")
    assert sum(r[header.index("contact.web")] or 0 for r in wide[1:]) == 10
    # Patient text stays text: the comment and the option label that start with "=" are strings.
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    comments = [r[1] for r in book["Comments"].iter_rows(min_row=2, values_only=True)]
    assert comments == ['=HYPERLINK("http://evil")'] * 2
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())


async def test_a_published_workbook_is_suppressed_and_has_no_row_level_data(client, manager):
    survey_id = await answered_survey(client, manager)
    api = (await client.get(f"{API}/{survey_id}/results", headers=manager.headers, params={"publish": "true"})).json()
    response = await client.get(f"/api/practices/Y90001/exports/surveys/{survey_id}/results.xlsx",
                                headers=manager.headers, params={"publish": "true", "by": "fft"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert not {"Data", "Responses", "Comments"} & set(book.sheetnames)
    assert "By fft = good" in book.sheetnames
    rows = summary_rows(book["Summary"])
    for option in api["questions"]["sex"]["options"]:
        assert rows[("sex", option["code"])][3] == option["count"]
    assert rows[("sex", "x")][3] == "*"


async def test_unknown_survey_and_bad_breakdown_are_problems(client, manager):
    missing = await client.get("/api/practices/Y90001/exports/surveys/999/results.xlsx", headers=manager.headers)
    assert missing.status_code == 404
    huge = await client.get("/api/practices/Y90001/exports/surveys/46630983819235745792/results.xlsx",
                            headers=manager.headers)
    assert huge.status_code == 400
    survey_id = await answered_survey(client, manager)
    bad = await client.get(f"/api/practices/Y90001/exports/surveys/{survey_id}/results.xlsx",
                           headers=manager.headers, params={"by": "comment"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "by"


async def test_weighted_figures_sit_beside_the_unweighted_ones(client, manager):
    from tests.helpers import DATA

    nhs = DATA / "nhs-digital" / "gp-reg-pat-prac-quin-age.csv"
    imported = await client.post("/api/practices/Y90001/population/imports/nhs-digital", headers=manager.headers,
                                 files={"file": (nhs.name, nhs.read_bytes(), "text/csv")})
    assert imported.status_code == 201
    survey_id = await answered_survey(client, manager)
    api = (await client.get(f"{API}/{survey_id}/results", headers=manager.headers, params={"weight": "true"})).json()
    response = await client.get(f"/api/practices/Y90001/exports/surveys/{survey_id}/results.xlsx",
                                headers=manager.headers, params={"weight": "true"})
    assert response.status_code == 200, response.text
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["Summary"]
    assert [c.value for c in sheet[6]][7:11] == ["Weighted count", "Weighted share", "Weighted 95% CI low",
                                                 "Weighted 95% CI high"]
    assert abs(sheet["F3"].value - api["weighting"]["design_effect"]) < 1e-12
    assert abs(sheet["H3"].value - api["weighting"]["effective_sample_size"]) < 1e-12
    rows = summary_rows(sheet)
    for option in api["questions"]["fft"]["options"]:
        row = rows[("fft", option["code"])]
        assert row[3] == option["count"] and abs(row[4] - option["share"]) < 1e-12
        assert abs(row[7] - option["weighted_count"]) < 1e-9 and abs(row[8] - option["weighted_share"]) < 1e-12
        assert abs(row[9] - option["weighted_ci_low"]) < 1e-12 and abs(row[10] - option["weighted_ci_high"]) < 1e-12
