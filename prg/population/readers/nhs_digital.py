"""NHS Digital's "Patients Registered at a GP Practice" files, read for one practice.

The 5-year file, the single-year-of-age files (one per sex) and the totals file, plain or zipped, of any
release; the kind is told by the header. A national file holds about 7,000 practices, so the practice's
rows are found by a byte prefilter (bytes.find of its code, then parsing only those lines), with a pandas
scan of the needed columns as the fallback.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

import pandas as pd

from prg.errors import BadFile, ErrorDetail, InvalidInput
from prg.population.dimensions import (
    FEMALE,
    FIVE_YEAR,
    MALE,
    NHS_SEX_VALUES,
    SEXES,
    TOP_CODED_KEY,
    AgeBands,
    regroup_five_year,
    regroup_single_year,
)
from prg.population.readers.small_tables import parse_count
from prg.uploads import MAX_UNZIPPED, csv_bytes, decode_text

__all__ = ["MAX_UNCOMPRESSED_BYTES", "NhsDigitalExtract", "NhsKind", "parse_extract_date", "read_nhs_digital"]

#: Largest CSV (plain, or once unzipped) accepted: a national single-year file is about 60 MB.
MAX_UNCOMPRESSED_BYTES = MAX_UNZIPPED
#: Above this many candidate lines the byte prefilter gives way to a plain pandas scan (it never happens
#: with a real practice code, which matches about 100 lines).
_MAX_PREFILTER_LINES = 5_000
#: A file holding this few practices, none of them the one asked for, has each named with its first row.
_NAMED_OTHER_PRACTICES = 5


NhsKind = Literal["five_year", "single_year", "totals"]


@dataclass(frozen=True)
class NhsDigitalExtract:
    """One practice's rows from one NHS Digital file.

    `kind` is 'five_year' (gp-reg-pat-prac-quin-age.csv, both sexes), 'single_year' (the -male / -female
    single-year-of-age files) or 'totals' (gp-reg-pat-prac-all.csv: only ALL ages). `sex` is the one sex a
    single-year file covers, None when the file covers both. `counts` maps (sex, age key) to patients, with
    sex 'female' or 'male' and the age key a FIVE_YEAR label ('0-4' ... '95+') for 5-year files, or a whole
    age (0..94) or '95+' for single-year files; ALL rows are left out (they are checked, then kept in
    `totals`, which maps 'female' / 'male' / 'all' to the list size the file states).
    """

    kind: NhsKind
    ods_code: str
    sex: str | None
    extract_date: date
    publication: str | None
    counts: dict[tuple[str, int | str], int]
    totals: dict[str, int]
    row_count: int
    source_filename: str

    def by_age(self, sex: str | None = None) -> dict[int | str, int]:
        """Patients per age key, for one sex or (None) both added together."""
        out: dict[int | str, int] = {}
        for (s, age), n in self.counts.items():
            if sex is None or s == sex:
                out[age] = out.get(age, 0) + n
        return out

    def by_band(self, bands: AgeBands, sex: str | None = None) -> dict[str, int]:
        """Patients per band; from a 5-year file this only works for bands cut on 5-year boundaries."""
        if self.kind == "totals":
            raise ValueError("a totals file has no ages: import the 5-year or single-year files for age bands")
        if self.kind == "five_year":
            return regroup_five_year({str(k): v for k, v in self.by_age(sex).items()}, bands)
        return regroup_single_year(self.by_age(sex), bands)


_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}  # fmt: skip


def parse_extract_date(text: str) -> date:
    """NHS Digital's EXTRACT_DATE ('01OCT2026', also '01-Oct-2026') or an ISO date ('2026-10-01')."""
    t = text.strip().upper()
    m = re.fullmatch(r"(\d{1,2})[-\s]?([A-Z]{3})[-\s]?(\d{4})", t)
    if m and m.group(2) in _MONTHS:
        return date(int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)))
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]*)?", t)
    if m:
        return date.fromisoformat(m.group(1))
    raise ValueError(f"not a date: {text!r} (expected e.g. 01OCT2026 or 2026-10-01)")


