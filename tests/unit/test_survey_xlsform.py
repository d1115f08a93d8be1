"""XLSForm import and export: golden files from KoBo-style workbooks, errors naming the row, the round trip,
and a cross-check with pyxform (the reference XLSForm parser) that our exports are valid XLSForms."""

from __future__ import annotations

import io
import itertools
import json
import re
import time
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prg.errors import BadFile, FileTooLarge, InvalidInput
from surveys import skip_logic
from surveys.bank import bank_collections, survey_from_bank
from surveys.definition import (
    DateQuestion,
    Dimension,
    GridRow,
    LongTextQuestion,
    MultipleChoiceQuestion,
    NumberQuestion,
    Option,
    RatingGridQuestion,
    ScaleQuestion,
    Section,
    ShortTextQuestion,
    SingleChoiceQuestion,
    SurveyDefinition,
    validate_definition,
)
from surveys.xlsform import export_xlsform, import_xlsform, language_column_name, read_xlsform
from surveys.xlsform.workbook import Deadline, Errors, read_sheet

GOLDEN = Path(__file__).parent.parent / "data" / "xlsform"


def workbook(survey: list[list[Any]], choices: list[list[Any]] | None = None,
             settings_rows: list[list[Any]] | None = None) -> bytes:  # fmt: skip
    """A small XLSForm built in the test, sheet by sheet (first row = header)."""
    book = openpyxl.Workbook()
    sheets = [("survey", survey), ("choices", choices), ("settings", settings_rows)]
    first = True
    for title, rows in sheets:
        if rows is None:
            continue
        ws = book.active if first else book.create_sheet()
        first = False
        ws.title = title
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


YES_NO = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
TITLE = [["form_title"], ["A survey"]]


def import_errors(data: bytes) -> list[dict[str, Any]]:
    with pytest.raises(InvalidInput) as caught:
        import_xlsform(data)
    return [e.as_dict() for e in caught.value.errors]


# ---------------------------------------------------------------------------------------------------------
# Golden files
# ---------------------------------------------------------------------------------------------------------


def test_golden_kobo_form_with_translations_imports_as_expected():
    defn = import_xlsform((GOLDEN / "kobo_fft_translated.xlsx").read_bytes())
    expected = json.loads((GOLDEN / "kobo_fft_translated.expected.json").read_text(encoding="utf-8"))
    assert msgspec.to_builtins(defn) == expected
    # What the practice manager will see, spelled out:
    assert defn.title == {"en": "Friends and Family Test"}
    assert defn.default_language == "en" and defn.languages == ["en", "pl"]
    assert [s.id for s in defn.sections] == ["section_1", "care", "about"]  # loose questions get a section
    first = defn.sections[0].questions
    assert [q.id for q in first] == ["FFT", "FFT_why", "visits", "recommend", "last_visit"]  # start/end skipped
    assert first[0].label["pl"].startswith("Ogólnie rzecz biorąc")
    assert first[0].top_box == ["very_good", "good"]
    assert isinstance(first[1], LongTextQuestion) and first[1].max_length == 1000
    assert first[1].show_if == "answered(FFT)"  # names kept as written
    assert isinstance(first[3], ScaleQuestion)
    assert isinstance(first[4], DateQuestion) and first[4].min == date(2020, 1, 1)
    care = defn.sections[1]
    assert care.intro == {"en": "Think about your most recent appointment.", "pl": "Proszę pomyśleć o ostatniej wizycie."}
    assert care.show_if == "visits >= 1 and not (FFT = 'dont_know')"
    table, older = care.questions[0], care.questions[1]
    assert isinstance(table, RatingGridQuestion) and [r.id for r in table.rows] == ["listening", "time"]
    assert table.required and [o.code for o in table.options] == ["1", "2", "3"]
    assert isinstance(older, RatingGridQuestion) and [r.id for r in older.rows] == ["clean", "waiting"]
    assert care.questions[3].show_if == "selected(problems, 'other') and not selected(problems, 'none')"
    sex = defn.sections[2].questions[0]
    assert sex.dimension == Dimension(name="sex", groups={"f": "female", "m": "male"})


