"""A practice's ethnicity report, from its clinical system: patients per ETHNIC CATEGORY code."""

from __future__ import annotations

from prg.errors import BadFile, ErrorDetail, InvalidInput
from prg.population.dimensions import parse_ethnic_category
from prg.population.readers.small_tables import (
    COUNT_HEADERS,
    cell,
    find_column,
    header_key,
    parse_count,
    read_small_table,
)

__all__ = ["read_ethnicity_report"]

_TOTAL_LABELS = frozenset({"total", "totals", "grand total", "all", "all patients", "total patients"})
_ETHNIC_CODE_HEADERS = frozenset({
    "code", "ethnic category code", "ethnicity code", "ethnic code", "category code", "ethnic origin code",
    "ethnic group code",
})  # fmt: skip
_ETHNIC_LABEL_HEADERS = frozenset({
    "ethnic category", "ethnicity", "category", "ethnic group", "ethnic origin", "description", "label",
    "ethnic category description", "ethnicity description", "ethnic category name", "group", "name",
})  # fmt: skip


def read_ethnicity_report(data: bytes, filename: str) -> list[tuple[str, int]]:
    """(ETHNIC CATEGORY code, patients) per row of a practice's ethnicity report, CSV or XLSX, in file order.

    Columns are found by their headers, tolerantly (a code column such as 'Ethnic category code' / 'Code',
    a label column such as 'Ethnic category' / 'Ethnicity', a count column such as 'Number of patients' /
    'Patients' / 'Count'); a row may give the code, the label or both (they must agree). Blank, '99',
    'not known' and 'not recorded' become '99', kept apart from 'Z' (not stated). A code that appears on
    two rows is an error naming both, never summed. A 'Total' row is checked against the rows and dropped.
    """
    table = read_small_table(data, filename)
    errors = list(table.errors)
    header_row, header = table.rows[0]
    code_i = find_column(header, _ETHNIC_CODE_HEADERS, ("ethnic category code", "ethnicity code"))
    label_i = find_column(
        [h if i != code_i else "" for i, h in enumerate(header)], _ETHNIC_LABEL_HEADERS, ("ethnic",)
    )
    count_i = find_column(
        [h if i not in (code_i, label_i) else "" for i, h in enumerate(header)],
        COUNT_HEADERS,
        ("count", "number", "patients"),
    )
    missing = []
    if code_i is None and label_i is None:
        missing.append("an ethnic category code or ethnic category column")
    if count_i is None:
        missing.append("a count column (e.g. 'Number of patients')")
    if missing:
        raise BadFile(
            f"{filename} does not look like an ethnicity report: row {header_row} should name "
            f"{' and '.join(missing)}; it has {', '.join(repr(h) for h in header)}",
            [ErrorDetail(message=f"missing {m}", row=header_row) for m in missing],
        )
    code_col = header[code_i] if code_i is not None else None
    label_col = header[label_i] if label_i is not None else None
    count_col = header[count_i] if count_i is not None else None

    result: list[tuple[str, int]] = []
    seen: dict[str, int] = {}
    total_rows: list[tuple[int, int]] = []
    for row_no, cells in table.rows[1:]:
        code_text, label_text = cell(cells, code_i).strip(), cell(cells, label_i).strip()
        try:
            count = parse_count(cell(cells, count_i))
        except ValueError as exc:
            errors.append(ErrorDetail(message=str(exc), row=row_no, column=count_col))
            count = None
        if header_key(code_text or label_text) in _TOTAL_LABELS and not (code_text and label_text):
            if count is not None:
                total_rows.append((row_no, count))
            continue
        source_col = code_col if code_text else label_col
        try:
            code = parse_ethnic_category(code_text or label_text)
        except ValueError as exc:
            errors.append(ErrorDetail(message=str(exc), row=row_no, column=source_col))
            continue
        if code_text and label_text:
            try:
                from_label = parse_ethnic_category(label_text)
            except ValueError:
                from_label = None  # an unfamiliar label beside a valid code: the code decides
            if from_label is not None and from_label != code:
                errors.append(ErrorDetail(
                    message=f"code {code_text!r} ({code}) and label {label_text!r} ({from_label}) disagree",
                    row=row_no, column=label_col))  # fmt: skip
                continue
        if code in seen:
            errors.append(ErrorDetail(
                message=f"ethnic category {code} appears twice: rows {seen[code]} and {row_no}",
                row=row_no, column=source_col))  # fmt: skip
            continue
        seen[code] = row_no
        if count is not None:
            result.append((code, count))
    if not errors and not result:
        errors.append(ErrorDetail(message="no ethnic category rows under the header", row=header_row))
    if not errors:
        added = sum(n for _, n in result)
        for row_no, stated in total_rows:
            if stated != added:
                errors.append(ErrorDetail(
                    message=f"the total row says {stated} but the rows above add up to {added}",
                    row=row_no, column=count_col))  # fmt: skip
    if errors:
        raise InvalidInput(f"{filename}: {len(errors)} problem(s) in the ethnicity report", errors)
    return result
