"""Reading uploaded tables (CSV or XLSX) safely, before any feature looks at their content.

Every upload is size-checked by the server before it is read. Then:
- XLSX is a zip: it is opened only if it has a sane number of parts, no part expands more than
  `MAX_RATIO` times or past `MAX_UNZIPPED` bytes in total (zip bombs), no part declares a DOCTYPE or
  entity (XML bombs; openpyxl also parses through defusedxml), and formulas are refused, not evaluated.
- CSV is decoded as UTF-8 (with or without BOM), else Windows-1252 as older clinical systems export;
  NUL bytes and ragged rows are refused.
- Cells longer than `MAX_CELL` characters and tables longer than the caller's row limit are refused.
Rows come back as plain lists with their spreadsheet row numbers (header = row 1).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from prg.errors import BadFile, ErrorDetail

MAX_PARTS = 500
MAX_RATIO = 100
MAX_UNZIPPED = 200_000_000
MAX_CELL = 1_000
_PROLOG_SCAN = 65_536


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[object]]]  # (spreadsheet row number, cells)


def check_zip(data: bytes, what: str = "file") -> zipfile.ZipFile:
    """Open a zip only if it cannot expand into a bomb or write outside its folder."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BadFile(f"The {what} is not a valid zip/XLSX file.") from exc
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        raise BadFile(f"The {what} has too many parts ({len(parts)}).")
    total = 0
    for part in parts:
        name = part.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
            raise BadFile(f"The {what} contains an unsafe path: {name[:100]!r}.")
        total += part.file_size
        if part.compress_size and part.file_size / part.compress_size > MAX_RATIO and part.file_size > 1_000_000:
            raise BadFile(f"The {what} expands too much to be a real spreadsheet (zip bomb?).")
    if total > MAX_UNZIPPED:
        raise BadFile(f"The {what} expands to more than {MAX_UNZIPPED // 1_000_000} MB.")
    return archive


def _refuse_xml_entities(archive: zipfile.ZipFile) -> None:
    for part in archive.infolist():
        if part.filename.endswith((".xml", ".rels", ".vml")):
            with archive.open(part) as handle:
                head = handle.read(_PROLOG_SCAN).upper()
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise BadFile("The spreadsheet declares XML entities, which real spreadsheets never do (XML bomb?).")


def _cell(value: object, row: int, column: str, errors: list[ErrorDetail]) -> object:
    if isinstance(value, str):
        if len(value) > MAX_CELL:
            errors.append(ErrorDetail(f"is longer than {MAX_CELL} characters", row=row, column=column))
            return ""
        return value.strip()
    if isinstance(value, (datetime, date, int, float)) or value is None:
        return value
    return str(value)


def _headers(raw: list[object]) -> list[str]:
    headers = [str(h).strip() if h is not None else "" for h in raw]
    while headers and not headers[-1]:
        headers.pop()
    seen: set[str] = set()
    errors = []
    for index, header in enumerate(headers, start=1):
        if not header:
            errors.append(ErrorDetail(f"column {index} has no header", row=1))
        elif header.lower() in seen:
            errors.append(ErrorDetail("appears twice in the header", row=1, column=header))
        seen.add(header.lower())
    if errors:
        raise BadFile("The header row is not usable.", errors)
    if not headers:
        raise BadFile("The file has no header row.")
    return headers


def read_xlsx(data: bytes, max_rows: int) -> Table:
    import openpyxl

    archive = check_zip(data, "spreadsheet")
    if "xl/workbook.xml" not in archive.namelist():
        raise BadFile("The file is a zip but not an Excel workbook (.xlsx).")
    _refuse_xml_entities(archive)
    try:
        # data_only=False so a formula shows as its text and can be refused rather than trusted.
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise BadFile("The spreadsheet could not be read.") from exc
    try:
        sheet = book.worksheets[0]
        rows_iter = sheet.iter_rows(values_only=True)
        headers = _headers(list(next(rows_iter, ())))
        errors: list[ErrorDetail] = []
        rows = []
        for number, raw in enumerate(rows_iter, start=2):
            if len(rows) >= max_rows:
                raise BadFile(f"The file has more than {max_rows} rows.")
            cells = list(raw[: len(headers)]) + [None] * (len(headers) - len(raw))
            if any(v is not None and str(v).strip() for v in raw[len(headers):]):
                errors.append(ErrorDetail("has values beyond the last headed column", row=number))
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
                continue
            for column, value in zip(headers, cells):
                if isinstance(value, str) and value.startswith("="):
                    errors.append(ErrorDetail("holds a formula; type the value instead", row=number, column=column))
            rows.append((number, [_cell(v, number, c, errors) for c, v in zip(headers, cells)]))
    finally:
        book.close()
    if errors:
        raise BadFile("Some cells cannot be imported.", errors)
    return Table(headers, rows)


def decode_text(data: bytes) -> str:
    if b"\x00" in data:
        raise BadFile("The file holds NUL bytes: it is not a text (CSV) file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_csv(data: bytes, max_rows: int) -> Table:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = _headers(list(next(reader, [])))
        errors: list[ErrorDetail] = []
        rows = []
        for raw in reader:
            number = reader.line_num
            if not any(v.strip() for v in raw):
                continue
            if len(rows) >= max_rows:
                raise BadFile(f"The file has more than {max_rows} rows.")
            if len(raw) > len(headers) and any(v.strip() for v in raw[len(headers):]):
                errors.append(ErrorDetail(f"has {len(raw)} values but the header has {len(headers)}", row=number))
                continue
            cells = raw[: len(headers)] + [""] * (len(headers) - len(raw))
            rows.append((number, [_cell(v, number, c, errors) for c, v in zip(headers, cells)]))
    except csv.Error as exc:
        raise BadFile(f"The CSV file is malformed near line {reader.line_num}.") from exc
    if errors:
        raise BadFile("Some rows cannot be imported.", errors)
    return Table(headers, rows)


def read_table(data: bytes, filename: str, max_rows: int) -> Table:
    """A CSV or XLSX upload as a header and numbered rows; the kind is told by content, not name."""
    if not data:
        raise BadFile("The file is empty.")
    if data[:4] == b"PK\x03\x04":
        return read_xlsx(data, max_rows)
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise BadFile("The file is named as a spreadsheet but is not a valid .xlsx file.")
    return read_csv(data, max_rows)
