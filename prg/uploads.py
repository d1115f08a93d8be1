"""Reading uploaded files (CSV, XLSX, a zip holding one CSV) safely, before any feature looks at their content.

The one implementation every importer uses: the PRG register import (`read_table`), the population readers
(`read_rows`, and `csv_bytes` for the national NHS Digital files, which they scan as bytes). Every upload is
size-checked by the server before it is read. Then:
- Archives are judged from their central directory before anything is decompressed: no entry may escape its
  folder (absolute names, `..`, drive letters), be encrypted, expand more than `MAX_RATIO` times (checked for
  entries over `RATIO_CHECK_MIN_BYTES`: a few KB of repetitive XML legitimately compress more) or add up to
  more than the caller's byte limit (zip bombs); decompression then stops at the declared size.
- XLSX is a zip of XML parts: it is opened only if no part declares a DOCTYPE or entity anywhere (XML bombs,
  external entities; openpyxl also parses through defusedxml) and no part is UTF-16 (where a byte search
  would miss them), it embeds no other archive, and formulas are refused, not evaluated or trusted.
- A zip holding exactly one CSV is accepted where the caller allows it (NHS Digital publishes zips);
  nested archives, legacy .xls workbooks and gzip files are refused with a message saying what to upload.
- CSV is decoded as UTF-8 (with or without BOM), else Windows-1252 as Excel and older clinical systems
  write it, else Latin-1; NUL bytes are refused; the delimiter (comma, semicolon or tab) is told by the
  header line.
- Cells longer than `MAX_CELL` characters and tables longer than the caller's row limit are refused.
Rows come back as plain lists with their spreadsheet row numbers (the first row = 1; blank rows are skipped
but keep their numbers), so every error can name the row a person sees in Excel.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath

from prg.errors import BadFile, DomainError, ErrorDetail, FileTooLarge

#: The media types of the Office files the product reads and sends (downloads and their OpenAPI entries).
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

#: A zip wrapping a CSV may hold the CSV plus a little packaging noise (__MACOSX, .DS_Store), no more.
MAX_ZIP_ENTRIES = 4
#: Real workbooks have tens of parts.
MAX_XLSX_PARTS = 1_000
#: Uncompressed / compressed size above which an entry is treated as a bomb (for entries over the minimum).
MAX_RATIO = 100
RATIO_CHECK_MIN_BYTES = 1024 * 1024
#: Default ceiling on what an archive may expand to (a national NHS Digital CSV is about 60 MB).
MAX_UNZIPPED = 200 * 1024 * 1024
MAX_CELL = 1_000
#: Text starting with one of these may run as a formula when a spreadsheet opens it.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and .doc)
_GZIP_MAGIC = b"\x1f\x8b"
_NESTED_ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".7z", ".rar", ".tar", ".bz2", ".xz", ".xlsx", ".xls")
_XML_DECLS = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_READ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError)


def shown_name(filename: str | None) -> str:
    """The file's own name, as safe to quote in a message (no folders, at most 100 characters)."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name or "the file"
    return name[:100]


def column_letter(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA', as a spreadsheet names columns."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# ---------------------------------------------------------------------------------------------------------
# Archives
# ---------------------------------------------------------------------------------------------------------


def _unsafe_entry_name(name: str) -> bool:
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or re.match(r"^[A-Za-z]:", normalised):
        return True
    return any(part == ".." for part in normalised.split("/"))


def _is_packaging_noise(name: str) -> bool:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return name.endswith("/") or name.startswith("__MACOSX/") or base.startswith("._") or base == ".DS_Store"


def open_zip(data: bytes, filename: str, *, max_entries: int, max_bytes: int) -> zipfile.ZipFile:
    """Open a zip only if its central directory shows nothing hostile (see the module docstring)."""
    name = shown_name(filename)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BadFile(f"{name} looks like a zip archive but cannot be opened ({exc})") from None
    entries = archive.infolist()
    if len(entries) > max_entries:
        archive.close()
        raise BadFile(f"{name} holds {len(entries)} entries; that is more than such a file ever has")
    total = 0
    for entry in entries:
        if _unsafe_entry_name(entry.filename):
            raise BadFile(f"{name} contains an entry with an unsafe path: {entry.filename[:100]!r}")
        if entry.flag_bits & 0x1:
            raise BadFile(f"{name} contains an encrypted entry ({entry.filename[:100]}): upload it unencrypted")
        total += entry.file_size
        if entry.file_size > RATIO_CHECK_MIN_BYTES:
            ratio = entry.file_size / max(entry.compress_size, 1)
            if ratio > MAX_RATIO:
                raise BadFile(f"{name} looks like a zip bomb: {entry.filename[:100]} expands {ratio:.0f} times "
                              f"(the limit is {MAX_RATIO})")
    if total > max_bytes:
        raise FileTooLarge(f"{name} expands to {total:,} bytes, more than the {max_bytes:,} bytes accepted")
    return archive


def _read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, filename: str) -> bytes:
    """One entry, read in chunks and never past its declared size (already checked against the limit)."""
    chunks, size = [], 0
    try:
        with archive.open(entry) as handle:
            while chunk := handle.read(1024 * 1024):
                size += len(chunk)
                if size > entry.file_size:
                    raise BadFile(f"{shown_name(filename)}: {entry.filename[:100]} is larger than its archive "
                                  "entry declares")
                chunks.append(chunk)
    except _READ_ERRORS as exc:
        raise BadFile(f"{shown_name(filename)}: cannot decompress {entry.filename[:100]} ({exc})") from None
    return b"".join(chunks)