def _nhs_date(d: date) -> str:
    """A date written the way NHS Digital writes EXTRACT_DATE (01OCT2026), whatever the locale."""
    return f"{d.day:02d}{list(_MONTHS)[d.month - 1]}{d.year}"


# Canonical field -> accepted header names (first wins). Older releases said CCG_CODE / ONS_CCG_CODE where
# newer ones say SUB_ICB_LOCATION_CODE / ONS_SUB_ICB_LOCATION_CODE; we never need those columns, so both
# generations read the same. The totals file names the practice column CODE and its level TYPE.
_NHS_COLUMNS: dict[str, tuple[str, ...]] = {
    "publication": ("PUBLICATION",),
    "extract_date": ("EXTRACT_DATE",),
    "org_type": ("ORG_TYPE", "TYPE"),
    "org_code": ("ORG_CODE", "CODE", "PRACTICE_CODE"),
    "sex": ("SEX",),
    "age5": ("AGE_GROUP_5",),
    "age": ("AGE",),
    "count": ("NUMBER_OF_PATIENTS",),
}
_NHS_REQUIRED = ("extract_date", "org_code", "sex", "count")
_FIVE_YEAR_KEYS = {label.replace("-", "_"): label for label in FIVE_YEAR.labels} | {
    label: label for label in FIVE_YEAR.labels
}
_SINGLE_YEAR_KEYS: dict[str, int | str] = {str(a): a for a in range(95)} | {TOP_CODED_KEY: TOP_CODED_KEY}
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")


@dataclass
class _Layout:
    kind: Literal["five_year", "single_year"]
    index: dict[str, int]  # canonical field -> column position
    names: dict[str, str]  # canonical field -> header as written
    width: int


def _nhs_layout(header_line: str, filename: str) -> _Layout:
    try:
        header = next(csv.reader([header_line]))
    except (csv.Error, StopIteration):
        header = []
    upper = [h.strip().upper() for h in header]
    index: dict[str, int] = {}
    for canonical, aliases in _NHS_COLUMNS.items():
        for alias in aliases:
            if alias in upper:
                index[canonical] = upper.index(alias)
                break
    missing = [_NHS_COLUMNS[c][0] for c in _NHS_REQUIRED if c not in index]
    if "age5" not in index and "age" not in index:
        missing.append("AGE_GROUP_5 or AGE")
    if missing:
        raise BadFile(
            f"{filename} is not an NHS Digital 'Patients Registered at a GP Practice' file by practice: "
            f"missing column(s) {', '.join(missing)}",
            [ErrorDetail(message=f"missing column {name}", row=1, column=name) for name in missing],
        )
    dupes = sorted({h for h in upper if h and upper.count(h) > 1})
    if dupes:
        raise BadFile(f"{filename} repeats column(s) {', '.join(dupes)} in its header")
    if "age5" in index:
        kind: Literal["five_year", "single_year"] = "five_year"
        index.pop("age", None)
        index["age"] = index.pop("age5")
    else:
        kind = "single_year"
    names = {c: header[i].strip() for c, i in index.items()}
    return _Layout(kind=kind, index=index, names=names, width=len(header))


@dataclass
class _NhsRow:
    row: int
    values: dict[str, str]


