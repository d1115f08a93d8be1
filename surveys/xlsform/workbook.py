"""Reading an XLSForm workbook safely: the bytes checked before any parser sees them, sheets read as text
cells with formulas refused, and every problem collected with its sheet, row and column.

`open_workbook` refuses what is not a safe .xlsx (size, legacy .xls, not a workbook, zip bombs, unsafe
paths, DTDs and entities: `prg.uploads.check_xlsx_safety`); `read_sheet` turns a worksheet into a `Sheet`
of trimmed cell texts aligned with its header row. `surveys.xlsform.importer` builds the definition from
those sheets.
"""

from __future__ import annotations

import io
import itertools
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from collections.abc import Iterator
from typing import Any

from prg.errors import BadFile, ErrorDetail, FileTooLarge, InvalidInput
from prg.uploads import check_xlsx_safety, is_xlsx, shown_name

__all__ = [
    "MAX_BYTES", "MAX_CELL", "MAX_CHOICE_ROWS", "MAX_IMPORT_SECONDS", "MAX_SURVEY_ROWS", "Deadline", "Errors",
    "Sheet", "Workbook", "cell_text", "open_workbook", "read_sheet", "read_workbook",
]  # fmt: skip

MAX_BYTES = 5_000_000
_MAX_UNZIPPED = 50_000_000  # what a real XLSForm expands to is a few hundred KB
MAX_SURVEY_ROWS = 2_000
MAX_CHOICE_ROWS = 20_000
MAX_CELL = 4_000
MAX_IMPORT_SECONDS = 20.0  # the whole import; a real XLSForm takes a fraction of a second


@dataclass
class Sheet:
    name: str
    headers: list[str]  # as written, stripped
    rows: list[tuple[int, list[str]]]  # (spreadsheet row, cell texts aligned with headers)
    beyond_header: list[int] = field(default_factory=list)  # rows with filled cells right of the last header


class Errors:
    def __init__(self) -> None:
        self.items: list[ErrorDetail] = []
        self._cells: set[tuple[str, int | None, str | None]] = set()

    def add(self, sheet: str, row: int | None, column: str | None, message: str) -> None:
        # One error per cell: a formula refused in a label should not also be reported as an empty label.
        if row is not None and column is not None and (sheet, row, column) in self._cells:
            return
        self._cells.add((sheet, row, column))
        self.items.append(ErrorDetail(message, field=sheet, row=row, column=column))

    def header_errors(self, sheet: str) -> bool:
        return any(e.field == sheet and e.row == 1 for e in self.items)

    def raise_if_any(self) -> None:
        if self.items:
            order = {"settings": 0, "survey": 1, "choices": 2}
            self.items.sort(key=lambda e: (order.get(e.field or "", 3), e.row or 0))
            raise InvalidInput("The XLSForm cannot be imported.", self.items)


def cell_text(value: Any, data_type: str | None, sheet: str, row: int, column: str, errors: Errors) -> str:
    """A cell as the trimmed text the importer reads: numbers without a needless '.0', dates as ISO, booleans
    as yes/no; formulas refused (never evaluated) and over-long cells reported."""
    if value is None:
        return ""
    if data_type == "f":
        errors.add(sheet, row, column, "holds a formula; type the value instead")
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if len(text) > MAX_CELL:
        errors.add(sheet, row, column, f"is longer than {MAX_CELL} characters")
        return ""
    return text.strip()


