"""Population profiles through HTTP: the invented practices import from the real-format files (plain or
zipped), a JSON API takes counts directly, and every bad file or body is refused with a problem document that
names the row (or field) and changes nothing."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import openpyxl
import pytest

from prg.accounts.audit.tables import AuditEvent
from prg.population.tables import PopulationCount, PopulationProfile
from tests.helpers import DATA

NHS = DATA / "nhs-digital"
REPORTS = DATA / "practice-reports"
QUIN = "gp-reg-pat-prac-quin-age.csv"
FEMALE = "gp-reg-pat-prac-sing-age-female.csv"
MALE = "gp-reg-pat-prac-sing-age-male.csv"
LIST_SIZES = {"Y90001": (6451, 5949), "Y90002": (3347, 2753), "Y90003": (5016, 4784)}  # female, male


def url(ods: str = "Y90001", rest: str = "") -> str:
    return f"/api/practices/{ods}/population{rest}"


def files(*items: tuple[str, bytes]) -> dict:
    return {"files": [("file", (name, content, "text/csv")) for name, content in items]}


def nhs(name: str) -> tuple[str, bytes]:
    return name, (NHS / name).read_bytes()


def nhs_text(name: str) -> str:
    return (NHS / name).read_text(encoding="utf-8")


def row_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def report_total(ods: str) -> int:
    rows = list(csv.reader(io.StringIO((REPORTS / f"{ods}-ethnicity.csv").read_text(encoding="utf-8-sig"))))
    return sum(int(r[2]) for r in rows[1:])


async def snapshot() -> tuple[int, int, int]:
    """What an import can change: profiles, counts, audit entries."""
    return (await PopulationProfile.count(), await PopulationCount.count(), await AuditEvent.count())


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


# ---------------------------------------------------------------------------------------------------------
# The invented practices, from the real files
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ods", sorted(LIST_SIZES))
async def test_each_invented_practice_imports_its_three_nhs_files_and_ethnicity_report(client, make_practice, make_staff, ods):
    await make_practice(ods)
    manager = await make_staff(ods, "manager")
    staff = await make_staff(ods, "staff")
    female, male = LIST_SIZES[ods]

    five = await client.post(url(ods, "/imports/nhs-digital"), headers=staff.headers, **files(nhs(QUIN)))
    assert five.status_code == 201, five.text
    body = five.json()
    assert (body["dimension"], body["age_detail"], body["total"]) == ("age_sex", "five_year", female + male)
    assert (body["source_filename"], body["extract_date"], body["publication"]) == (QUIN, "2026-10-01", "GP_PRAC_PAT_LIST")
    assert len(body["counts"]) == 40  # 2 sexes x 20 groups; the ALL rows are checks, not counts
    assert sum(c["patients"] for c in body["counts"] if c["sex"] == "female") == female

    single = await client.post(url(ods, "/imports/nhs-digital"), headers=staff.headers, **files(nhs(FEMALE), nhs(MALE)))
    assert single.status_code == 201, single.text
    body = single.json()
    assert (body["age_detail"], body["total"], len(body["counts"])) == ("single_year", female + male, 2 * 96)
    assert body["source_filename"] == f"{FEMALE} + {MALE}"
    assert {c["age"] for c in body["counts"]} == {str(a) for a in range(95)} | {"95+"}

    report = f"{ods}-ethnicity.csv"
    ethnicity = await client.post(url(ods, "/imports/ethnicity"), headers=staff.headers,
                                  files={"file": (report, (REPORTS / report).read_bytes(), "text/csv")},
                                  data={"extract_date": "2026-10-01"})
    assert ethnicity.status_code == 201, ethnicity.text
    body = ethnicity.json()
    assert body["total"] == report_total(ods)
    groups = {c["group"]: c for c in body["counts"]}
    assert "Z" in groups and "99" in groups  # not stated and not recorded kept apart
    assert groups.get("A", {}).get("label") == "White - British"

    listed = (await client.get(url(ods), headers=staff.headers)).json()["items"]
    assert [(p["dimension"], p["source_filename"], p["extract_date"]) for p in listed] == [
        ("ethnicity", report, "2026-10-01"),
        ("age_sex", f"{FEMALE} + {MALE}", "2026-10-01"),
        ("age_sex", QUIN, "2026-10-01"),
    ]
    assert all(p["created_by"] == staff.email for p in listed)
    one = await client.get(url(ods, f"/{listed[1]['id']}"), headers=staff.headers)
    assert one.json()["counts"][0] == {"patients": one.json()["counts"][0]["patients"], "sex": "female", "age": "0",
                                       "group": None, "label": None}

    audit = (await client.get(f"/api/practices/{ods}/audit", headers=manager.headers)).json()
    imports = [e for e in audit["items"] if e["action"] == "population.import"]
    assert len(imports) == 3 and {e["details"]["dimension"] for e in imports} == {"age_sex", "ethnicity"}


async def test_concrete_counts_of_y90001(client, manager):
    body = (await client.post(url(rest="/imports/nhs-digital"), headers=manager.headers, **files(nhs(QUIN)))).json()
    counts = {(c["sex"], c["age"]): c["patients"] for c in body["counts"]}
    assert counts[("female", "0-4")] == 246 and counts[("male", "0-4")] == 217 and counts[("female", "95+")] == 17
    body = (await client.post(url(rest="/imports/nhs-digital"), headers=manager.headers,
                              **files(nhs(MALE), nhs(FEMALE)))).json()  # either order
    counts = {(c["sex"], c["age"]): c["patients"] for c in body["counts"]}
    assert counts[("female", "16")] == 81 and counts[("male", "0")] == 52


async def test_zipped_files_import_like_plain_ones(client, manager):
    def zipped(name: str) -> tuple[str, bytes]:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, (NHS / name).read_bytes())
        return name.replace(".csv", ".zip"), buffer.getvalue()

    response = await client.post(url(rest="/imports/nhs-digital"), headers=manager.headers,
                                 **files(zipped(FEMALE), zipped(MALE)))
    assert response.status_code == 201, response.text
    assert response.json()["total"] == 12400


async def test_old_ccg_column_names_are_accepted(client, manager):
    old = {name: nhs_text(name).replace("SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE", "CCG_CODE,ONS_CCG_CODE", 1)
           for name in (FEMALE, MALE)}
    assert old[FEMALE].startswith("PUBLICATION,EXTRACT_DATE,CCG_CODE")
    response = await client.post(url(rest="/imports/nhs-digital"), headers=manager.headers,
                                 **files(*[(n, t.encode()) for n, t in old.items()]))
    assert response.status_code == 201 and response.json()["total"] == 12400


async def test_custom_dimension_from_a_file(client, manager):
    content = b"Carer status,Patients\nYes,1300\nNo,11100\n"
    response = await client.post(url(rest="/imports/custom"), headers=manager.headers,
                                 files={"file": ("carers.csv", content, "text/csv")}, data={"key": "carer"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["dimension"], body["label"], body["total"]) == ("custom:carer", "Carer status", 12400)
    assert [(c["group"], c["patients"]) for c in body["counts"]] == [("Yes", 1300), ("No", 11100)]
    # Without a key, the dimension's name gives one.
    response = await client.post(url(rest="/imports/custom"), headers=manager.headers,
                                 files={"file": ("work.json", json.dumps({"name": "Working status", "groups": {
                                     "Employed": 6000, "Retired": 2000}}).encode(), "application/json")})
    assert response.json()["dimension"] == "custom:working_status"


# ---------------------------------------------------------------------------------------------------------
# Bad files: a problem document naming the row, and nothing changed
# ---------------------------------------------------------------------------------------------------------


async def test_wrong_practice_code_names_the_rows_and_changes_nothing(client, manager):
    before = await snapshot()
    # A file cut to another practice's rows (the header and Y90002's lines of the 5-year file).
    text = nhs_text(QUIN)
    lines = text.splitlines()
    cut = "\n".join([lines[0]] + [line for line in lines if ",GP,Y90002," in line]) + "\n"
    body = problem(await client.post(url(rest="/imports/nhs-digital"), headers=manager.headers,
                                     **files((QUIN, cut.encode()))), 422)
    assert "no rows for practice Y90001" in body["detail"]
    assert {"message": "the rows from here are for practice Y90002, not Y90001", "row": 2,
            "column": "ORG_CODE"} in body["errors"]
    assert await snapshot() == before


async def test_a_practice_missing_from_a_national_file(client, make_practice, make_staff):
    await make_practice("Y90009")
    staff = await make_staff("Y90009", "staff")
    before = await snapshot()
    body = problem(await client.post(url("Y90009", "/imports/nhs-digital"), headers=staff.headers,
                                     **files(nhs(QUIN))), 422)
    assert "no rows for practice Y90009; the file holds 3 practices" in body["detail"]
    assert body["errors"][0]["column"] == "ORG_CODE"
    assert await snapshot() == before


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


WRONG_KIND = {
    "ethnicity report as NHS file": ("/imports/nhs-digital", "Y90001-ethnicity.csv",
                                     lambda: (REPORTS / "Y90001-ethnicity.csv").read_bytes(), 400, 1),
    "NHS file as ethnicity report": ("/imports/ethnicity", QUIN, lambda: (NHS / QUIN).read_bytes(), 400, 1),
    "workbook as NHS file": ("/imports/nhs-digital", "x.xlsx", lambda: xlsx([["PUBLICATION"], ["x"]]), 400, None),
    "legacy xls": ("/imports/ethnicity", "x.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 200, 400, None),
    "gzip": ("/imports/nhs-digital", "x.csv.gz", lambda: b"\x1f\x8b\x08" + b"\0" * 50, 400, None),
    "totals file": ("/imports/nhs-digital", "gp-reg-pat-prac-all.csv", lambda: (
        "PUBLICATION,EXTRACT_DATE,TYPE,CODE,ONS_CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n"
        "GP_PRAC_PAT_LIST,01OCT2026,GP,Y90001,E38000999,RV1 4AA,ALL,ALL,12400\n").encode(), 400, 1),
    "single-year file alone": ("/imports/nhs-digital", FEMALE, lambda: (NHS / FEMALE).read_bytes(), 422, None),
}


@pytest.mark.parametrize("case", WRONG_KIND)
async def test_a_file_of_the_wrong_kind_is_refused_and_changes_nothing(client, manager, case):
    path, name, make, status, row = WRONG_KIND[case]
    before = await snapshot()
    body = problem(await client.post(url(rest=path), headers=manager.headers, **files((name, make()))), status)
    assert body["detail"]
    if row is not None:
        assert body["errors"] and all(e.get("row") == row for e in body["errors"]), body
    assert await snapshot() == before


async def test_the_five_year_file_with_another_or_two_dates_are_refused(client, manager):
    before = await snapshot()
    problem(await client.post(url(rest="/imports/nhs-digital"), headers=manager.headers,
                              **files(nhs(QUIN), nhs(MALE))), 422)
    november = nhs_text(MALE).replace("01OCT2026", "01NOV2026").encode()
    body = problem(await client.post(url(rest="/imports/nhs-digital"), headers=manager.headers,
                                     **files(nhs(FEMALE), (MALE, november))), 422)
    assert "different extracts" in body["detail"]
    assert await snapshot() == before


async def test_totals_that_do_not_add_up_name_the_rows_and_change_nothing(client, manager):
    text = nhs_text(QUIN)
    fragment = "GP,Y90001,E38000999,RV1 4AA,FEMALE,0_4,246"
    bad = text.replace(fragment, fragment.replace(",246", ",250"))
    before = await snapshot()
    body = problem(await client.post(url(rest="/imports/nhs-digital"), headers=manager.headers,
                                     **files((QUIN, bad.encode()))), 422)
    rows = {e["row"] for e in body["errors"]}
    assert rows == {row_of(text, "Y90001,E38000999,RV1 4AA,FEMALE,ALL,"), row_of(text, "Y90001,E38000999,RV1 4AA,ALL,0_4,")}
    assert {e["column"] for e in body["errors"]} == {"NUMBER_OF_PATIENTS"}
    assert "do not add up" in body["detail"]
    assert await snapshot() == before


async def test_ethnicity_total_row_that_does_not_add_up(client, manager):
    before = await snapshot()
    body = problem(await client.post(url(rest="/imports/ethnicity"), headers=manager.headers,
                                     **files(("e.csv", b"Ethnicity,Count\nA,10\nB,5\nTotal,16\n"))), 422)
    assert body["errors"] == [{"message": "the total row says 16 but the rows above add up to 15", "row": 4,
                               "column": "Count"}]
    assert await snapshot() == before


@pytest.mark.parametrize(("value", "word"), [("-81", "negative"), ("8l", "not a whole number"), ("", "missing")])
async def test_negative_or_non_numeric_nhs_counts_name_the_row(client, manager, value, word):
    text = nhs_text(FEMALE)
    bad = text.replace("Y90001,RV1 4AA,FEMALE,16,81", f"Y90001,RV1 4AA,FEMALE,16,{value}")
    before = await snapshot()
    body = problem(await client.post(url(rest="/imports/nhs-digital"), headers=manager.headers,
                                     **files((FEMALE, bad.encode()), nhs(MALE))), 422)
    [error] = body["errors"]
    assert (error["row"], error["column"]) == (row_of(text, "Y90001,RV1 4AA,FEMALE,16,"), "NUMBER_OF_PATIENTS")
    assert word in error["message"]
    assert await snapshot() == before


@pytest.mark.parametrize(("path", "content", "row", "column"), [
    ("/imports/ethnicity", b"Code,Count\nA,10\nB,-3\n", 3, "Count"),
    ("/imports/ethnicity", b"Code,Count\nA,ten\nB,3\n", 2, "Count"),
    ("/imports/custom", b"Carer,Patients\nYes,12.5\nNo,100\n", 2, "Patients"),
    ("/imports/custom", b"Carer,Patients\nYes,100\nNo,-1\n", 3, "Patients"),
])
async def test_negative_or_non_numeric_report_counts_name_the_row(client, manager, path, content, row, column):
    before = await snapshot()
    body = problem(await client.post(url(rest=path), headers=manager.headers, **files(("r.csv", content))), 422)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(row, column)]
    assert await snapshot() == before


async def test_a_formula_in_a_workbook_is_refused_with_its_cell(client, manager):
    content = xlsx([["Ethnicity", "Count"], ["A", 10], ["B", "=1+1"]])
    before = await snapshot()
    body = problem(await client.post(url(rest="/imports/ethnicity"), headers=manager.headers,
                                     **files(("e.xlsx", content))), 422)
    assert {"message": "holds a formula; type the value instead", "row": 3, "column": "B"} in body["errors"]
    assert await snapshot() == before


# ---------------------------------------------------------------------------------------------------------
# The JSON API
# ---------------------------------------------------------------------------------------------------------

AGE_SEX = {
    "dimension": "age_sex", "age_detail": "five_year", "extract_date": "2026-07-01", "source_filename": "typed in",
    "counts": [{"sex": s, "age": a, "patients": n} for s in ("female", "male")
               for a, n in (("0-4", 300), ("5_9", 280), ("95+", 20))],
}


async def test_json_profiles_of_each_kind(client, manager):
    created = await client.post(url(), headers=manager.headers, json=AGE_SEX)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["total"], body["source_filename"], body["age_detail"]) == (1200, "typed in", "five_year")
    assert [c["age"] for c in body["counts"][:3]] == ["0-4", "5-9", "95+"]

    single = {"dimension": "age_sex", "age_detail": "single_year", "extract_date": "2026-07-01",
              "counts": [{"sex": "female", "age": 40, "patients": 7}, {"sex": "male", "age": "95+", "patients": 2}]}
    assert (await client.post(url(), headers=manager.headers, json=single)).json()["counts"][1]["age"] == "95+"

    ethnicity = {"dimension": "ethnicity", "extract_date": "2026-07-01", "counts": [
        {"group": "White - British", "patients": 900}, {"group": "h", "patients": 50},
        {"group": "Not recorded", "patients": 40}]}
    body = (await client.post(url(), headers=manager.headers, json=ethnicity)).json()
    assert [(c["group"], c["patients"]) for c in body["counts"]] == [("A", 900), ("H", 50), ("99", 40)]

    custom = {"dimension": "custom", "key": "carer", "label": "Carers", "extract_date": "2026-07-01",
              "counts": [{"group": "Yes", "patients": 100}, {"group": "No", "patients": 1100}]}
    body = (await client.post(url(), headers=manager.headers, json=custom)).json()
    assert (body["dimension"], body["label"]) == ("custom:carer", "Carers")

    listed = (await client.get(url(), headers=manager.headers, params={"dimension": "custom:carer"})).json()["items"]
    assert [p["id"] for p in listed] == [body["id"]]


@pytest.mark.parametrize(("change", "field"), [
    (lambda b: b["counts"][1].update(patients=-5), "counts[1].patients"),
    (lambda b: b["counts"][2].update(patients="many"), "counts[2].patients"),
    (lambda b: b["counts"][0].update(age="5-10"), "counts[0].age"),
    (lambda b: b["counts"].append(dict(b["counts"][0])), "counts[6]"),
    (lambda b: b["counts"][3].pop("sex"), "counts[3].sex"),
    (lambda b: b.pop("age_detail"), "age_detail"),
])
async def test_bad_json_profiles_name_the_field_and_change_nothing(client, manager, change, field):
    body = json.loads(json.dumps(AGE_SEX))
    change(body)
    before = await snapshot()
    response = await client.post(url(), headers=manager.headers, json=body)
    assert response.status_code in (400, 422), response.text
    assert field in [e.get("field") for e in response.json()["errors"]], response.json()
    assert await snapshot() == before


async def test_put_corrects_a_profile_and_delete_removes_it(client, manager, make_staff):
    created = (await client.post(url(), headers=manager.headers, json=AGE_SEX)).json()
    corrected = json.loads(json.dumps(AGE_SEX))
    corrected["counts"][0]["patients"] = 310
    response = await client.put(url(rest=f"/{created['id']}"), headers=manager.headers, json=corrected)
    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["total"]) == (created["id"], 1210)
    wrong = {"dimension": "ethnicity", "extract_date": "2026-07-01", "counts": [{"group": "A", "patients": 1}]}
    problem(await client.put(url(rest=f"/{created['id']}"), headers=manager.headers, json=wrong), 422)
    assert (await client.get(url(rest=f"/{created['id']}"), headers=manager.headers)).json()["total"] == 1210

    staff = await make_staff("Y90001", "staff")
    problem(await client.delete(url(rest=f"/{created['id']}"), headers=staff.headers), 403)
    assert (await client.delete(url(rest=f"/{created['id']}"), headers=manager.headers)).status_code == 204
    problem(await client.get(url(rest=f"/{created['id']}"), headers=manager.headers), 404)
    actions = [e["action"] for e in (await client.get("/api/practices/Y90001/audit", headers=manager.headers)).json()["items"]]
    assert [a for a in actions if a.startswith("population.")] == [
        "population.delete", "population.replace", "population.import"]


# ---------------------------------------------------------------------------------------------------------
# Roles and tenancy
# ---------------------------------------------------------------------------------------------------------


async def test_a_viewer_reads_but_cannot_import(client, manager, make_staff):
    profile = (await client.post(url(rest="/imports/nhs-digital"), headers=manager.headers, **files(nhs(QUIN)))).json()
    viewer = await make_staff("Y90001", "viewer")
    assert (await client.get(url(), headers=viewer.headers)).status_code == 200
    assert (await client.get(url(rest=f"/{profile['id']}"), headers=viewer.headers)).status_code == 200
    before = await snapshot()
    problem(await client.post(url(rest="/imports/nhs-digital"), headers=viewer.headers, **files(nhs(QUIN))), 403)
    problem(await client.post(url(), headers=viewer.headers, json=AGE_SEX), 403)
    assert await snapshot() == before


async def test_another_practice_gets_404_for_everything(client, manager, make_practice, make_staff):
    profile = (await client.post(url(rest="/imports/nhs-digital"), headers=manager.headers, **files(nhs(QUIN)))).json()
    await make_practice("Y90002")
    other = await make_staff("Y90002", "manager")
    before = await snapshot()
    problem(await client.get(url(), headers=other.headers), 404)
    problem(await client.get(url(rest=f"/{profile['id']}"), headers=other.headers), 404)
    problem(await client.post(url(rest="/imports/nhs-digital"), headers=other.headers, **files(nhs(QUIN))), 404)
    # Their own practice does not reach Y90001's profile by id either.
    problem(await client.get(url("Y90002", f"/{profile['id']}"), headers=other.headers), 404)
    problem(await client.delete(url("Y90002", f"/{profile['id']}"), headers=other.headers), 404)
    assert await snapshot() == before
