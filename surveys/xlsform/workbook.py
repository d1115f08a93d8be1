"""Reading an XLSForm workbook safely: the bytes checked before any parser sees them, sheets read as text
cells with formulas refused, and every problem collected with its sheet, row and column.

`open_workbook` refuses what is not a safe .xlsx (size, legacy .xls, not a workbook, zip bombs, unsafe
paths, DTDs and entities: `prg.uploads.check_xlsx_safety`); `read_sheet` turns a worksheet into a `Sheet`
of trimmed cell texts aligned with its header row. `surveys.xlsform.importer` builds the definition from
those sheets.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from prg.errors import BadFile, ErrorDetail, FileTooLarge, InvalidInput
from prg.uploads import check_xlsx_safety, is_xlsx, shown_name

__all__ = ["MAX_BYTES", "MAX_CELL", "MAX_CHOICE_ROWS", "MAX_SURVEY_ROWS", "Errors", "Sheet", "cell_text",
           "open_workbook", "read_sheet"]

MAX_BYTES = 5_000_000
_MAX_UNZIPPED = 50_000_000  # what a real XLSForm expands to is a few hundred KB
MAX_SURVEY_ROWS = 2_000
MAX_CHOICE_ROWS = 20_000
MAX_CELL = 4_000


@dataclass
class Sheet:
    name: str
    headers: list[str]  # as written, stripped
    rows: list[tuple[int, list[str]]]  # (spreadsheet row, cell texts aligned with headers)


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


def cell_text(cell: Any, sheet: str, row: int, column: str, errors: Errors) -> str:
    value = cell.value
    if value is None:
        return ""
    if getattr(cell, "data_type", None) == "f":
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


def read_sheet(ws: Any, name: str, max_rows: int, errors: Errors) -> Sheet:
    rows_iter = ws.iter_rows()
    header_cells = next(rows_iter, ())
    headers = [str(c.value).strip() if c.value is not None else "" for c in header_cells]
    while headers and not headers[-1]:
        headers.pop()
    rows: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(rows_iter, start=2):
        texts = []
        for index, header in enumerate(headers):
            cell = cells[index] if index < len(cells) else None
            texts.append(cell_text(cell, name, number, header or f"column {index + 1}", errors) if cell else "")
        if not any(texts):
            continue
        if len(rows) >= max_rows:
            raise BadFile(f"The {name} sheet has more than {max_rows} rows.")
        rows.append((number, texts))
    return Sheet(name, headers, rows)


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