def _present_rows(ws: Any) -> Iterator[tuple[int, dict[int, tuple[Any, str | None]]]]:
    """(spreadsheet row, {column number: (value, data type)}) for each row the sheet's XML really holds.

    openpyxl's `iter_rows` yields every row up to the last one present, padding gaps with empty rows:
    LibreOffice writes an empty row 1,048,576, so that alone costs a million iterations per sheet. Its
    read-only worksheets parse with `WorkSheetParser`, which yields only the rows present; it is used
    directly here (an internal class, so `iter_rows` remains the fallback for any other worksheet).
    """
    try:
        from openpyxl.worksheet._reader import WorkSheetParser

        book = ws.parent
        source = ws._get_source()
        parser = WorkSheetParser(source, ws._shared_strings, data_only=book.data_only, epoch=book.epoch,
                                 date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
    except (ImportError, AttributeError, TypeError):
        for number, cells in enumerate(ws.iter_rows(), start=1):
            if cells:
                yield number, {i: (c.value, getattr(c, "data_type", None)) for i, c in enumerate(cells, start=1)
                               if c.value is not None}
        return
    with source:
        for number, cells in parser.parse():
            if cells:
                yield number, {c["column"]: (c["value"], c["data_type"]) for c in cells if c["value"] is not None}


class Deadline:
    """The bound on one import's reading time, checked as rows are read: a workbook that is slow to read is
    refused rather than left to hold a worker (a real XLSForm reads in a fraction of a second)."""

    def __init__(self, seconds: float = MAX_IMPORT_SECONDS) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def check(self, what: str) -> None:
        if time.monotonic() > self.ends:
            raise BadFile(
                f"Reading {what} took more than {self.seconds:g} seconds, so the import was stopped. An XLSForm "
                "reads in well under a second: look for a sheet with many thousands of formatted but empty rows "
                "or columns, delete them and upload the form again."
            )


def read_sheet(ws: Any, name: str, max_rows: int, errors: Errors, deadline: Deadline | None = None) -> Sheet:
    """The sheet's non-empty rows as text cells aligned with its header row (spreadsheet row numbers kept).

    Reading takes time in proportion to the cells the file really holds: the sheet's declared size is
    ignored (LibreOffice declares 1,048,576 rows and writes an empty last row, which openpyxl would
    otherwise pad with a million rows as wide as the declared columns), and empty rows cost one test.
    """
    deadline = deadline or Deadline()
    rows_iter = _present_rows(ws)
    first = next(rows_iter, None)
    if first is not None and first[0] != 1:  # no header row: the first row present is data
        rows_iter = itertools.chain([first], rows_iter)
        first = None
    header_cells = first[1] if first else {}
    width = max(header_cells, default=0)
    headers = [str(header_cells[i][0]).strip() if i in header_cells else "" for i in range(1, width + 1)]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    rows: list[tuple[int, list[str]]] = []
    beyond_header: list[int] = []
    for count, (number, cells) in enumerate(rows_iter, start=1):
        if count % 1024 == 0:
            deadline.check(f"the {name} sheet")
        texts = [""] * width
        for column, (value, data_type) in cells.items():
            if column <= width:
                texts[column - 1] = cell_text(value, data_type, name, number, headers[column - 1] or f"column {column}",
                                              errors)
            elif str(value).strip() and number not in beyond_header:
                beyond_header.append(number)
        if not any(texts):
            continue
        if len(rows) >= max_rows:
            raise BadFile(f"The {name} sheet has more than {max_rows:,} rows.")
        rows.append((number, texts))
    return Sheet(name, headers, rows, beyond_header)


def open_workbook(data: bytes, filename: str | None) -> Any:
    """The workbook, opened only after `prg.uploads.check_xlsx_safety` (zip bombs, unsafe paths, embedded
    archives, DTD/entity declarations) has passed; legacy .xls and non-workbooks are refused by content."""
    import openpyxl

    name = shown_name(filename or "XLSForm.xlsx")
    if not data:
        raise BadFile(f"{name} is empty")
    if len(data) > MAX_BYTES:
        raise FileTooLarge(f"{name} is {len(data):,} bytes; an XLSForm may be at most {MAX_BYTES:,}")
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise BadFile(f"{name} is an old Excel (.xls) workbook: save it as .xlsx (Excel Workbook) and upload that")
    if not is_xlsx(data):
        raise BadFile(f"{name} is not an Excel workbook (.xlsx); an XLSForm must be one")
    check_xlsx_safety(data, name, max_bytes=_MAX_UNZIPPED)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it ignores
            # data_only=False: a formula shows as a formula and is refused rather than trusted.
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise BadFile(f"{name} is not a readable XLSX workbook ({type(exc).__name__})") from None


@dataclass
class Workbook:
    """The sheets an XLSForm is made of, read (`choices` and `settings` may be absent), and the errors found
    in their cells so far."""

    survey: Sheet
    choices: Sheet | None
    settings: Sheet | None
    errors: Errors
    other_sheets: list[str] = field(default_factory=list)  # sheets an XLSForm does not have, as named


def read_workbook(data: bytes, filename: str | None, deadline: Deadline | None = None) -> Workbook:
    """Open the bytes safely and read the three sheets (names compared without case or surrounding spaces);
    InvalidInput when there is no survey sheet, BadFile for unsafe or unreadable files."""
    deadline = deadline or Deadline()
    book = open_workbook(data, filename)
    errors = Errors()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it ignores
            sheets = {ws.title.strip().lower(): ws for ws in book.worksheets}
            if "survey" not in sheets:
                raise InvalidInput(
                    "The XLSForm cannot be imported.",
                    [ErrorDetail("The workbook has no 'survey' sheet (sheets: " + ", ".join(sheets) + ").",
                                 field="survey")],
                )
            survey = read_sheet(sheets["survey"], "survey", MAX_SURVEY_ROWS, errors, deadline)
            choices = read_sheet(sheets["choices"], "choices", MAX_CHOICE_ROWS, errors, deadline) \
                if "choices" in sheets else None
            settings = read_sheet(sheets["settings"], "settings", 5, errors, deadline) if "settings" in sheets else None
            others = [ws.title for ws in book.worksheets if ws.title.strip().lower() not in ("survey", "choices", "settings")]
    finally:
        book.close()
    return Workbook(survey, choices, settings, errors, others)