def test_golden_form_with_a_repeat_names_every_unsupported_row():
    assert import_errors((GOLDEN / "unsupported_repeat.xlsx").read_bytes()) == [
        {"field": "survey", "row": 3, "column": "type",
         "message": "'begin_repeat': repeats are not supported: a survey asks each question once per patient; to ask "
                    "about a few people or visits, ask the questions once for each (e.g. child1_age, child2_age)"},
        {"field": "survey", "row": 5, "column": "type",
         "message": "'end_repeat': repeats are not supported: a survey asks each question once per patient; to ask "
                    "about a few people or visits, ask the questions once for each (e.g. child1_age, child2_age)"},
        {"field": "survey", "row": 6, "column": "type",
         "message": "'geopoint': location questions are not supported: the web form does not ask where a patient is; "
                    "ask for a postcode or a place in a text question instead"},
    ]  # fmt: skip


def test_golden_form_with_bad_skip_logic_names_rows_and_columns():
    errors = import_errors((GOLDEN / "bad_relevant.xlsx").read_bytes())
    assert [(e["row"], e["column"]) for e in errors] == [(3, "relevant"), (4, "relevant"), (6, "choice_filter")]
    assert "write = for equals, not ==" in errors[0]["message"]
    assert "the function count-selected() is not supported" in errors[1]["message"]
    assert "Supported: ${q} = 'a'" in errors[1]["message"]
    assert errors[2]["message"] == (
        "'visited = 'yes'' is not a supported choice filter: compare a column of the choices sheet with an earlier "
        "answer, e.g. site = ${site} or selected(${problems}, name), joined by 'and'"
    )


def test_skip_logic_pointing_at_a_later_question_is_mapped_to_its_row():
    data = workbook(
        [["type", "name", "label", "relevant"],
         ["select_one yn", "again", "Would you come again?", "${later} = 'yes'"],
         ["select_one yn", "later", "Later", None]],
        YES_NO, TITLE,
    )  # fmt: skip
    assert import_errors(data) == [
        {"field": "survey", "row": 2, "column": "relevant",
         "message": "refers to 'later', which comes later; skip logic can only use earlier questions"},
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# The supported subset, row by row
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (["select_one_from_file sites.csv", "q", "Q", None, None, None], "type", "choices from a file are not supported"),
        (["select_one missing", "q", "Q", None, None, None], "type", "the choice list 'missing' is not on the choices sheet"),
        (["select_one", "q", "Q", None, None, None], "type", "names no choice list"),
        (["calculate", "q", None, None, None, None], "calculation", "a calculate row needs a calculation"),
        (["begin_repeat", "q", "Q", None, None, None], "type", "repeats are not supported"),
        (["time", "q", "Q", None, None, None], "type", "time questions are not supported; use date"),
        (["image", "q", "Q", None, None, None], "type", "photo questions are not supported"),
        (["rank yn", "q", "Q", None, None, None], "type", "ranking questions are not supported"),
        (["slider", "q", "Q", None, None, None], "type", "the type 'slider' is not supported"),
        (["integer", "q", "Q", None, ". != 5", None], "constraint", "is not a supported constraint"),
        (["integer", "q", "Q", None, ". >= 1 or . <= 5", None], "constraint", "is not a supported constraint"),
        (["date", "q", "Q", None, ". <= today()", None], "constraint", "for dates write"),
        (["text", "q", "Q", None, "regex(., '^[0-9]+$')", None], "constraint", "for text write 'string-length(.) <= 500'"),
        (["select_one yn", "q", "Q", None, ". != 'no'", None], "constraint", "constraints are not supported on select_one"),
        (["range", "q", "Q", None, None, "start=1 end=5 step=0"], "parameters", "step cannot be 0"),
        (["integer", "q", "Q", None, None, "randomize=true"], "parameters", "supported only for range"),
        (["integer", "q", "Q", "${q} > 1 and", None, None], "relevant", "expected a reference"),
        (["integer", "q", "Q", None, None, None, "${x} = 'a'"], "required", "must be yes or no"),
        (["text", "q", "Hello ${name}", None, None, None], "label", "shows ${name}, which is not a question or calculation"),
        (["text", "q", None, None, None, None], "label", "every question needs a label"),
        (["text", None, "Q", None, None, None], "name", "every question and group needs a name"),
        (["text", "2nd", "Q", None, None, None], "name", "'2nd' is not a usable name"),
        (["text", "my name", "Q", None, None, None], "name", "'my name' is not a usable name"),
        ([None, "q", "Q", None, None, None], "type", "every row needs a type"),
        (["end_group", None, None, None, None, None], "type", "end_group has no matching begin_group"),
        (["select_multiple yn", "q", "Q", None, None, None, None, "sex"], "prg_dimension", "only on select_one"),
    ],
)
def test_unsupported_rows_are_refused_with_the_row_named(row, column, fragment):
    header = ["type", "name", "label", "relevant", "constraint", "parameters", "required", "prg_dimension"]
    data = workbook([header, ["note", "intro", "Welcome", None, None, None, None, None], row], YES_NO, TITLE)
    errors = import_errors(data)
    assert len(errors) == 1, errors
    assert errors[0]["field"] == "survey" and errors[0]["row"] == 3 and errors[0]["column"] == column
    assert fragment in errors[0]["message"]


