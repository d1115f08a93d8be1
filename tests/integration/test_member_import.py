"""Importing a practice's register spreadsheet: tolerant of real files, all-or-nothing, and safe
against hostile files (each refused with a problem document, changing nothing)."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from tests.helpers import DEMO

URL = "/api/practices/Y90001/members/import"
LIST = "/api/practices/Y90001/members"


def upload(content: bytes, name: str = "register.csv") -> dict:
    return {"files": {"file": (name, content, "application/octet-stream")}}


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def member_count(client, manager) -> int:
    return (await client.get(LIST, headers=manager.headers)).json()["total"]


async def test_the_demo_register_imports_with_tolerant_headers(client, manager):
    register = (DEMO / "Y90001-prg-register.csv").read_bytes()
    response = await client.post(URL, headers=manager.headers, **upload(register))
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 36
    members = (await client.get(LIST, headers=manager.headers, params={"limit": 100})).json()["items"]
    first = next(m for m in members if m["reference"] == "PRG-0002")
    assert (first["first_name"], first["last_name"], first["sex"], first["ethnic_category"]) == ("Jean", "Brown", "female", "B")
    assert first["birth_year"] == 1969 and first["joined_on"] == "2011-11-13"
    assert first["recruitment_channel"] == "poster" and first["address"] == "27 Specimen Drive\nExampleton"
    assert first["characteristics"] == {"carer": "No", "main_language": "English"}
    assert first["preferred_contact"] == "email"


async def test_xlsx_with_date_of_birth_keeps_only_the_year(client, manager):
    from datetime import datetime

    content = xlsx([["Forename", "Surname", "DOB", "Gender", "Ethnicity", "Membership type"],
                    ["Ola", "Nowak", datetime(1980, 5, 17), "F", "Any other White background", "Core member"]])
    response = await client.post(URL, headers=manager.headers, **upload(content, "members.xlsx"))
    assert response.status_code == 201, response.text
    member = (await client.get(LIST, headers=manager.headers)).json()["items"][0]
    assert member["birth_year"] == 1980 and member["ethnic_category"] == "C" and member["participation"] == "core"
    assert "1980-05-17" not in str(member)


async def test_one_bad_row_reports_every_problem_and_imports_nothing(client, manager):
    content = (b"First name,Surname,Sex,Year of birth,Email,Ethnicity\n"
               b"Amy,Good,F,1970,amy@example.org,A\n"
               b"Bob,,Robot,1850,not-an-email,Q\n"
               b"Cat,Fine,M,2990,cat@example.org,Z\n")
    response = await client.post(URL, headers=manager.headers, **upload(content))
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("2 row(s) cannot be imported")
    cells = {(e["row"], e.get("column")) for e in body["errors"]}
    assert (3, "Sex") in cells and (3, "Ethnicity") in cells
    assert (4, "Year of birth") in cells
    assert await member_count(client, manager) == 0


async def test_missing_name_columns_are_named(client, manager):
    response = await client.post(URL, headers=manager.headers, **upload(b"Email,Phone\na@example.org,0123\n"))
    assert response.status_code == 422
    assert {e["message"].split(" (")[0] for e in response.json()["errors"]} == {
        "no column for first_name", "no column for last_name"}


async def test_references_already_in_the_register_are_refused(client, manager):
    await client.post(LIST, headers=manager.headers, json={"first_name": "A", "last_name": "B", "reference": "R1"})
    response = await client.post(URL, headers=manager.headers,
                                 **upload(b"Reference,First name,Surname\nR1,C,D\nR2,E,F\n"))
    assert response.status_code == 409
    assert response.json()["errors"] == [{"message": "R1 is already used", "field": "reference", "row": 2}]
    assert await member_count(client, manager) == 1


async def test_cp1252_and_bom_files_are_read(client, manager):
    cp1252 = "First name,Surname\nZoë,Brontë\n".encode("cp1252")
    assert (await client.post(URL, headers=manager.headers, **upload(cp1252))).status_code == 201
    bom = "\ufeffFirst name,Surname\nJosé,Núñez\n".encode()
    assert (await client.post(URL, headers=manager.headers, **upload(bom))).status_code == 201
    names = {m["first_name"] for m in (await client.get(LIST, headers=manager.headers)).json()["items"]}
    assert names == {"Zoë", "José"}


def xml_bomb_xlsx() -> bytes:
    good = xlsx([["First name", "Surname"], ["A", "B"]])
    source = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                entities = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                head, sep, rest = data.partition(b"?>")
                data = head + sep + entities.encode() + rest if sep else entities.encode() + data
            target.writestr(item, data)
    return out.getvalue()


def zip_bomb_xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("xl/workbook.xml", "<workbook/>")
        target.writestr("xl/worksheets/sheet1.xml", b"\0" * 50_000_000)
    return out.getvalue()


HOSTILE = {
    "xml entity bomb": (xml_bomb_xlsx, "bomb.xlsx", 400),
    "zip bomb": (zip_bomb_xlsx, "bomb.xlsx", 400),
    "truncated xlsx": (lambda: xlsx([["First name", "Surname"], ["A", "B"]])[:-300], "cut.xlsx", 400),
    "not a zip but named xlsx": (lambda: b"First name,Surname\nA,B\n", "fake.xlsx", 400),
    "formula cell": (lambda: xlsx([["First name", "Surname"], ["=HYPERLINK(\"http://x\",\"A\")", "B"]]), "f.xlsx", 400),
    "formula text in csv": (lambda: b"First name,Surname\n@SUM(1),B\n", "f.csv", 422),
    "NUL bytes": (lambda: b"First name,Surname\nA\0,B\n", "nul.csv", 400),
    "huge cell": (lambda: b"First name,Surname\n" + b"A" * 200_000 + b",B\n", "big.csv", 400),
    "long cell": (lambda: b"First name,Surname\n" + b"A" * 5_000 + b",B\n", "long.csv", 400),
    "ragged row": (lambda: b"First name,Surname\nA,B,C,D\n", "ragged.csv", 400),
    "duplicate headers": (lambda: b"First name,Surname,surname\nA,B,C\n", "dup.csv", 400),
    "empty file": (lambda: b"", "empty.csv", 400),
    "path traversal name": (lambda: b"First name,Surname\n<script>x</script>,B\n", "../../etc/passwd", 201),
}


@pytest.mark.parametrize("case", HOSTILE)
async def test_hostile_files_are_refused_and_change_nothing(client, manager, case):
    make, name, status = HOSTILE[case]
    response = await client.post(URL, headers=manager.headers, **upload(make(), name))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/" + ("json" if status == 201 else "problem+json"))
    assert await member_count(client, manager) == (1 if status == 201 else 0)


async def test_upload_over_the_size_limit_is_refused_before_reading(client, manager, configure):
    configure(max_upload_bytes=1000)
    response = await client.post(URL, headers=manager.headers, **upload(b"First name,Surname\n" + b"A,B\n" * 1000))
    assert response.status_code == 413
    assert await member_count(client, manager) == 0


async def test_too_many_rows_is_refused(client, manager, configure):
    configure(max_import_rows=10)
    response = await client.post(URL, headers=manager.headers, **upload(b"First name,Surname\n" + b"A,B\n" * 11))
    assert response.status_code == 400 and "more than 10 rows" in response.json()["detail"]
