"""Readers of the population files, against the invented practices' files in the real public formats."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from prg.errors import BadFile, ErrorDetail, FileTooLarge, InvalidInput
from prg.population.dimensions import DES_TEMPLATE, FIVE_YEAR
from prg.population.readers import small_tables
from prg.population.readers.custom import read_custom_dimension
from prg.population.readers.ethnicity import read_ethnicity_report
from prg.population.readers.nhs_digital import NhsDigitalExtract, parse_extract_date, read_nhs_digital
from prg.uploads import check_xlsx_safety, safe_unzip_single

DATA = Path(__file__).resolve().parents[1] / "data"
NHS = DATA / "nhs-digital"
QUIN = "gp-reg-pat-prac-quin-age.csv"
FEMALE_FILE = "gp-reg-pat-prac-sing-age-female.csv"
MALE_FILE = "gp-reg-pat-prac-sing-age-male.csv"

# Read from the ALL rows of the files in tests/data/nhs-digital (FEMALE/ALL, MALE/ALL, ALL/ALL).
LIST_SIZES = {
    "Y90001": {"female": 6451, "male": 5949, "all": 12400},
    "Y90002": {"female": 3347, "male": 2753, "all": 6100},
    "Y90003": {"female": 5016, "male": 4784, "all": 9800},
}


def nhs_bytes(name: str) -> bytes:
    return (NHS / name).read_bytes()


def nhs_text(name: str) -> str:
    return (NHS / name).read_text(encoding="utf-8")


def row_of(text: str, fragment: str) -> int:
    """The 1-based line (spreadsheet row) of the first line containing `fragment`."""
    for i, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return i
    raise AssertionError(f"{fragment!r} not in file")


def zip_of(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    return buf.getvalue()


def xlsx_of(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def errors_of(exc_info: pytest.ExceptionInfo) -> list[ErrorDetail]:
    return exc_info.value.errors


# ---------------------------------------------------------------------------------------------------------
# NHS Digital files: the happy paths
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ods", sorted(LIST_SIZES))
def test_each_practice_imports_from_all_three_files_with_totals_matching_the_all_rows(ods: str) -> None:
    quin = read_nhs_digital(nhs_bytes(QUIN), QUIN, ods)
    female = read_nhs_digital(nhs_bytes(FEMALE_FILE), FEMALE_FILE, ods)
    male = read_nhs_digital(nhs_bytes(MALE_FILE), MALE_FILE, ods)
    sizes = LIST_SIZES[ods]

    assert (quin.kind, quin.sex) == ("five_year", None)
    assert quin.totals == sizes
    assert sum(quin.by_age("female").values()) == sizes["female"]
    assert sum(quin.by_age().values()) == sizes["all"]
    assert quin.row_count == 63  # 3 sexes x (20 bands + ALL)
    assert len(quin.counts) == 40

    assert (female.kind, female.sex, female.totals) == ("single_year", "female", {"female": sizes["female"]})
    assert (male.kind, male.sex, male.totals) == ("single_year", "male", {"male": sizes["male"]})
    assert female.row_count == male.row_count == 97  # ages 0..94, 95+, ALL
    assert sum(female.counts.values()) == sizes["female"]
    assert sum(male.counts.values()) == sizes["male"]

    # The two publications describe the same list: single years regrouped give the 5-year counts.
    assert female.by_band(FIVE_YEAR) == quin.by_age("female")
    assert male.by_band(FIVE_YEAR) == quin.by_age("male")
    for extract in (quin, female, male):
        assert extract.extract_date == date(2026, 10, 1)
        assert extract.publication == "GP_PRAC_PAT_LIST"
        assert extract.ods_code == ods


def test_concrete_rows_of_y90001() -> None:
    quin = read_nhs_digital(nhs_bytes(QUIN), QUIN, "Y90001")
    female = read_nhs_digital(nhs_bytes(FEMALE_FILE), FEMALE_FILE, "Y90001")
    male = read_nhs_digital(nhs_bytes(MALE_FILE), MALE_FILE, "Y90001")
    assert quin.counts[("female", "0-4")] == 246
    assert quin.counts[("male", "0-4")] == 217
    assert quin.counts[("female", "95+")] == 17
    assert female.counts[("female", 16)] == 81
    assert male.counts[("male", 0)] == 52
    assert list(female.counts)[-1] == ("female", "95+")  # ages in order, the top-coded group last
    assert isinstance(quin, NhsDigitalExtract) and quin.source_filename == QUIN


def test_des_template_bands_from_the_single_year_files() -> None:
    female = read_nhs_digital(nhs_bytes(FEMALE_FILE), FEMALE_FILE, "Y90001")
    bands = female.by_band(DES_TEMPLATE)
    assert bands == {
        "Under 16": 1010, "16-24": 874, "25-34": 1180, "35-44": 1073,
        "45-54": 960, "55-64": 651, "65-74": 416, "75+": 287,
    }  # fmt: skip
    assert sum(bands.values()) == 6451


def test_des_template_bands_are_refused_from_the_five_year_file() -> None:
    quin = read_nhs_digital(nhs_bytes(QUIN), QUIN, "Y90001")
    with pytest.raises(ValueError, match="single-year"):
        quin.by_band(DES_TEMPLATE)


def test_practice_code_is_matched_in_any_case() -> None:
    assert read_nhs_digital(nhs_bytes(QUIN), QUIN, " y90002 ").totals["all"] == 6100


def test_zipped_file_reads_like_the_plain_one() -> None:
    zipped = zip_of({QUIN: nhs_bytes(QUIN)})
    from_zip = read_nhs_digital(zipped, "gp-reg-pat-prac-quin-age.zip", "Y90003")
    assert from_zip.counts == read_nhs_digital(nhs_bytes(QUIN), QUIN, "Y90003").counts
    assert from_zip.totals["all"] == 9800


def test_zip_with_macos_packaging_noise_is_accepted() -> None:
    zipped = zip_of({f"folder/{MALE_FILE}": nhs_bytes(MALE_FILE), f"__MACOSX/folder/._{MALE_FILE}": b"\x00\x05"})
    assert read_nhs_digital(zipped, "male.zip", "Y90001").totals == {"male": 5949}


def test_old_ccg_column_names_are_accepted() -> None:
    text = nhs_text(MALE_FILE).replace("SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE", "CCG_CODE,ONS_CCG_CODE", 1)
    assert text.startswith("PUBLICATION,EXTRACT_DATE,CCG_CODE,ONS_CCG_CODE,ORG_CODE")
    extract = read_nhs_digital(text.encode(), MALE_FILE, "Y90002")
    assert extract.totals == {"male": 2753}
    assert extract.counts == read_nhs_digital(nhs_bytes(MALE_FILE), MALE_FILE, "Y90002").counts


def test_kind_is_told_by_the_header_not_the_filename() -> None:
    extract = read_nhs_digital(nhs_bytes(FEMALE_FILE), "gp-reg-pat-prac-quin-age.csv", "Y90001")
    assert (extract.kind, extract.sex) == ("single_year", "female")


def test_totals_file_with_code_and_type_columns() -> None:
    text = (
        "PUBLICATION,EXTRACT_DATE,TYPE,CODE,ONS_CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n"
        "GP_PRAC_PAT_LIST,01OCT2026,SUB_ICB_LOCATION,99Z,E38000999,,ALL,ALL,28300\n"
        "GP_PRAC_PAT_LIST,01OCT2026,GP,Y90001,E38000999,RV1 4AA,ALL,ALL,12400\n"
        "GP_PRAC_PAT_LIST,01OCT2026,GP,Y90002,E38000999,HV3 9QT,ALL,ALL,6100\n"
    )
    extract = read_nhs_digital(text.encode(), "gp-reg-pat-prac-all.csv", "Y90001")
    assert (extract.kind, extract.totals, extract.counts) == ("totals", {"all": 12400}, {})


def test_iso_dates_bom_crlf_and_cp1252_are_tolerated() -> None:
    text = nhs_text(MALE_FILE).replace("01OCT2026", "2026-10-01").replace("RV1 4AA", "RV1 4AA Caf\u00e9")
    data = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")
    assert read_nhs_digital(data, MALE_FILE, "Y90001").extract_date == date(2026, 10, 1)
    legacy = text.encode("cp1252")
    assert b"\xe9" in legacy
    assert read_nhs_digital(legacy, MALE_FILE, "Y90001").totals == {"male": 5949}


def test_quoted_csv_takes_the_full_scan_and_gives_the_same_answer() -> None:
    rows = list(csv.reader(io.StringIO(nhs_text(QUIN))))
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    quoted = read_nhs_digital(buf.getvalue().encode(), QUIN, "Y90002")
    assert quoted.counts == read_nhs_digital(nhs_bytes(QUIN), QUIN, "Y90002").counts
    assert quoted.totals["all"] == 6100


def test_parse_extract_date() -> None:
    assert parse_extract_date("01OCT2026") == date(2026, 10, 1)
    assert parse_extract_date("01-Oct-2026") == date(2026, 10, 1)
    assert parse_extract_date("2026-10-01") == date(2026, 10, 1)
    with pytest.raises(ValueError):
        parse_extract_date("01XYZ2026")


# ---------------------------------------------------------------------------------------------------------
# NHS Digital files: what goes wrong
# ---------------------------------------------------------------------------------------------------------


def test_practice_not_in_the_file() -> None:
    with pytest.raises(InvalidInput) as exc:
        read_nhs_digital(nhs_bytes(QUIN), QUIN, "Y99999")
    assert "no rows for practice Y99999; the file holds 3 practices" in exc.value.detail
    assert errors_of(exc)[0].column == "ORG_CODE"


def test_practice_code_must_look_like_one() -> None:
    with pytest.raises(InvalidInput) as exc:
        read_nhs_digital(nhs_bytes(QUIN), QUIN, "Y9'; --")
    assert errors_of(exc)[0].field == "ods_code"


def test_a_file_of_the_wrong_kind_names_the_missing_columns() -> None:
    ethnicity = (DATA / "practice-reports" / "Y90001-ethnicity.csv").read_bytes()
    with pytest.raises(BadFile) as exc:
        read_nhs_digital(ethnicity, "Y90001-ethnicity.csv", "Y90001")
    missing = {e.column for e in errors_of(exc)}
    assert missing == {"EXTRACT_DATE", "ORG_CODE", "SEX", "NUMBER_OF_PATIENTS", "AGE_GROUP_5 or AGE"}
    assert all(e.row == 1 for e in errors_of(exc))
    assert "missing column(s)" in exc.value.detail


def test_a_spreadsheet_or_binary_is_not_an_nhs_csv() -> None:
    with pytest.raises(BadFile, match="spreadsheet"):
        read_nhs_digital(xlsx_of([["PUBLICATION"]]), "x.xlsx", "Y90001")
    with pytest.raises(BadFile, match="xls"):
        read_nhs_digital(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "x.xls", "Y90001")
    with pytest.raises(BadFile, match="empty"):
        read_nhs_digital(b"", "x.csv", "Y90001")


def test_totals_that_do_not_add_up_name_the_rows() -> None:
    text = nhs_text(QUIN)
    fragment = "GP,Y90001,E38000999,RV1 4AA,FEMALE,0_4,246"
    bad = text.replace(fragment, fragment.replace(",246", ",250"))
    with pytest.raises(InvalidInput) as exc:
        read_nhs_digital(bad.encode(), QUIN, "Y90001")
    by_row = {e.row: e for e in errors_of(exc)}
    female_all = row_of(text, "Y90001,E38000999,RV1 4AA,FEMALE,ALL,")
    all_0_4 = row_of(text, "Y90001,E38000999,RV1 4AA,ALL,0_4,")
    assert set(by_row) == {female_all, all_0_4}
    assert "says 6451" in by_row[female_all].message and "add up to 6455" in by_row[female_all].message
    assert f"FEMALE 250 (row {row_of(text, fragment)})" in by_row[all_0_4].message
    assert "= 467" in by_row[all_0_4].message
    assert {e.column for e in errors_of(exc)} == {"NUMBER_OF_PATIENTS"}


def test_single_year_total_that_does_not_add_up() -> None:
    text = nhs_text(MALE_FILE)
    bad = text.replace("Y90003,MS2 7LP,MALE,ALL,4784", "Y90003,MS2 7LP,MALE,ALL,4785")
    with pytest.raises(InvalidInput) as exc:
        read_nhs_digital(bad.encode(), MALE_FILE, "Y90003")
    [error] = errors_of(exc)
    assert error.row == row_of(text, "Y90003,MS2 7LP,MALE,ALL,")
    assert "says 4785" in error.message and "add up to 4784" in error.message
    # The other practices in the same file are unaffected.
    assert read_nhs_digital(bad.encode(), MALE_FILE, "Y90001").totals == {"male": 5949}


def test_negative_and_non_numeric_counts_are_all_reported() -> None:
    text = nhs_text(FEMALE_FILE)
    bad = text.replace("Y90001,RV1 4AA,FEMALE,16,81", "Y90001,RV1 4AA,FEMALE,16,-81")
    bad = bad.replace("Y90001,RV1 4AA,FEMALE,17,108", "Y90001,RV1 4AA,FEMALE,17,1o8")
    with pytest.raises(InvalidInput) as exc:
        read_nhs_digital(bad.encode(), FEMALE_FILE, "Y90001")
    errors = errors_of(exc)
    assert [(e.row, e.column) for e in errors] == [
        (row_of(text, "Y90001,RV1 4AA,FEMALE,16,"), "NUMBER_OF_PATIENTS"),
        (row_of(text, "Y90001,RV1 4AA,FEMALE,17,"), "NUMBER_OF_PATIENTS"),
    ]
    assert "negative" in errors[0].message and "not a whole number" in errors[1].message


def test_unknown_sex_and_age_values() -> None:
    text = nhs_text(QUIN)
    bad = text.replace("Y90002,E38000999,HV3 9QT,MALE,5_9,", "Y90002,E38000999,HV3 9QT,M,5_9,")
    bad = bad.replace("Y90002,E38000999,HV3 9QT,FEMALE,10_14,", "Y90002,E38000999,HV3 9QT,FEMALE,10_15,")
    with pytest.raises(InvalidInput) as exc:
        read_nhs_digital(bad.encode(), QUIN, "Y90002")
    got = {(e.row, e.column) for e in errors_of(exc)}
    assert got == {
        (row_of(text, "Y90002,E38000999,HV3 9QT,MALE,5_9,"), "SEX"),
        (row_of(text, "Y90002,E38000999,HV3 9QT,FEMALE,10_14,"), "AGE_GROUP_5"),
    }


def test_unknown_single_year_age() -> None:
    text = nhs_text(MALE_FILE)
    bad = text.replace("Y90001,RV1 4AA,MALE,94,", "Y90001,RV1 4AA,MALE,96,")
    with pytest.raises(InvalidInput) as exc:
        read_nhs_digital(bad.encode(), MALE_FILE, "Y90001")
    [error] = errors_of(exc)
    assert (error.row, error.column) == (row_of(text, "Y90001,RV1 4AA,MALE,94,"), "AGE")
    assert "'96'" in error.message


def test_duplicate_rows_name_both() -> None:
    text = nhs_text(MALE_FILE)
    line = text.splitlines()[row_of(text, "Y90002,HV3 9QT,MALE,40,") - 1]
    bad = text + line + "\n"
    with pytest.raises(InvalidInput) as exc:
        read_nhs_digital(bad.encode(), MALE_FILE, "Y90002")
    [error] = errors_of(exc)
    last_row = len(bad.splitlines())
    assert error.row == last_row
    assert f"rows {row_of(text, 'Y90002,HV3 9QT,MALE,40,')} and {last_row}" in error.message


def test_more_than_one_extract_date() -> None:
    text = nhs_text(MALE_FILE)
    row = "99Z,E38000999,Y90001,RV1 4AA,MALE,50,"
    bad = text.replace(f"01OCT2026,{row}", f"01NOV2026,{row}")
    with pytest.raises(InvalidInput) as exc:
        read_nhs_digital(bad.encode(), MALE_FILE, "Y90001")
    [error] = errors_of(exc)
    assert (error.row, error.column) == (row_of(text, "Y90001,RV1 4AA,MALE,50,"), "EXTRACT_DATE")
    assert "01OCT2026" in error.message and "01NOV2026" in error.message


def test_row_with_the_wrong_number_of_fields() -> None:
    text = nhs_text(MALE_FILE)
    bad = text.replace("Y90001,RV1 4AA,MALE,3,44", "Y90001,RV1 4AA,MALE,3,44,extra")
    with pytest.raises(InvalidInput) as exc:
        read_nhs_digital(bad.encode(), MALE_FILE, "Y90001")
    assert errors_of(exc)[0].row == row_of(text, "Y90001,RV1 4AA,MALE,3,")


# ---------------------------------------------------------------------------------------------------------
# Archives
# ---------------------------------------------------------------------------------------------------------


def test_zip_bomb_ratio_is_refused() -> None:
    bomb = zip_of({"gp-reg-pat-prac-quin-age.csv": b"0" * (8 * 1024 * 1024)})
    assert len(bomb) < 50_000
    with pytest.raises(BadFile, match="zip bomb"):
        read_nhs_digital(bomb, "bomb.zip", "Y90001")


def test_zip_oversize_is_refused_from_the_directory() -> None:
    with pytest.raises(FileTooLarge):
        safe_unzip_single(zip_of({"a.csv": b"x" * 2000}), max_bytes=1000)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"a.csv": b"x", "b.csv": b"y"}, "exactly one .csv"),
        ({"readme.txt": b"x"}, "exactly one .csv"),
        ({"../../etc/evil.csv": b"x"}, "unsafe path"),
        ({"/abs.csv": b"x"}, "unsafe path"),
        ({"inner.zip": b"PK\x03\x04"}, "nested"),
        ({"a.csv": zip_of({"b.csv": b"x"})}, "nested"),
        ({f"f{i}.csv": b"x" for i in range(10)}, "10 entries"),
    ],
)
def test_unsafe_or_surprising_zips_are_refused(entries: dict[str, bytes], message: str) -> None:
    with pytest.raises(BadFile, match=message):
        safe_unzip_single(zip_of(entries))


def test_safe_unzip_single_returns_the_csv() -> None:
    assert safe_unzip_single(zip_of({"dir/a.csv": b"h\n1\n"})) == ("dir/a.csv", b"h\n1\n")


def test_a_broken_zip_is_a_bad_file() -> None:
    with pytest.raises(BadFile):
        read_nhs_digital(b"PK\x03\x04 not really a zip", "x.zip", "Y90001")


# ---------------------------------------------------------------------------------------------------------
# Ethnicity reports
# ---------------------------------------------------------------------------------------------------------

Y90001_ETHNICITY = [
    ("A", 5425), ("B", 235), ("C", 1412), ("D", 176), ("E", 117), ("F", 117), ("G", 117), ("H", 824),
    ("J", 706), ("K", 470), ("L", 353), ("M", 353), ("N", 706), ("P", 117), ("R", 176), ("S", 235),
    ("Z", 117), ("99", 744),
]  # fmt: skip


def ethnicity_text(ods: str) -> str:
    return (DATA / "practice-reports" / f"{ods}-ethnicity.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(("ods", "rows", "not_stated", "not_recorded"), [
    ("Y90001", 18, 117, 744), ("Y90002", 12, 27, 549), ("Y90003", 18, 168, 1176)])  # fmt: skip
def test_sample_ethnicity_reports(ods: str, rows: int, not_stated: int, not_recorded: int) -> None:
    data = (DATA / "practice-reports" / f"{ods}-ethnicity.csv").read_bytes()
    result = dict(read_ethnicity_report(data, f"{ods}-ethnicity.csv"))
    assert len(result) == rows
    assert result["Z"] == not_stated and result["99"] == not_recorded  # Z and 99 kept apart


def test_y90001_ethnicity_in_order() -> None:
    data = (DATA / "practice-reports" / "Y90001-ethnicity.csv").read_bytes()
    assert read_ethnicity_report(data, "Y90001-ethnicity.csv") == Y90001_ETHNICITY


def test_labels_alone_give_the_same_codes() -> None:
    rows = list(csv.reader(io.StringIO(ethnicity_text("Y90001"))))
    labels_only = "\n".join(f'"{label}",{n}' for _, label, n in rows) + "\n"
    assert labels_only.startswith('"Ethnic category",Number of patients')
    assert read_ethnicity_report(labels_only.encode(), "labels.csv") == Y90001_ETHNICITY


def test_xlsx_with_other_headers_and_label_variants() -> None:
    data = xlsx_of([
        ["Ethnicity", "Patients"],
        ["White British", 10],
        ["Any other White background", 4],
        ["Chinese", 2.0],
        ["Not stated", 3],
        [None, 5],
        ["Total", 24],
    ])  # fmt: skip
    assert read_ethnicity_report(data, "report.xlsx") == [("A", 10), ("C", 4), ("R", 2), ("Z", 3), ("99", 5)]


def test_codes_only_with_99() -> None:
    data = b"Code,Count\nA,10\nz,2\n99,7\n"
    assert read_ethnicity_report(data, "codes.csv") == [("A", 10), ("Z", 2), ("99", 7)]


def test_ethnicity_problems_are_all_reported_with_rows() -> None:
    data = (
        "Ethnic category code,Ethnic category,Number of patients\n"
        "A,White - British,10\n"  # row 2
        "Q,Martian,3\n"  # row 3: unknown code
        "B,White - British,4\n"  # row 4: code and label disagree
        "A,White - British,5\n"  # row 5: duplicate of row 2
        "C,White - Any other White background,-1\n"  # row 6: negative
        ",Not recorded,7\n"  # row 7
        ",,8\n"  # row 8: blank is also not recorded -> duplicate of row 7
    ).encode()
    with pytest.raises(InvalidInput) as exc:
        read_ethnicity_report(data, "bad.csv")
    got = [(e.row, e.column) for e in errors_of(exc)]
    assert got == [
        (3, "Ethnic category code"),
        (4, "Ethnic category"),
        (5, "Ethnic category code"),
        (6, "Number of patients"),
        (8, "Ethnic category"),
    ]
    assert "rows 2 and 5" in errors_of(exc)[2].message
    assert "rows 7 and 8" in errors_of(exc)[4].message


def test_ethnicity_total_row_must_match() -> None:
    with pytest.raises(InvalidInput) as exc:
        read_ethnicity_report(b"Ethnicity,Count\nA,10\nB,5\nTotal,16\n", "t.csv")
    [error] = errors_of(exc)
    assert (error.row, error.column) == (4, "Count") and "add up to 15" in error.message


def test_not_an_ethnicity_report() -> None:
    with pytest.raises(BadFile) as exc:
        read_ethnicity_report(nhs_bytes(QUIN)[:2000], QUIN)
    assert errors_of(exc)[0].row == 1


# ---------------------------------------------------------------------------------------------------------
# XLSX safety
# ---------------------------------------------------------------------------------------------------------


def rewrite_part(xlsx: bytes, part: str, edit) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            content = src.read(info.filename)
            out.writestr(info.filename, edit(content) if info.filename == part else content)
    return buf.getvalue()


def test_xlsx_with_an_xml_entity_is_refused() -> None:
    clean = xlsx_of([["Ethnicity", "Count"], ["A", 1]])
    bomb = rewrite_part(
        clean,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(
            b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><worksheet', 1
        ),
    )
    with pytest.raises(BadFile, match="DTD or XML entities"):
        read_ethnicity_report(bomb, "bomb.xlsx")
    with pytest.raises(BadFile):
        read_custom_dimension(bomb, "bomb.xlsx")
    check_xlsx_safety(clean, "clean.xlsx")  # the untouched workbook passes


def test_xlsx_with_a_utf16_part_is_refused() -> None:
    clean = xlsx_of([["Ethnicity", "Count"], ["A", 1]])
    utf16 = rewrite_part(clean, "xl/workbook.xml", lambda xml: xml.decode().encode("utf-16"))
    with pytest.raises(BadFile, match="UTF-8"):
        check_xlsx_safety(utf16, "u.xlsx")


def test_xlsx_cell_too_long_names_row_and_column() -> None:
    data = xlsx_of([["Group", "Count"], ["Carer", 3], ["x" * 1500, 2]])
    with pytest.raises(InvalidInput) as exc:
        read_custom_dimension(data, "long.xlsx")
    assert (errors_of(exc)[0].row, errors_of(exc)[0].column) == (3, "A")


def test_broken_xlsx_is_a_bad_file() -> None:
    data = zip_of({"[Content_Types].xml": b"<Types/>"})
    with pytest.raises(BadFile):
        read_ethnicity_report(data, "broken.xlsx")


# ---------------------------------------------------------------------------------------------------------
# Custom dimensions
# ---------------------------------------------------------------------------------------------------------


def test_custom_dimension_from_csv_with_a_named_header() -> None:
    data = b"Carer status,Patients\nCarer,120\nNot a carer,11000\n"
    assert read_custom_dimension(data, "carers.csv") == ("Carer status", {"Carer": 120, "Not a carer": 11000})


def test_custom_dimension_without_header_or_with_a_generic_one() -> None:
    assert read_custom_dimension(b"Student,900\nNot a student,8000\n", "s.csv") == (
        None, {"Student": 900, "Not a student": 8000})  # fmt: skip
    assert read_custom_dimension(b"group,count\nYes,1\nNo,2\n", "g.csv") == (None, {"Yes": 1, "No": 2})


def test_custom_dimension_from_xlsx() -> None:
    data = xlsx_of([["Working status", "Number"], ["Employed", 5000], ["Retired", 2100.0]])
    assert read_custom_dimension(data, "work.xlsx") == ("Working status", {"Employed": 5000, "Retired": 2100})


def test_custom_dimension_from_json_both_shapes() -> None:
    wrapped = json.dumps({"name": "Carers", "groups": {"Carer": 120, "Not a carer": 11000}}).encode()
    assert read_custom_dimension(wrapped, "carers.json") == ("Carers", {"Carer": 120, "Not a carer": 11000})
    plain = json.dumps({"Carer": 120, "Not a carer": 11000}).encode()
    assert read_custom_dimension(plain, "upload.txt") == (None, {"Carer": 120, "Not a carer": 11000})


def test_formula_like_group_names_are_refused_with_row_and_column() -> None:
    data = (
        "Group,Count\n"
        "Carer,10\n"
        "=HYPERLINK(\"http://example.org\"),1\n"  # row 3
        "+44 callers,2\n"  # row 4
        "-2,3\n"  # row 5
        "@SUM(A1),4\n"  # row 6
        "carer,5\n"  # row 7: same as row 2 ignoring case
        ",6\n"  # row 8: empty name
        "Students,-1\n"  # row 9: negative count
    ).encode()
    with pytest.raises(InvalidInput) as exc:
        read_custom_dimension(data, "bad.csv")
    got = [(e.row, e.column) for e in errors_of(exc)]
    assert got == [(9, "Count"), (3, "Group"), (4, "Group"), (5, "Group"), (6, "Group"), (7, "Group"), (8, "Group")]
    assert "formula" in errors_of(exc)[1].message
    assert "row 2" in errors_of(exc)[5].message


def test_formula_like_names_in_json_and_long_names() -> None:
    data = json.dumps({"name": "=cmd", "groups": {"=1+1": 3, "x" * 101: 2, "ok": 1.5, "fine": 1}}).encode()
    with pytest.raises(InvalidInput) as exc:
        read_custom_dimension(data, "d.json")
    fields = [e.field for e in errors_of(exc)]
    assert fields == ["name", "groups.ok", "groups.=1+1", "groups." + "x" * 40]


def test_json_duplicate_keys_and_wrong_shapes() -> None:
    with pytest.raises(BadFile, match="twice"):
        read_custom_dimension(b'{"Carer": 1, "Carer": 2}', "d.json")
    with pytest.raises(BadFile):
        read_custom_dimension(b"[1, 2]", "d.json")
    with pytest.raises(BadFile):
        read_custom_dimension(b"{not json", "d.json")


def test_row_numbers_are_the_same_on_the_full_scan_path() -> None:
    text = nhs_text(QUIN).replace("Y90003,E38000999,MS2 7LP,MALE,20_24,", "Y90003,E38000999,MS2 7LP,MALE,20_24,-")
    rows = list(csv.reader(io.StringIO(text)))
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    for data in (text.encode(), buf.getvalue().encode()):  # unquoted: byte prefilter; quoted: pandas
        with pytest.raises(InvalidInput) as exc:
            read_nhs_digital(data, QUIN, "Y90003")
        [error] = errors_of(exc)
        assert (error.row, error.column) == (row_of(text, "Y90003,E38000999,MS2 7LP,MALE,20_24,"), "NUMBER_OF_PATIENTS")


def test_a_totals_file_has_no_age_bands() -> None:
    text = (
        "PUBLICATION,EXTRACT_DATE,TYPE,CODE,ONS_CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n"
        "GP_PRAC_PAT_LIST,01OCT2026,GP,Y90001,E38000999,RV1 4AA,ALL,ALL,12400\n"
    )
    with pytest.raises(ValueError, match="no ages"):
        read_nhs_digital(text.encode(), "gp-reg-pat-prac-all.csv", "Y90001").by_band(DES_TEMPLATE)


def test_sample_ethnicity_report_as_xlsx_and_semicolon_csv() -> None:
    rows = list(csv.reader(io.StringIO(ethnicity_text("Y90001"))))
    as_xlsx = xlsx_of([rows[0]] + [[code or None, label, int(n)] for code, label, n in rows[1:]])
    assert read_ethnicity_report(as_xlsx, "Y90001-ethnicity.xlsx") == Y90001_ETHNICITY
    semicolons = "\n".join(";".join(r) for r in rows).encode("cp1252")
    assert read_ethnicity_report(semicolons, "Y90001-ethnicity.csv") == Y90001_ETHNICITY


def test_oversized_report_is_refused() -> None:
    with pytest.raises(FileTooLarge):
        read_ethnicity_report(b"Code,Count\n" + b"A,1\n" * 6_000_000, "huge.csv")


def test_json_with_a_bom_and_no_json_extension() -> None:
    assert read_custom_dimension(b'\xef\xbb\xbf{"Carer": 3}', "carers.txt") == (None, {"Carer": 3})


def test_row_cap_applies_to_xlsx_and_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(small_tables, "MAX_TABLE_ROWS", 5)
    rows = [["Group", "Count"]] + [[f"g{i}", i] for i in range(10)]
    with pytest.raises(FileTooLarge, match="more than 5 rows"):
        read_custom_dimension(xlsx_of(rows), "many.xlsx")
    with pytest.raises(FileTooLarge, match="more than 5 rows"):
        read_custom_dimension("\n".join(f"{g},{n}" for g, n in rows).encode(), "many.csv")