def test_structure_errors():
    errors = import_errors(workbook(
        [["type", "name", "label"],
         ["text", "a", "A"],
         ["note", "late_note", "A note after a question"],
         ["begin_group", "g", "Group"],
         ["begin_group", "inner", "Inner group"],
         ["text", "b", "B"],
         ["end_group", None, None],
         ["end_group", None, None],
         ["text", "A", "Same name as row 2, in capitals"],
         ["begin_group", "never_closed", "Oops"],
         ["text", "c", "C"]],
        YES_NO, TITLE,
    ))  # fmt: skip
    assert [(e["row"], e["message"]) for e in errors] == [
        (5, "groups inside groups are not supported, except rating grids (appearance table-list)"),
        (9, "'A' is also the name on row 2"),
        (10, "this begin_group has no end_group"),
    ]


def test_choices_sheet_errors_name_their_rows():
    errors = import_errors(workbook(
        [["type", "name", "label"], ["select_one yn", "q", "Q"]],
        [["list_name", "name", "label", "media::image"], ["yn", "yes", "Yes", None], ["yn", "yes", "Yes again", None],
         ["yn", None, "No code", None], ["yn", "no", None, "no.png"]],
        TITLE,
    ))  # fmt: skip
    assert [(e["field"], e["row"], e["column"], e["message"]) for e in errors] == [
        ("choices", 3, "name", "'yes' appears twice in the list 'yn'"),
        ("choices", 4, "name", "is empty: every answer needs a code"),
        ("choices", 5, "media::image", "images, audio and video in labels are not supported"),
        ("choices", 5, "label", "is empty: every answer needs a label"),
    ]


def test_a_misspelt_column_is_reported_rather_than_ignored():
    errors = import_errors(workbook([["type", "name", "label", "relevent"], ["text", "q", "Q", "${x} = 'a'"]], None, TITLE))
    assert errors == [{"field": "survey", "row": 1, "column": "relevent",
                       "message": "is not a column this product reads: did you mean 'relevant'?"}]  # fmt: skip


def test_formulas_are_refused_not_evaluated():
    data = workbook([["type", "name", "label"], ["text", "q", '=HYPERLINK("http://evil.example","Click")']], None, TITLE)
    assert import_errors(data) == [
        {"field": "survey", "row": 2, "column": "label", "message": "holds a formula; type the value instead"}
    ]


def test_names_are_kept_as_written_and_references_follow():
    defn = import_xlsform(workbook(
        [["type", "name", "label", "relevant"],
         ["select_one yn", "Q1", "First", None],
         ["integer", "Q2", "Second", "${Q1} = 'yes'"]],
        YES_NO, TITLE,
    ))  # fmt: skip
    assert [q.id for q in defn.questions()] == ["Q1", "Q2"]
    assert defn.sections[0].questions[1].show_if == "Q1 = 'yes'"


def test_kobo_select_from_list_name_column():
    defn = import_xlsform(workbook(
        [["type", "name", "label", "select_from_list_name"], ["select_one", "q", "Q", "yn"]], YES_NO, TITLE
    ))  # fmt: skip
    assert [o.code for o in defn.sections[0].questions[0].options] == ["yes", "no"]


