"""What each column of an XLSForm sheet means to the import: read into the definition, refused when filled in
(it would change the form in a way a patient web form cannot honour), or listed in the import report.

Headers are read as pyxform reads them (`surveys.xlsform.spelling`); a header neither pyxform nor the
product reads is refused with "did you mean" only when it is filled in and close to a column that changes
the form (its cells would otherwise be lost), and reported otherwise.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from surveys.xlsform.languages import Languages
from surveys.xlsform.report import ReportCollector
from surveys.xlsform.spelling import header_tokens
from surveys.xlsform.workbook import Errors, Sheet

__all__ = ["TRANSLATED", "Columns", "Row", "read_columns", "report_cells"]

# Survey-sheet headers (as spelling.header_tokens reads them) -> the name used here.
SURVEY_READ: dict[tuple[str, ...], str] = {
    ("type",): "type", ("name",): "name", ("bind", "required"): "required", ("bind", "relevant"): "relevant",
    ("bind", "constraint"): "constraint", ("control", "appearance"): "appearance", ("parameters",): "parameters",
    ("choice_filter",): "choice_filter", ("default",): "default", ("bind", "calculate"): "calculation",
    ("bind", "readonly"): "read_only", ("disabled",): "disabled", ("prg_dimension",): "prg_dimension",
    ("prg_top_box",): "prg_top_box", ("select_from_list_name",): "select_from_list_name",
}  # fmt: skip
TRANSLATED = ("label", "hint")
MEDIA = "images, audio and video in labels are not supported"
# Columns pyxform reads that change a form in ways a patient web form cannot honour: refused when filled in.
SURVEY_REFUSED: dict[tuple[str, ...], str] = {
    ("control", "jr:count"): "repeats are not supported (repeat_count counts a repeat's rounds)",
    ("trigger",): "triggers (an answer recalculated when another changes) are not supported",
}
# Columns pyxform reads that the product does not need: listed in the report when filled in.
SURVEY_IGNORED: dict[tuple[str, ...], str] = {
    ("bind", "jr:constraintMsg"): "constraint messages are not used: the form says what is wrong in the patient's "
                                  "own language",
    ("bind", "jr:requiredMsg"): "required messages are not used: the form says what is missing in the patient's "
                                "own language",
    ("guidance_hint",): "guidance hints (extra help shown on request in ODK) are not shown",
    ("bind", "jr:noAppErrorString"): "app error strings are not used",
    ("control", "autoplay"): "autoplay is not used: the web form plays no media",
    ("control", "rows"): "text box heights are not used: the web form sizes its own boxes",
}
SETTINGS_READ = {("title",): "form_title", ("id_string",): "form_id", ("version",): "version",
                  ("default_language",): "default_language"}  # fmt: skip
CHOICES_READ = {("list name",): "list_name", ("name",): "name", ("prg_group",): "prg_group"}
OUR_COLUMNS = sorted({*SURVEY_READ.values(), *TRANSLATED} - {"read_only", "select_from_list_name"})


@dataclass
class Columns:
    """Where each column of a sheet is: read ones by name, translated ones by (base, language), others by what
    the import does with a filled cell (refuse or report), and the choices sheet's own columns as written."""

    plain: dict[str, int] = field(default_factory=dict)
    texts: dict[str, dict[str, int]] = field(default_factory=dict)  # base -> {language code: index}
    refused: dict[int, str] = field(default_factory=dict)  # index -> reason
    ignored: dict[int, str] = field(default_factory=dict)  # index -> reason
    own: dict[str, int] = field(default_factory=dict)  # choices: other columns, by header as written


@dataclass
class Row:
    """One row of a sheet, read through its columns: `get` a read column, `text` a translated one by language,
    `own` a choices-sheet column by its header as written."""

    sheet: str
    number: int
    cells: list[str]
    cols: Columns

    def get(self, name: str) -> str:
        index = self.cols.plain.get(name)
        return self.cells[index] if index is not None else ""

    def text(self, base: str) -> dict[str, str]:
        return {lang: self.cells[i] for lang, i in self.cols.texts.get(base, {}).items() if self.cells[i]}

    def own(self, column: str) -> str:
        index = self.cols.own.get(column)
        return self.cells[index] if index is not None else ""


