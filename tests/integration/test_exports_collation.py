"""The PRG collation workbook through HTTP: its comparison formulas' values equal the representativeness
API's, its drop-down lists and charts exist, and the edited workbook uploads back into the register."""

from __future__ import annotations

import io
import zipfile

import openpyxl

from tests.helpers import DATA

BASE = "/api/practices/Y90001"
NHS = DATA / "nhs-digital"
MEMBERS = [
    {"first_name": "Ann", "last_name": "Able", "reference": "R1", "sex": "female", "birth_year": 1950,
     "ethnic_category": "A", "participation": "core", "email": "ann@example.org"},
    {"first_name": "Bob", "last_name": "-Baker", "reference": "R2", "sex": "male", "age_band": "25-34",
     "ethnic_category": "H"},
    {"first_name": "Cy", "last_name": "Cole", "reference": "R3", "sex": "female", "birth_year": 1990,
     "ethnic_category": "N", "characteristics": {"carer": "yes"}},
    {"first_name": "Di", "last_name": "Dunn", "reference": "R4", "sex": "male", "birth_year": 2001,
     "ethnic_category": "99"},
    {"first_name": "Ed", "last_name": "Eve", "reference": "R5", "status": "left", "sex": "male", "birth_year": 1970,
     "left_on": "2025-01-31", "joined_on": "2024-01-01"},
]


async def setup_practice(client, manager) -> None:
    files = [("file", (name, (NHS / name).read_bytes(), "text/csv"))
             for name in ("gp-reg-pat-prac-sing-age-female.csv", "gp-reg-pat-prac-sing-age-male.csv")]
    assert (await client.post(f"{BASE}/population/imports/nhs-digital", headers=manager.headers, files=files)).status_code == 201
    report = (DATA / "practice-reports" / "Y90001-ethnicity.csv").read_bytes()
    response = await client.post(f"{BASE}/population/imports/ethnicity", headers=manager.headers,
                                 files={"file": ("Y90001-ethnicity.csv", report, "text/csv")}, data={"extract_date": "2026-10-01"})
    assert response.status_code == 201, response.text
    for member in MEMBERS:
        response = await client.post(f"{BASE}/members", headers=manager.headers, json=member)
        assert response.status_code == 201, response.text


async def download(client, manager) -> bytes:
    response = await client.get(f"{BASE}/exports/prg-collation.xlsx", headers=manager.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "Y90001-prg-collation-" in response.headers["content-disposition"]
    return response.content


def comparison_rows(content: bytes) -> tuple[dict, dict]:
    """label -> row values (cached) and label -> row formulas, from the Comparison sheet."""
    values = openpyxl.load_workbook(io.BytesIO(content), data_only=True)["Comparison"]
    formulas = openpyxl.load_workbook(io.BytesIO(content))["Comparison"]
    v = {row[0].value: [c.value for c in row] for row in values.iter_rows() if row[0].value}
    f = {row[0].value: [c.value for c in row] for row in formulas.iter_rows() if row[0].value}
    return v, f


async def test_the_comparison_is_live_and_equals_the_api(client, manager):
    await setup_practice(client, manager)
    content = await download(client, manager)
    values, formulas = comparison_rows(content)
    for params in ({"dimension": "age", "bands": "des"}, {"dimension": "ethnicity", "level": "high_level"},
                   {"dimension": "sex"}):
        api = (await client.get(f"{BASE}/representativeness", headers=manager.headers, params=params)).json()
        for group in api["groups"]:
            row = values[group["label"]]
            assert row[1] == group["population"], group
            assert row[3] == group["members"], group
            assert abs(row[2] - group["population_share"]) < 1e-12
            assert formulas[group["label"]][3].startswith("=COUNTIFS(")
    assert values["25-34"][3] == 2 and values["35-44"][3] == 1  # Bob (band), Di (born 2001); Cy (1990)
    book = openpyxl.load_workbook(io.BytesIO(content))
    members = book["Members"]
    assert members.title == book.sheetnames[0]
    validated = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in members.data_validations.dataValidation}
    header = [c.value for c in members[1]]
    for column in ("Sex", "Participation", "Status", "Channel", "Ethnicity", "Age band"):
        letter = openpyxl.utils.get_column_letter(header.index(column) + 1)
        assert validated[f"{letter}2"].startswith("Lists!"), column
    # User text is text: "-Baker" is a string cell.
    names = {row[2].value: row[3] for row in members.iter_rows(min_row=2) if row[2].value}
    assert names["Bob"].value == "-Baker" and names["Bob"].data_type == "s"
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert len([n for n in archive.namelist() if n.startswith("xl/charts/chart")]) == 2


