"""XLSForm import: building a validated `SurveyDefinition` from a workbook read by `surveys.xlsform.workbook`.

Every cell is either carried into the definition, refused with its sheet, row and column (an `InvalidInput`
listing every problem), or listed in the import report (`surveys.xlsform.report`): nothing is dropped in
silence. Spellings are pyxform's (`surveys.xlsform.spelling`); the supported subset is in docs/surveys.md
("XLSForm").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from prg.errors import ErrorDetail, InvalidInput
from surveys import skip_logic
from surveys.calculations import CalculationError, parse_calculation
from surveys.definition import (
    MAX_TEXT,
    NAME_RE,
    RESERVED_NAMES,
    SurveyDefinition,
    piped_names,
    validate_definition,
)
from surveys.definition import _from_msgspec as _error_from_msgspec
from surveys.skip_logic import Compare, SkipLogicError
from surveys.xlsform.columns import TRANSLATED, Columns, Row, read_columns, report_cells
from surveys.xlsform.expressions import SMART_QUOTES, parse_choice_filter, parse_constraint, parse_parameters
from surveys.xlsform.languages import Languages
from surveys.xlsform.report import ImportReport, ReportCollector
from surveys.xlsform.spelling import (
    BOUNDED_INTEGERS,
    LIST_HEADER_ALIASES,
    SETTINGS_HEADER_ALIASES,
    SURVEY_COLUMNS,
    SURVEY_HEADERS,
    CHOICES_COLUMNS,
    SETTINGS_COLUMNS,
    TypeSpelling,
    header_tokens,
    read_type,
    yes_no,
)
from surveys.xlsform.workbook import MAX_BYTES, Deadline, Errors, Workbook, read_workbook

__all__ = ["MAX_BYTES", "XLSFormImport", "import_xlsform", "read_xlsform"]


class XLSFormImport(msgspec.Struct, frozen=True):
    """A workbook read: the definition, and the report of what it did not keep as written."""

    definition: SurveyDefinition
    report: ImportReport


# ---------------------------------------------------------------------------------------------------------
# What the product makes of each type and column
# ---------------------------------------------------------------------------------------------------------

_REPEATS = ("repeats are not supported: a survey asks each question once per patient; to ask about a few "
            "people or visits, ask the questions once for each (e.g. child1_age, child2_age)")
_REFUSED_TYPES: dict[str, str] = {
    "location": "location questions are not supported: the web form does not ask where a patient is; ask for a "
                "postcode or a place in a text question instead",
    "image": "photo questions are not supported: patients cannot send pictures through the survey; ask them to "
             "describe it in a text question instead",
    "audio": "audio questions are not supported: patients cannot send recordings through the survey; use a text "
             "question instead",
    "video": "video questions are not supported: patients cannot send videos through the survey; use a text "
             "question instead",
    "file": "file uploads are not supported: patients cannot send files through the survey; use a text question",
    "barcode": "barcode questions are not supported: the web form has no scanner; ask for the number in a text "
               "question instead",
    "time": "time questions are not supported; use date (and a text question for the time, if it matters)",
    "datetime": "date-and-time questions are not supported; use date (and a text question for the time)",
    "acknowledge": "acknowledge questions are not supported; use a select_multiple with one answer (a tick box)",
    "trigger": "trigger questions are not supported; use a select_multiple with one answer (a tick box)",
    "rank": "ranking questions are not supported; ask for the most important with select_one, or rate each one "
            "in a rating grid",
    "external": "external data is not supported; list the answers on the choices sheet",
    "choices from a file": "choices from a file are not supported; list them on the choices sheet",
    "select without a list": "names no choice list: write select_one <list name>",
    "hidden": "hidden questions are not supported; use a calculate row for a value worked out from answers",
}  # fmt: skip
_QUESTION_KINDS = ("select_one", "select_multiple", "integer", "decimal", "bounded integer", "text", "phone number",
                   "date", "range")  # fmt: skip

_METADATA_WHY = ("metadata is not recorded: the product keeps the day a response arrives and nothing about the "
                 "device or the person")

# Appearances the product honours, by where they are used; others are reported.
_APPEARANCES_WHY = {
    "month-year": "the form asks for a full date (day, month and year)",
    "year": "the form asks for a full date (day, month and year)",
    "masked": "the answer is shown as it is typed",
}


def _appearance_why(word: str) -> str:
    if word.startswith("search(") or word.startswith("search"):
        return "searching answers from a file is not supported: the form lists the answers on the choices sheet"
    return _APPEARANCES_WHY.get(word, "the web form has its own layout")


@dataclass
class _Group:
    row: Row
    children: list[Row | _Group] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------
# The import
# ---------------------------------------------------------------------------------------------------------


class _Importer:
    def __init__(self, book: Workbook, filename: str | None) -> None:
        self.errors: Errors = book.errors
        self.report = ReportCollector()
        self.filename = filename
        self.survey, self.choices, self.settings = book.survey, book.choices, book.settings
        for sheet in (book.survey, book.choices, book.settings):
            for number in sheet.beyond_header if sheet else ():
                self.report.add("ignored", "cells to the right of the last column with a header are not read",
                                sheet.name, number)  # type: ignore[union-attr]
        for name in book.other_sheets:
            why = {"external_choices": "choices for select_one_external (refused where used)",
                   "entities": "ODK entities (case management)"}.get(name.strip().lower(), "not an XLSForm sheet")
            self.report.add("ignored", f"the sheet '{name}' is not read ({why})")
        self.languages = Languages()
        self.where: dict[str, tuple[str, int, str | None]] = {}  # definition path -> (sheet, row, column)
        self.names: dict[str, int] = {}  # XLSForm name (lower case) -> row
        self.kinds: dict[str, str] = {}  # question id -> our type, for reading relevant
        self.calculations: list[dict[str, Any]] = []
        self.filter_columns: set[str] = set()  # choices columns compared by a choice filter

    def headers(self, row: Row) -> list[str]:
        return (self.survey if row.sheet == "survey" else self.choices).headers  # type: ignore[union-attr]

    # -- settings and languages ------------------------------------------------------------------------

    def read_settings(self) -> None:
        self.title: dict[str, str] = {}
        self.form_id = ""
        self.settings_row = 2
        main_title = default_raw = ""
        self.default = "en"  # until the settings say otherwise (prg_form_title columns need a default)
        if self.settings is not None:
            cols = read_columns(self.settings, SETTINGS_HEADER_ALIASES, SETTINGS_COLUMNS, default=self.default, languages=self.languages,
                           errors=self.errors)
            if self.settings.rows:
                self.settings_row, cells = self.settings.rows[0]
                get = lambda name: cells[cols.plain[name]] if name in cols.plain else ""  # noqa: E731
                default_raw, self.form_id, main_title = get("default_language"), get("form_id"), get("form_title")
                self.title = {lang: cells[i] for lang, i in cols.texts.get("title", {}).items() if cells[i]}
                kept = [self.settings.headers[cols.plain[n]] for n in ("form_id", "version") if get(n)]
                if kept:
                    self.report.add("ignored", f"the setting{'s' if len(kept) > 1 else ''} {' and '.join(kept)}: the "
                                    "product names and numbers survey versions itself (the export writes its own)",
                                    "settings")
                for index, reason in cols.ignored.items():
                    if cells[index]:
                        header = self.settings.headers[index]
                        self.report.add("ignored", f"the setting {header} ({cells[index][:60]}) is not used by this "
                                        "product", "settings", None, header)
                for number, _ in self.settings.rows[1:]:
                    self.report.add("ignored", "only the first row of the settings sheet is read", "settings", number)
        if default_raw:
            self.default = self.languages.code(default_raw)
        else:
            self.default = self._guess_default()
        if main_title:
            self.title[self.default] = main_title
        if not self.title:
            fallback = self.form_id or (re.sub(r"\.xlsx$", "", self.filename, flags=re.I) if self.filename else "")
            if fallback:
                self.title[self.default] = fallback[:200]
            else:
                self.errors.add("settings", 2, "form_title", "The form needs a title: fill in form_title")

    def _guess_default(self) -> str:
        """No default_language: a plain label column is English; else English if present, else the first."""
        double = any("::" in h for h in self.survey.headers)
        found = []
        for header in self.survey.headers:
            tokens = header_tokens(header, double_colon=double, aliases=SURVEY_HEADERS, columns=SURVEY_COLUMNS)
            if tokens == ("label",):
                return "en"
            if tokens[0] == "label" and len(tokens) > 1:
                found.append(self.languages.code(tokens[1]))
        return "en" if "en" in found or not found else found[0]

    def language_list(self) -> list[str]:
        langs: list[str] = []
        for cols in (self.survey_cols, self.choice_cols):
            if cols is None:
                continue
            for base in TRANSLATED:
                for lang in cols.texts.get(base, {}):
                    if lang not in langs:
                        langs.append(lang)
        for lang in self.title:
            if lang not in langs:
                langs.append(lang)
        if self.default not in langs:
            langs.insert(0, self.default)
        return langs

    # -- choices ---------------------------------------------------------------------------------------

    def read_choices(self) -> None:
        self.lists: dict[str, list[tuple[Row, str]]] = {}
        self.faulty_lists: set[str] = set()  # lists with a refused answer: not also "too short"
        self.choice_cols: Columns | None = None
        if self.choices is None:
            return
        cols = self.choice_cols = read_columns(self.choices, LIST_HEADER_ALIASES, CHOICES_COLUMNS, default=self.default, languages=self.languages,
                           errors=self.errors)
        for header in ("list_name", "name"):
            if header not in cols.plain and self.choices.rows:
                self.errors.add("choices", 1, None, f"The choices sheet has no '{header}' column")
                return
        for number, cells in self.choices.rows:
            row = Row("choices", number, cells, cols)
            report_cells(row, self.headers(row), self.errors, self.report)
            list_name, name = row.get("list_name"), row.get("name")
            if not list_name:
                self.errors.add("choices", number, "list_name", "is empty")
                continue
            if not name:
                self.errors.add("choices", number, "name", "is empty: every answer needs a code")
                continue
            if not re.fullmatch(r"\w[\w.-]{0,63}", name):
                self.faulty_lists.add(list_name)
                self.errors.add("choices", number, "name",
                                f"'{name}' is not a usable answer code: use letters, digits, _, . and - (no spaces), "
                                "at most 64")
                continue
            entries = self.lists.setdefault(list_name, [])
            if any(code == name for _, code in entries):
                self.errors.add("choices", number, "name", f"'{name}' appears twice in the list '{list_name}'")
                continue
            entries.append((row, name))

    # -- survey structure ------------------------------------------------------------------------------

    def read_tree(self) -> list[Row | _Group]:
        cols = self.survey_cols = read_columns(self.survey, SURVEY_HEADERS, SURVEY_COLUMNS, default=self.default, languages=self.languages,
                           errors=self.errors)
        missing = [needed for needed in ("type", "name") if needed not in cols.plain]
        for needed in missing:
            self.errors.add("survey", 1, None, f"The survey sheet has no '{needed}' column")
        if missing or self.errors.header_errors("survey") or self.errors.header_errors("choices"):
            self.errors.raise_if_any()  # without usable columns every row would add a misleading error
        root: list[Row | _Group] = []
        stack: list[_Group] = []
        for number, cells in self.survey.rows:
            row = Row("survey", number, cells, cols)
            if yes_no(row.get("disabled")):
                self.report.add("left_out", "disabled rows are left out", "survey", number, "disabled")
                continue
            raw_type = row.get("type")
            if not raw_type:
                if not row.get("name") and not row.text("label"):
                    self.report.add("left_out", "rows without a type, name or label (comments) are left out",
                                    "survey", number)
                else:
                    self.errors.add("survey", number, "type", "is empty: every row needs a type")
                continue
            spelling = read_type(raw_type)
            if spelling.kind == "metadata":
                self.report.add("left_out", f"{spelling.name}: {_METADATA_WHY}", "survey", number, "type")
                continue
            report_cells(row, self.headers(row), self.errors, self.report)
            target = stack[-1].children if stack else root
            if spelling.kind == "begin" and spelling.argument == "group":
                group = _Group(row)
                target.append(group)
                stack.append(group)
            elif spelling.kind == "end" and spelling.argument == "group":
                if not stack:
                    self.errors.add("survey", number, "type", "end_group has no matching begin_group above it")
                else:
                    stack.pop()
            elif spelling.kind in ("begin", "end"):
                if spelling.argument == "kobomatrix":
                    why = "KoBo matrix questions are not supported; use a group with appearance table-list"
                else:
                    why = _REPEATS
                self.errors.add("survey", number, "type", f"'{raw_type}': {why}")
            elif spelling.kind in _REFUSED_TYPES:
                self.errors.add("survey", number, "type", f"'{raw_type}': {_REFUSED_TYPES[spelling.kind]}")
            elif spelling.kind == "unknown":
                self.errors.add("survey", number, "type", f"the type '{raw_type}' is not supported")
            elif spelling.kind == "calculate":
                self.calculation(row)
            else:
                target.append(row)
        for group in stack:
            self.errors.add("survey", group.row.number, "type", "this begin_group has no end_group")
        return root

    def _type(self, row: Row) -> TypeSpelling:
        """The row's type; KoBo may put a select's list in a `select_from_list_name` column."""
        spelling = read_type(row.get("type"))
        if spelling.kind in ("select_one", "select_multiple") and not spelling.argument:
            spelling = TypeSpelling(spelling.kind, spelling.name, row.get("select_from_list_name"))
        return spelling

    def _claim_name(self, row: Row) -> str | None:
        name = row.get("name")
        if not name:
            self.errors.add(row.sheet, row.number, "name", "is empty: every question and group needs a name")
            return None
        if not NAME_RE.match(name):
            self.errors.add(
                row.sheet, row.number, "name",
                f"'{name}' is not a usable name: use letters, digits, _, . and - (starting with a letter or _), "
                "at most 64",
            )  # fmt: skip
            return None
        if name in RESERVED_NAMES:
            self.errors.add(row.sheet, row.number, "name",
                            f"'{name}' is a name XLSForm keeps for itself (ODK stores form metadata there); rename it")
            return None
        if name.lower() in self.names:
            self.errors.add(row.sheet, row.number, "name", f"'{name}' is also the name on row {self.names[name.lower()]}")
            return None
        self.names[name.lower()] = row.number
        return name

    def _free_name(self, base: str) -> str:
        name, n = base, 1
        while name.lower() in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names[name.lower()] = 0
        return name

    def calculation(self, row: Row) -> None:
        name = self._claim_name(row)
        text = row.get("calculation").translate(SMART_QUOTES)
        self._no_extra(row, ("required", "relevant", "constraint", "parameters", "choice_filter", "default",
                             "prg_dimension", "prg_top_box"), "a calculate row (put conditions inside the calculation "
                                                              "with if())")  # fmt: skip
        if row.text("label") or row.text("hint"):
            self.report.add("ignored", "labels and hints of calculate rows are not shown (ODK does not show them "
                            "either)", "survey", row.number, "label")
        if not text:
            self.errors.add("survey", row.number, "calculation", "is empty: a calculate row needs a calculation")
            return
        try:
            parse_calculation(text)
        except CalculationError as exc:
            self.errors.add("survey", row.number, "calculation", f"{exc}")
            return
        if name:
            self.where[f"calculations[{len(self.calculations)}]"] = ("survey", row.number, "calculation")
            self.calculations.append({"id": name, "calculation": text})
            self.kinds[name] = "calculation"

    def build(self) -> dict[str, Any]:
        self.read_settings()
        self.read_choices()
        tree = self.read_tree()
        sections: list[dict[str, Any]] = []
        loose: list[Row | _Group] = []
        pending_notes: list[Row] = []  # notes before the first section

        def flush() -> None:
            if not loose:
                return
            if all(isinstance(n, Row) and self._type(n).kind == "note" for n in loose):
                if sections:  # notes between or after groups: shown at the end of the page before them
                    self.section_notes(len(sections) - 1, sections[-1], loose)  # type: ignore[arg-type]
                else:
                    pending_notes.extend(loose)  # type: ignore[arg-type]
            else:
                sections.extend(self.section(None, pending_notes + list(loose), len(sections)))
                pending_notes.clear()
            loose.clear()

        for node in tree:
            if isinstance(node, _Group) and not self._grid_kind(node):
                flush()
                sections.extend(self.section(node, pending_notes + node.children, len(sections),
                                             lead=len(pending_notes)))
                pending_notes.clear()
            else:
                loose.append(node)
        flush()
        self.report_unused_choice_columns()
        if pending_notes and not self.errors.items:
            self.errors.add("survey", pending_notes[0].number, "type", "the form has notes but no questions")
        if not sections and not self.errors.items:
            self.errors.add("survey", None, None, "The survey sheet has no questions")
        self.errors.raise_if_any()
        out: dict[str, Any] = {
            "title": self.title,
            "default_language": self.default,
            "languages": self.language_list(),
            "sections": sections,
        }
        names = {code: name for code, name in self.languages.names.items() if code in out["languages"]}
        if names:
            out["language_names"] = names
            for code, name in names.items():
                self.report.add("changed", f"the language '{name}' is not one the product knows by name: it is kept as "
                                f"written, under the private code {code}; to let browsers choose it, write its code "
                                f"in the headers, e.g. label::{name} (xx)")
        if self.calculations:
            out["calculations"] = self.calculations
        return out

    # -- sections --------------------------------------------------------------------------------------

    def section(self, group: _Group | None, children: list[Row | _Group], index: int,
                lead: int = 0) -> list[dict[str, Any]]:
        """The section(s) of a group, or of a run of rows outside groups. The web form shows one section per
        page and can only show answers from earlier pages, so a section is cut where a text shows an answer
        from its own page or a choice list depends on one (reported for the author's own groups)."""
        out: dict[str, Any] = {}
        if group is not None:
            row = group.row
            out["id"] = self._claim_name(row) or f"section_{index + 1}"
            if row.text("label"):
                out["title"] = row.text("label")
            intro = dict(row.text("hint"))
            show_if = self._relevant(row) if row.get("relevant") else None
            if show_if:
                out["show_if"] = show_if
            self._no_extra(row, ("constraint", "parameters", "prg_dimension", "prg_top_box", "default",
                                 "choice_filter", "calculation"), "a group")  # fmt: skip
            self._appearance(row, {"field-list", "table-list"})
            first_row = row.number
        else:
            first = children[0]
            first_row = (first.row if isinstance(first, _Group) else first).number
            out["id"] = self._free_name(f"section_{index + 1}")
            intro = {}
        parts: list[dict[str, Any]] = [out]
        questions: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        waiting_notes: list[dict[str, Any]] = []  # notes before the next question
        page: set[str] = set()
        cut_rows: list[int] = []

        def path() -> str:
            return f"sections[{index + len(parts) - 1}]"

        def place(question: dict[str, Any], row_number: int, first: bool = True) -> None:
            """A question on the page; the notes met since the last one come just before it."""
            nonlocal notes, waiting_notes
            self.where.setdefault(f"{path()}.questions[{len(questions)}]", ("survey", row_number, None))
            if first:
                for note in waiting_notes:
                    note["before"] = question["id"]
                notes += waiting_notes
                waiting_notes = []
            questions.append(question)
            page.add(question["id"])

        def cut(at_row: int) -> None:
            nonlocal questions, notes, page
            if not questions:
                return
            parts[-1].update(questions=questions, notes=notes)
            following = {"id": self._free_name(f"{out['id']}_{len(parts) + 1}")}
            for key in ("title", "show_if"):
                if key in out:
                    following[key] = out[key]
            parts.append(following)
            questions, notes, page = [], [], set()
            cut_rows.append(at_row)

        for position, node in enumerate(children):
            if isinstance(node, _Group):
                grid = self._grid_kind(node)
                if not grid:
                    self.errors.add(
                        "survey", node.row.number, "type",
                        "groups inside groups are not supported, except rating grids (appearance table-list)",
                    )  # fmt: skip
                    continue
                if not page.isdisjoint(self._reads(node.row)):
                    cut(node.row.number)
                place(self.grid(node, grid, f"{path()}.questions[{len(questions)}]"), node.row.number)
                continue
            spelling = self._type(node)
            if spelling.kind == "note":
                conditional = bool(node.get("relevant"))
                if not questions and not waiting_notes and not conditional:
                    self._no_extra(node, ("required", "constraint", "parameters", "default", "choice_filter"),
                                   "a note")
                    if node.get("name"):
                        self._claim_name(node)
                    part_intro = intro if len(parts) == 1 else parts[-1].setdefault("intro", {})
                    for lang, text in node.text("label").items():
                        part_intro[lang] = f"{part_intro[lang]}\n\n{text}" if lang in part_intro else text
                    if node.text("hint"):
                        self.report.add("ignored", "hints of notes that introduce a section are not shown; put the "
                                        "text in the label", "survey", node.number, "hint")
                    if position < lead and group is not None:
                        self.report.add("changed", "notes outside any group before the first group are shown at "
                                        "the top of its first page", "survey", node.number)
                    self.where.setdefault(f"{path()}.intro", ("survey", node.number, "label"))
                    continue
                if not page.isdisjoint(self._reads(node)):
                    cut(node.number)
                note = self.note(node, f"{path()}.notes[{len(notes) + len(waiting_notes)}]")
                if note is not None:
                    waiting_notes.append(note)
                continue
            if not page.isdisjoint(self._reads(node)):
                cut(node.number)
            made = self.question(node, spelling, f"{path()}.questions[{len(questions)}]")
            for position_made, question in enumerate(made):
                place(question, node.number, first=position_made == 0)
        notes += waiting_notes  # after the last question
        parts[-1].update(questions=questions, notes=notes)
        if intro:
            out["intro"] = intro
        for part in parts:
            if not part["notes"]:
                del part["notes"]
        if group is not None and cut_rows:
            rows = ", ".join(map(str, cut_rows))
            self.report.add("changed", f"the group '{out['id']}' is shown on {len(parts)} pages, starting again at "
                            f"row{'s' if len(cut_rows) > 1 else ''} {rows}: the web form shows answers in text and "
                            "narrows answer lists only from earlier pages", "survey", group.row.number)
        for offset, part in enumerate(parts):
            self.where.setdefault(f"sections[{index + offset}]", ("survey", group.row.number if group else first_row, None))
            if not part["questions"] and not self.errors.items:
                self.errors.add("survey", group.row.number if group else first_row, None,
                                "this group has no questions (a page of notes alone cannot be shown): move its notes "
                                "into the group before or after it" if group else "this section has no questions")
        return parts

    def section_notes(self, index: int, section: dict[str, Any], rows: list[Row]) -> None:
        """Notes outside groups after a group: shown at the end of that group's (last) page."""
        for row in rows:
            note = self.note(row, f"sections[{index}].notes[{len(section.get('notes', []))}]")
            if note is not None:
                section.setdefault("notes", []).append(note)
                self.report.add("changed", "notes outside any group, after a group, are shown at the end of that "
                                "group's page", "survey", row.number)

    def report_unused_choice_columns(self) -> None:
        if self.choices is None or self.choice_cols is None:
            return
        for column, index in self.choice_cols.own.items():
            if column in self.filter_columns:
                continue
            for number, cells in self.choices.rows:
                if cells[index]:
                    self.report.add("ignored", f"the column {column} is not compared by any choice_filter; its cells are "
                                    "not kept", "choices", number, column)

    def _reads(self, row: Row) -> set[str]:
        """The names whose answers a row shows or narrows its answers by (its texts' ${...} and choice filter)."""
        names: set[str] = set()
        texts = [*row.text("label").values(), *row.text("hint").values()]
        spelling = read_type(row.get("type"))
        if spelling.kind in ("select_one", "select_multiple") and spelling.argument in self.lists:
            texts += [t for choice, _ in self.lists[spelling.argument] for t in choice.text("label").values()]
        for text in texts:
            try:
                names.update(piped_names(text))
            except ValueError:
                pass  # reported when the text is validated
        names.update(re.findall(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}", row.get("choice_filter")))
        out: set[str] = set()
        for name in names:
            out |= self._calculation_inputs(name, set())
        return out

    def _calculation_inputs(self, name: str, seen: set[str]) -> set[str]:
        calc = next((c for c in self.calculations if c["id"] == name), None)
        if calc is None or name in seen:
            return {name}
        seen.add(name)
        found: set[str] = set()
        for ref in re.findall(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}", calc["calculation"]):
            found |= self._calculation_inputs(ref, seen)
        return found

    def note(self, row: Row, path: str) -> dict[str, Any] | None:
        name = self._claim_name(row) if row.get("name") else self._free_name(f"note_{row.number}")
        self._no_extra(row, ("required", "constraint", "parameters", "default", "choice_filter"), "a note")
        self._appearance(row, set())
        label = row.text("label")
        if not label:
            self.errors.add("survey", row.number, "label", "is empty: a note needs a label (its text)")
        self.where[path] = ("survey", row.number, None)
        out: dict[str, Any] = {"id": name or "", "label": label}
        if row.text("hint"):
            out["help"] = row.text("hint")
        if row.get("relevant"):
            show_if = self._relevant(row)
            if show_if:
                out["show_if"] = show_if
        return out if name else None

    def _no_extra(self, row: Row, columns: Iterable[str], what: str) -> None:
        for column in columns:
            if row.get(column):
                self.errors.add(row.sheet, row.number, column, f"is not used on {what}; leave it empty")

    def _appearance(self, row: Row, honoured: set[str]) -> list[str]:
        words = row.get("appearance").split()
        for word in words:
            if word.lower() not in honoured:
                self.report.add("ignored", f"the appearance {word}: {_appearance_why(word.lower())}", "survey",
                                row.number, "appearance")
        return [w.lower() for w in words]

    def _common(self, row: Row, path: str, kind: str) -> dict[str, Any] | None:
        name = self._claim_name(row)
        label, hint = row.text("label"), row.text("hint")
        if not label:
            self.errors.add(row.sheet, row.number, "label", "is empty: every question needs a label")
        self.where[path] = ("survey", row.number, None)
        out: dict[str, Any] = {"type": kind, "id": name or "", "label": label}
        if hint:
            out["help"] = hint
        required = yes_no(row.get("required"))
        if required:
            out["required"] = True
        elif required is None:
            self.errors.add(row.sheet, row.number, "required", "must be yes or no (conditions are not supported)")
        if row.get("relevant"):
            show_if = self._relevant(row)
            if show_if:
                out["show_if"] = show_if
        if row.get("read_only") and yes_no(row.get("read_only")) is not False:
            self.errors.add(row.sheet, row.number, "read_only",
                            "read-only questions are not supported: show the value in a note with ${...}")
        if row.get("calculation"):
            self.errors.add(row.sheet, row.number, "calculation",
                            "a calculation on a question would answer it for the patient: use a calculate row, and "
                            "show its result in a note with ${...}")
        return out if name else None

    def _relevant(self, row: Row) -> str | None:
        text = row.get("relevant").translate(SMART_QUOTES)
        try:
            expr = skip_logic.from_xpath(text)
            expr = self._codes_as_text(expr)
            return skip_logic.format_expr(expr)
        except SkipLogicError as exc:
            self.errors.add(
                row.sheet, row.number, "relevant",
                f"{exc}. Supported: ${{q}} = 'a' (also != < <= > >=, numbers), selected(${{q}}, 'a'), "
                "${q} != '', and, or, not(...), parentheses; for anything else, work it out in a calculate row "
                "and compare its result",
            )  # fmt: skip
            return None

    def _codes_as_text(self, expr: skip_logic.Expr) -> skip_logic.Expr:
        """${q} = 1 where q is a choice question compares with the code '1'."""
        if isinstance(expr, Compare):
            if self.kinds.get(expr.name) == "single_choice" and not isinstance(expr.value, str):
                return Compare(expr.name, expr.op, skip_logic._literal(expr.value))
            return expr
        if isinstance(expr, skip_logic.Not):
            return skip_logic.Not(self._codes_as_text(expr.operand))
        if isinstance(expr, (skip_logic.And, skip_logic.Or)):
            return type(expr)(tuple(self._codes_as_text(o) for o in expr.operands))
        return expr

    # -- questions -------------------------------------------------------------------------------------

    def _options(self, row: Row, list_name: str, path: str, kind: str) -> list[dict[str, Any]]:
        if not list_name:
            self.errors.add(row.sheet, row.number, "type", "names no choice list: write select_one <list name>")
            return []
        if list_name not in self.lists:
            near = [name for name in self.lists if name.lower() == list_name.lower()]
            hint = f" (the choices sheet has '{near[0]}': list names must match exactly)" if near else ""
            self.errors.add(row.sheet, row.number, "type",
                            f"the choice list '{list_name}' is not on the choices sheet{hint}")
            return []
        entries = self.lists[list_name]
        if kind == "select_one" and len(entries) < 2 and list_name not in self.faulty_lists:
            self.errors.add(row.sheet, row.number, "type",
                            f"the list '{list_name}' has {len(entries)} answer: a select_one needs at least two (for a "
                            "single tick box, use select_multiple)")
            return []
        options = []
        for index, (choice, code) in enumerate(entries):
            self.where[f"{path}.options[{index}]"] = ("choices", choice.number, None)
            label = choice.text("label")
            if not label:
                self.errors.add("choices", choice.number, "label", "is empty: every answer needs a label")
            options.append({"code": code, "label": label})
        return options

    def _groups(self, list_name: str) -> dict[str, str]:
        return {code: row.get("prg_group") for row, code in self.lists.get(list_name, []) if row.get("prg_group")}

    def question(self, row: Row, spelling: TypeSpelling, path: str) -> list[dict[str, Any]]:
        """The question a row makes (two for `or_other`: the text question that follows 'Other')."""
        kind, arg = spelling.kind, spelling.argument
        appearance_words = row.get("appearance").lower().split()
        if "label" in appearance_words or "list-nolabel" in appearance_words:
            self.errors.add(
                row.sheet, row.number, "appearance",
                f"'{row.get('appearance')}' only makes sense in a rating grid (a field-list group of select_one rows)",
            )  # fmt: skip
            return []
        if kind not in _QUESTION_KINDS:
            self.errors.add(row.sheet, row.number, "type", f"the type '{row.get('type')}' is not supported")
            return []
        honoured = {"multiline"} if kind in ("text", "phone number") else set()
        self._appearance(row, honoured)
        ours = {
            "select_one": "single_choice", "select_multiple": "multiple_choice", "integer": "number",
            "decimal": "number", "bounded integer": "number", "date": "date", "range": "scale_0_10",
            "text": "long_text" if "multiline" in appearance_words else "short_text",
            "phone number": "short_text",
        }[kind]  # fmt: skip
        out = self._common(row, path, ours)
        if row.get("parameters") and kind != "range":
            self.errors.add(row.sheet, row.number, "parameters", "parameters are supported only for range")
        if kind != "select_one":
            self._no_extra(row, ("prg_dimension", "prg_top_box"), f"a {spelling.name} question (only on select_one)")
        if not kind.startswith("select"):
            self._no_extra(row, ("choice_filter",), f"a {spelling.name} question (only on select_one and "
                                                    "select_multiple)")
        if (kind.startswith("select") or kind == "range") and row.get("constraint"):
            self.errors.add(row.sheet, row.number, "constraint", f"constraints are not supported on {spelling.name}")
        if out is None:
            return []
        self.kinds[out["id"]] = ours
        extra: list[dict[str, Any]] = []
        if kind.startswith("select"):
            out["options"] = self._options(row, arg, path, kind)
            if kind == "select_one":
                if row.get("prg_top_box"):
                    out["top_box"] = row.get("prg_top_box").split()
                dimension = row.get("prg_dimension")
                if dimension:
                    out["dimension"] = {"name": dimension, "groups": self._groups(arg)}
            if row.get("choice_filter"):
                self._choice_filter(row, out, arg)
            if spelling.or_other:
                extra = self._or_other(row, out)
        elif kind == "range":
            out = self._range(row, out)
        elif kind in ("integer", "decimal", "bounded integer"):
            out["integer"] = kind != "decimal"
            if kind == "bounded integer":
                low, high, hint = BOUNDED_INTEGERS[spelling.name]
                out.update(min=low, max=high)
                if hint and "help" not in out:
                    out["help"] = {self.default: hint}
                self._no_extra(row, ("constraint",), f"a {spelling.name} question (its bounds are {low} to {high})")
            else:
                out.update(self._constraint(row, "number", integer=kind == "integer"))
        elif kind == "date":
            out.update(self._constraint(row, "date"))
        else:
            out.update(self._constraint(row, "text"))
            out.setdefault("max_length", MAX_TEXT)  # no limit the author did not set (but the product's own)
            if kind == "phone number":
                self.report.add("changed", "phone number questions are asked as short text: the digits-only check "
                                "is not kept", "survey", row.number, "type")
        if row.get("default"):
            self._default(row, out)
        return [out, *extra]

    def _default(self, row: Row, out: dict[str, Any]) -> None:
        value = row.get("default")
        if "${" in value or re.search(r"[A-Za-z_-]+\(", value):
            self.errors.add(row.sheet, row.number, "default",
                            f"'{value}' is worked out when the form opens; only a fixed default answer is supported "
                            "(for today's date, leave the question for the patient to fill in)")
            return
        out["default"] = value

    def _or_other(self, row: Row, out: dict[str, Any]) -> list[dict[str, Any]]:
        """select_one list or_other: pyxform adds the answer 'Other' and a text question shown when it is chosen;
        so does this import, and the export writes them out as they are."""
        if row.get("choice_filter"):
            self.errors.add(row.sheet, row.number, "type", "or_other cannot be used with a choice_filter (as in "
                            "XLSForm): add an 'other' answer to the list instead")
            return []
        qid = out["id"]
        if not any(o["code"] == "other" for o in out["options"]):
            out["options"].append({"code": "other", "label": {self.default: "Other"}})
        name = f"{qid}_other"
        if name.lower() in self.names:
            self.errors.add(row.sheet, row.number, "type", f"or_other adds the question '{name}', which is also the "
                            f"name on row {self.names[name.lower()]}")
            return []
        self.names[name.lower()] = row.number
        self.report.add("changed", "or_other: the answer 'Other' and a question '<name>_other' (\"Specify other.\", "
                        "shown when Other is chosen) are added, as XLSForm does; their texts are in the default "
                        "language only", "survey", row.number, "type")
        return [{"type": "short_text", "id": name, "label": {self.default: "Specify other."},
                 "show_if": f"selected({qid}, 'other')", "max_length": MAX_TEXT}]

    def _choice_filter(self, row: Row, out: dict[str, Any], list_name: str) -> None:
        """`site = ${site}` (and `${q} = col`, `selected(${q}, col)`, joined by `and`): the answers offered
        depend on earlier answers. Each answer keeps its values in the columns compared."""
        pairs = parse_choice_filter(row.get("choice_filter"))
        if isinstance(pairs, str):
            self.errors.add(row.sheet, row.number, "choice_filter", pairs)
            return
        for column in pairs:
            if column != "name" and column not in (self.choice_cols.own if self.choice_cols else {}):
                self.errors.add(row.sheet, row.number, "choice_filter",
                                f"compares '{column}', which is not a column of the choices sheet")
                return
        self.filter_columns.update(pairs)
        out["choice_filter"] = pairs
        for option, (choice, _) in zip(out["options"], self.lists.get(list_name, [])):
            values = {c: choice.own(c) for c in pairs if c != "name" and choice.own(c)}
            if values:
                option["filters"] = values

    def _range(self, row: Row, out: dict[str, Any]) -> dict[str, Any]:
        """range: 0 to 10 in whole steps is the 0-10 scale; any other start, end and step a number in steps."""
        params = parse_parameters(row.get("parameters"))
        if params is None:
            self.errors.add(row.sheet, row.number, "parameters",
                            "write the range's parameters like start=1 end=5 step=1 (separated by spaces)")
            return out
        for key in params:
            if key not in ("start", "end", "step"):
                self.report.add("ignored", f"the range parameter {key}: the web form shows a row of choices or a box",
                                "survey", row.number, "parameters")
        values = {k: _float(params.get(k, default)) for k, default in (("start", "1"), ("end", "10"), ("step", "1"))}
        bad = [k for k, v in values.items() if v is None or not math.isfinite(v)]
        if bad:
            self.errors.add(row.sheet, row.number, "parameters", f"{bad[0]} must be a number")
            return out
        start, end, step = values["start"], values["end"], values["step"]
        assert start is not None and end is not None and step is not None
        if step == 0:
            self.errors.add(row.sheet, row.number, "parameters", "step cannot be 0")
            return out
        if (start, end, abs(step)) == (0, 10, 1):
            return out  # the 0-10 scale
        if start > end:
            start, end = end, start
            self.report.add("changed", "a range running downwards is shown from its lowest value to its highest",
                            "survey", row.number, "parameters")
        whole = all(float(v).is_integer() for v in (start, end, step))
        number = {k: v for k, v in out.items() if k != "type"}
        self.kinds[out["id"]] = "number"
        return {"type": "number", **number, "integer": whole, "min": _num(start), "max": _num(end),
                "step": _num(abs(step))}

    def _constraint(self, row: Row, kind: str, integer: bool = False) -> dict[str, Any]:
        text = row.get("constraint").translate(SMART_QUOTES)
        if not text:
            return {}
        result = parse_constraint(text, kind, integer)
        if isinstance(result, str):
            self.errors.add(row.sheet, row.number, "constraint", result)
            return {}
        return result

    # -- grids -----------------------------------------------------------------------------------------

    def _grid_kind(self, group: _Group) -> str | None:
        appearance = group.row.get("appearance").lower().split()
        if "table-list" in appearance:
            return "table-list"
        if "field-list" in appearance:
            rows = [c for c in group.children if isinstance(c, Row)]
            if len(rows) == len(group.children) and len(rows) >= 2:
                kinds = [read_type(r.get("type")).kind for r in rows]
                looks = [r.get("appearance").lower().split() for r in rows]
                if all(k == "select_one" for k in kinds) and "label" in looks[0] and all(
                    "list-nolabel" in a for a in looks[1:]
                ):
                    return "label-pattern"
        return None

    def grid(self, group: _Group, convention: str, path: str) -> dict[str, Any]:
        row = group.row
        gid = self._claim_name(row) or ""
        self._appearance(row, {"table-list", "field-list"})
        self.where[path] = ("survey", row.number, None)
        self._no_extra(row, ("required", "constraint", "parameters", "prg_dimension", "default", "choice_filter"),
                       "a rating grid group")
        out: dict[str, Any] = {"type": "rating_grid", "id": gid, "label": row.text("label")}
        hint = row.text("hint")
        if hint:
            out["help"] = hint
        if row.get("relevant"):
            show_if = self._relevant(row)
            if show_if:
                out["show_if"] = show_if
        if row.get("prg_top_box"):
            out["top_box"] = row.get("prg_top_box").split()
        list_name: str | None = None
        rows: list[dict[str, Any]] = []
        required: set[bool] = set()
        for child in group.children:
            if isinstance(child, _Group):
                self.errors.add("survey", child.row.number, "type", "a rating grid cannot contain a group")
                continue
            spelling = self._type(child)
            if spelling.kind != "select_one":
                self.errors.add(
                    "survey", child.number, "type",
                    f"every row of a rating grid (group '{row.get('name')}', appearance {convention}) "
                    "must be a select_one over the same list",
                )  # fmt: skip
                continue
            arg = spelling.argument
            if list_name is None:
                list_name = arg
            elif arg != list_name:
                self.errors.add("survey", child.number, "type", f"uses list '{arg}', but the grid's rows use '{list_name}'")
                continue
            self._appearance(child, {"label", "list-nolabel"})
            if "label" in child.get("appearance").lower().split():
                if not out["label"] and child.text("label"):
                    out["label"] = child.text("label")
                continue  # the header row: shows the scale, holds no answer
            name = self._claim_name(child)
            if name is None:
                continue
            row_id = name[len(gid) + 1 :] if gid and name.startswith(gid + "_") and len(name) > len(gid) + 1 else name
            self.where[f"{path}.rows[{len(rows)}]"] = ("survey", child.number, None)
            label = child.text("label")
            if not label:
                self.errors.add("survey", child.number, "label", "is empty: every row of a grid needs a label")
            rows.append({"id": row_id, "label": label})
            self._no_extra(child, ("relevant", "constraint", "parameters", "prg_dimension", "prg_top_box", "default",
                                   "choice_filter"), "a grid row")  # fmt: skip
            if spelling.or_other:
                self.errors.add("survey", child.number, "type", "or_other is not supported on the rows of a rating grid")
            if child.text("hint"):
                self.errors.add("survey", child.number, "hint", "rows of a rating grid cannot have hints; use the group's hint")
            req = yes_no(child.get("required"))
            if req is None:
                self.errors.add("survey", child.number, "required", "must be yes or no")
            required.add(bool(req))
        if not out["label"]:
            self.errors.add("survey", row.number, "label", "is empty: a rating grid needs a label (its question)")
        if len(required) > 1:
            self.errors.add("survey", row.number, "required", "the rows of a rating grid must all be required or all optional")
        if required == {True}:
            out["required"] = True
        out["rows"] = rows
        out["options"] = self._options(row, list_name or "", path, "select_one") if list_name else []
        if not rows:
            self.errors.add("survey", row.number, "type", "this rating grid has no rows")
        self.kinds[gid] = "rating_grid"
        return out

    # -- validation, mapped back to rows ---------------------------------------------------------------

    def locate(self, detail: ErrorDetail) -> ErrorDetail:
        """A definition error (field path) as a sheet, row and column the author can find."""
        path = detail.field or ""
        best = ""
        for key in self.where:
            if (path == key or path.startswith((key + ".", key + "["))) and len(key) > len(best):
                best = key
        rest = path[len(best) :].lstrip(".").replace("[...]", "")  # msgspec's "[...]": a text's language
        attribute = re.split(r"[.\[]", rest, maxsplit=1)[0]
        if best:
            sheet, row, column = self.where[best]
            column = (_CHOICE_COLUMN_OF if sheet == "choices" else _COLUMN_OF).get(attribute, column)
        elif path.startswith("title"):
            sheet, row, column = "settings", self.settings_row, "form_title"
        elif path.startswith(("default_language", "languages", "language_names")):
            sheet, row, column = "settings", self.settings_row, "default_language"
        else:
            sheet, row, column = "survey", None, None
        message = _plain_message(detail.message)
        message = f"{rest}: {message}" if rest and rest != attribute else message
        return ErrorDetail(message, field=sheet, row=row, column=column)


_COLUMN_OF = {
    "id": "name", "label": "label", "help": "hint", "show_if": "relevant", "required": "required",
    "min": "constraint", "max": "constraint", "max_length": "constraint", "top_box": "prg_top_box",
    "dimension": "prg_dimension", "options": "type", "rows": "type", "title": "label", "intro": "hint",
    "default": "default", "choice_filter": "choice_filter", "step": "parameters", "calculation": "calculation",
    "min_exclusive": "constraint", "max_exclusive": "constraint",
}  # fmt: skip
_CHOICE_COLUMN_OF = {"code": "name", "label": "label", "filters": None}

# msgspec's wording, in the author's words (the importer checks the common cases itself first).
_MSGSPEC_WORDS = (
    (re.compile(r"^Expected `str` of length <= (\d+)"), lambda m: f"is longer than {int(m.group(1)):,} characters"),
    (re.compile(r"^Expected `str` of length >= 1"), lambda m: "is empty"),
    (re.compile(r"^Expected `str` matching regex .*"), lambda m: "contains characters that are not allowed here "
                                                                 "(such as tabs or control characters)"),
    (re.compile(r"^Expected `array` of length >= (\d+)"), lambda m: f"needs at least {m.group(1)}"),
    (re.compile(r"^Expected `array` of length <= (\d+)"), lambda m: f"has more than the {int(m.group(1)):,} allowed"),
    (re.compile(r"^Expected `object` of length <= (\d+)"), lambda m: f"has more than {m.group(1)} languages"),
    (re.compile(r"^Expected `(?:int|float)` (>=|<=|>|<) (.+?)$"), lambda m: f"must be {m.group(1)} {m.group(2)}"),
)


def _plain_message(message: str) -> str:
    for pattern, words in _MSGSPEC_WORDS:
        m = pattern.match(message)
        if m:
            return words(m) + (" (in a language code)" if "(in a key)" in message else "")
    return message


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def read_xlsform(data: bytes, *, filename: str | None = None) -> XLSFormImport:
    """Read an XLSForm (.xlsx bytes) into a validated definition and the report of what it did not keep.

    Raises BadFile / FileTooLarge for files that are not safe .xlsx workbooks, and InvalidInput listing
    every problem (field = sheet, row, column) for content outside the supported subset. `filename`
    only supplies a title when the settings sheet has neither form_title nor form_id.
    """
    deadline = Deadline()  # one bound on the whole import: reading, then building
    book = read_workbook(data, filename, deadline)
    importer = _Importer(book, filename)
    raw = importer.build()
    deadline.check("the form")
    try:
        defn = msgspec.convert(raw, SurveyDefinition)
    except msgspec.ValidationError as exc:
        raise InvalidInput("The XLSForm cannot be imported.", [importer.locate(_error_from_msgspec(exc))]) from exc
    errors = validate_definition(defn)
    if errors:
        located = []
        for error in errors:
            found = importer.locate(error)
            if found not in located:
                located.append(found)
        raise InvalidInput("The XLSForm cannot be imported.", located)
    return XLSFormImport(defn, importer.report.entries())


def import_xlsform(data: bytes, *, filename: str | None = None) -> SurveyDefinition:
    """`read_xlsform`'s definition alone (the report is in `read_xlsform`)."""
    return read_xlsform(data, filename=filename).definition
