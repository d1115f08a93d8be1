"""Which language a page speaks, and how a language is named and written.

One rule for every page: the language the link or the form asks for (`?lang=pl`, or the form's `_lang`)
if the page has it; else the browser's Accept-Language, best q-value first, negotiated with babel
(`pl-PL` finds `pl`); else the page's default. A page offers the languages of the catalogue, or (the survey
form) the languages of the survey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError, negotiate_locale
from litestar import Request

from prg.pages.catalogue import catalogue

MAX_LANGUAGE_RANGES = 20  # a header listing more than this is not a browser's


def accepted_languages(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first (q=0 and `*` left out)."""
    weighted = []
    for part in header.split(",")[:MAX_LANGUAGE_RANGES]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag.strip() and tag.strip() != "*":
            weighted.append((quality, tag.strip()))
    return [tag for quality, tag in sorted(weighted, key=lambda w: -w[0]) if quality > 0]


def choose_language(request: Request, available: Sequence[str] | None = None, asked: object = None,
                    default: str = "en") -> str:
    """The page's language: `asked` (the link's or the form's choice) if available, else the browser's
    preference, else `default`. `available` defaults to the catalogue's languages."""
    available = catalogue().languages if available is None else available
    if asked in available:
        return str(asked)
    found = negotiate_locale(accepted_languages(request.headers.get("accept-language", "")), list(available),
                             sep="-")
    by_tag = {code.lower(): code for code in available}  # as the page spells it (babel lowers some)
    found = (found or "").lower()
    return by_tag.get(found) or by_tag.get(found.split("-")[0]) or default


def language_name(code: str) -> str:
    """A language's name in that language ("Polski", "اردو")."""
    return _language(code)[0]


def text_direction(code: str) -> str:
    """`rtl` for a language written right to left (Urdu, Arabic...), else `ltr`."""
    return _language(code)[1]


@lru_cache(maxsize=256)
def _language(code: str) -> tuple[str, str]:
    """(name, direction): the catalogue's, else babel's, else (the code, ltr)."""
    info = catalogue().info.get(code)
    if info:
        return info.name, info.direction
    try:
        locale = Locale.parse(code, sep="-")
    except (ValueError, UnknownLocaleError):
        return code, "ltr"
    name = locale.get_display_name(locale) or code
    return name[:1].upper() + name[1:], locale.text_direction  # "polski" -> "Polski", as in a list of languages


def language_links(current: str, languages: Sequence[str] | None = None, *, names: Mapping[str, str] | None = None,
                   **keep: str | None) -> list[tuple[str, str, str]]:
    """(code, name, link) for the switcher: the other languages (the catalogue's, unless the page has its
    own), each link keeping the `keep` query parameters that have a value. None when there is one. `names`
    gives a page's own names for codes babel does not know (an XLSForm's private-use `qaa` languages)."""
    languages = catalogue().languages if languages is None else languages
    if len(languages) < 2:
        return []
    kept = {name: value for name, value in keep.items() if value}
    names = names or {}
    return [(code, names.get(code) or language_name(code), "?" + urlencode({"lang": code, **kept}))
            for code in languages if code != current]