async def test_the_edited_workbook_updates_the_register(client, manager):
    await setup_practice(client, manager)
    book = openpyxl.load_workbook(io.BytesIO(await download(client, manager)))
    members = book["Members"]
    header = [c.value for c in members[1]]
    col = {name: header.index(name) + 1 for name in header}
    rows = {members.cell(r, 1).value: r for r in range(2, members.max_row + 1) if members.cell(r, 1).value}
    members.cell(rows["R2"], col["Email"]).value = "bob@example.org"
    members.cell(rows["R2"], col["Participation"]).value = "both"
    new = max(rows.values()) + 1
    members.cell(new, col["First name"]).value = "Fay"
    members.cell(new, col["Last name"]).value = "Ford"
    members.cell(new, col["Sex"]).value = "female"
    members.cell(new, col["Ethnicity"]).value = "K - Asian or Asian British - Bangladeshi"
    members.cell(new + 1, col["Reference"]).value = "R9"
    members.cell(new + 1, col["First name"]).value = "Gus"
    members.cell(new + 1, col["Last name"]).value = "Gale"
    buffer = io.BytesIO()
    book.save(buffer)
    response = await client.post(f"{BASE}/exports/prg-collation.xlsx", headers=manager.headers,
                                 files={"file": ("collation.xlsx", buffer.getvalue(), "application/octet-stream")})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["updated"] == ["R2"]
    assert sorted(result["created"]) == ["PRG-0001", "R9"]
    register = (await client.get(f"{BASE}/members", headers=manager.headers, params={"limit": 100})).json()
    assert register["total"] == 7
    by_ref = {m["reference"]: m for m in register["items"]}
    assert by_ref["R2"]["email"] == "bob@example.org" and by_ref["R2"]["participation"] == "both"
    assert by_ref["R2"]["last_name"] == "-Baker"
    assert by_ref["R3"]["characteristics"] == {"carer": "yes"}
    assert by_ref["R5"]["left_on"] == "2025-01-31" and by_ref["R5"]["status"] == "left"
    assert by_ref["PRG-0001"]["ethnic_category"] == "K"
    # The same edited workbook sent twice would add Fay again: refused, naming her row.
    again = await client.post(f"{BASE}/exports/prg-collation.xlsx", headers=manager.headers,
                              files={"file": ("collation.xlsx", buffer.getvalue(), "application/octet-stream")})
    assert again.status_code == 422
    assert [(e["row"], e["field"]) for e in again.json()["errors"]] == [(new, "reference")]
    # A fresh download sent back unchanged changes nothing and adds nobody.
    fresh = await download(client, manager)
    unchanged = await client.post(f"{BASE}/exports/prg-collation.xlsx", headers=manager.headers,
                                  files={"file": ("collation.xlsx", fresh, "application/octet-stream")})
    assert unchanged.json() == {"created": [], "updated": []}
    after = (await client.get(f"{BASE}/members", headers=manager.headers, params={"limit": 100})).json()
    assert after["items"] == register["items"]


async def test_bad_rows_are_all_reported_and_nothing_changes(client, manager):
    await setup_practice(client, manager)
    book = openpyxl.load_workbook(io.BytesIO(await download(client, manager)))
    members = book["Members"]
    header = [c.value for c in members[1]]
    col = {name: header.index(name) + 1 for name in header}
    members.cell(2, col["Sex"]).value = "sometimes"
    members.cell(3, col["Email"]).value = "bob@example.org"  # fine on its own
    members.cell(4, col["Birth year"]).value = 2999
    members.cell(7, col["First name"]).value = "New"  # a new row without a last name
    buffer = io.BytesIO()
    book.save(buffer)
    before = (await client.get(f"{BASE}/members", headers=manager.headers)).json()
    response = await client.post(f"{BASE}/exports/prg-collation.xlsx", headers=manager.headers,
                                 files={"file": ("collation.xlsx", buffer.getvalue(), "application/octet-stream")})
    assert response.status_code == 422, response.text
    assert {e["row"] for e in response.json()["errors"]} == {2, 4, 7}
    assert (await client.get(f"{BASE}/members", headers=manager.headers)).json() == before