def safe_unzip_single(data: bytes, max_bytes: int = MAX_UNZIPPED, *, filename: str = "upload.zip") -> tuple[str, bytes]:
    """(name, content) of the single CSV inside a zip, refusing anything hostile or surprising.

    Refused with BadFile: more than MAX_ZIP_ENTRIES entries, names that escape the folder, encrypted entries,
    nested archives, an entry that expands more than MAX_RATIO times, anything but exactly one .csv besides
    packaging noise. Over `max_bytes` uncompressed: FileTooLarge.
    """
    name = shown_name(filename)
    with open_zip(data, filename, max_entries=MAX_ZIP_ENTRIES, max_bytes=max_bytes) as archive:
        files = [e for e in archive.infolist() if not _is_packaging_noise(e.filename)]
        for entry in files:
            if entry.filename.lower().endswith(_NESTED_ARCHIVE_SUFFIXES):
                raise BadFile(f"{name} contains another archive ({entry.filename[:100]}); nested archives are refused")
        csvs = [e for e in files if e.filename.lower().endswith(".csv")]
        if len(csvs) != 1:
            names = ", ".join(e.filename[:100] for e in files) or "nothing"
            raise BadFile(f"{name} must hold exactly one .csv file; it holds {names}")
        content = _read_entry(archive, csvs[0], filename)
    if content.startswith((_ZIP_MAGIC, _GZIP_MAGIC)):
        raise BadFile(f"{name}: {csvs[0].filename[:100]} is itself an archive; nested archives are refused")
    return csvs[0].filename, content


def is_xlsx(data: bytes) -> bool:
    """A zip that is an Office Open XML workbook (told by its parts, not its name)."""
    if not data.startswith(_ZIP_MAGIC):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names or "xl/workbook.xml" in names


def check_xlsx_safety(data: bytes, filename: str, max_bytes: int = MAX_UNZIPPED) -> None:
    """Refuse an XLSX that is a zip bomb, escapes its folder, embeds an archive, or declares a DTD or entities
    in any XML part (scanned whole, across chunk boundaries), before any XML parser sees it."""
    name = shown_name(filename)
    with open_zip(data, filename, max_entries=MAX_XLSX_PARTS, max_bytes=max_bytes) as archive:
        for entry in archive.infolist():
            if entry.filename.lower().endswith(_NESTED_ARCHIVE_SUFFIXES):
                raise BadFile(f"{name} contains an embedded archive ({entry.filename[:100]})")
            if entry.filename.lower().endswith((".xml", ".rels", ".vml")):
                _scan_xml_part(archive, entry, name)


def _scan_xml_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str) -> None:
    tail, size, first = b"", 0, True
    try:
        with archive.open(entry) as handle:
            while chunk := handle.read(1024 * 1024):
                if first:
                    first = False
                    if chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in chunk[:4]:
                        raise BadFile(f"{name}: {entry.filename[:100]} is not UTF-8 XML; re-save the workbook")
                size += len(chunk)
                if size > entry.file_size:
                    raise BadFile(f"{name}: {entry.filename[:100]} is larger than its archive entry declares")
                if _XML_DECLS.search(tail + chunk):
                    raise BadFile(f"{name}: {entry.filename[:100]} declares a DTD or XML entities (an XML bomb or "
                                  "external-entity attack); such workbooks are refused")
                tail = chunk[-16:]
    except _READ_ERRORS as exc:
        raise BadFile(f"{name}: cannot decompress {entry.filename[:100]} ({exc})") from None


