"""Custom dimensions: the counts a practice has for a characteristic of its own (carers, working status ...),
as a table of groups and counts (CSV or XLSX) or as JSON."""

from __future__ import annotations

import json

from prg.errors import BadFile, ErrorDetail, FileTooLarge, InvalidInput
from prg.population.readers.small_tables import (
    COUNT_HEADERS,
    MAX_REPORT_BYTES,
    cell,
    find_column,
    header_key,
    parse_count,
    read_small_table,
)
from prg.uploads import FORMULA_PREFIXES, column_letter, decode_text

__all__ = ["MAX_GROUPS", "MAX_GROUP_NAME_CHARS", "read_custom_dimension"]

MAX_GROUP_NAME_CHARS = 100
MAX_GROUPS = 500


_GENERIC_GROUP_HEADERS = frozenset({
    "group", "groups", "category", "categories", "name", "value", "label", "dimension", "characteristic",
    "band", "item", "",
})  # fmt: skip


def _group_name_problem(name: str) -> str | None:
    if not name:
        return "the group name is empty"
    if len(name) > MAX_GROUP_NAME_CHARS:
        return f"the group name is {len(name)} characters long; the limit is {MAX_GROUP_NAME_CHARS}"
    if name.startswith(FORMULA_PREFIXES):
        return f"the name {name[:20]!r} starts with {name[0]!r} and could run as a spreadsheet formula; rename it"
    return None


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"the key {k!r} appears twice")
        out[k] = v
    return out


def read_custom_dimension(data: bytes, filename: str) -> tuple[str | None, dict[str, int]]:
    """(dimension name or None, patients per group) from a CSV/XLSX of group,count rows or from JSON.

    Tables: two columns, group then count; a header row is optional, and a group header that is not a
    generic word ('Group', 'Category'...) is taken as the dimension's name ('Carer status'). JSON: either
    {"name": "Carers", "groups": {"Carer": 120, ...}} or a plain {"Carer": 120, ...}. Group names must be
    non-empty, at most 100 characters, unique ignoring case, and must not start with = + - @ (a cell that
    could run as a formula when the profile is exported to a spreadsheet); counts are whole numbers >= 0.
    """
    if not data:
        raise BadFile(f"{filename} is empty")
    if len(data) > MAX_REPORT_BYTES:
        raise FileTooLarge(f"{filename} is {len(data):,} bytes; the limit is {MAX_REPORT_BYTES:,}")
    if filename.lower().endswith(".json") or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return _custom_from_json(data, filename)
    return _custom_from_table(data, filename)


def _custom_from_json(data: bytes, filename: str) -> tuple[str | None, dict[str, int]]:
    try:
        obj = json.loads(decode_text(data), object_pairs_hook=_no_duplicate_keys)
    except ValueError as exc:  # JSONDecodeError is a ValueError, so is a duplicate key
        raise BadFile(f"{filename} is not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise BadFile(f"{filename}: expected a JSON object of group names to counts")
    name: object = None
    groups: object = obj
    if isinstance(obj.get("groups"), dict):
        name, groups = obj.get("name"), obj["groups"]
        extra = sorted(set(obj) - {"name", "groups"})
        if extra:
            raise InvalidInput(
                f"{filename}: unexpected key(s) {', '.join(extra)}",
                [ErrorDetail(message="unexpected key; expected only 'name' and 'groups'", field=k) for k in extra],
            )
    assert isinstance(groups, dict)
    errors: list[ErrorDetail] = []
    if name is not None:
        if not isinstance(name, str):
            errors.append(ErrorDetail(message="the name must be text", field="name"))
            name = None
        else:
            name = name.strip()
            problem = _group_name_problem(name) if name else None
            if problem:
                errors.append(ErrorDetail(message=problem.replace("group name", "dimension name"), field="name"))
    entries = []
    for key, value in groups.items():
        path = f"groups.{key[:40]}" if groups is not obj else key[:40]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not value.is_integer()
        ):
            errors.append(ErrorDetail(message=f"the count {value!r} is not a whole number", field=path))
            continue
        if value < 0:
            errors.append(ErrorDetail(message=f"the count {value!r} is negative", field=path))
            continue
        entries.append((key.strip(), int(value), None, path))
    groups_out = _validate_groups(entries, errors, filename)
    return (name or None), groups_out  # type: ignore[return-value]


