"""The paper-entry workbook of a survey version, and reading it back.

Staff key one paper questionnaire per row of the **Responses** sheet (the first): one column per answer
(a single-choice question or a rating-grid row takes a drop-down of the survey's answer labels; a
multiple-choice option is a "Yes" column; 0-10 and number questions take whole or decimal numbers within
their bounds; dates are dates; text has its length limit). Headers read `id: label`, and only the part
before the colon matters on the way back. **Instructions** says how; **Lists** (hidden) holds the
drop-down values; **_survey** (very hidden and protected) names the practice, survey, version and a
fingerprint of the definition, so a workbook made for another survey or version is refused.

Reading back (`parse_paper_rows`): each row becomes the answers the web form would send (labels or
codes both accepted), validated by `surveys.answers` exactly as the web form's are; every bad cell of
every row is reported as (row, column).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from exports.safe import SafeSheet, clean_cell_text
from prg.errors import BadFile, ErrorDetail, InvalidInput
from surveys.answers import CompiledSurvey
from surveys.definition import (
    DateQuestion,
    LongTextQuestion,
    MultipleChoiceQuestion,
    NumberQuestion,
    RatingGridQuestion,
    ScaleQuestion,
    ShortTextQuestion,
    SingleChoiceQuestion,
    SurveyDefinition,
    dump_definition,
    text_for,
)

META_SHEET = "_survey"
ENTRY_ROWS = 2000
YES = {"yes", "y", "1", "x", "true", "ticked", "✓"}


@dataclass(frozen=True)
class Column:
    key: str  # the header's id part: q, q.code (multiple choice option) or q.row (grid row)
    question: Any
    kind: str  # choice | option | grid | scale | number | date | text
    sub: str | None = None
    label: str = ""


def fingerprint(definition: SurveyDefinition) -> str:
    return hashlib.sha256(msgspec.json.encode(dump_definition(definition))).hexdigest()[:16]


def columns_for(definition: SurveyDefinition) -> list[Column]:
    lang = definition.default_language
    out = []
    for q in definition.questions():
        label = text_for(q.label, lang)
        if isinstance(q, SingleChoiceQuestion):
            out.append(Column(q.id, q, "choice", label=label))
        elif isinstance(q, MultipleChoiceQuestion):
            out.extend(Column(f"{q.id}.{o.code}", q, "option", o.code, f"{label}: {text_for(o.label, lang)}")
                       for o in q.options)
        elif isinstance(q, RatingGridQuestion):
            out.extend(Column(f"{q.id}.{r.id}", q, "grid", r.id, f"{label}: {text_for(r.label, lang)}") for r in q.rows)
        elif isinstance(q, ScaleQuestion):
            out.append(Column(q.id, q, "scale", label=label))
        elif isinstance(q, NumberQuestion):
            out.append(Column(q.id, q, "number", label=label))
        elif isinstance(q, DateQuestion):
            out.append(Column(q.id, q, "date", label=label))
        elif isinstance(q, (ShortTextQuestion, LongTextQuestion)):
            out.append(Column(q.id, q, "text", label=label))
    return out


def write_paper_workbook(definition: SurveyDefinition, *, ods_code: str, survey_id: int, version: int,
                         title: str) -> bytes:
    lang = definition.default_language
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"strings_to_formulas": False, "strings_to_numbers": False,
                                        "strings_to_urls": False})
    head = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    bold = book.add_format({"bold": True, "font_size": 14})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    entry = SafeSheet(book.add_worksheet("Responses"))
    guide = SafeSheet(book.add_worksheet("Instructions"))
    lists_ws = book.add_worksheet("Lists")
    meta_ws = book.add_worksheet(META_SHEET)
    lists_ws.hide()
    meta_ws.very_hidden()
    meta_ws.protect()
    entry.ws.activate()

    meta = SafeSheet(meta_ws)
    for r, (key, value) in enumerate([("practice", ods_code), ("survey_id", survey_id), ("version", version),
                                      ("fingerprint", fingerprint(definition))]):
        meta.text(r, 0, key)
        meta.value(r, 1, value)

    columns = columns_for(definition)
    lists = SafeSheet(lists_ws)
    list_ranges: dict[str, str] = {}
    list_col = 0
    for q in definition.questions():
        if isinstance(q, (SingleChoiceQuestion, RatingGridQuestion)):
            lists.text(0, list_col, q.id)
            for r, option in enumerate(q.options, start=1):
                lists.text(r, list_col, text_for(option.label, lang))
            letter = xl_col_to_name(list_col)
            list_ranges[q.id] = f"=Lists!${letter}$2:${letter}${len(q.options) + 1}"
            list_col += 1

    entry.text(0, 0, "Questionnaire", head)
    entry.ws.set_column(0, 0, 14)
    entry.ws.set_row(0, 60)
    entry.ws.freeze_panes(1, 1)
    for c, column in enumerate(columns, start=1):
        entry.text(0, c, f"{column.key}: {column.label}"[:250], head)
        entry.ws.set_column(c, c, 40 if column.kind == "text" else 22)
        rule: dict[str, Any] | None = None
        q = column.question
        if column.kind in ("choice", "grid"):
            rule = {"validate": "list", "source": list_ranges[q.id],
                    "error_message": "Choose the answer from the list (or leave blank if not answered)."}
        elif column.kind == "option":
            rule = {"validate": "list", "source": ["Yes"], "error_message": "Type Yes if ticked, else leave blank."}
        elif column.kind == "scale":
            rule = {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": 10,
                    "error_message": "A whole number from 0 to 10."}
        elif column.kind == "number":
            low = q.min if q.min is not None else -1e15
            high = q.max if q.max is not None else 1e15
            rule = {"validate": "integer" if q.integer else "decimal", "criteria": "between", "minimum": low,
                    "maximum": high, "error_message": f"A number from {low:g} to {high:g}."}
        elif column.kind == "date":
            rule = {"validate": "date", "criteria": "between",
                    "minimum": datetime.combine(q.min or date(1900, 1, 1), datetime.min.time()),
                    "maximum": datetime.combine(q.max or date(2100, 12, 31), datetime.min.time()),
                    "error_message": "A date."}
            entry.ws.set_column(c, c, 22, day)
        elif column.kind == "text":
            rule = {"validate": "length", "criteria": "<=", "value": q.max_length,
                    "error_message": f"At most {q.max_length} characters."}
        if rule:
            entry.ws.data_validation(1, c, ENTRY_ROWS, c, rule)

    guide.ws.set_column(0, 0, 110)
    lines = [
        (f"Paper entry: {title} (survey {survey_id}, version {version}, practice {ods_code})", bold),
        ("Key one paper questionnaire per row of the Responses sheet, numbering them in the first column.", wrap),
        ("Choose answers from the drop-down lists; for questions where several answers can be ticked, type Yes "
         "in the column of each ticked answer. Leave a cell blank when the question was not answered.", wrap),
        ("Questions the paper form told the patient to skip are ignored if answered.", wrap),
        ("Upload the workbook on the survey's paper entry page. If any row breaks the survey's rules, nothing is "
         "imported and every problem is listed by row and column: correct them and upload again.", wrap),
        ("This workbook belongs to this version of the survey only: after the survey is changed and published "
         "again, download a new workbook.", wrap),
    ]
    for r, (line, fmt) in enumerate(lines):
        guide.text(r, 0, line, fmt)
    r = len(lines) + 1
    guide.text(r, 0, "Questions and answers", bold)
    for q in definition.questions():
        r += 1
        guide.text(r, 0, f"{q.id}: {text_for(q.label, lang)}" + (" (required)" if q.required else ""), wrap)
        for option in getattr(q, "options", []):
            r += 1
            guide.text(r, 0, f"    {option.code} = {text_for(option.label, lang)}")
    book.close()
    return output.getvalue()


@dataclass
class WorkbookMeta:
    practice: str
    survey_id: int
    version: int
    fingerprint: str


def read_meta(data: bytes) -> WorkbookMeta:
    """The hidden sheet naming the survey and version (after the upload passed prg.uploads' checks)."""
    import openpyxl  # deferred, as in prg.uploads: only workbook uploads pay for openpyxl's import

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        if META_SHEET not in book.sheetnames:
            raise BadFile("This is not a paper-entry workbook from this system: download one for the survey.")
        values = {str(row[0]): row[1] for row in book[META_SHEET].iter_rows(max_col=2, values_only=True) if row[0]}
    finally:
        book.close()
    try:
        return WorkbookMeta(str(values["practice"]), int(values["survey_id"]), int(values["version"]),
                            str(values["fingerprint"]))
    except (KeyError, TypeError, ValueError):
        raise BadFile("The workbook's survey details are damaged: download a new paper-entry workbook.") from None


def _is_yes(value: object) -> bool:
    return str(value).strip().casefold() in YES


def _cell_answer(column: Column, value: object, lookup: dict[str, dict[str, str]]) -> Any:
    if column.kind in ("choice", "grid"):
        text = str(value).strip()
        return lookup[column.question.id].get(text.casefold(), text)
    if column.kind == "date" and isinstance(value, datetime):
        return value.date().isoformat()
    if column.kind == "date" and isinstance(value, date):
        return value.isoformat()
    if column.kind in ("scale", "number") and isinstance(value, float) and value.is_integer():
        return int(value)
    if column.kind in ("scale", "number") and isinstance(value, (int, float)):
        return value
    return clean_cell_text(value) if column.kind == "text" else str(value)


def parse_paper_rows(definition: SurveyDefinition, rows: list[tuple[int, list[object]]]) -> list[dict[str, Any]]:
    """The validated answers of every data row, or InvalidInput naming every bad row and column."""
    if not rows:
        raise BadFile("The Responses sheet is empty.")
    header_number, header = rows[0]
    columns = {c.key: c for c in columns_for(definition)}
    mapped: dict[int, Column] = {}
    errors: list[ErrorDetail] = []
    for index, cell in enumerate(header):
        if index == 0 or cell in (None, ""):
            continue
        key = str(cell).split(":", 1)[0].strip()
        if key not in columns:
            errors.append(ErrorDetail(f"'{key[:60]}' is not a question of this survey version", row=header_number,
                                      column=xl_col_to_name(index)))
        else:
            mapped[index] = columns[key]
    if errors:
        raise InvalidInput("The header row does not match this survey version.", errors)
    lang = definition.default_language
    lookup = {}
    for q in definition.questions():
        if isinstance(q, (SingleChoiceQuestion, RatingGridQuestion)):
            table = {o.code.casefold(): o.code for o in q.options}
            table.update({text_for(o.label, lang).strip().casefold(): o.code for o in q.options})
            lookup[q.id] = table
    where = {}  # answer field -> column letter, for the validator's errors
    for index, column in mapped.items():
        field = f"{column.question.id}[{column.sub}]" if column.kind == "grid" else column.question.id
        where.setdefault(field, xl_col_to_name(index))
    compiled = CompiledSurvey(definition, check=False)
    answers_out = []
    for number, cells in rows[1:]:
        answers: dict[str, Any] = {}
        for index, column in mapped.items():
            value = cells[index] if index < len(cells) else None
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            qid = column.question.id
            if column.kind == "option":
                if _is_yes(value):
                    answers.setdefault(qid, []).append(column.sub)
                elif str(value).strip().casefold() not in {"no", "n", "0", "false"}:
                    errors.append(ErrorDetail("type Yes if ticked, or leave blank", row=number,
                                              column=xl_col_to_name(index)))
            elif column.kind == "grid":
                answers.setdefault(qid, {})[column.sub] = _cell_answer(column, value, lookup)
            else:
                answers[qid] = _cell_answer(column, value, lookup)
        try:
            answers_out.append(compiled.validate(answers, lang, hidden="drop"))
        except InvalidInput as exc:
            for e in exc.errors:
                errors.append(ErrorDetail(e.message, row=number, column=where.get(e.field or "", e.field),
                                          field=e.field))
    if errors:
        raise InvalidInput(f"{len({e.row for e in errors})} questionnaire(s) need correcting; nothing was imported.",
                           errors)
    if not answers_out:
        raise InvalidInput("The workbook has no questionnaires in it.", [ErrorDetail("no data rows", row=2)])
    return answers_out