# ---------------------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------------------


def refuse_non_text(data: bytes, filename: str) -> None:
    """BadFile, saying what to upload instead, for binaries that are not CSV text."""
    name = shown_name(filename)
    if data.startswith(_OLE_MAGIC):
        raise BadFile(f"{name} is an old Excel (.xls) workbook: save it as .xlsx or CSV and upload that")
    if data.startswith(_GZIP_MAGIC):
        raise BadFile(f"{name} is gzip-compressed: upload the CSV itself or a .zip")
    if data.startswith(_EMPTY_ZIP_MAGIC):
        raise BadFile(f"{name} is an empty zip archive")
    if b"\x00" in data:
        raise BadFile(f"{name} holds NUL bytes: it is not a text (CSV) file")


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM is dropped), else Windows-1252 as Excel on Windows writes CSV, else Latin-1 (never fails)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def csv_bytes(data: bytes, filename: str, *, max_bytes: int = MAX_UNZIPPED, allow_zip: bool = True) -> bytes:
    """The bytes of an uploaded CSV, plain or (if allowed) zipped; workbooks and other binaries are refused."""
    name = shown_name(filename)
    if not data:
        raise BadFile(f"{name} is empty")
    if data.startswith(_OLE_MAGIC) or data.startswith(_GZIP_MAGIC) or data.startswith(_EMPTY_ZIP_MAGIC):
        refuse_non_text(data, filename)
    if is_xlsx(data):
        raise BadFile(f"{name} is a spreadsheet (.xlsx); upload the CSV file")
    if data.startswith(_ZIP_MAGIC):
        if not allow_zip:
            raise BadFile(f"{name} is a zip archive, not a CSV or .xlsx file")
        _, data = safe_unzip_single(data, max_bytes, filename=filename)
    elif len(data) > max_bytes:
        raise FileTooLarge(f"{name} is {len(data):,} bytes; the limit is {max_bytes:,}")
    refuse_non_text(data, filename)
    return data


def sniff_delimiter(header_line: str) -> str:
    """Comma, semicolon or tab: whichever the header line holds most of (comma on a tie)."""
    return max((",", ";", "\t"), key=header_line.count) if header_line else ","


# ---------------------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellProblem:
    """A cell that cannot be taken as it is; `index` is its 0-based column."""

    row: int
    index: int
    message: str


@dataclass
class Rows:
    """Non-blank rows as (spreadsheet row number, cells); trailing empty cells are dropped. CSV cells are
    text, XLSX cells keep their types (numbers, dates). Strings are stripped."""

    rows: list[tuple[int, list[object]]]
    problems: list[CellProblem] = field(default_factory=list)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _collect(raw_rows, filename: str, max_rows: int, too_many_rows: type[DomainError]) -> Rows:
    """Rows from an iterator of raw rows; at most `max_rows` after the first non-blank one (the header)."""
    out = Rows(rows=[])
    for number, raw in enumerate(raw_rows, start=1):
        cells = list(raw)
        while cells and _blank(cells[-1]):
            cells.pop()
        if not cells:
            continue
        if len(out.rows) > max_rows:
            raise too_many_rows(f"{shown_name(filename)} has more than {max_rows:,} rows")
        for index, value in enumerate(cells):
            if isinstance(value, str):
                if len(value) > MAX_CELL:
                    out.problems.append(CellProblem(number, index, f"cell is {len(value):,} characters long; "
                                                                   f"the limit is {MAX_CELL:,}"))
                    value = value[:MAX_CELL]
                cells[index] = value.strip()
            elif not (value is None or isinstance(value, (datetime, date, int, float))):
                cells[index] = str(value)
        out.rows.append((number, cells))
    return out


def _csv_rows(data: bytes, filename: str, max_rows: int, too_many_rows: type[DomainError]) -> Rows:
    text = decode_text(data)
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    try:
        return _collect(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), filename, max_rows,
                        too_many_rows)
    except csv.Error as exc:
        raise BadFile(f"{shown_name(filename)} is not a readable CSV file ({exc})") from None


