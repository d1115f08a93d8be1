"""The formula-safe writer's rules, and the collation workbook's age bands (kept in step with the formula)."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import xlsxwriter

from exports.collation_workbook import member_age_band
from exports.safe import SafeSheet, clean_cell_text, csv_cell, download_name, gb_date, gb_money, write_csv
from prg.population.dimensions import age_at


def test_csv_cells_that_a_spreadsheet_would_run_get_an_apostrophe():
    for payload in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert csv_cell(payload) == "'" + payload
    assert csv_cell("Dr Smith") == "Dr Smith" and csv_cell(-3) == -3 and csv_cell(None) == ""
    assert write_csv([["=x", 1], ["ok", 2.5]]) == "'=x,1\r\nok,2.5\r\n"


def test_xlsx_text_is_a_string_cell_even_when_it_looks_like_a_formula():
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    sheet = SafeSheet(book.add_worksheet("S"))
    sheet.text(0, 0, '=HYPERLINK("http://evil","x")')
    sheet.value(0, 1, "-1+2")
    sheet.value(0, 2, 7)
    sheet.text(0, 3, "bell\x07 and null\x00 gone")
    sheet.text(0, 4, "x" * 40_000)
    book.close()
    cells = openpyxl.load_workbook(buffer)["S"][1]
    assert [c.data_type for c in cells] == ["s", "s", "n", "s", "s"]
    assert cells[0].value == '=HYPERLINK("http://evil","x")' and cells[2].value == 7
    assert cells[3].value == "bell and null gone" and len(cells[4].value) == 32_767
    assert clean_cell_text(None) == ""


def test_names_dates_and_money():
    assert download_name("Y90001", "survey-3 results/../x", "xlsx", date(2026, 11, 24)) == \
        "Y90001-survey-3-results-x-2026-11-24.xlsx"
    assert gb_date(date(2013, 3, 31)) == "31 March 2013"
    assert gb_money(13640) == "£13,640.00"


def test_the_calc_sheets_age_band_matches_the_representativeness_rule():
    on = date(2026, 10, 1)
    for born in range(1920, 2027):
        age = age_at(born, on)
        expected = next(label for label, lower in (("75+", 75), ("65-74", 65), ("55-64", 55), ("45-54", 45),
                                                   ("35-44", 35), ("25-34", 25), ("16-24", 16), ("Under 16", 0))
                        if age >= lower)
        assert member_age_band({"birth_year": born}, on) == expected
    assert member_age_band({"birth_year": None, "age_band": "25-34"}, on) == "25-34"
    assert member_age_band({"birth_year": None, "age_band": "25-29"}, on) == ""