def test_numeric_codes_compared_as_numbers_become_codes():
    defn = import_xlsform(workbook(
        [["type", "name", "label", "relevant"], ["select_one n", "q", "Q", None], ["text", "why", "Why?", "${q} = 1"]],
        [["list_name", "name", "label"], ["n", 1, "One"], ["n", 2, "Two"]],
        TITLE,
    ))  # fmt: skip
    assert defn.sections[0].questions[1].show_if == "q = '1'"
    assert [o.code for o in defn.sections[0].questions[0].options] == ["1", "2"]


def test_languages_settings_and_titles():
    defn = import_xlsform(workbook(
        [["type", "name", "label", "label::Polish", "hint", "hint::Cymraeg (cy)"],
         ["text", "q", "Name", "Imię", "As on your letter", "Fel ar eich llythyr"]],
        None,
        [["form_title", "prg_form_title::Polski (pl)", "default_language"], ["Survey", "Ankieta", "en"]],
    ))  # fmt: skip
    assert defn.languages == ["en", "pl", "cy"]
    assert defn.title == {"en": "Survey", "pl": "Ankieta"}
    assert defn.sections[0].questions[0].label == {"en": "Name", "pl": "Imię"}
    assert defn.sections[0].questions[0].help == {"en": "As on your letter", "cy": "Fel ar eich llythyr"}


def test_every_text_needs_the_default_language():
    errors = import_errors(workbook(
        [["type", "name", "label::English (en)", "label::Polish (pl)", "hint::Polish (pl)"],
         ["text", "q", None, "Imię", None],
         ["text", "r", "Town", "Miasto", "Tylko po polsku"]],
        None, [["form_title", "default_language"], ["Survey", "English (en)"]],
    ))  # fmt: skip
    assert errors == [
        {"field": "survey", "row": 2, "column": "label", "message": "has no text in the survey's default language 'en'"},
        {"field": "survey", "row": 3, "column": "hint", "message": "has no text in the survey's default language 'en'"},
    ]


def test_unknown_language_names_are_kept_as_written():
    imported = read_xlsform(workbook([["type", "name", "label::Klingonese", "label::English (en)"],
                                      ["text", "q", "nuqneH", "Hello"]], None,
                                     [["form_title", "default_language"], ["A survey", "English (en)"]]))
    defn = imported.definition
    assert defn.languages == ["qaa", "en"] and defn.language_names == {"qaa": "Klingonese"}
    assert defn.sections[0].questions[0].label == {"qaa": "nuqneH", "en": "Hello"}
    assert [str(e) for e in imported.report if e.kind == "changed"] == [
        "changed: the language 'Klingonese' is not one the product knows by name: it is kept as written, under the "
        "private code qaa; to let browsers choose it, write its code in the headers, e.g. label::Klingonese (xx)"
    ]
    header = _sheet(export_xlsform(defn), "survey")[0]
    assert "label::Klingonese" in header  # written back as the author wrote it


def test_a_title_is_needed():
    errors = import_errors(workbook([["type", "name", "label"], ["text", "q", "Q"]]))
    assert errors == [{"field": "settings", "row": 2, "column": "form_title",
                       "message": "The form needs a title: fill in form_title"}]  # fmt: skip
    defn = import_xlsform(workbook([["type", "name", "label"], ["text", "q", "Q"]], None,
                                   [["form_id"], ["my_form"]]))  # fmt: skip
    assert defn.title == {"en": "my_form"}


def test_a_field_list_group_is_a_section_and_rows_outside_groups_get_their_own():
    defn = import_xlsform(workbook(
        [["type", "name", "label", "appearance", "hint"],
         ["text", "a", "A", None, None],
         ["begin group", "page", "Page", "field-list", "About this page"],
         ["text", "b", "B", None, None],
         ["end group", None, None, None, None],
         ["text", "c", "C", None, None]],
        None, TITLE,
    ))  # fmt: skip
    assert [(s.id, [q.id for q in s.questions]) for s in defn.sections] == [
        ("section_1", ["a"]), ("page", ["b"]), ("section_3", ["c"]),
    ]  # fmt: skip
    assert defn.sections[1].intro == {"en": "About this page"}


