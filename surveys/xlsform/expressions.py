"""The XLSForm expressions the import reads besides skip logic (`surveys.skip_logic.from_xpath`) and
calculations (`surveys.calculations`): constraints, a range's parameters and choice filters, each in a
supported subset, with a message in the author's words for anything outside it."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import Any

__all__ = ["SMART_QUOTES", "parse_choice_filter", "parse_constraint", "parse_parameters"]

#: Excel's automatic "smart" quotes, which pyxform reads as plain ones in expressions.
SMART_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def parse_parameters(text: str) -> dict[str, str] | None:
    """`start=1 end=5 step=1` (spaces, commas or semicolons between; spaces around = allowed); None if a part
    is not key=value."""
    params: dict[str, str] = {}
    for part in re.sub(r"\s*=\s*", "=", text).replace(",", " ").replace(";", " ").split():
        key, sep, value = part.partition("=")
        if not sep:
            return None
        params[key.strip().lower()] = value.strip()
    return params


_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_FILTER_ATOM = re.compile(
    rf"""^\s*(?:
        (?P<col>{_NAME})\s*=\s*\$\{{\s*(?P<q>{_NAME})\s*\}}
      | \$\{{\s*(?P<q2>{_NAME})\s*\}}\s*=\s*(?P<col2>{_NAME})
      | selected\(\s*\$\{{\s*(?P<q3>{_NAME})\s*\}}\s*,\s*(?P<col3>{_NAME})\s*\)
    )\s*$""",
    re.X,
)


def parse_choice_filter(text: str) -> dict[str, str] | str:
    """{choices column: question name} from `site = ${site}`, `${q} = col` or `selected(${q}, col)` joined by
    `and`; or an error message."""
    pairs: dict[str, str] = {}
    for atom in re.split(r"\s+and\s+", text.translate(SMART_QUOTES).strip()):
        atom = atom.strip()
        while atom.startswith("(") and atom.endswith(")"):
            atom = atom[1:-1].strip()
        m = _FILTER_ATOM.match(atom)
        if m is None:
            return (f"'{text}' is not a supported choice filter: compare a column of the choices sheet with an "
                    "earlier answer, e.g. site = ${site} or selected(${problems}, name), joined by 'and'")
        pairs[m.group("col") or m.group("col2") or m.group("col3")] = m.group("q") or m.group("q2") or m.group("q3")
    return pairs


_NUM = r"(-?\d+(?:\.\d+)?)"
_OP = r"(<=|>=|<|>)"
_DATE = r"""date\(\s*['"](\d{4}-\d{2}-\d{2})['"]\s*\)"""
_ATOMS = {
    "number": (re.compile(r"^\.\s*" + _OP + r"\s*" + _NUM + r"$"), re.compile(r"^" + _NUM + r"\s*" + _OP + r"\s*\.$")),
    "date": (re.compile(r"^\.\s*" + _OP + r"\s*" + _DATE + r"$"), re.compile(r"^" + _DATE + r"\s*" + _OP + r"\s*\.$")),
    "text": (re.compile(r"^string-length\(\s*\.\s*\)\s*(<=|<)\s*(\d+)$"),
             re.compile(r"^(\d+)\s*(>=|>)\s*string-length\(\s*\.\s*\)$")),
}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_CONSTRAINT_HELP = {
    "number": "for numbers write '. >= 0', '. < 120' (also <= and >) or both joined by 'and'",
    "date": "for dates write \". >= date('2024-01-01')\", \". < date('2025-01-01')\" or both joined by 'and'",
    "text": "for text write 'string-length(.) <= 500'",
}


def parse_constraint(text: str, kind: str, integer: bool = False) -> dict[str, Any] | str:
    """min/max (and whether they are exclusive) or max_length from a constraint in the supported subset, or an
    error message. A whole-number question's < and > become the next whole number (. < 5 is . <= 4), a date's
    the next day, a text's length one less, so only decimals keep a bound that excludes itself."""
    out: dict[str, Any] = {}
    for atom in re.split(r"\s+and\s+", text.strip()):
        atom = atom.strip()
        while atom.startswith("(") and atom.endswith(")"):
            atom = atom[1:-1].strip()
        forward, backward = _ATOMS[kind]
        m = forward.match(atom)
        if m:
            op, value = m.groups()
        else:
            m = backward.match(atom)
            if not m:
                return f"'{text}' is not a supported constraint: {_CONSTRAINT_HELP[kind]}"
            value, op = m.groups()
            op = _FLIP[op]
        key = "max_length" if kind == "text" else ("min" if op.startswith(">") else "max")
        if key in out:
            return f"'{text}' sets {key} twice"
        strict = op in ("<", ">")
        if kind == "number":
            number = float(value)
            if integer:
                bound = (math.floor(number) + 1 if strict else math.ceil(number)) if key == "min" else (
                    math.ceil(number) - 1 if strict else math.floor(number))
                out[key] = bound
            else:
                out[key] = int(value) if "." not in value else number
                if strict:
                    out[f"{key}_exclusive"] = True
        elif kind == "date":
            try:
                day = date.fromisoformat(value)
            except ValueError:
                return f"'{value}' is not a real date"
            if strict:
                day = day + timedelta(days=1) if key == "min" else day - timedelta(days=1)
            out[key] = day.isoformat()
        else:
            out[key] = int(value) - (1 if strict else 0)
            if out[key] < 1:
                return f"'{text}' leaves no room for an answer"
    return out
