"""The results workbook of a survey (xlsxwriter, constant-memory: rows stream to disk as written).

Sheets:
- **Summary**: per question its base and, per answer, count, share and Wilson 95% interval, with the
  weighted figures beside the unweighted ones when the results are weighted; means for 0-10 and number
  questions. Every number is the one `surveys.results.survey_results` returned (the API's numbers).
- **Charts**: a native bar chart of the shares of each single-choice question (over the Summary cells).
- **By <question>**: the same figures for each answer of a breakdown question (one sheet per breakdown).
- **Data**: long format, one row per answer (response, mode, language, day, question, item, answer),
  pivot-ready; split over `Data`, `Data 2`... beyond a million rows (Excel's sheet holds 1,048,576).
- **Responses**: wide, one row per response, one column per question (multiple choice as 0/1 columns
  per option, rating grids as one column per row).
- **Comments**: every free-text answer with its question.

A workbook *marked for publication* carries the suppressed figures (`publish=True` results) and leaves out
Data, Responses and Comments: row-level answers and comments can identify people.

Every cell whose text came from a person (labels, comments, typed answers) is written with
`write_string`; codes come from the validated definition (letters, digits, `_`, `-`), and are written
as strings too.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
import xlsxwriter

from exports.safe import SafeSheet, clean_cell_text
from surveys.definition import (
    LongTextQuestion,
    MultipleChoiceQuestion,
    NumberQuestion,
    RatingGridQuestion,
    ScaleQuestion,
    ShortTextQuestion,
    SingleChoiceQuestion,
    SurveyDefinition,
    text_for,
)

DATA_ROWS_PER_SHEET = 1_000_000
MAX_CHARTS = 40
WEIGHTED = ("weighted_count", "weighted_share", "weighted_ci_low", "weighted_ci_high")


def _label(text: Mapping[str, str] | None, lang: str) -> str:
    return clean_cell_text(text_for(text, lang))


def _option_labels(question: Any, lang: str) -> dict[str, str]:
    return {o.code: _label(o.label, lang) for o in getattr(question, "options", [])}


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.bold = book.add_format({"bold": True})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.head = book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
        self.pct = book.add_format({"num_format": "0.0%"})
        self.dec = book.add_format({"num_format": "0.00"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.note = book.add_format({"italic": True, "font_color": "#555555"})


SUMMARY_HEADER = ["Question", "Answer code", "Answer", "Count", "Share", "95% CI low", "95% CI high"]
WEIGHTED_HEADER = ["Weighted count", "Weighted share", "Weighted 95% CI low", "Weighted 95% CI high"]


def _figures_row(sheet: SafeSheet, r: int, item: Mapping[str, Any], weighted: bool, fmt: _Formats) -> None:
    sheet.value(r, 3, item.get("count"))
    for c, key in ((4, "share"), (5, "ci_low"), (6, "ci_high")):
        sheet.number(r, c, item.get(key), fmt.pct)
    if weighted:
        sheet.number(r, 7, item.get("weighted_count"), fmt.dec)
        for c, key in ((8, "weighted_share"), (9, "weighted_ci_low"), (10, "weighted_ci_high")):
            sheet.number(r, c, item.get(key), fmt.pct)


def _write_question_block(sheet: SafeSheet, r: int, question: Any, result: Mapping[str, Any], lang: str,
                          weighted: bool, fmt: _Formats, threshold: int | None) -> tuple[int, tuple[int, int] | None]:
    """Rows for one question from row r; returns the next free row and, for a chartable single-choice
    question, the (first, last) rows of its answers."""
    label = _label(question.label, lang)
    title_row = r
    sheet.text(r, 0, f"{question.id}: {label}", fmt.bold)
    r += 1
    sheet.text(r, 0, "Base (answered)")
    sheet.value(r, 3, result.get("base"))
    sheet.text(r, 4, f"of {result.get('respondents')} responses; skipped {result.get('skipped')}, "
                     f"not shown {result.get('not_shown')}", fmt.note)
    r += 1
    if result.get("withheld"):
        sheet.text(r, 0, f"Withheld: fewer than {threshold} answers, or small counts could be worked out.", fmt.note)
        r += 1
    labels = _option_labels(question, lang)
    chart_rows = None
    if "options" in result:
        first = r
        for option in result["options"]:
            sheet.text(r, 1, option["code"])
            sheet.text(r, 2, labels.get(option["code"], option["code"]))
            _figures_row(sheet, r, option, weighted, fmt)
            r += 1
        if isinstance(question, SingleChoiceQuestion) and not result.get("withheld"):
            chart_rows = (title_row, first, r - 1)
        top = result.get("top_box")
        if top:
            sheet.text(r, 1, "+".join(top["codes"]))
            sheet.text(r, 2, "Top box: " + ", ".join(labels.get(c, c) for c in top["codes"]))
            _figures_row(sheet, r, top, weighted, fmt)
            r += 1
    if "rows" in result:
        row_labels = {g.id: _label(g.label, lang) for g in question.rows}
        for block in result["rows"]:
            sheet.text(r, 0, f"{question.id}[{block['row']}]: {row_labels.get(block['row'], block['row'])}")
            sheet.text(r, 1, "base")
            sheet.value(r, 3, block.get("base"))
            r += 1
            for option in block.get("options", []):
                sheet.text(r, 1, option["code"])
                sheet.text(r, 2, labels.get(option["code"], option["code"]))
                _figures_row(sheet, r, option, weighted, fmt)
                r += 1
    if "distribution" in result:
        for option in result["distribution"]:
            sheet.text(r, 1, option["code"])
            sheet.text(r, 2, option["code"])
            _figures_row(sheet, r, option, weighted, fmt)
            r += 1
    if "mean" in result:
        sheet.text(r, 2, "Mean (95% CI)")
        sheet.number(r, 3, result.get("mean"), fmt.dec)
        sheet.number(r, 5, result.get("ci_low"), fmt.dec)
        sheet.number(r, 6, result.get("ci_high"), fmt.dec)
        if weighted:
            sheet.number(r, 7, result.get("weighted_mean"), fmt.dec)
            sheet.number(r, 9, result.get("weighted_ci_low"), fmt.dec)
            sheet.number(r, 10, result.get("weighted_ci_high"), fmt.dec)
        r += 1
        if result.get("median") is not None:
            sheet.text(r, 2, "Median")
            sheet.number(r, 3, result["median"], fmt.dec)
            r += 1
    if "comments" in result:
        sheet.text(r, 2, "Free text: see the Comments sheet" if result.get("comments") is not None
                   else "Free text is not published", fmt.note)
        r += 1
    return r + 1, chart_rows


def _summary_sheet(book: xlsxwriter.Workbook, name: str, heading: str, results: Mapping[str, Any],
                   definition: SurveyDefinition, lang: str, fmt: _Formats) -> list[tuple[Any, int, int, int]]:
    sheet = SafeSheet(book.add_worksheet(name))
    weighted = bool(results.get("weighted"))
    sheet.ws.set_column(0, 0, 42)
    sheet.ws.set_column(1, 1, 14)
    sheet.ws.set_column(2, 2, 34)
    sheet.ws.set_column(3, 10, 12)
    sheet.text(0, 0, heading, fmt.title)
    sheet.text(1, 0, "Responses")
    sheet.value(1, 3, results.get("respondents"))
    weighting = results.get("weighting") or {}
    if weighted and weighting:
        sheet.text(2, 0, "Weighted to the practice population by " + ", ".join(weighting.get("by", [])))
        sheet.text(2, 4, "Design effect")
        sheet.number(2, 5, weighting.get("design_effect"), fmt.dec)
        sheet.text(2, 6, "Effective sample size")
        sheet.number(2, 7, weighting.get("effective_sample_size"), fmt.dec)
    if results.get("publish"):
        sheet.text(3, 0, f"Marked for publication: results from fewer than {results.get('threshold')} answers "
                         f"are withheld and counts below {results.get('star_below')} shown as *.", fmt.note)
    sheet.header(5, SUMMARY_HEADER + (WEIGHTED_HEADER if weighted else []), fmt.head)
    r = 6
    charts = []
    questions = results["questions"]
    for question in definition.questions():
        result = questions.get(question.id)
        if result is None:
            continue
        r, chart_rows = _write_question_block(sheet, r, question, result, lang, weighted, fmt, results.get("threshold"))
        if chart_rows:
            charts.append((question, *chart_rows))
    return charts


def _charts_sheet(book: xlsxwriter.Workbook, summary_name: str, charts: Sequence[tuple[Any, int, int, int]]) -> None:
    sheet = book.add_worksheet("Charts")
    for i, (_, title_row, first, last) in enumerate(charts[:MAX_CHARTS]):
        chart = book.add_chart({"type": "bar"})
        chart.add_series({
            "name": "Share",
            "categories": [summary_name, first, 2, last, 2],
            "values": [summary_name, first, 4, last, 4],
            "data_labels": {"value": True, "num_format": "0%"},
        })
        # The title refers to the question's (string) cell: xlsxwriter reads a title text that looks
        # like "Sheet!A1" as a reference, so a label typed that way must never be passed as text.
        chart.set_title({"name": [summary_name, title_row, 0]})
        chart.set_legend({"none": True})
        chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1})
        sheet.insert_chart(1 + (i // 2) * 16, 1 + (i % 2) * 9, chart)


class _Column:
    __slots__ = ("header", "qid", "kind", "key")

    def __init__(self, header: str, qid: str, kind: str, key: str | None = None) -> None:
        self.header, self.qid, self.kind, self.key = header, qid, kind, key


def wide_columns(definition: SurveyDefinition) -> list[_Column]:
    """The Responses sheet's answer columns, in survey order."""
    columns = []
    for q in definition.questions():
        if isinstance(q, MultipleChoiceQuestion):
            columns.extend(_Column(f"{q.id}.{o.code}", q.id, "flag", o.code) for o in q.options)
        elif isinstance(q, RatingGridQuestion):
            columns.extend(_Column(f"{q.id}.{row.id}", q.id, "grid", row.id) for row in q.rows)
        elif isinstance(q, (ScaleQuestion, NumberQuestion)):
            columns.append(_Column(q.id, q.id, "number"))
        elif isinstance(q, (ShortTextQuestion, LongTextQuestion)):
            columns.append(_Column(q.id, q.id, "free"))
        else:  # single choice codes, dates (ISO text)
            columns.append(_Column(q.id, q.id, "code"))
    return columns