def _custom_from_table(data: bytes, filename: str) -> tuple[str | None, dict[str, int]]:
    table = read_small_table(data, filename)
    errors = list(table.errors)
    first_row, first = table.rows[0]
    has_header = True
    try:
        parse_count(cell(first, 1))
        has_header = False  # the first row already holds a count: there is no header
    except ValueError:
        pass
    name: str | None = None
    group_i, count_i = 0, 1
    group_col, count_col = "A", "B"
    body = table.rows
    if has_header:
        body = table.rows[1:]
        width = len([c for c in first if c])
        if width < 2:
            raise BadFile(
                f"{filename}: expected two columns, a group and a count; row {first_row} has {first!r}",
                [ErrorDetail(message="expected two columns: group, count", row=first_row)],
            )
        found = find_column(first, COUNT_HEADERS, ("count", "number", "patients"))
        if found is not None:
            count_i = found
        group_i = next(i for i, c in enumerate(first) if c and i != count_i)
        group_col, count_col = first[group_i] or "A", cell(first, count_i) or column_letter(count_i)
        header_name = first[group_i].strip()
        if header_key(header_name) not in _GENERIC_GROUP_HEADERS:
            problem = _group_name_problem(header_name)
            if problem:
                errors.append(ErrorDetail(message=problem.replace("group name", "dimension name"),
                                          row=first_row, column=column_letter(group_i)))  # fmt: skip
            else:
                name = header_name
    entries = []
    for row_no, cells in body:
        extra = next((i for i, c in enumerate(cells) if c and c.strip() and i not in (group_i, count_i)), None)
        if extra is not None:  # a ragged or shifted row: which cell is the count is anyone's guess
            errors.append(ErrorDetail(message="a value beyond the group and count columns", row=row_no,
                                      column=column_letter(extra)))
            continue
        try:
            count = parse_count(cell(cells, count_i))
        except ValueError as exc:
            errors.append(ErrorDetail(message=str(exc), row=row_no, column=count_col))
            count = None
        group = cell(cells, group_i).strip()
        if count is not None:
            entries.append((group, count, row_no, group_col))
        elif _group_name_problem(group):
            entries.append((group, 0, row_no, group_col))  # still report a bad name on the same row
    groups = _validate_groups(entries, errors, filename)
    return name, groups


def _validate_groups(
    entries: list[tuple[str, int, int | None, str]], errors: list[ErrorDetail], filename: str
) -> dict[str, int]:
    """entries: (group, count, row or None for JSON, column or JSON field). Raises with every problem."""
    out: dict[str, int] = {}
    seen: dict[str, tuple[str, int | None]] = {}
    for group, count, row, where in entries:
        at = {"row": row, "column": where} if row is not None else {"field": where}
        problem = _group_name_problem(group)
        if problem:
            errors.append(ErrorDetail(message=problem, **at))  # type: ignore[arg-type]
            continue
        folded = group.casefold()
        if folded in seen:
            other, other_row = seen[folded]
            where_before = f"row {other_row}" if other_row is not None else repr(other)
            errors.append(ErrorDetail(
                message=f"the group {group!r} repeats {other!r} ({where_before}); names must be unique ignoring case",
                **at))  # type: ignore[arg-type]  # fmt: skip
            continue
        seen[folded] = (group, row)
        out[group] = count
    if len(out) > MAX_GROUPS:
        errors.append(ErrorDetail(message=f"{len(out)} groups; the limit is {MAX_GROUPS}"))
    if not out and not errors:
        errors.append(ErrorDetail(message="no groups found", row=1))
    if errors:
        raise InvalidInput(f"{filename}: {len(errors)} problem(s) in the custom dimension", errors)
    return out