def _prefiltered_rows(raw: bytes, body_start: int, ods: str, layout: _Layout) -> list[_NhsRow] | None:
    """The practice's rows found by searching the bytes for its code; None when the plain scan must decide.

    A national file holds about 7,000 practices; the practice's code appears on its ~100 lines only, so
    finding those lines with bytes.find (C speed, no parsing) and parsing just them is far faster than
    parsing every row. The strict column test is applied after parsing, so a code that also appears in
    another column only costs a few extra lines. Quoted files (a quoted field might hold a newline) and
    unusual codes that match too many lines go to the pandas path.
    """
    if b'"' in raw:
        return None
    line_spans: dict[int, int] = {}
    for needle in {ods.encode("ascii"), ods.lower().encode("ascii")}:
        pos = raw.find(needle, body_start)
        while pos != -1:
            start = raw.rfind(b"\n", 0, pos) + 1
            end = raw.find(b"\n", pos)
            end = len(raw) if end == -1 else end
            line_spans[start] = end
            if len(line_spans) > _MAX_PREFILTER_LINES:
                return None
            pos = raw.find(needle, end)
    if not line_spans:
        return None
    rows: list[_NhsRow] = []
    line_no, counted_to = 1, 0  # line 1 is the header; count newlines incrementally between hits
    starts = sorted(line_spans)
    chunks = []
    for start in starts:
        line_no += raw.count(b"\n", counted_to, start)
        counted_to = start
        chunks.append((line_no, raw[start : line_spans[start]].rstrip(b"\r")))
    text = decode_text(b"\n".join(c for _, c in chunks))
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    if len(parsed) != len(chunks):  # a stray carriage return or the like: let pandas decide
        return None
    idx = layout.index
    for (line_no, _), cells in zip(chunks, parsed):
        if len(cells) != layout.width:
            code_ok = len(cells) > idx["org_code"] and cells[idx["org_code"]].strip().upper() == ods
            if code_ok:
                rows.append(_NhsRow(line_no, {"__width__": str(len(cells))}))
            continue
        if cells[idx["org_code"]].strip().upper() != ods:
            continue
        if "org_type" in idx and cells[idx["org_type"]].strip().upper() != "GP":
            continue
        rows.append(_NhsRow(line_no, {c: cells[i] for c, i in idx.items()}))
    return rows or None


def _pandas_rows(raw: bytes, ods: str, layout: _Layout, filename: str) -> list[_NhsRow]:
    """The practice's rows by a vectorised pandas scan (only the needed columns, all as text)."""
    positions = sorted(layout.index.values())
    fields_by_pos = {i: c for c, i in layout.index.items()}
    df = None
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            df = pd.read_csv(
                io.BytesIO(raw),
                dtype=str,
                usecols=positions,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                encoding=encoding,
                engine="c",
            )
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, ValueError) as exc:
            raise BadFile(f"{filename} is not a readable CSV file ({exc})") from None
    assert df is not None
    df.columns = [fields_by_pos[p] for p in positions]
    codes = df["org_code"].str.strip().str.upper()
    is_practice = (
        df["org_type"].str.strip().str.upper() == "GP" if "org_type" in df.columns else pd.Series(True, index=df.index)
    )
    mine = df[is_practice & (codes == ods)]
    if mine.empty:
        others = codes[is_practice & (codes != "")]
        practices = others.nunique()
        errors = [ErrorDetail(message=f"no rows for practice {ods}", column=layout.names["org_code"])]
        if practices <= _NAMED_OTHER_PRACTICES:
            # A file cut to other practices' rows (a wrong download): say whose rows it holds, and where.
            first_rows = others.drop_duplicates()
            errors += [ErrorDetail(message=f"the rows from here are for practice {code}, not {ods}", row=int(i) + 2,
                                   column=layout.names["org_code"]) for i, code in first_rows.items()]
        raise InvalidInput(
            f"{filename}: no rows for practice {ods}; the file holds {practices:,} practice"
            f"{'' if practices == 1 else 's'}", errors,
        )
    records = mine.to_dict("records")
    # Row numbers: index 0 is spreadsheet row 2; blank lines were kept (skip_blank_lines=False) so they count.
    return [_NhsRow(int(i) + 2, rec) for i, rec in zip(mine.index, records)]


