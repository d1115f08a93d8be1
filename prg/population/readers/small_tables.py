"""Small uploaded tables (ethnicity reports, custom dimensions) as rows of text cells, and the cell
readings their readers share: header keys, columns found by header, counts written as people write them.
Safety checks, decoding and spreadsheet reading are `prg.uploads`'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from prg.errors import ErrorDetail, FileTooLarge, InvalidInput
from prg.uploads import column_letter, read_rows

#: Largest ethnicity report or custom dimension upload (they hold a few dozen rows).
MAX_REPORT_BYTES = 20 * 1024 * 1024
MAX_TABLE_ROWS = 100_000

#: Headers that name a column of counts.
COUNT_HEADERS = frozenset({
    "count", "counts", "patients", "number", "number of patients", "no of patients", "num patients",
    "patient count", "n", "total", "frequency", "registered patients", "list size", "members", "people",
    "number of people", "value",
})  # fmt: skip


@dataclass
class SmallTable:
    """Rows of a small uploaded table: (1-based spreadsheet row, cells as text); blank rows dropped."""

    rows: list[tuple[int, list[str]]]
    errors: list[ErrorDetail] = field(default_factory=list)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date,)):
        return value.isoformat()
    return str(value).strip()


def read_small_table(data: bytes, filename: str) -> SmallTable:
    """A small CSV or XLSX upload (a .zip holding one CSV is accepted too) as rows of text cells; problems
    with single cells (too long, a formula) come back as errors naming row and column letter. A file with
    no rows at all is refused (InvalidInput)."""
    found = read_rows(data, filename, max_rows=MAX_TABLE_ROWS, max_bytes=MAX_REPORT_BYTES,
                      allow_zipped_csv=True, too_many_rows=FileTooLarge)
    errors = [ErrorDetail(message=p.message, row=p.row, column=column_letter(p.index)) for p in found.problems]
    rows = [(number, [_cell_text(v) for v in cells]) for number, cells in found.rows]
    if not rows:
        raise InvalidInput(f"{filename} has no rows", [ErrorDetail(message="the file is empty", row=1)])
    return SmallTable(rows=rows, errors=errors)


def header_key(text: str) -> str:
    """A header as compared: lower case, words only ('No. of Patients' -> 'no of patients')."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def parse_count(text: str) -> int:
    """A non-negative whole number ('1234', '1,234', '1234.0'); ValueError with a user-facing reason."""
    t = text.strip().replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", text.strip()) else text.strip()
    if not t:
        raise ValueError("the count is missing")
    if re.fullmatch(r"-\d+(\.0*)?", t):
        raise ValueError(f"the count {text.strip()!r} is negative")
    if not re.fullmatch(r"\d+(\.0*)?", t):
        raise ValueError(f"the count {text.strip()!r} is not a whole number")
    return int(t.split(".")[0])


def find_column(header: list[str], exact: frozenset[str], contains: tuple[str, ...] = ()) -> int | None:
    """The first column whose header key is one of `exact`, else the first that contains one of the words
    in `contains`; None if none does."""
    keys = [header_key(h) for h in header]
    for i, k in enumerate(keys):
        if k in exact:
            return i
    for i, k in enumerate(keys):
        if k and any(word in k for word in contains):
            return i
    return None


def cell(cells: list[str], i: int | None) -> str:
    """Column `i` of a row, or '' when the row is shorter or there is no such column."""
    return cells[i] if i is not None and i < len(cells) else ""