def _data_sheets(book: xlsxwriter.Workbook, responses: Iterable[Sequence[Any]], columns: list[_Column],
                 fmt: _Formats) -> None:
    """The long Data sheet(s) and the wide Responses sheet. Written in two passes over `responses`
    (a sequence), each sheet finished before the next starts, as constant-memory mode requires."""
    long_header = ["response", "mode", "language", "submitted_on", "question", "item", "answer"]
    part, r = 1, 1
    ws = book.add_worksheet("Data")
    SafeSheet(ws).header(0, long_header, fmt.head)
    write_string, write_number = ws.write_string, ws.write_number
    clean = clean_cell_text
    free = {c.qid for c in columns if c.kind == "free"}
    decode = msgspec.json.decode
    for n, (answers, mode, language, day) in enumerate(responses, start=1):
        if not isinstance(answers, dict):
            answers = decode(answers)
        for qid, value in answers.items():
            if isinstance(value, list):
                items = [(code, 1) for code in value]
            elif isinstance(value, dict):
                items = list(value.items())
            else:
                items = [("", value)]
            for item, answer in items:
                if r > DATA_ROWS_PER_SHEET:
                    part += 1
                    ws = book.add_worksheet(f"Data {part}")
                    SafeSheet(ws).header(0, long_header, fmt.head)
                    write_string, write_number = ws.write_string, ws.write_number
                    r = 1
                write_number(r, 0, n)
                write_string(r, 1, mode)
                write_string(r, 2, language)
                write_string(r, 3, day)
                write_string(r, 4, qid)
                write_string(r, 5, item)
                if isinstance(answer, (int, float)) and not isinstance(answer, bool):
                    write_number(r, 6, answer)
                else:
                    write_string(r, 6, clean(answer) if qid in free else answer)
                r += 1

    ws = book.add_worksheet("Responses")
    SafeSheet(ws).header(0, ["response", "mode", "language", "submitted_on", *[c.header for c in columns]], fmt.head)
    write_string, write_number = ws.write_string, ws.write_number
    for n, (answers, mode, language, day) in enumerate(responses, start=1):
        if not isinstance(answers, dict):
            answers = decode(answers)
        write_number(n, 0, n)
        write_string(n, 1, mode)
        write_string(n, 2, language)
        write_string(n, 3, day)
        for c, column in enumerate(columns, start=4):
            value = answers.get(column.qid)
            if value is None:
                if column.kind == "flag" and column.qid in answers:
                    write_number(n, c, 0)
                continue
            kind = column.kind
            if kind == "flag":
                write_number(n, c, 1 if column.key in value else 0)
            elif kind == "grid":
                code = value.get(column.key)
                if code is not None:
                    write_string(n, c, code)
            elif kind == "number":
                write_number(n, c, value)
            elif kind == "free":
                write_string(n, c, clean(value))
            else:
                write_string(n, c, value)


