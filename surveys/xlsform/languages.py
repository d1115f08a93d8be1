"""Languages in XLSForm column headers ("label::Polish (pl)"), both ways, from babel's CLDR names."""

from __future__ import annotations

import re
from functools import cache

__all__ = ["PRIVATE_CODES", "Languages", "language_code", "language_column_name"]

_LANGUAGE_RE = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)\)\s*$")


@cache
def _language_names() -> dict[str, str]:
    """English language name (lower case) -> code, from babel's CLDR data: 'polish' -> 'pl'."""
    from babel import Locale

    names = Locale("en").languages
    return {name.lower(): code for code, name in names.items() if re.fullmatch(r"[a-z]{2,3}", code)}


def language_column_name(code: str, name: str | None = None) -> str:
    """How a language is written in XLSForm column headers: 'English (en)', 'Polish (pl)'; `name` as its author
    wrote it for a language babel does not know ('Klingonese (qaa)')."""
    if name:
        return f"{name} ({code})"
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name("en") or code
    except (UnknownLocaleError, ValueError):
        name = code
    return f"{name} ({code})"


def language_code(text: str) -> str | None:
    """The code of a language as XLSForm headers and settings write it: 'Polish (pl)', 'Polish', 'pl' or
    'PL' give 'pl'; None when babel does not know the name and no code is given."""
    text = text.strip()
    m = _LANGUAGE_RE.match(text)
    if m:
        primary, _, region = m.group("code").replace("_", "-").partition("-")
        return primary.lower() + (f"-{region}" if region else "")
    by_name = _language_names().get(text.lower())
    if by_name:
        return by_name
    if re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?", text):
        primary, _, region = text.replace("_", "-").partition("-")
        return primary.lower() + (f"-{region}" if region else "")
    return None


#: ISO 639-2 keeps qaa to qtz for local use: languages babel does not know get one of these codes.
PRIVATE_CODES = tuple(f"q{a}{b}" for a in "abcdefghijklmnopqrst" for b in "abcdefghijklmnopqrstuvwxyz")
_PRIVATE = frozenset(PRIVATE_CODES)


class Languages:
    """The languages of one workbook, by the name its headers and settings write: known languages by their
    code, others under a private-use code (qaa, qab...) with their name kept as written."""

    def __init__(self) -> None:
        self._unknown: dict[str, str] = {}  # name (lower case) -> private code
        self.names: dict[str, str] = {}  # private code -> name as written

    def code(self, written: str) -> str:
        found = language_code(written)
        m = _LANGUAGE_RE.match(written.strip())
        if found in _PRIVATE and m:  # 'Klingonese (qaa)', as the export writes such a language back
            self.names.setdefault(found, m.group("name").strip() or found)
            self._unknown.setdefault(m.group("name").strip().lower(), found)
            return found
        if found:
            return found
        key = written.strip().lower()
        if key not in self._unknown:
            code = next(c for c in PRIVATE_CODES if c not in self.names)
            self._unknown[key] = code
            self.names[code] = written.strip()
        return self._unknown[key]