def test_grid_rows_must_share_a_list_and_be_uniformly_required():
    errors = import_errors(workbook(
        [["type", "name", "label", "appearance", "required"],
         ["begin_group", "g", "Rate", "table-list", None],
         ["select_one yn", "g_a", "A", None, "yes"],
         ["select_one other", "g_b", "B", None, "yes"],
         ["select_one yn", "g_c", "C", None, None],
         ["text", "g_d", "D", None, None],
         ["end_group", None, None, None, None]],
        YES_NO + [["other", "x", "X"], ["other", "y", "Y"]], TITLE,
    ))  # fmt: skip
    assert [(e["row"], e["message"]) for e in errors] == [
        (2, "the rows of a rating grid must all be required or all optional"),
        (4, "uses list 'other', but the grid's rows use 'yn'"),
        (6, "every row of a rating grid (group 'g', appearance table-list) must be a select_one over the same list"),
    ]


# ---------------------------------------------------------------------------------------------------------
# Unsafe and wrong files
# ---------------------------------------------------------------------------------------------------------


def test_files_that_are_not_xlsx_are_refused():
    with pytest.raises(BadFile, match="not an Excel workbook"):
        import_xlsform(b"type,name,label\ntext,q,Q\n", filename="form.csv")
    with pytest.raises(BadFile, match=r"old Excel \(\.xls\)"):
        import_xlsform(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, filename="form.xls")
    with pytest.raises(BadFile, match="empty"):
        import_xlsform(b"")
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("notes.txt", "hello")
    with pytest.raises(BadFile, match="not an Excel workbook"):
        import_xlsform(plain_zip.getvalue())
    with pytest.raises(FileTooLarge):
        import_xlsform(b"PK\x03\x04" + b"\x00" * 5_000_001)


def _rezip(data: bytes, change: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, change.get(item.filename, src.read(item.filename)))
        for name, content in change.items():
            if name not in src.namelist():
                dst.writestr(name, content)
    return out.getvalue()


def test_xml_entity_bombs_are_refused_before_parsing():
    data = workbook([["type", "name", "label"], ["text", "q", "Q"]], None, TITLE)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    body = sheet.split(b"?>", 1)[1] if sheet.startswith(b"<?xml") else sheet
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>' + body
    with pytest.raises(BadFile, match="DTD or XML entities"):
        import_xlsform(_rezip(data, {"xl/worksheets/sheet1.xml": bomb}))


def test_zip_bombs_and_unsafe_paths_are_refused():
    data = workbook([["type", "name", "label"], ["text", "q", "Q"]], None, TITLE)
    with pytest.raises(BadFile, match="zip bomb"):
        import_xlsform(_rezip(data, {"xl/media/padding.bin": b"\x00" * 3_000_000}))
    with pytest.raises(BadFile, match="unsafe path"):
        import_xlsform(_rezip(data, {"../../evil.txt": b"x"}))


def test_a_workbook_without_a_survey_sheet():
    errors = import_errors(workbook([["form_title"], ["x"]]))  # the only sheet is called "survey" by the helper
    assert errors  # no type/name columns
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    out = io.BytesIO()
    book.save(out)
    assert import_errors(out.getvalue()) == [
        {"field": "survey", "message": "The workbook has no 'survey' sheet (sheets: sheet1)."}
    ]


def libreoffice_workbook(survey: list[list[Any]], choices: list[list[Any]], settings_rows: list[list[Any]]) -> bytes:
    """A workbook shaped the way LibreOffice saves one: every sheet declares the whole grid
    (``<dimension ref="A1:BH1048576"/>``, 60 columns by 1,048,576 rows), formats whole columns and writes an
    empty, formatted last row 1,048,576."""
    data = workbook(survey, choices, settings_rows)
    changed = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = z.read(name)
                xml = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:BH1048576"/>', xml)
                xml = xml.replace(b"<sheetData>", b'<cols><col min="1" max="1024" width="11.5" customWidth="false"'
                                                  b' style="0" collapsed="false" hidden="false"/></cols><sheetData>')
                xml = xml.replace(b"</sheetData>", b'<row r="1048576" customFormat="false" ht="12.8" hidden="false"'
                                                   b' customHeight="false" outlineLevel="0" collapsed="false">'
                                                   b'<c r="A1048576" s="0"/><c r="BH1048576" s="0"/></row></sheetData>')
                changed[name] = xml
    return _rezip(data, changed)


