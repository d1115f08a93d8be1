"""The hostile file corpus against every upload endpoint of the API.

The endpoints come from the OpenAPI schema (every operation whose body is `multipart/form-data`), so an
upload added later is covered without anyone remembering. Each hostile file must get a 4xx problem
document, quickly and without a memory blow-up, and leave every table as it was.
"""

from __future__ import annotations

import io
import re
import time
import tracemalloc
import zipfile

import pytest

from prg import db
from prg.app import create_app

# Tables that a request may touch without changing anything of substance (a token's last use).
VOLATILE = {"staff_session", "api_token"}
# Values for the form fields that travel beside the file, so the file itself is what gets judged.
FIELD_VALUES = {"key": "carer", "name": "Carers", "extract_date": "2026-10-01", "channel": "letter"}


def upload_operations() -> list[tuple[str, str, str, list[str], bool]]:
    """(method, path, file field, other fields, many files) for each multipart operation."""
    schema = create_app(pool=False).openapi_schema.to_schema()
    components = schema["components"]["schemas"]
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "multipart/form-data" not in content:
                continue
            body = content["multipart/form-data"]["schema"]
            body = components[body["$ref"].rsplit("/", 1)[1]] if "$ref" in body else body
            for name, field in body["properties"].items():
                many = field.get("type") == "array"
                if (field.get("items", {}) if many else field).get("format") == "binary":
                    others = [n for n in body["properties"] if n != name and n in FIELD_VALUES]
                    found.append((method.upper(), path, name, others, many))
    return found


def xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xml_bomb_xlsx() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx([["NHS Number", "Surname"], ["x", "y"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                entities = ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')
                head, sep, rest = data.partition(b"?>")
                data = head + sep + entities.encode() + rest.replace(b"<v>", b"<v>&c;", 1)
            target.writestr(item, data)
    return out.getvalue()


def zip_bomb_xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("[Content_Types].xml", "<Types/>")
        target.writestr("xl/workbook.xml", "<workbook/>")
        target.writestr("xl/worksheets/sheet1.xml", b"\0" * 100_000_000)
    return out.getvalue()


def nested_zip() -> bytes:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("a.csv", "a,b\n1,2\n")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("inner.zip", inner.getvalue())
    return out.getvalue()


def traversal_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("../../etc/passwd.csv", "a,b\n1,2\n")
    return out.getvalue()


HOSTILE = {
    "xml entity bomb": (xml_bomb_xlsx, "bomb.xlsx"),
    "zip bomb": (zip_bomb_xlsx, "bomb.xlsx"),
    "nested zip": (nested_zip, "nested.zip"),
    "path traversal inside a zip": (traversal_zip, "list.zip"),
    "truncated xlsx": (lambda: xlsx([["NHS Number", "Surname"], ["x", "y"]])[:-300], "cut.xlsx"),
    "not a zip but named xlsx": (lambda: b"NHS Number,Surname\nx,y\n", "fake.xlsx"),
    "formula cells": (lambda: xlsx([["=HYPERLINK(\"http://x\",\"A\")", "=1+1"], ["=cmd|' /C calc'!A0", "@SUM(1)"]]),
                      "formula.xlsx"),
    "NUL bytes": (lambda: b"NHS Number,Surname\nx\0,y\n", "nul.csv"),
    "a 300,000-character cell": (lambda: b"NHS Number,Surname\n" + b"A" * 300_000 + b",y\n", "big.csv"),
    "ragged rows": (lambda: b"a,b\n1,2,3,4,5\n,\n", "ragged.csv"),
    "duplicate headers": (lambda: b"Surname,surname,SURNAME\nx,y,z\n", "dup.csv"),
    "empty file": (lambda: b"", "empty.csv"),
    "binary junk": (lambda: bytes(range(256)) * 64, "junk.csv"),
    "script and traversal in the file name": (lambda: b"\x89PNG\r\n\x1a\n", "../../<script>alert(1)</script>.csv"),
}

OPERATIONS = upload_operations()


def test_the_corpus_reaches_every_kind_of_upload():
    paths = {path for _, path, *_ in OPERATIONS}
    assert "/api/practices/{ods_code}/members/import" in paths
    assert "/api/practices/{ods_code}/surveys/xlsform" in paths
    assert "/api/practices/{ods_code}/population/imports/nhs-digital" in paths


async def every_row() -> dict[str, list[dict]]:
    return {table._meta.tablename: await table.select().order_by(table._meta.primary_key)
            for table in db.all_tables() if table._meta.tablename not in VOLATILE}


@pytest.fixture
async def practice_with_survey(client, manager):
    survey = (await client.post("/api/practices/Y90001/surveys/from-bank", headers=manager.headers, json={
        "title": {"en": "Friends and Family Test"}, "sections": [{"id": "fft", "questions": ["fft_2020_experience", "fft_2020_reason"]}]})).json()
    published = await client.post(f"/api/practices/Y90001/surveys/{survey['id']}/publish", headers=manager.headers)
    assert published.status_code in (200, 201), published.text
    return {"ods_code": "Y90001", "survey_id": survey["id"]}


def fill(path: str, values: dict[str, object]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), path)


@pytest.mark.parametrize("case", HOSTILE)
@pytest.mark.parametrize(("method", "path", "field", "others", "many"), OPERATIONS,
                         ids=[f"{m} {p}" for m, p, *_ in OPERATIONS])
async def test_hostile_files_get_a_4xx_and_change_nothing(client, manager, practice_with_survey, method, path,
                                                          field, others, many, case):
    make, filename = HOSTILE[case]
    content = make()
    files = [(field, (filename, content, "application/octet-stream"))]
    before = await every_row()
    tracemalloc.start()
    started = time.perf_counter()
    response = await client.request(method, fill(path, practice_with_survey), headers=manager.headers,
                                    files=files, data={name: FIELD_VALUES[name] for name in others})
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "<script>" not in response.text
    assert seconds < 15, f"{seconds:.1f} s"
    assert peak < 300 * 2**20, f"{peak / 2**20:.0f} MiB"
    assert await every_row() == before


def own_body_limits() -> dict[str, int]:
    """Upload routes that set their own body limit (national files) instead of PRG_MAX_UPLOAD_BYTES."""
    limits = {}
    for route in create_app(pool=False).routes:
        for handler in getattr(route, "route_handlers", ()):
            limit = getattr(handler, "request_max_body_size", None)
            if isinstance(limit, int) and "POST" in handler.http_methods:
                limits[route.path_format] = limit
    return limits


OWN_LIMITS = own_body_limits()


def test_routes_with_their_own_body_limit_still_have_one_under_a_gigabyte():
    assert "/api/practices/{ods_code}/population/imports/nhs-digital" in OWN_LIMITS
    assert all(0 < limit <= 2**30 for limit in OWN_LIMITS.values())


@pytest.mark.parametrize(("method", "path", "field", "others", "many"),
                         [op for op in OPERATIONS if op[1] not in OWN_LIMITS],
                         ids=[f"{m} {p}" for m, p, *_ in OPERATIONS if p not in OWN_LIMITS])
async def test_bodies_over_the_limit_are_refused_by_size(client, manager, practice_with_survey, configure,
                                                        method, path, field, others, many):
    configure(max_upload_bytes=10_000)
    before = await every_row()
    response = await client.request(method, fill(path, practice_with_survey), headers=manager.headers,
                                    files=[(field, ("big.csv", b"a,b\n" + b"1,2\n" * 50_000, "text/csv"))])
    assert response.status_code == 413, response.text[:300]
    assert await every_row() == before
