"""Rebuild the golden XLSForm files in this folder: `.venv/bin/python tests/data/xlsform/build.py`.

The workbooks are written the way KoBoToolbox and hand-edited Excel files look (metadata rows, KoBo's
`$kuid` column, upper-case names, `English (en)` language columns), not the way our exporter writes them,
so the import tests exercise real-world input. Row numbers quoted in the tests are spreadsheet rows
(header = row 1): keep them in step when editing these tables.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl

HERE = Path(__file__).parent
EN, PL = "English (en)", "Polish (pl)"


def xlsform_book(survey: list[list[Any]], choices: list[list[Any]] | None = None,
                 settings: list[list[Any]] | None = None) -> openpyxl.Workbook:
    """An XLSForm workbook, sheet by sheet (first row = header); a sheet given as None is left out."""
    book = openpyxl.Workbook()
    first = True
    for title, rows in (("survey", survey), ("choices", choices), ("settings", settings)):
        if rows is None:
            continue
        ws = book.active if first else book.create_sheet()
        first = False
        ws.title = title
        for row in rows:
            ws.append(row)
    return book


def xlsform_bytes(survey: list[list[Any]], choices: list[list[Any]] | None = None,
                  settings: list[list[Any]] | None = None) -> bytes:
    """`xlsform_book` saved: what the tests upload and import."""
    out = io.BytesIO()
    xlsform_book(survey, choices, settings).save(out)
    return out.getvalue()


def write(name: str, survey: list[list[object]], choices: list[list[object]], settings: list[list[object]]) -> None:
    book = xlsform_book(survey, choices, settings)
    # Fixed document properties, so rebuilding gives the same content.
    book.properties.creator = "prg-toolkit tests"
    book.save(HERE / name)


SURVEY_HEADER = ["type", "name", f"label::{EN}", f"label::{PL}", f"hint::{EN}", f"hint::{PL}", "required",
                 "relevant", "constraint", "constraint_message", "appearance", "parameters", "$kuid"]


def kobo_fft() -> None:
    survey = [
        SURVEY_HEADER,
        # row 2, 3: KoBo metadata: skipped
        ["start", "start", None, None, None, None, None, None, None, None, None, None, "a1"],
        ["end", "end", None, None, None, None, None, None, None, None, None, None, "a2"],
        # rows 4-8: questions outside any group -> section_1
        ["select_one fft", "FFT", "Overall, how was your experience of our service?",
         "Ogólnie rzecz biorąc, jak ocenia Pan/Pani swoje doświadczenia z naszymi usługami?", None, None,
         "true", None, None, None, "horizontal", None, "a3"],
        ["text", "FFT_why", "Please can you tell us why you gave your answer?",
         "Czy może nam Pan/Pani powiedzieć, dlaczego wybrał(a) Pan/Pani taką odpowiedź?",
         "Please do not include your name.", "Prosimy nie podawać imienia i nazwiska.", "false",
         "${FFT} != ''", "string-length(.) <= 1000", "Too long", "multiline", None, "a4"],
        ["integer", "visits", "How many times have you visited in the last year?", "Ile razy był(a) Pan/Pani u nas w ostatnim roku?",
         None, None, None, None, ". >= 0 and . <= 100", None, None, None, "a5"],
        ["range", "recommend", "From 0 to 10, how likely are you to recommend us?", "W skali od 0 do 10, jak bardzo poleciłby nas Pan/Pani?",
         "0 means not at all likely, 10 extremely likely.", "0 oznacza wcale, 10 bardzo.", None, None, None, None, None,
         "start=0 end=10 step=1", "a6"],
        ["date", "last_visit", "When did you last visit?", "Kiedy był(a) Pan/Pani ostatnio?", None, None, None,
         "${visits} > 0", ". >= date('2020-01-01')", None, None, None, "a7"],
        # row 9: a section with an introduction and skip logic
        ["begin_group", "care", "Your last appointment", "Ostatnia wizyta", None, None, None,
         "${visits} >= 1 and ${FFT} != 'dont_know'", None, None, "field-list", None, "a8"],
        ["note", "care_intro", "Think about your most recent appointment.", "Proszę pomyśleć o ostatniej wizycie.",
         None, None, None, None, None, None, None, None, "a9"],
        # rows 11-15: a table-list rating grid
        ["begin_group", "clinician", "How good was the clinician at:", "Jak dobrze lekarz:", None, None, None, None,
         None, None, "table-list", None, "a10"],
        ["select_one rating", "clinician_listening", "Listening to you", "Słuchał Pana/Pani", None, None, "yes",
         None, None, None, None, None, "a11"],
        ["select_one rating", "clinician_time", "Giving you enough time", "Poświęcił wystarczająco czasu", None, None,
         "yes", None, None, None, None, None, "a12"],
        ["end_group", None, None, None, None, None, None, None, None, None, None, None, "a13"],
        # rows 15-19: the older label / list-nolabel grid pattern
        ["begin_group", "building", "How would you rate:", "Jak ocenia Pan/Pani:", None, None, None, None, None, None,
         "field-list", None, "a14"],
        ["select_one rating", "building_header", None, None, None, None, None, None, None, None, "label", None, "a15"],
        ["select_one rating", "building_clean", "Cleanliness", "Czystość", None, None, None, None, None, None,
         "list-nolabel", None, "a16"],
        ["select_one rating", "building_waiting", "The waiting area", "Poczekalnię", None, None, None, None, None,
         None, "list-nolabel", None, "a17"],
        ["end_group", None, None, None, None, None, None, None, None, None, None, None, "a18"],
        ["select_multiple problems", "problems", "Did any of these happen?", "Czy zdarzyło się coś z tego?",
         "Select all that apply.", "Proszę zaznaczyć wszystkie pasujące.", None, None, None, None, None, None, "a19"],
        ["text", "problem_other", "What else happened?", "Co jeszcze się zdarzyło?", None, None, None,
         "selected(${problems}, 'other') and not(selected(${problems}, 'none'))", None, None, None, None, "a20"],
        ["end_group", None, None, None, None, None, None, None, None, None, None, None, "a21"],
        # row 23: a demographic section
        ["begin_group", "about", "About you", "O Panu/Pani", None, None, None, None, None, None, None, None, "a22"],
        ["select_one sex", "sex", "What is your sex?", "Jaka jest Pana/Pani płeć?", None, None, None, None, None, None,
         None, None, "a23"],
        ["end_group", None, None, None, None, None, None, None, None, None, None, None, "a24"],
    ]
    choices = [
        ["list_name", "name", f"label::{EN}", f"label::{PL}", "prg_group"],
        ["fft", "very_good", "Very good", "Bardzo dobrze", None],
        ["fft", "good", "Good", "Dobrze", None],
        ["fft", "neither", "Neither good nor poor", "Ani dobrze, ani źle", None],
        ["fft", "poor", "Poor", "Źle", None],
        ["fft", "very_poor", "Very poor", "Bardzo źle", None],
        ["fft", "dont_know", "Don't know", "Nie wiem", None],
        ["rating", 1, "Good", "Dobrze", None],
        ["rating", 2, "Fair", "Przeciętnie", None],
        ["rating", 3, "Poor", "Źle", None],
        ["problems", "wait", "A long wait", "Długie oczekiwanie", None],
        ["problems", "other", "Something else", "Coś innego", None],
        ["problems", "none", "None of these", "Nic z tych rzeczy", None],
        ["sex", "f", "Female", "Kobieta", "female"],
        ["sex", "m", "Male", "Mężczyzna", "male"],
        ["sex", "x", "Prefer not to say", "Wolę nie podawać", None],
    ]
    settings = [["form_title", "form_id", "version", "default_language", "style"],
                ["Friends and Family Test", "fft_2024", "2024061001", EN, "pages"]]
    # The demographic dimension is our own column: add it to the sex row.
    survey[0] = survey[0] + ["prg_dimension", "prg_top_box"]
    for row in survey[1:]:
        row.extend([None, None])
    survey[3][-1] = "very_good good"  # FFT top box
    survey[-2][-2] = "sex"
    write("kobo_fft_translated.xlsx", survey, choices, settings)


def unsupported_repeat() -> None:
    survey = [
        ["type", "name", "label"],
        ["select_one yn", "visited", "Have you visited this year?"],  # row 2
        ["begin_repeat", "visit", "Each visit"],  # row 3
        ["date", "visit_date", "Date of the visit"],  # row 4
        ["end_repeat", None, None],  # row 5
        ["geopoint", "where", "Where do you live?"],  # row 6
    ]
    choices = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
    settings = [["form_title", "form_id"], ["Visits", "visits"]]
    write("unsupported_repeat.xlsx", survey, choices, settings)


def bad_relevant() -> None:
    survey = [
        ["type", "name", "label", "relevant", "choice_filter"],
        ["select_one yn", "visited", "Have you visited this year?", None, None],  # row 2
        ["integer", "count", "How many times?", "${visited} == 'yes'", None],  # row 3: == is not XPath
        ["text", "why", "Why?", "count-selected(${visited}) > 0", None],  # row 4: unsupported function
        ["select_one yn", "again", "Would you come again?", "${later} = 'yes'", None],  # row 5: later question
        ["select_one yn", "later", "Later question", None, "visited = 'yes'"],  # row 6: choice_filter
    ]
    choices = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
    settings = [["form_title"], ["Bad skip logic"]]
    write("bad_relevant.xlsx", survey, choices, settings)


if __name__ == "__main__":
    kobo_fft()
    unsupported_repeat()
    bad_relevant()
    print("written:", ", ".join(sorted(p.name for p in HERE.glob("*.xlsx"))))