def test_a_libreoffice_workbook_declaring_a_million_rows_reads_in_proportion_to_its_content():
    header = ["type", "name", "label"] + [f"note_{n}" for n in range(57)]  # 60 header cells
    data = libreoffice_workbook([header, ["select_one yn", "q", "Q"], ["text", "why", "Why?"]], YES_NO, TITLE)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert b'<dimension ref="A1:BH1048576"/>' in z.read("xl/worksheets/sheet1.xml")
    started = time.process_time()  # CPU time: steady on a machine shared with other work
    defn = import_xlsform(data)
    took = time.process_time() - started
    assert [q.id for q in defn.questions()] == ["q", "why"]
    assert took < 1.0, f"took {took:.2f} s of CPU"


def test_reading_stops_at_the_time_bound():
    book = openpyxl.Workbook()
    for n in range(3000):
        book.active.append(["text", f"q{n}", "Q"])
    out = io.BytesIO()
    book.save(out)
    opened = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    try:
        with pytest.raises(BadFile, match=r"Reading the survey sheet took more than 0 seconds, so the import was stopped"):
            read_sheet(opened.active, "survey", 5000, Errors(), Deadline(0))
    finally:
        opened.close()


# ---------------------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------------------

BANK_SURVEY = survey_from_bank(
    {"en": "Everything in the bank", "pl": "Cały bank pytań"},
    [(c.id, None, c.question_ids) for c in bank_collections()],
    languages=["en", "pl"],
)


def _sheet(data: bytes, name: str) -> list[list[Any]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [list(row) for row in book[name].iter_rows(values_only=True)]
    finally:
        book.close()


def test_export_writes_the_documented_conventions():
    data = export_xlsform(BANK_SURVEY, form_id="bank", version="3")
    survey = _sheet(data, "survey")
    header = survey[0]
    assert header[:4] == ["type", "name", "label::English (en)", "label::Polish (pl)"]
    rows = {r[1]: dict(zip(header, r)) for r in survey[1:] if r[1] and r[0] != "end_group"}
    assert rows["fft"]["type"] == "begin_group" and rows["fft"]["appearance"] == "field-list"
    assert rows["fft_2020_experience"]["type"] == "select_one fft_2020_experience"
    assert rows["fft_2020_experience"]["required"] == "yes"
    assert rows["fft_2020_experience"]["prg_top_box"] == "very_good good"
    assert rows["fft_2020_reason"]["appearance"] == "multiline"
    assert rows["fft_2020_reason"]["constraint"] == "string-length(.) <= 2000"
    assert rows["gpps_clinical_care"]["appearance"] == "table-list"
    assert rows["gpps_clinical_care_listening"]["type"] == "select_one gpps_clinical_care"
    assert rows["demo_sex"]["prg_dimension"] == "sex"
    choices = _sheet(data, "choices")
    assert ["demo_sex", "female", "Female", "Kobieta", "female"] in choices
    settings_sheet = _sheet(data, "settings")
    assert dict(zip(*settings_sheet)) == {
        "form_title": "Everything in the bank", "form_id": "bank", "version": "3",
        "default_language": "English (en)", "prg_form_title::Polish (pl)": "Cały bank pytań",
    }  # fmt: skip
    assert language_column_name("pt-BR") == "Portuguese (Brazil) (pt-BR)"


def test_text_that_looks_like_a_formula_is_written_as_text():
    defn = SurveyDefinition(
        title={"en": "=1+1"},
        sections=[Section(id="s", questions=[ShortTextQuestion("q", {"en": '=HYPERLINK("http://x")'})])],
    )
    data = export_xlsform(defn)
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for row in book["survey"].iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)
    assert import_xlsform(data) == defn


def test_the_whole_bank_round_trips():
    assert import_xlsform(export_xlsform(BANK_SURVEY)) == BANK_SURVEY


# ---------------------------------------------------------------------------------------------------------
# Round trip over generated definitions
# ---------------------------------------------------------------------------------------------------------