def read_nhs_digital(data: bytes, filename: str, ods_code: str) -> NhsDigitalExtract:
    """One practice's registered patients from an NHS Digital 'Patients Registered at a GP Practice' file.

    Reads the 5-year file (gp-reg-pat-prac-quin-age.csv), a single-year-of-age file (-sing-age-male.csv /
    -female.csv) or the totals file, plain or zipped, of any release (CCG_* or SUB_ICB_* columns; ORG_CODE
    or CODE). The kind is told by the header. Only rows of the practice (ORG_TYPE 'GP' where the file has
    that column, and the code, in any case) are kept. Checks: values of SEX, age and NUMBER_OF_PATIENTS;
    duplicate rows; a single EXTRACT_DATE; and that the ALL rows agree with the rows they total. All
    problems are reported together (InvalidInput); the totals are only checked once every row is valid, so
    one bad value does not also show up as a wrong total.
    """
    ods = (ods_code or "").strip().upper()
    if not _ODS_CODE.match(ods):
        raise InvalidInput(
            f"{ods_code!r} is not a practice (ODS) code",
            [ErrorDetail(message="expected a practice code such as A81001", field="ods_code")],
        )
    raw = csv_bytes(data, filename, max_bytes=MAX_UNCOMPRESSED_BYTES)
    body_start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    header_end = raw.find(b"\n", body_start)
    header_end = len(raw) if header_end == -1 else header_end
    layout = _nhs_layout(decode_text(raw[body_start:header_end]).strip("\r\n"), filename)

    rows = _prefiltered_rows(raw, header_end, ods, layout)
    if rows is None:
        rows = _pandas_rows(raw, ods, layout, filename)
    return _build_extract(rows, layout, ods, filename)


def _build_extract(rows: list[_NhsRow], layout: _Layout, ods: str, filename: str) -> NhsDigitalExtract:
    names = layout.names
    errors: list[ErrorDetail] = []
    parsed: dict[tuple[str, int | str], tuple[int, int]] = {}  # (sex, age) -> (row, count); age may be "ALL"
    dates: dict[date, int] = {}
    publication: str | None = None
    age_keys = _FIVE_YEAR_KEYS if layout.kind == "five_year" else _SINGLE_YEAR_KEYS

    for r in rows:
        v = r.values
        if "__width__" in v:
            errors.append(ErrorDetail(
                message=f"expected {layout.width} fields, found {v['__width__']}", row=r.row))  # fmt: skip
            continue
        row_ok = True
        try:
            dates.setdefault(parse_extract_date(v["extract_date"]), r.row)
        except ValueError as exc:
            errors.append(ErrorDetail(message=str(exc), row=r.row, column=names["extract_date"]))
        sex_text = v["sex"].strip().upper()
        sex = NHS_SEX_VALUES.get(sex_text)
        if sex is None:
            row_ok = False
            errors.append(ErrorDetail(
                message=f"unknown SEX {v['sex']!r}: expected FEMALE, MALE or ALL", row=r.row,
                column=names["sex"]))  # fmt: skip
        age_text = v["age"].strip().upper()
        age: int | str | None = "ALL" if age_text == "ALL" else age_keys.get(age_text)
        if age is None:
            row_ok = False
            expected = "0_4 ... 90_94, 95+ or ALL" if layout.kind == "five_year" else "0 ... 94, 95+ or ALL"
            errors.append(ErrorDetail(
                message=f"unknown age {v['age']!r}: expected {expected}", row=r.row, column=names["age"]))  # fmt: skip
        try:
            count = parse_count(v["count"])
        except ValueError as exc:
            row_ok = False
            errors.append(ErrorDetail(message=str(exc).replace("the count", "NUMBER_OF_PATIENTS", 1),
                                      row=r.row, column=names["count"]))  # fmt: skip
        if publication is None and v.get("publication", "").strip():
            publication = v["publication"].strip()
        if not row_ok:
            continue
        assert sex is not None and age is not None
        key = (sex, age)
        if key in parsed:
            first_row = parsed[key][0]
            errors.append(ErrorDetail(
                message=f"duplicate row for SEX {sex_text} and age {age_text}: rows {first_row} and {r.row}",
                row=r.row, column=names["age"]))  # fmt: skip
            continue
        parsed[key] = (r.row, count)

    if len(dates) > 1:
        listed = ", ".join(f"{_nhs_date(d)} (row {row})" for d, row in sorted(dates.items()))
        errors.append(ErrorDetail(
            message=f"more than one EXTRACT_DATE for practice {ods}: {listed}",
            row=sorted(dates.values())[1], column=names["extract_date"]))  # fmt: skip
    if errors:
        raise InvalidInput(f"{filename}: {len(errors)} problem(s) in the rows for practice {ods}", errors)
    if not dates:  # pragma: no cover - rows always carry a date
        raise InvalidInput(f"{filename}: no rows for practice {ods}")

    errors.extend(_check_totals(parsed, names))
    if errors:
        raise InvalidInput(
            f"{filename}: the totals for practice {ods} do not add up ({len(errors)} problem(s))", errors
        )

    counts = {
        (s, a): n
        for (s, a), (_, n) in sorted(parsed.items(), key=lambda kv: (kv[0][0], _age_sort_key(kv[0][1])))
        if s in SEXES and a != "ALL"
    }
    totals: dict[str, int] = {}
    for s in (FEMALE, MALE, "all"):
        if (s, "ALL") in parsed:
            totals[s] = parsed[(s, "ALL")][1]
        elif any(k[0] == s for k in counts):
            totals[s] = sum(n for (k, _), n in counts.items() if k == s)
    if "all" not in totals and FEMALE in totals and MALE in totals:
        totals["all"] = totals[FEMALE] + totals[MALE]
    sexes = {s for s, _ in parsed if s != "all"}
    kind: NhsKind = layout.kind
    if kind == "single_year" and all(a == "ALL" for _, a in parsed):
        kind = "totals"
    return NhsDigitalExtract(
        kind=kind,
        ods_code=ods,
        sex=next(iter(sexes)) if len(sexes) == 1 and kind != "five_year" else None,
        extract_date=next(iter(dates)),
        publication=publication,
        counts=counts,
        totals=totals,
        row_count=len(rows),
        source_filename=filename,
    )


