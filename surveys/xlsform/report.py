"""The import report: what an XLSForm import did not carry over, or carried over differently, said once.

Every cell of a workbook is either read into the definition, refused (an error naming sheet, row and column),
or listed here, so nothing is dropped in silence. Entries are grouped: one entry per thing and reason, with
every row it appears on. The report is returned with the created draft and stored with it, so the staff
can read it before publishing.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = ["MAX_ROWS_LISTED", "ImportReport", "ReportCollector", "ReportEntry"]

MAX_ROWS_LISTED = 50  # rows named per entry; `row_count` says how many there were

ReportKind = Literal["ignored", "left_out", "changed"]


class ReportEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One thing the import did not keep as written.

    `kind`: ``ignored`` (a cell, column or setting the product does not use), ``left_out`` (whole rows not
    imported: disabled rows, metadata, comment rows) or ``changed`` (kept with a difference the author
    should know of). `message` says what and why, in the author's words; `sheet`, `column` and `rows`
    (spreadsheet rows, header = 1; at most 50, `row_count` being all of them) say where.
    """

    kind: ReportKind
    message: Annotated[str, msgspec.Meta(max_length=2000)]
    sheet: Literal["survey", "choices", "settings"] | None = None
    column: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    rows: Annotated[list[int], msgspec.Meta(max_length=MAX_ROWS_LISTED)] = []
    row_count: int = 0

    def __str__(self) -> str:
        where = ""
        if self.rows:
            shown = ", ".join(map(str, self.rows))
            more = f" and {self.row_count - len(self.rows)} more" if self.row_count > len(self.rows) else ""
            where = f" ({self.sheet} sheet, row{'s' if self.row_count > 1 else ''} {shown}{more})"
        elif self.sheet:
            where = f" ({self.sheet} sheet)"
        return f"{self.kind.replace('_', ' ')}: {self.message}{where}"


ImportReport = list[ReportEntry]


class ReportCollector:
    """Entries in the order first met; the same kind, message, sheet and column on several rows is one."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str | None, str | None], list[int]] = {}

    def add(self, kind: ReportKind, message: str, sheet: str | None = None, row: int | None = None,
            column: str | None = None) -> None:
        rows = self._entries.setdefault((kind, message, sheet, column), [])
        if row is not None and row not in rows:
            rows.append(row)

    def entries(self) -> ImportReport:
        """The entries in the workbook's order: settings, then the survey and choices sheets by first row, then
        what concerns the whole form."""
        sheets = {"settings": 0, "survey": 1, "choices": 2, None: 3}
        found = [
            ReportEntry(kind=kind, message=message, sheet=sheet, column=column,  # type: ignore[arg-type]
                        rows=sorted(rows)[:MAX_ROWS_LISTED], row_count=len(rows))
            for (kind, message, sheet, column), rows in self._entries.items()
        ]
        return sorted(found, key=lambda e: (sheets[e.sheet], e.rows[0] if e.rows else 0))