LANGUAGE_SETS = (("en",), ("en", "pl"), ("pl", "en"), ("en", "pl", "cy"))
WORDS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZąęłńóśźżĄĘŁŃÓŚŹŻŵŷ0123456789 .,?!'\"-()=+@&<>/\n",
    min_size=1,
    max_size=40,
).map(str.strip).filter(bool)
CODES = ("yes", "no", "1", "2", "10", "very_good", "dont_know", "x.y", "z-1", "A")
DIMENSION_GROUPS = {
    "sex": ("female", "male"),
    "age_band": ("Under 16", "16-24", "75+", "<16"),
    "ethnicity": ("white", "mixed", "asian", "black", "other"),
    "custom:carer": ("carer", "not_carer"),
}


@st.composite
def texts(draw, languages, default):
    text = {default: draw(WORDS)}
    for lang in languages:
        if lang != default and draw(st.booleans()):
            text[lang] = draw(WORDS)
    return text


@st.composite
def conditions(draw, earlier):
    """A canonical show_if over earlier questions, fitting each question's type."""
    leaves = []
    for q in earlier:
        if isinstance(q, SingleChoiceQuestion):
            codes = [o.code for o in q.options]
            leaves.append(st.builds(skip_logic.Compare, st.just(q.id), st.sampled_from(("=", "!=")), st.sampled_from(codes)))
            leaves.append(st.builds(skip_logic.Selected, st.just(q.id), st.sampled_from(codes)))
        elif isinstance(q, MultipleChoiceQuestion):
            leaves.append(st.builds(skip_logic.Selected, st.just(q.id), st.sampled_from([o.code for o in q.options])))
        elif isinstance(q, (NumberQuestion, ScaleQuestion)):
            leaves.append(st.builds(skip_logic.Compare, st.just(q.id), st.sampled_from(skip_logic.OPERATORS),
                                    st.one_of(st.integers(-5, 20), st.sampled_from((0.5, 2.25)))))  # fmt: skip
        leaves.append(st.builds(skip_logic.Answered, st.just(q.id)))
    leaf = st.one_of(*leaves)
    expr = draw(st.recursive(leaf, lambda inner: st.one_of(
        st.builds(skip_logic.Not, inner),
        st.builds(skip_logic.And, st.lists(inner, min_size=2, max_size=3).map(tuple)),
        st.builds(skip_logic.Or, st.lists(inner, min_size=2, max_size=3).map(tuple)),
    ), max_leaves=4))  # fmt: skip
    return skip_logic.format_expr(skip_logic.parse(skip_logic.format_expr(expr)))


@st.composite
def options(draw, languages, default, min_size=2):
    codes = draw(st.lists(st.sampled_from(CODES), min_size=min_size, max_size=5, unique=True))
    return [Option(code=c, label=draw(texts(languages, default))) for c in codes]


