"""Languages in XLSForm column headers ("label::Polish (pl)"), both ways, from babel's CLDR names."""

from __future__ import annotations

import re
from functools import cache

__all__ = ["language_code", "language_column_name"]

_LANGUAGE_RE = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)\)\s*$")


@cache
def _language_names() -> dict[str, str]:
    """English language name (lower case) -> code, from babel's CLDR data: 'polish' -> 'pl'."""
    from babel import Locale

    names = Locale("en").languages
    return {name.lower(): code for code, name in names.items() if re.fullmatch(r"[a-z]{2,3}", code)}


def language_column_name(code: str) -> str:
    """How a language is written in XLSForm column headers: 'English (en)', 'Polish (pl)'."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name("en") or code
    except (UnknownLocaleError, ValueError):
        name = code
    return f"{name} ({code})"


def language_code(text: str) -> str | None:
    text = text.strip()
    m = _LANGUAGE_RE.match(text)
    if m:
        primary, _, region = m.group("code").replace("_", "-").partition("-")
        return primary.lower() + (f"-{region}" if region else "")
    if re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", text):
        return text
    return _language_names().get(text.lower())