def _xlsx_rows(data: bytes, filename: str, max_rows: int, max_bytes: int, too_many_rows: type[DomainError]) -> Rows:
    """The first worksheet. Formulas are read as their text and refused, never trusted."""
    import openpyxl  # deferred: only XLSX uploads pay for it

    name = shown_name(filename)
    check_xlsx_safety(data, filename, max_bytes)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if "xl/workbook.xml" not in archive.namelist():
            raise BadFile(f"{name} is a zip but not an Excel workbook (.xlsx)")
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they say nothing about the data.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            try:
                if not book.worksheets:
                    raise BadFile(f"{name} has no worksheet")
                rows = _collect(book.worksheets[0].iter_rows(values_only=True), filename, max_rows, too_many_rows)
            finally:
                book.close()
    except DomainError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise BadFile(f"{name} is not a readable XLSX workbook ({type(exc).__name__})") from None
    for number, cells in rows.rows:
        for index, value in enumerate(cells):
            if isinstance(value, str) and value.startswith("="):
                rows.problems.append(CellProblem(number, index, "holds a formula; type the value instead"))
    return rows


def read_rows(data: bytes, filename: str, *, max_rows: int, max_bytes: int = MAX_UNZIPPED,
              allow_zipped_csv: bool = False, too_many_rows: type[DomainError] = BadFile) -> Rows:
    """A CSV or XLSX upload (with `allow_zipped_csv`, also a zip of one CSV) as numbered rows, the kind told
    by content. Hostile or unreadable files raise BadFile, oversized ones FileTooLarge, more than `max_rows`
    rows after the first `too_many_rows`; problems with single cells are returned for the caller to report
    (they name row and column, and the caller knows what the columns are called)."""
    name = shown_name(filename)
    if not data:
        raise BadFile(f"{name} is empty")
    if len(data) > max_bytes:
        raise FileTooLarge(f"{name} is {len(data):,} bytes; the limit is {max_bytes:,}")
    if is_xlsx(data):
        return _xlsx_rows(data, filename, max_rows, max_bytes, too_many_rows)
    if data.startswith(_ZIP_MAGIC) and not allow_zipped_csv:
        raise BadFile(f"{name} is a zip archive but not a valid .xlsx workbook")
    if not data.startswith(_ZIP_MAGIC) and filename.lower().endswith((".xlsx", ".xlsm")):
        refuse_non_text(data, filename)
        raise BadFile(f"{name} is named as a spreadsheet but is not a valid .xlsx file")
    return _csv_rows(csv_bytes(data, filename, max_bytes=max_bytes, allow_zip=allow_zipped_csv), filename,
                     max_rows, too_many_rows)


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[object]]]  # (spreadsheet row number, one cell per header)


def _headers(number: int, raw: list[object]) -> list[str]:
    headers = [str(h).strip() if h is not None else "" for h in raw]
    seen: set[str] = set()
    errors = []
    for index, header in enumerate(headers):
        if not header:
            errors.append(ErrorDetail(f"column {column_letter(index)} has no header", row=number))
        elif header.lower() in seen:
            errors.append(ErrorDetail("appears twice in the header", row=number, column=header))
        seen.add(header.lower())
    if errors:
        raise BadFile("The header row is not usable.", errors)
    return headers


def read_table(data: bytes, filename: str, max_rows: int) -> Table:
    """A CSV or XLSX upload as a header and rows of one cell per header; the kind is told by content, not
    name. Every unusable cell or row is reported together (BadFile), naming its row and column."""
    found = read_rows(data, filename, max_rows=max_rows)
    if not found.rows:
        raise BadFile("The file has no header row.")
    header_row, header_cells = found.rows[0]
    headers = _headers(header_row, header_cells)
    errors = [ErrorDetail(p.message, row=p.row, column=headers[p.index] if p.index < len(headers) else column_letter(p.index))
              for p in found.problems]
    rows = []
    for number, cells in found.rows[1:]:
        if len(cells) > len(headers):
            errors.append(ErrorDetail(f"has {len(cells)} values but the header has {len(headers)}", row=number))
            continue
        rows.append((number, cells + [""] * (len(headers) - len(cells))))
    if errors:
        raise BadFile("Some cells cannot be imported.", sorted(errors, key=lambda e: (e.row or 0)))
    return Table(headers, rows)