@st.composite
def definitions(draw):
    languages = list(draw(st.sampled_from(LANGUAGE_SETS)))
    default = draw(st.sampled_from(languages))
    counter = itertools.count(1)
    earlier: list[Any] = []
    unused_dimensions = list(DIMENSION_GROUPS)
    sections = []

    def maybe(strategy):
        return draw(st.one_of(st.none(), strategy))

    for s in range(draw(st.integers(1, 3))):
        section_show_if = maybe(conditions(earlier)) if earlier else None
        questions = []
        for _ in range(draw(st.integers(1, 4))):
            qid = f"q{next(counter)}"
            common = {
                "id": qid,
                "label": draw(texts(languages, default)),
                "help": maybe(texts(languages, default)),
                "required": draw(st.booleans()),
                "show_if": maybe(conditions(earlier)) if earlier else None,
            }
            kind = draw(st.sampled_from(("single", "multiple", "grid", "scale", "number", "date", "short", "long")))
            if kind == "single":
                opts = draw(options(languages, default))
                codes = [o.code for o in opts]
                dimension = None
                if unused_dimensions and draw(st.booleans()):
                    name = unused_dimensions.pop(draw(st.integers(0, len(unused_dimensions) - 1)))
                    mapped = draw(st.lists(st.sampled_from(codes), min_size=1, unique=True))
                    dimension = Dimension(name=name, groups={c: draw(st.sampled_from(DIMENSION_GROUPS[name])) for c in mapped})
                q = SingleChoiceQuestion(**common, options=opts, dimension=dimension,
                                         top_box=draw(st.lists(st.sampled_from(codes), unique=True, max_size=3)))  # fmt: skip
            elif kind == "multiple":
                q = MultipleChoiceQuestion(**common, options=draw(options(languages, default, min_size=1)))
            elif kind == "grid":
                opts = draw(options(languages, default))
                rows = [GridRow(id=f"r{i}", label=draw(texts(languages, default))) for i in range(1, draw(st.integers(1, 3)) + 1)]
                q = RatingGridQuestion(**common, rows=rows, options=opts,
                                       top_box=draw(st.lists(st.sampled_from([o.code for o in opts]), unique=True, max_size=2)))  # fmt: skip
            elif kind == "scale":
                q = ScaleQuestion(**common)
            elif kind == "number":
                integer = draw(st.booleans())
                bound = st.integers(-1000, 1000) if integer else st.one_of(
                    st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
                low, high = maybe(bound), maybe(bound)
                if low is not None and high is not None and low > high:
                    low, high = high, low
                q = NumberQuestion(**common, integer=integer, min=low, max=high)
            elif kind == "date":
                day = st.dates(date(1900, 1, 1), date(2100, 12, 31))
                low, high = maybe(day), maybe(day)
                if low is not None and high is not None and low > high:
                    low, high = high, low
                q = DateQuestion(**common, min=low, max=high)
            elif kind == "short":
                q = ShortTextQuestion(**common, max_length=draw(st.integers(1, 1000)))
            else:
                q = LongTextQuestion(**common, max_length=draw(st.integers(1, 10_000)))
            questions.append(q)
            earlier.append(q)
        sections.append(Section(id=f"s{s + 1}", title=maybe(texts(languages, default)),
                                intro=maybe(texts(languages, default)), show_if=section_show_if,
                                questions=questions))  # fmt: skip
    return SurveyDefinition(title=draw(texts(languages, default)), default_language=default,
                            languages=languages, sections=sections)  # fmt: skip


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definitions())
def test_import_of_export_is_the_same_definition(defn):
    assert validate_definition(defn) == []
    assert import_xlsform(export_xlsform(defn)) == defn


# ---------------------------------------------------------------------------------------------------------
# Cross-check with pyxform, the reference XLSForm implementation
# ---------------------------------------------------------------------------------------------------------


def _pyxform(data: bytes) -> str:
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    result = convert(xlsform=data, warnings=warnings, file_type=".xlsx")
    return result.xform


def test_pyxform_accepts_the_exported_bank_survey():
    xform = _pyxform(export_xlsform(BANK_SURVEY, form_id="bank", version="1"))
    assert 'lang="Polish (pl)"' in xform and 'default="true()"' in xform
    assert "Ogólnie rzecz biorąc" in xform
    # Skip logic and bounds reach the XForm binds.
    defn = survey_from_bank({"en": "FFT"}, [("fft", None, ["fft_2020_experience", "fft_2020_reason"])])
    sections = [Section(id="more", show_if="fft_2020_experience != 'dont_know'",
                        questions=[NumberQuestion("visits", {"en": "Visits"}, min=0, max=99)])]  # fmt: skip
    defn = msgspec.structs.replace(defn, sections=[*defn.sections, *sections])
    xform = _pyxform(export_xlsform(defn))
    binds = dict(re.findall(r'<bind nodeset="([^"]+)"([^>]*)/>', xform))
    assert "relevant=\" /data/fft/fft_2020_experience  != '' and  /data/fft/fft_2020_experience  != 'dont_know'\"" in binds["/data/more"]
    assert 'constraint=". &gt;= 0 and . &lt;= 99"' in binds["/data/more/visits"]
    assert 'required="true()"' in binds["/data/fft/fft_2020_experience"]


def test_pyxform_accepts_the_golden_kobo_form_and_its_re_export():
    golden = (GOLDEN / "kobo_fft_translated.xlsx").read_bytes()
    _pyxform(golden)
    _pyxform(export_xlsform(import_xlsform(golden)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definitions())
def test_pyxform_accepts_every_exported_definition(defn):
    xform = _pyxform(export_xlsform(defn))
    assert "<h:title>" in xform