def _comments_sheet(book: xlsxwriter.Workbook, results: Mapping[str, Any], definition: SurveyDefinition,
                    lang: str, fmt: _Formats) -> None:
    sheet = SafeSheet(book.add_worksheet("Comments"))
    sheet.ws.set_column(0, 0, 30)
    sheet.ws.set_column(1, 1, 100)
    sheet.header(0, ["Question", "Comment"], fmt.head)
    r = 1
    for q in definition.questions():
        comments = (results["questions"].get(q.id) or {}).get("comments")
        for comment in comments or []:
            sheet.text(r, 0, f"{q.id}: {_label(q.label, lang)}")
            sheet.text(r, 1, comment, fmt.wrap)
            r += 1


def write_results_workbook(results: Mapping[str, Any], definition: SurveyDefinition,
                           responses: Sequence[Sequence[Any]] | None, *, practice: str,
                           breakdowns: Mapping[str, Mapping[str, Any]] | None = None,
                           target: Any = None) -> bytes | None:
    """Write the workbook to `target` (a path or file object) or return its bytes.

    `results` is `survey_results(...)`'s document; `responses` the stored responses as (answers, mode,
    language, submitted_on) tuples (left out, with the row-level sheets, when publishing);
    `breakdowns` maps a question id to `survey_results(..., by=question id)`'s document."""
    lang = definition.default_language
    output = target if target is not None else io.BytesIO()
    book = xlsxwriter.Workbook(output, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    fmt = _Formats(book)
    heading = f"{practice}: {text_for(definition.title, lang)} (version {results.get('version')})"
    charts = _summary_sheet(book, "Summary", heading, results, definition, lang, fmt)
    if charts:
        _charts_sheet(book, "Summary", charts)
    used: set[str] = set()
    for by, document in (breakdowns or {}).items():
        question = next((q for q in definition.questions() if q.id == by), None)
        labels = _option_labels(question, lang) if question is not None else {}
        for value, part in (document.get("breakdown") or {}).items():
            name = clean_cell_text(f"By {by} = {value}")
            for bad in "[]:*?/\\'":
                name = name.replace(bad, "_")
            name = name[:31]
            n = 1
            while name.casefold() in used:  # sheet names are unique ignoring case, 31 characters at most
                n += 1
                name = f"{name[:27]} ({n})"
            used.add(name.casefold())
            _summary_sheet(book, name, f"{heading}: {by} = {labels.get(value, value)}",
                           {**part, "weighting": None, "version": results.get("version")}, definition, lang, fmt)
    if not results.get("publish") and responses is not None:
        _data_sheets(book, responses, wide_columns(definition), fmt)
        _comments_sheet(book, results, definition, lang, fmt)
    else:
        sheet = SafeSheet(book.add_worksheet("About"))
        sheet.text(0, 0, "Marked for publication: the answers of single respondents and free-text comments are "
                         "left out, as they could identify people.", fmt.note)
    book.close()
    return output.getvalue() if target is None else None