def read_columns(sheet: Sheet, aliases: dict[str, Any], known: frozenset[str], *, default: str,
                 languages: Languages, errors: Errors) -> Columns:
    """Each header read as pyxform reads it (`spelling.header_tokens`), and sorted into what the import does
    with its cells; problems with the header row itself go to `errors` (row 1). A plain `label` or `hint`
    column is in the `default` language."""
    cols = Columns()
    double_colon = any("::" in h for h in sheet.headers)
    for index, header in enumerate(sheet.headers):
        if not header:
            if any(index < len(cells) and cells[index] for _, cells in sheet.rows):
                errors.add(sheet.name, 1, f"column {index + 1}", "has values but no header")
            continue
        tokens = header_tokens(header, double_colon=double_colon, aliases=aliases, columns=known)
        base = tokens[0]
        if base == "hint" and sheet.name == "choices":
            cols.ignored[index] = "hints on the choices sheet are not shown (XLSForm has none for answers)"
            continue
        if base in TRANSLATED and sheet.name != "settings":
            _text_column(sheet, cols, index, header, base, languages.code(tokens[1]) if len(tokens) > 1 else default,
                         errors)
            continue
        read = (SURVEY_READ if sheet.name == "survey" else SETTINGS_READ if sheet.name == "settings"
                else CHOICES_READ).get(tokens)
        if read is not None:
            if read in cols.plain:
                errors.add(sheet.name, 1, header, "appears twice in the header")
            else:
                cols.plain[read] = index
            continue
        if base == "media":
            cols.refused[index] = MEDIA
        elif sheet.name == "survey" and tokens[:2] in SURVEY_REFUSED:
            cols.refused[index] = SURVEY_REFUSED[tokens[:2]]
        elif sheet.name == "survey" and tokens in SURVEY_REFUSED:
            cols.refused[index] = SURVEY_REFUSED[tokens]
        elif sheet.name == "survey" and tokens[:2] in SURVEY_IGNORED:
            cols.ignored[index] = SURVEY_IGNORED[tokens[:2]]
        elif sheet.name == "survey" and tokens[:1] in SURVEY_IGNORED:
            cols.ignored[index] = SURVEY_IGNORED[tokens[:1]]
        elif sheet.name == "settings" and base in ("title", "prg_form_title") and len(tokens) > 1:
            cols.texts.setdefault("title", {})[languages.code(tokens[1])] = index
        elif base in known or base in ("bind", "control", "instance", "body"):
            cols.ignored[index] = f"the column {header} is not used by this product"
        elif sheet.name == "choices":
            cols.own[header] = index  # possibly compared by a choice filter
        elif header.startswith("$") or header.lower().startswith("kobo"):
            cols.ignored[index] = f"KoBoToolbox's own column {header} is not kept"
        else:
            # A header neither pyxform nor this product reads: a likely misspelling of a column that changes
            # the form is refused (its cells would be lost), anything else reported.
            close = difflib.get_close_matches(_snake(header), OUR_COLUMNS, n=1, cutoff=0.8)
            filled = any(index < len(cells) and cells[index] for _, cells in sheet.rows)
            if close and sheet.name == "survey" and filled:
                errors.add(sheet.name, 1, header, f"is not a column this product reads: did you mean '{close[0]}'?")
            else:
                cols.ignored[index] = f"the column {header} is not an XLSForm column; its cells are not kept"
    return cols


def _text_column(sheet: Sheet, cols: Columns, index: int, header: str, base: str, lang: str, errors: Errors) -> None:
    texts = cols.texts.setdefault(base, {})
    if lang in texts:
        errors.add(sheet.name, 1, header, f"is a second {base} column for language '{lang}'")
        return
    texts[lang] = index


def report_cells(row: Row, headers: list[str], errors: Errors, report: ReportCollector) -> None:
    """Refuse or report the row's filled cells in columns the product does not read."""
    for index, reason in row.cols.refused.items():
        if row.cells[index]:
            errors.add(row.sheet, row.number, headers[index], reason)
    for index, reason in row.cols.ignored.items():
        if row.cells[index]:
            report.add("ignored", reason, row.sheet, row.number, headers[index])


def _snake(text: str) -> str:
    return "_".join(text.split()).lower()