def _age_sort_key(age: int | str) -> int:
    if isinstance(age, int):
        return age
    if age == "ALL":
        return 10_000
    return int(re.match(r"\d+", age).group())  # type: ignore[union-attr]  # '0-4' -> 0, '95+' -> 95


def _check_totals(parsed: dict[tuple[str, int | str], tuple[int, int]], names: dict[str, str]) -> list[ErrorDetail]:
    errors: list[ErrorDetail] = []
    count_col = names["count"]
    # 1. Each sex's ALL row equals the sum of its ages.
    for sex in (FEMALE, MALE, "all"):
        if (sex, "ALL") not in parsed:
            continue
        parts = [(a, row, n) for (s, a), (row, n) in parsed.items() if s == sex and a != "ALL"]
        if not parts:
            continue
        total_row, stated = parsed[(sex, "ALL")]
        added = sum(n for _, _, n in parts)
        if added != stated:
            errors.append(ErrorDetail(
                message=f"the {sex.upper()} / ALL row says {stated} but the {sex.upper()} rows for each age "
                f"(rows {min(r for _, r, _ in parts)}-{max(r for _, r, _ in parts)}) add up to {added}",
                row=total_row, column=count_col))  # fmt: skip
    # 2. Each ALL-sexes row equals FEMALE + MALE for that age (when the file has rows by sex).
    for (sex, age), (total_row, stated) in parsed.items():
        if sex != "all":
            continue
        female, male = parsed.get((FEMALE, age)), parsed.get((MALE, age))
        if female is None and male is None:
            continue
        added = (female[1] if female else 0) + (male[1] if male else 0)
        if added != stated:
            shown = "ALL" if age == "ALL" else str(age).replace("-", "_")
            parts = " + ".join(
                f"{name} {p[1]} (row {p[0]})" for name, p in (("FEMALE", female), ("MALE", male)) if p is not None
            )
            errors.append(ErrorDetail(
                message=f"the ALL row for age {shown} says {stated} but {parts} = {added}",
                row=total_row, column=count_col))  # fmt: skip
    return errors
