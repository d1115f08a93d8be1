"""XLSForm import: an .xlsx workbook read safely into a validated `SurveyDefinition`, every problem
reported with its sheet, row and column (the supported subset is in the package's docstring)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import msgspec

from prg.errors import ErrorDetail, InvalidInput
from surveys import skip_logic
from surveys.definition import (
    NAME_RE,
    SurveyDefinition,
    validate_definition,
)
from surveys.definition import _from_msgspec as _error_from_msgspec
from surveys.skip_logic import Compare, SkipLogicError
from surveys.xlsform.languages import language_code
from surveys.xlsform.workbook import MAX_BYTES, Errors, Sheet, Workbook, read_workbook

__all__ = ["MAX_BYTES", "import_xlsform"]


_METADATA_TYPES = frozenset(
    {"start", "end", "today", "deviceid", "phonenumber", "username", "email", "simserial", "subscriberid", "audit"}
)
_UNSUPPORTED_TYPES: dict[str, str] = {
    "begin_repeat": "repeats are not supported: a survey asks each question once per patient",
    "end_repeat": "repeats are not supported: a survey asks each question once per patient",
    "calculate": "calculations are not supported",
    "hidden": "hidden questions are not supported",
    "geopoint": "location questions are not supported",
    "geotrace": "location questions are not supported",
    "geoshape": "location questions are not supported",
    "start-geopoint": "location questions are not supported",
    "image": "photo questions are not supported",
    "audio": "audio questions are not supported",
    "background-audio": "audio recording is not supported",
    "video": "video questions are not supported",
    "file": "file uploads are not supported",
    "barcode": "barcode questions are not supported",
    "time": "time questions are not supported; use date",
    "datetime": "date-and-time questions are not supported; use date",
    "acknowledge": "acknowledge questions are not supported; use a select_one with one answer",
    "trigger": "trigger questions are not supported",
    "rank": "ranking questions are not supported",
    "begin_kobomatrix": "KoBo matrix questions are not supported; use a group with appearance table-list",
    "end_kobomatrix": "KoBo matrix questions are not supported; use a group with appearance table-list",
    "select_one_from_file": "choices from a file are not supported; list them on the choices sheet",
    "select_multiple_from_file": "choices from a file are not supported; list them on the choices sheet",
    "select_one_external": "external choices are not supported; list them on the choices sheet",
    "xml-external": "external data is not supported",
    "csv-external": "external data is not supported",
}
# Columns whose content would change the form's behaviour in ways we cannot honour.
_REFUSED_COLUMNS: dict[str, str] = {
    "choice_filter": "choice filters (cascading selects) are not supported",
    "calculation": "calculations are not supported",
    "default": "default answers are not supported (a survey must not answer for the patient)",
    "read_only": "read-only questions are not supported",
    "readonly": "read-only questions are not supported",
    "repeat_count": "repeats are not supported",
    "trigger": "triggers are not supported",
    "media": "images, audio and video in labels are not supported",
    "image": "images in labels are not supported",
    "audio": "audio in labels are not supported",
    "video": "video in labels is not supported",
    "big-image": "images in labels are not supported",
}
_SURVEY_COLUMNS = (
    "type", "name", "label", "hint", "required", "relevant", "constraint", "appearance", "parameters",
    "prg_dimension", "prg_top_box", "select_from_list_name",
)  # fmt: skip
_CHOICES_COLUMNS = ("list_name", "name", "label", "prg_group")
_SETTINGS_COLUMNS = ("form_title", "form_id", "version", "default_language", "prg_form_title")
_TRUE = frozenset({"yes", "true", "true()", "1", "y"})
_FALSE = frozenset({"", "no", "false", "false()", "0", "n"})

# ---------------------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Columns:
    """Where each column of a sheet is: plain ones by name, translated ones by (base, language)."""

    plain: dict[str, int] = field(default_factory=dict)
    texts: dict[str, dict[str, int]] = field(default_factory=dict)  # base -> {lang: index}
    refused: dict[int, str] = field(default_factory=dict)  # index -> reason


def _columns(
    sheet: Sheet, known: tuple[str, ...], translated: tuple[str, ...], default_lang: str, errors: Errors
) -> _Columns:
    cols = _Columns()
    for index, header in enumerate(sheet.headers):
        if not header:
            if any(cells[index] for _, cells in sheet.rows if index < len(cells)):
                errors.add(sheet.name, 1, f"column {index + 1}", "has values but no header")
            continue
        base, sep, rest = header.partition("::")
        base = base.strip().lower().replace(" ", "_")
        if base in _REFUSED_COLUMNS or base.startswith("media"):
            cols.refused[index] = _REFUSED_COLUMNS.get(base, _REFUSED_COLUMNS["media"])
            continue
        if base in translated:
            if sep:
                lang = language_code(rest)
                if lang is None:
                    errors.add(
                        sheet.name, 1, header,
                        f"cannot tell which language this is; write it like {base}::Polish (pl)",
                    )  # fmt: skip
                    continue
            else:
                lang = default_lang
            if lang in cols.texts.setdefault(base, {}):
                errors.add(sheet.name, 1, header, f"is a second {base} column for language '{lang}'")
                continue
            cols.texts[base][lang] = index
        elif base in known and not sep:
            if base in cols.plain:
                errors.add(sheet.name, 1, header, "appears twice in the header")
                continue
            cols.plain[base] = index
        elif not base.startswith(("$", "bind", "instance", "body", "kobo")):
            close = difflib.get_close_matches(base, known + translated, n=1, cutoff=0.8)
            if close and base != close[0]:
                errors.add(sheet.name, 1, header, f"is not a column this product reads: did you mean '{close[0]}'?")
    return cols


@dataclass
class _Row:
    sheet: str
    number: int
    cells: list[str]
    cols: _Columns

    def get(self, name: str) -> str:
        index = self.cols.plain.get(name)
        return self.cells[index] if index is not None else ""

    def text(self, base: str) -> dict[str, str]:
        return {lang: self.cells[i] for lang, i in self.cols.texts.get(base, {}).items() if self.cells[i]}


# ---------------------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Group:
    row: _Row
    children: list[_Row | _Group] = field(default_factory=list)


_TYPE_ALIASES = {
    "begin group": "begin_group", "end group": "end_group", "begin repeat": "begin_repeat",
    "end repeat": "end_repeat", "select one": "select_one", "select multiple": "select_multiple",
    "select all that apply": "select_multiple", "int": "integer", "string": "text",
    "begin kobomatrix": "begin_kobomatrix", "end kobomatrix": "end_kobomatrix",
}  # fmt: skip


def _split_type(raw: str) -> tuple[str, str]:
    text = " ".join(raw.split()).lower()
    for alias, canonical in _TYPE_ALIASES.items():
        if text == alias or text.startswith(alias + " "):
            text = canonical + text[len(alias) :]
            break
    kind, _, arg = text.partition(" ")
    return kind, arg.strip()


class _Importer:
    def __init__(self, book: Workbook, filename: str | None) -> None:
        self.errors = book.errors
        self.filename = filename
        self.survey, self.choices, self.settings = book.survey, book.choices, book.settings
        self.where: dict[str, tuple[str, int, str | None]] = {}  # definition path -> (sheet, row, column)
        self.names: dict[str, int] = {}  # XLSForm name (lower case) -> row
        self.kinds: dict[str, str] = {}  # question id -> our type, for reading relevant

    # -- settings and languages ------------------------------------------------------------------------

    def read_settings(self) -> None:
        self.title: dict[str, str] = {}
        self.form_id = ""
        default_raw = ""
        self.settings_row = 2
        title_cols: dict[str, int] = {}
        plain: dict[str, int] = {}
        if self.settings and self.settings.rows:
            self.settings_row, cells = self.settings.rows[0]
            for index, header in enumerate(self.settings.headers):
                base, sep, rest = header.partition("::")
                base = base.strip().lower()
                if base in ("form_title", "prg_form_title") and sep:
                    lang = language_code(rest)
                    if lang is None:
                        self.errors.add("settings", 1, header, "cannot tell which language this is")
                    else:
                        title_cols[lang] = index
                elif base in _SETTINGS_COLUMNS and not sep:
                    plain[base] = index
            default_raw = cells[plain["default_language"]] if "default_language" in plain else ""
            self.form_id = cells[plain["form_id"]] if "form_id" in plain else ""
            self.title = {lang: cells[i] for lang, i in title_cols.items() if cells[i]}
            main_title = cells[plain["form_title"]] if "form_title" in plain else ""
        else:
            main_title = ""
        if default_raw:
            code = language_code(default_raw)
            if code is None:
                self.errors.add(
                    "settings", self.settings_row, "default_language",
                    f"cannot tell which language '{default_raw}' is; write it like English (en)",
                )  # fmt: skip
                code = "en"
            self.default = code
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
        if any(h.strip().lower() == "label" for h in self.survey.headers):
            return "en"
        found = []
        for header in self.survey.headers:
            base, sep, rest = header.partition("::")
            if sep and base.strip().lower() == "label":
                code = language_code(rest)
                if code:
                    found.append(code)
        return "en" if "en" in found or not found else found[0]

    def languages(self) -> list[str]:
        langs: list[str] = []
        for cols in (self.survey_cols, self.choice_cols):
            if cols is None:
                continue
            for base in ("label", "hint"):
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
        self.lists: dict[str, list[tuple[_Row, str]]] = {}
        self.choice_cols = None
        if self.choices is None:
            return
        cols = self.choice_cols = _columns(self.choices, ("list_name", "name", "prg_group"), ("label",), self.default, self.errors)
        for header in ("list_name", "name"):
            if header not in cols.plain and self.choices.rows:
                self.errors.add("choices", 1, None, f"The choices sheet has no '{header}' column")
                return
        for number, cells in self.choices.rows:
            row = _Row("choices", number, cells, cols)
            self._refused(row)
            list_name, name = row.get("list_name"), row.get("name")
            if not list_name:
                self.errors.add("choices", number, "list_name", "is empty")
                continue
            if not name:
                self.errors.add("choices", number, "name", "is empty: every answer needs a code")
                continue
            entries = self.lists.setdefault(list_name, [])
            if any(code == name for _, code in entries):
                self.errors.add("choices", number, "name", f"'{name}' appears twice in the list '{list_name}'")
                continue
            entries.append((row, name))

    def _refused(self, row: _Row) -> None:
        for index, reason in row.cols.refused.items():
            if row.cells[index]:
                header = (self.survey if row.sheet == "survey" else self.choices).headers[index]  # type: ignore[union-attr]
                self.errors.add(row.sheet, row.number, header, reason)

    # -- survey structure ------------------------------------------------------------------------------

    def read_tree(self) -> list[_Row | _Group]:
        cols = self.survey_cols = _columns(
            self.survey,
            tuple(c for c in _SURVEY_COLUMNS if c not in ("label", "hint")),
            ("label", "hint"),
            self.default,
            self.errors,
        )
        missing = [needed for needed in ("type", "name") if needed not in cols.plain]
        for needed in missing:
            self.errors.add("survey", 1, None, f"The survey sheet has no '{needed}' column")
        if missing or self.errors.header_errors("survey") or self.errors.header_errors("choices"):
            self.errors.raise_if_any()  # without usable columns every row would add a misleading error
        root: list[_Row | _Group] = []
        stack: list[_Group] = []
        for number, cells in self.survey.rows:
            row = _Row("survey", number, cells, cols)
            raw_type = row.get("type")
            if not raw_type:
                self.errors.add("survey", number, "type", "is empty: every row needs a type")
                continue
            kind, _ = _split_type(raw_type)
            if kind in _METADATA_TYPES:
                continue
            self._refused(row)
            target = stack[-1].children if stack else root
            if kind == "begin_group":
                group = _Group(row)
                target.append(group)
                stack.append(group)
            elif kind == "end_group":
                if not stack:
                    self.errors.add("survey", number, "type", "end_group has no matching begin_group above it")
                else:
                    stack.pop()
            elif kind in _UNSUPPORTED_TYPES:
                self.errors.add("survey", number, "type", f"'{raw_type}': {_UNSUPPORTED_TYPES[kind]}")
            else:
                target.append(row)
        for group in stack:
            self.errors.add("survey", group.row.number, "type", "this begin_group has no end_group")
        return root

    @staticmethod
    def _type(row: _Row) -> tuple[str, str]:
        """(type, list name); KoBo may put a select's list in a `select_from_list_name` column."""
        kind, arg = _split_type(row.get("type"))
        if kind in ("select_one", "select_multiple") and not arg:
            arg = row.get("select_from_list_name")
        return kind, arg

    def _claim_name(self, row: _Row) -> str | None:
        raw = row.get("name")
        if not raw:
            self.errors.add(row.sheet, row.number, "name", "is empty: every question and group needs a name")
            return None
        name = raw.lower()
        if not NAME_RE.match(name):
            self.errors.add(
                row.sheet, row.number, "name",
                f"'{raw}' is not a usable name: use letters, digits and _ (starting with a letter), at most 64",
            )  # fmt: skip
            return None
        if name in self.names:
            self.errors.add(row.sheet, row.number, "name", f"'{raw}' is also the name on row {self.names[name]}")
            return None
        self.names[name] = row.number
        return name

    def build(self) -> dict[str, Any]:
        self.read_settings()
        self.read_choices()
        tree = self.read_tree()
        sections: list[dict[str, Any]] = []
        loose: list[_Row | _Group] = []

        def flush() -> None:
            if loose:
                sections.append(self.section(None, list(loose), len(sections)))
                loose.clear()

        for node in tree:
            if isinstance(node, _Group) and not self._grid_kind(node):
                flush()
                sections.append(self.section(node, node.children, len(sections)))
            else:
                loose.append(node)
        flush()
        if not sections and not self.errors.items:
            self.errors.add("survey", None, None, "The survey sheet has no questions")
        self.errors.raise_if_any()
        return {
            "title": self.title,
            "default_language": self.default,
            "languages": self.languages(),
            "sections": sections,
        }

    def section(self, group: _Group | None, children: list[_Row | _Group], index: int) -> dict[str, Any]:
        path = f"sections[{index}]"
        out: dict[str, Any] = {}
        if group is not None:
            row = group.row
            self.where[path] = ("survey", row.number, None)
            out["id"] = self._claim_name(row) or f"section_{index + 1}"
            if row.text("label"):
                out["title"] = row.text("label")
            intro = row.text("hint")
            if row.get("relevant"):
                out["show_if"] = self._relevant(row)
            self._no_extra(row, ("constraint", "parameters", "prg_dimension", "prg_top_box"), "a group")
        else:
            first = children[0]
            self.where[path] = ("survey", (first.row if isinstance(first, _Group) else first).number, None)
            out["id"] = self._free_name(f"section_{index + 1}")
            intro = {}
        questions: list[dict[str, Any]] = []
        for position, node in enumerate(children):
            if isinstance(node, _Group):
                grid = self._grid_kind(node)
                if grid:
                    questions.append(self.grid(node, grid, f"{path}.questions[{len(questions)}]"))
                else:
                    self.errors.add(
                        "survey", node.row.number, "type",
                        "groups inside groups are not supported, except rating grids (appearance table-list)",
                    )  # fmt: skip
                continue
            kind, arg = self._type(node)
            if kind == "note":
                if questions:
                    self.errors.add(
                        "survey", node.number, "type",
                        "a note can only introduce a section (put it first in its group); "
                        "use the hint column for help on a question",
                    )  # fmt: skip
                    continue
                if node.get("name"):
                    self._claim_name(node)
                self._no_extra(node, ("required", "relevant", "constraint", "parameters"), "a note")
                for lang, text in node.text("label").items():
                    intro[lang] = f"{intro[lang]}\n\n{text}" if lang in intro else text
                self._no_interpolation(node, node.text("label"), "label")
                continue
            question = self.question(node, kind, arg, f"{path}.questions[{len(questions)}]")
            if question is not None:
                questions.append(question)
        if intro:
            out["intro"] = intro
            if group is not None:
                self._no_interpolation(group.row, intro, "hint")
        out["questions"] = questions
        if not questions and not self.errors.items:
            where = group.row.number if group else None
            self.errors.add("survey", where, None, "this section has no questions")
        return out

    def _free_name(self, base: str) -> str:
        name, n = base, 1
        while name in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names[name] = 0
        return name

    def _no_extra(self, row: _Row, columns: Iterable[str], what: str) -> None:
        for column in columns:
            if row.get(column):
                self.errors.add(row.sheet, row.number, column, f"is not used on {what}; leave it empty")

    def _no_interpolation(self, row: _Row, text: dict[str, str], column: str) -> None:
        if any("${" in t for t in text.values()):
            self.errors.add(row.sheet, row.number, column, "inserting answers into text (${...}) is not supported")

    def _common(self, row: _Row, path: str, kind: str) -> dict[str, Any] | None:
        name = self._claim_name(row)
        label, hint = row.text("label"), row.text("hint")
        if not label:
            self.errors.add(row.sheet, row.number, "label", "is empty: every question needs a label")
        self._no_interpolation(row, label, "label")
        self._no_interpolation(row, hint, "hint")
        self.where[path] = ("survey", row.number, None)
        out: dict[str, Any] = {"type": kind, "id": name or "", "label": label}
        if hint:
            out["help"] = hint
        required = row.get("required").lower()
        if required in _TRUE:
            out["required"] = True
        elif required not in _FALSE:
            self.errors.add(row.sheet, row.number, "required", "must be yes or no (conditions are not supported)")
        if row.get("relevant"):
            show_if = self._relevant(row)
            if show_if:
                out["show_if"] = show_if
        return out if name else None

    def _relevant(self, row: _Row) -> str | None:
        text = row.get("relevant")
        try:
            expr = skip_logic.from_xpath(text, rename=str.lower)
            expr = self._codes_as_text(expr)
            return skip_logic.format_expr(expr)
        except SkipLogicError as exc:
            self.errors.add(
                row.sheet, row.number, "relevant",
                f"{exc}. Supported: ${{q}} = 'a' (also != < <= > >=, numbers), selected(${{q}}, 'a'), "
                "${q} != '', and, or, not(...), parentheses",
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

    def _options(self, row: _Row, list_name: str, path: str) -> list[dict[str, Any]]:
        if not list_name:
            self.errors.add(row.sheet, row.number, "type", "names no choice list: write select_one <list name>")
            return []
        if list_name not in self.lists:
            self.errors.add(row.sheet, row.number, "type", f"the choice list '{list_name}' is not on the choices sheet")
            return []
        options = []
        for index, (choice, code) in enumerate(self.lists[list_name]):
            self.where[f"{path}.options[{index}]"] = ("choices", choice.number, None)
            label = choice.text("label")
            if not label:
                self.errors.add("choices", choice.number, "label", "is empty: every answer needs a label")
            self._no_interpolation(choice, label, "label")
            options.append({"code": code, "label": label})
        return options

    def _groups(self, list_name: str) -> dict[str, str]:
        return {code: row.get("prg_group") for row, code in self.lists.get(list_name, []) if row.get("prg_group")}

    def question(self, row: _Row, kind: str, arg: str, path: str) -> dict[str, Any] | None:
        appearance = row.get("appearance").lower().split()
        if "label" in appearance or "list-nolabel" in appearance:
            self.errors.add(
                row.sheet, row.number, "appearance",
                f"'{row.get('appearance')}' only makes sense in a rating grid (a field-list group of select_one rows)",
            )  # fmt: skip
            return None
        if kind not in ("select_one", "select_multiple", "integer", "decimal", "date", "text", "range"):
            self.errors.add(row.sheet, row.number, "type", f"the type '{row.get('type')}' is not supported")
            return None
        if kind.startswith("select") and arg.endswith(" or_other"):
            self.errors.add(
                row.sheet, row.number, "type",
                "or_other is not supported: add an 'Other' answer and a text question shown when it is selected",
            )  # fmt: skip
            return None
        ours = {
            "select_one": "single_choice", "select_multiple": "multiple_choice", "integer": "number",
            "decimal": "number", "date": "date", "range": "scale_0_10",
            "text": "long_text" if "multiline" in appearance else "short_text",
        }[kind]  # fmt: skip
        out = self._common(row, path, ours)
        if row.get("parameters") and kind != "range":
            self.errors.add(row.sheet, row.number, "parameters", "parameters are supported only for range (0 to 10)")
        if kind != "select_one":
            self._no_extra(row, ("prg_dimension", "prg_top_box"), f"a {kind} question (only on select_one)")
        constraint = row.get("constraint")
        if kind.startswith("select") or kind == "range":
            if constraint:
                self.errors.add(row.sheet, row.number, "constraint", f"constraints are not supported on {kind}")
        if out is None:
            return None
        self.kinds[out["id"]] = ours
        if kind.startswith("select"):
            out["options"] = self._options(row, arg, path)
            if kind == "select_one":
                if row.get("prg_top_box"):
                    out["top_box"] = row.get("prg_top_box").split()
                dimension = row.get("prg_dimension")
                if dimension:
                    out["dimension"] = {"name": dimension, "groups": self._groups(arg)}
        elif kind == "range":
            params = _parameters(row.get("parameters"))
            # pyxform's defaults are start=1 end=10 step=1; only 0..10 in whole steps is a 0-10 scale.
            wanted = {"start": 0.0, "end": 10.0, "step": 1.0}
            given = {"start": "1", "end": "10", "step": "1", **(params or {})}
            if params is None or set(given) != set(wanted) or any(_float(given[k]) != v for k, v in wanted.items()):
                self.errors.add(
                    row.sheet, row.number, "parameters",
                    "only the 0 to 10 scale is supported: write start=0 end=10 step=1",
                )  # fmt: skip
        elif kind in ("integer", "decimal"):
            out["integer"] = kind == "integer"
            out.update(self._constraint(row, "number"))
        elif kind == "date":
            out.update(self._constraint(row, "date"))
        else:
            out.update(self._constraint(row, "text"))
        return out

    def _constraint(self, row: _Row, kind: str) -> dict[str, Any]:
        text = row.get("constraint")
        if not text:
            return {}
        result = _parse_constraint(text, kind)
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
            rows = [c for c in group.children if isinstance(c, _Row)]
            if len(rows) == len(group.children) and len(rows) >= 2:
                kinds = [_split_type(r.get("type"))[0] for r in rows]
                looks = [r.get("appearance").lower().split() for r in rows]
                if all(k == "select_one" for k in kinds) and "label" in looks[0] and all(
                    "list-nolabel" in a for a in looks[1:]
                ):
                    return "label-pattern"
        return None

    def grid(self, group: _Group, convention: str, path: str) -> dict[str, Any]:
        row = group.row
        gid = self._claim_name(row) or ""
        self.where[path] = ("survey", row.number, None)
        self._no_extra(row, ("required", "constraint", "parameters", "prg_dimension"), "a rating grid group")
        out: dict[str, Any] = {"type": "rating_grid", "id": gid, "label": row.text("label")}
        hint = row.text("hint")
        if hint:
            out["help"] = hint
        self._no_interpolation(row, out["label"], "label")
        self._no_interpolation(row, hint, "hint")
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
            kind, arg = self._type(child)
            if kind != "select_one":
                self.errors.add(
                    "survey", child.number, "type",
                    f"every row of a rating grid (group '{row.get('name')}', appearance {convention}) "
                    "must be a select_one over the same list",
                )  # fmt: skip
                continue
            if list_name is None:
                list_name = arg
            elif arg != list_name:
                self.errors.add("survey", child.number, "type", f"uses list '{arg}', but the grid's rows use '{list_name}'")
                continue
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
            self._no_interpolation(child, label, "label")
            rows.append({"id": row_id, "label": label})
            self._no_extra(child, ("relevant", "constraint", "parameters", "prg_dimension", "prg_top_box"), "a grid row")
            if child.text("hint"):
                self.errors.add("survey", child.number, "hint", "rows of a rating grid cannot have hints; use the group's hint")
            req = child.get("required").lower()
            if req not in _TRUE | _FALSE:
                self.errors.add("survey", child.number, "required", "must be yes or no")
            required.add(req in _TRUE)
        if not out["label"]:
            self.errors.add("survey", row.number, "label", "is empty: a rating grid needs a label (its question)")
        if len(required) > 1:
            self.errors.add("survey", row.number, "required", "the rows of a rating grid must all be required or all optional")
        if required == {True}:
            out["required"] = True
        out["rows"] = rows
        out["options"] = self._options(row, list_name or "", path) if list_name else []
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
        rest = path[len(best) :].lstrip(".")
        attribute = re.split(r"[.\[]", rest, maxsplit=1)[0]
        if best:
            sheet, row, _ = self.where[best]
            column = (_CHOICE_COLUMN_OF if sheet == "choices" else _COLUMN_OF).get(attribute)
        elif path.startswith("title"):
            sheet, row, column = "settings", self.settings_row, "form_title"
        elif path.startswith(("default_language", "languages")):
            sheet, row, column = "settings", self.settings_row, "default_language"
        else:
            sheet, row, column = "survey", None, None
        message = f"{rest}: {detail.message}" if rest and rest != attribute else detail.message
        return ErrorDetail(message, field=sheet, row=row, column=column)


_COLUMN_OF = {
    "id": "name", "label": "label", "help": "hint", "show_if": "relevant", "required": "required",
    "min": "constraint", "max": "constraint", "max_length": "constraint", "top_box": "prg_top_box",
    "dimension": "prg_dimension", "options": "type", "rows": "type", "title": "label", "intro": "hint",
}  # fmt: skip
_CHOICE_COLUMN_OF = {"code": "name", "label": "label"}


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _parameters(text: str) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for part in text.replace(",", " ").replace(";", " ").split():
        key, sep, value = part.partition("=")
        if not sep:
            return None
        params[key.strip().lower()] = value.strip()
    return params


_NUM = r"(-?\d+(?:\.\d+)?)"
_ATOMS = {
    "number": re.compile(r"^\.\s*(<=|>=)\s*" + _NUM + r"$"),
    "date": re.compile(r"""^\.\s*(<=|>=)\s*date\(\s*['"](\d{4}-\d{2}-\d{2})['"]\s*\)$"""),
    "text": re.compile(r"^string-length\(\s*\.\s*\)\s*(<=)\s*(\d+)$"),
}
_CONSTRAINT_HELP = {
    "number": "for numbers write '. >= 0', '. <= 120' or both joined by 'and'",
    "date": "for dates write \". >= date('2024-01-01')\", \". <= date('2024-12-31')\" or both joined by 'and'",
    "text": "for text write 'string-length(.) <= 500'",
}


def _parse_constraint(text: str, kind: str) -> dict[str, Any] | str:
    """min/max/max_length from a constraint in the supported subset, or an error message."""
    out: dict[str, Any] = {}
    for atom in re.split(r"\s+and\s+", text.strip()):
        atom = atom.strip()
        while atom.startswith("(") and atom.endswith(")"):
            atom = atom[1:-1].strip()
        m = _ATOMS[kind].match(atom)
        if not m:
            return f"'{text}' is not a supported constraint: {_CONSTRAINT_HELP[kind]}"
        op, value = m.groups()
        key = "max_length" if kind == "text" else ("min" if op == ">=" else "max")
        if key in out:
            return f"'{text}' sets {key} twice"
        if kind == "number":
            out[key] = float(value) if "." in value else int(value)
        elif kind == "date":
            try:
                out[key] = date.fromisoformat(value).isoformat()
            except ValueError:
                return f"'{value}' is not a real date"
        else:
            out[key] = int(value)
    return out


def import_xlsform(data: bytes, *, filename: str | None = None) -> SurveyDefinition:
    """Read an XLSForm (.xlsx bytes) into a validated definition.

    Raises BadFile / FileTooLarge for files that are not safe .xlsx workbooks, and InvalidInput listing
    every problem (field = sheet, row, column) for content outside the supported subset. `filename`
    only supplies a title when the settings sheet has neither form_title nor form_id.
    """
    book = read_workbook(data, filename)
    importer = _Importer(book, filename)
    raw = importer.build()
    try:
        defn = msgspec.convert(raw, SurveyDefinition)
    except msgspec.ValidationError as exc:
        raise InvalidInput("The XLSForm cannot be imported.", [importer.locate(_error_from_msgspec(exc))]) from exc
    errors = validate_definition(defn)
    if errors:
        raise InvalidInput("The XLSForm cannot be imported.", [importer.locate(e) for e in errors])
    return defn
