"""The one formula-safe writer every export uses.

A spreadsheet runs any cell that starts with `=`, `+`, `-` or `@` as a formula (and some read a leading
tab or carriage return the same way), so text that came from a patient or a member of staff must never
reach a cell as anything but text:

- **XLSX** (xlsxwriter): `SafeSheet.text()` always calls `write_string`, so the cell's type is a string
  whatever it starts with (xlsxwriter's generic `write()` would turn "=..." into a formula). Control
  characters that XML cannot hold are dropped and text is cut at Excel's 32,767-character cell limit.
  Numbers go through `number()`, formulas only through `formula()` with text we built ourselves.
- **CSV**: `csv_cell()` prefixes a text cell that starts with a formula trigger with an apostrophe (the
  OWASP advice), and `write_csv()` applies it to every text cell, headers included.

File names for downloads come from `download_name()`: practice code, content and date, in ASCII.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency

__all__ = ["FORMULA_TRIGGERS", "SafeSheet", "clean_cell_text", "content_disposition", "csv_cell", "download_name",
           "gb_date", "gb_money", "write_csv"]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_CELL_LIMIT = 32_767
# Characters XML 1.0 cannot carry (xlsxwriter would write them and Excel would call the file corrupt).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean_cell_text(value: object) -> str:
    """Text fit for a cell: a string, without XML-illegal characters, at most Excel's cell limit."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if _XML_ILLEGAL.search(text):
        text = _XML_ILLEGAL.sub("", text)
    return text[:EXCEL_CELL_LIMIT]


def csv_cell(value: object) -> object:
    """A CSV cell: numbers as they are, text neutralised so no spreadsheet runs it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def write_csv(rows: Iterable[Sequence[object]]) -> str:
    """CSV text (RFC 4180 line endings) with every cell passed through `csv_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


class SafeSheet:
    """A thin wrapper over an xlsxwriter worksheet that makes the safe call the easy one."""

    def __init__(self, worksheet: Any) -> None:
        self.ws = worksheet

    def text(self, row: int, col: int, value: object, fmt: Any = None) -> None:
        """Text from anyone: always a string cell, never a formula."""
        self.ws.write_string(row, col, clean_cell_text(value), fmt)

    def number(self, row: int, col: int, value: float | int | None, fmt: Any = None) -> None:
        if value is None:
            self.ws.write_blank(row, col, None, fmt)
        else:
            self.ws.write_number(row, col, value, fmt)

    def value(self, row: int, col: int, value: object, fmt: Any = None) -> None:
        """A number as a number, anything else (including '*' for a suppressed count) as text."""
        if isinstance(value, bool):
            self.ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, (int, float)):
            self.ws.write_number(row, col, value, fmt)
        elif value is None:
            self.ws.write_blank(row, col, None, fmt)
        elif isinstance(value, datetime):
            self.ws.write_datetime(row, col, value.replace(tzinfo=None), fmt)
        elif isinstance(value, date):
            self.ws.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt)
        else:
            self.text(row, col, value, fmt)

    def formula(self, row: int, col: int, formula: str, fmt: Any = None, cached: object = None) -> None:
        """A formula we wrote ourselves (never one built from user text), with its cached value."""
        self.ws.write_formula(row, col, formula, fmt, 0 if cached is None else cached)

    def header(self, row: int, values: Sequence[object], fmt: Any = None, col: int = 0) -> None:
        for offset, value in enumerate(values):
            self.text(row, col + offset, value, fmt)

    def row(self, row: int, values: Sequence[object], fmt: Any = None, col: int = 0) -> None:
        for offset, value in enumerate(values):
            self.value(row, col + offset, value, fmt)


def excel_quote(text: str) -> str:
    """A string literal for a formula or data-validation list that we build: double the quotes."""
    return '"' + text.replace('"', '""') + '"'


def gb_date(day: date | None) -> str:
    """A date as people in England write it: 31 March 2013."""
    return format_date(day, format="d MMMM y", locale="en_GB") if day else ""


def gb_money(amount: float) -> str:
    return format_currency(amount, "GBP", locale="en_GB")


_NAME_PART = re.compile(r"[^A-Za-z0-9]+")


def download_name(ods_code: str, content: str, extension: str, on: date | None = None) -> str:
    """`Y90001-prg-collation-2026-11-24.xlsx`: practice code, content and date, safe in any header."""
    parts = [_NAME_PART.sub("-", p).strip("-") for p in (ods_code, content)]
    return f"{'-'.join(p for p in parts if p)}-{(on or date.today()).isoformat()}.{extension}"


def content_disposition(filename: str) -> str:
    return f'attachment; filename="{filename}"'
