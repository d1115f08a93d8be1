"""The Local Patient Participation Report and the achievement report through HTTP: sections filled from
the data (numbers equal the APIs'), sections without data flagged missing, staff text escaped."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
from docx import Document

from surveys.tables import SurveyResponse
from tests.helpers import DATA

BASE = "/api/practices/Y90001"
NHS = DATA / "nhs-digital"
HOSTILE = '<script>alert("x")</script> & "quotes"'
FFT = {"type": "single_choice", "id": "fft", "required": True, "label": {"en": "Overall, how was our service?"},
       "options": [{"code": "good", "label": {"en": "Good"}}, {"code": "poor", "label": {"en": "Poor"}}]}


async def full_year(client, manager) -> int:
    """2012-13 with a population, 24 members, hours, a priority, a meeting, actions and a survey."""
    files = [("file", (name, (NHS / name).read_bytes(), "text/csv"))
             for name in ("gp-reg-pat-prac-sing-age-female.csv", "gp-reg-pat-prac-sing-age-male.csv")]
    assert (await client.post(f"{BASE}/population/imports/nhs-digital", headers=manager.headers, files=files)).status_code == 201
    for i in range(24):
        member = {"first_name": f"M{i}", "last_name": "Member", "sex": "female" if i % 3 else "male",
                  "birth_year": 1940 + i * 2, "joined_on": "2012-06-01", "recruitment_channel": "letter",
                  "participation": "virtual" if i % 2 else "core"}
        assert (await client.post(f"{BASE}/members", headers=manager.headers, json=member)).status_code == 201
    patch = {"opening_hours": f"Monday to Friday 8:00 to 18:30. Phone 01234 567890. {HOSTILE}",
             "extended_hours": [{"clinician": "GP", "times": "Tuesday 18:30 to 20:00"},
                                {"clinician": "Practice nurse", "times": "Saturday 9:00 to 11:00"}],
             "website": "https://www.example-surgery.nhs.uk"}
    response = await client.patch(BASE, headers=manager.headers, json=patch)
    assert response.status_code == 200, response.text
    year = f"{BASE}/years/2012-13"
    response = await client.post(f"{year}/priorities", headers=manager.headers, json={
        "title": f"Telephone access {HOSTILE}", "proposed_by": "prg", "status": "agreed", "agreed_on": "2012-07-10",
        "agreed_how": "meeting"})
    assert response.status_code == 201, response.text
    response = await client.post(f"{year}/meetings", headers=manager.headers, json={
        "held_on": "2013-01-15", "purpose": "discussion", "title": "Survey results meeting", "invited": 24,
        "attended": 11, "decisions": "Agreed to add phone lines"})
    assert response.status_code == 201, response.text
    for item in ({"finding": "Hard to get through by phone", "proposed_change": "Two more lines at 8am",
                  "owner": "Practice manager", "due_on": "2013-06-30", "status": "agreed", "prg_agreed_on": "2013-01-15",
                  "prg_agreed_how": "meeting"},
                 {"finding": "Wants Sunday opening", "status": "not_acting",
                  "not_acting_reason": "Not funded by the commissioner"}):
        response = await client.post(f"{year}/action-items", headers=manager.headers, json=item)
        assert response.status_code == 201, response.text
    survey = (await client.post(f"{BASE}/surveys", headers=manager.headers,
                                json={"definition": {"title": {"en": "Access survey 2012"},
                                                     "sections": [{"id": "s", "questions": [FFT]}]}})).json()
    await client.post(f"{BASE}/surveys/{survey['id']}/publish", headers=manager.headers)
    for answer in ["good"] * 40 + ["poor"] * 12:
        sent = await client.post(f"{BASE}/surveys/{survey['id']}/responses", headers=manager.headers,
                                 json={"answers": {"fft": answer}, "mode": "paper"})
        assert sent.status_code == 201, sent.text
    # The responses arrived in the scheme year (the API dates them today).
    await SurveyResponse.update({SurveyResponse.submitted_on: date(2012, 11, 5)}, force=True)
    return survey["id"]


async def test_an_empty_year_flags_every_section_missing(client, manager):
    response = await client.get(f"{BASE}/exports/participation-report.html", headers=manager.headers,
                                params={"year": "2012-13"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "Y90001-participation-report-2012-13-" in response.headers["content-disposition"]
    page = response.text
    assert page.count('<p class="missing"><strong>Missing:</strong>') == 10
    assert "10 sections still missing" in page
    docx = await client.get(f"{BASE}/exports/participation-report.docx", headers=manager.headers,
                            params={"year": "2012-13"})
    assert docx.status_code == 200
    assert docx.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessing")
    document = Document(io.BytesIO(docx.content))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert len(headings) == 10 and headings[0] == "The profile of the PRG's members"
    assert sum(p.text.startswith("Missing:") for p in document.paragraphs) == 10


async def test_a_full_year_is_filled_from_the_data(client, manager):
    survey_id = await full_year(client, manager)
    late = {"first_name": "Late", "last_name": "Joiner", "sex": "female", "birth_year": 1990, "joined_on": "2013-05-01"}
    assert (await client.post(f"{BASE}/members", headers=manager.headers, json=late)).status_code == 201
    response = await client.get(f"{BASE}/exports/participation-report.html", headers=manager.headers,
                                params={"year": "2012-13"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"  # once, not twice
    page = response.text
    assert "Missing:" not in page, page[page.find("Missing:") - 300:page.find("Missing:") + 200]
    # Staff text is escaped, never markup.
    assert "<script>" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    # The profile table: the representativeness API's groups for the group at the year's end (not the member
    # who joined after it), small counts suppressed.
    assert "On 31 March 2013 the group had 24 members: 12 meet in person, 12 take part virtually" in page
    api = (await client.get(f"{BASE}/representativeness", headers=manager.headers,
                            params={"dimension": "age", "bands": "des", "as_at": "2013-03-31"})).json()
    assert api["members_total"] == 24
    for group in api["groups"]:
        shown = str(group["members"]) if group["members"] >= 10 or group["members"] == 0 else "fewer than 10"
        assert f'<th scope="row">{group["label"]}</th><td>{round(group["population_share"] * 100)}%</td><td>{shown}</td>' in page
    # Survey evidence: the published results API's numbers for the year.
    results = (await client.get(f"{BASE}/surveys/{survey_id}/results", headers=manager.headers,
                                params={"publish": "true", "date_from": "2012-04-01", "date_to": "2013-03-31"})).json()
    good = next(o for o in results["questions"]["fft"]["options"] if o["code"] == "good")
    assert good["count"] == 40
    assert f'<th scope="row">Good</th><td>40</td><td>{round(good["share"] * 100)}%</td>' in page
    assert "52 patients answered: 52 on paper" in page
    assert "Not funded by the commissioner" in page and "Tuesday 18:30 to 20:00" in page
    assert page.count("<svg") == 2 and "https://" not in page.replace("https://www.example-surgery.nhs.uk", "")
    docx = await client.get(f"{BASE}/exports/participation-report.docx", headers=manager.headers,
                            params={"year": "2012-13"})
    document = Document(io.BytesIO(docx.content))
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    assert {"Two more lines at 8am", "Saturday 9:00 to 11:00", "40", HOSTILE.join(["Telephone access ", ""])} <= cells
    assert not any(p.text.startswith("Missing:") for p in document.paragraphs)


async def test_the_achievement_report_follows_the_guide(client, manager):
    await full_year(client, manager)
    guide = (await client.get(f"{BASE}/years/2012-13", headers=manager.headers)).json()
    response = await client.get(f"{BASE}/exports/achievement-report.xlsx", headers=manager.headers,
                                params={"year": "2012-13"})
    assert response.status_code == 200, response.text
    assert "Y90001-achievement-report-2012-13-" in response.headers["content-disposition"]
    values = openpyxl.load_workbook(io.BytesIO(response.content), data_only=True)
    formulas = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = [r for r in values["Achievement"].iter_rows(min_row=6, values_only=True) if r[1] in ("Yes", "No")]
    assert [(r[0], r[1]) for r in rows] == [(c["title"], "Yes" if c["status"] == "done" else "No")
                                            for c in guide["components"]]
    pay = values["Payment"]
    assert pay["B3"].value == guide["payment"]["rate_per_patient"] == 1.10
    assert pay["B4"].value == guide["payment"]["list_size"] == 12400
    assert abs(pay["B6"].value - guide["payment"]["maximum"]) < 0.01
    assert abs(pay["B8"].value - guide["payment"]["expected"]) < 0.01
    assert formulas["Payment"]["B6"].value == '=IF(OR(B3="",B4=""),0,B3*B4)'
    assert formulas["Payment"]["B8"].value == "=B6*B7"


async def test_the_2014_template_tables(client, manager):
    await full_year(client, manager)
    response = await client.get(f"{BASE}/exports/achievement-report.xlsx", headers=manager.headers,
                                params={"year": "2014-15"})
    assert response.status_code == 200, response.text
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["Template 2014-15"]
    labels = [r[0] for r in sheet.iter_rows(values_only=True) if r[0]]
    for band in ("<16", "16-24", "25-34", "75+", "Female", "Male"):
        assert band in labels


async def test_an_unknown_year_is_a_problem(client, manager):
    response = await client.get(f"{BASE}/exports/participation-report.html", headers=manager.headers,
                                params={"year": "1999-00"})
    assert 400 <= response.status_code < 500
    response = await client.get(f"{BASE}/exports/achievement-report.xlsx", headers=manager.headers,
                                params={"year": "twenty"})
    assert response.status_code == 400
