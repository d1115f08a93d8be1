"""The word catalogue: every word a page shows, per language, in one JSON file per language.

`prg/locales/<code>.json` holds namespaced messages (`{"join": {"title": ...}}` is the key `join.title`)
and a `_meta` block: the language's own name, its text direction (`ltr` or `rtl`) and the review status of
its wording, `reviewed` (by a native speaker) or `machine-checked`, for the whole language with
per-key exceptions (`review_exceptions: {"join.intro": "machine-checked"}`). Messages are Python format
strings (`"Try again in {minutes} minutes."`).

The files are read once and cached. A key missing from a language falls back to English; a key missing
from English is a programming error (KeyError), which the tests catch. A language with no file at all
(a survey written in Urdu before the catalogue has Urdu) gets the English words.

Some services speak English to the API (the survey validator, the consultation service); their messages
have keys too, with the English wording as the pattern: `Words.message` finds the key whose English
matches and words it in the page's language, carrying the numbers and dates across.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

LOCALES = Path(__file__).resolve().parents[1] / "locales"
SOURCE_LANGUAGE = "en"
REVIEW_STATUSES = ("reviewed", "machine-checked")
ReviewStatus = Literal["reviewed", "machine-checked"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class CatalogueError(ValueError):
    """A catalogue file that does not have the shape described above."""


@dataclass(frozen=True)
class LanguageInfo:
    code: str
    name: str
    direction: Literal["ltr", "rtl"]
    review: ReviewStatus
    review_exceptions: dict[str, ReviewStatus]


class Words:
    """One language's words. `words("join.title")`; `words("join.intro", practice="Test Surgery")`."""

    def __init__(self, catalogue: Catalogue, lang: str) -> None:
        self.catalogue = catalogue
        self.lang = lang if lang in catalogue.messages else SOURCE_LANGUAGE
        self._own = catalogue.messages[self.lang]
        self._english = catalogue.messages[SOURCE_LANGUAGE]

    def __call__(self, key: str, /, **values: object) -> str:
        text = self._own.get(key)
        if text is None:
            text = self._english[key]  # KeyError: a key no language has is a bug, not a page to show
        return text.format(**values) if values else text

    def choices(self, prefix: str, codes: Iterable[str]) -> list[tuple[str, str]]:
        """(code, label) for a closed question's answers, the label of `code` being `prefix + code`."""
        return [(code, self(prefix + code)) for code in codes]

    def message(self, english: str, within: str) -> str:
        """An English service message in this language, using the keys starting with `within` (e.g.
        "answer."): the key whose English wording matches gives the words, with the matched values
        carried across. A message no key matches is shown as it is."""
        for key, pattern in self.catalogue.patterns(within):
            found = pattern.fullmatch(english)
            if found:
                return self(key, **found.groupdict())
        return english


class Catalogue:
    """Every language's messages, read from a folder of `<code>.json` files."""

    def __init__(self, folder: Path) -> None:
        self.messages: dict[str, dict[str, str]] = {}
        self.info: dict[str, LanguageInfo] = {}
        for path in sorted(folder.glob("*.json")):
            code = path.stem
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:  # not JSON, or not UTF-8
                raise CatalogueError(f"{path.name}: {exc}") from exc
            self.messages[code] = _flatten(path, document)
            self.info[code] = _language_info(path, code, document.get("_meta"), self.messages[code])
        if SOURCE_LANGUAGE not in self.messages:
            raise CatalogueError(f"{folder}: no {SOURCE_LANGUAGE}.json, which every other language falls back to")
        self._patterns: dict[str, list[tuple[str, re.Pattern[str]]]] = {}

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages with a catalogue, English first."""
        return (SOURCE_LANGUAGE, *sorted(code for code in self.messages if code != SOURCE_LANGUAGE))

    def words(self, lang: str) -> Words:
        return Words(self, lang)

    def review_status(self, lang: str, key: str | None = None) -> ReviewStatus:
        """How far a language's wording (or one key's) has been checked."""
        info = self.info[lang]
        return info.review_exceptions.get(key, info.review) if key else info.review

    def patterns(self, within: str) -> list[tuple[str, re.Pattern[str]]]:
        """(key, regular expression of its English wording) for the keys starting with `within`."""
        if within not in self._patterns:
            self._patterns[within] = [(key, _pattern(text)) for key, text in self.messages[SOURCE_LANGUAGE].items()
                                      if key.startswith(within)]
        return self._patterns[within]


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The application's catalogue (prg/locales), read once."""
    return Catalogue(LOCALES)


def words(lang: str) -> Words:
    """The words of `lang` (English for a language the catalogue does not have)."""
    return catalogue().words(lang)


def _flatten(path: Path, document: object) -> dict[str, str]:
    if not isinstance(document, dict):
        raise CatalogueError(f"{path.name}: expected an object of namespaces")
    flat = {}
    for namespace, table in document.items():
        if namespace == "_meta":
            continue
        if not isinstance(table, dict):
            raise CatalogueError(f"{path.name}: {namespace} should be an object of messages")
        for key, text in table.items():
            if not isinstance(text, str):
                raise CatalogueError(f"{path.name}: {namespace}.{key} should be text")
            flat[f"{namespace}.{key}"] = text
    return flat


def _language_info(path: Path, code: str, meta: object, messages: dict[str, str]) -> LanguageInfo:
    if not isinstance(meta, dict):
        raise CatalogueError(f"{path.name}: a _meta block with name, dir and review is needed")
    exceptions = meta.get("review_exceptions", {})
    if not isinstance(exceptions, dict):
        raise CatalogueError(f"{path.name}: review_exceptions should be an object of key: status")
    statuses: Iterable[object] = [meta.get("review"), *exceptions.values()]
    if (not isinstance(meta.get("name"), str) or meta.get("dir") not in ("ltr", "rtl")
            or any(status not in REVIEW_STATUSES for status in statuses)):
        raise CatalogueError(f"{path.name}: _meta needs a name, dir 'ltr' or 'rtl', and review "
                             f"{' or '.join(REVIEW_STATUSES)} (also for each of review_exceptions)")
    unknown = set(exceptions) - set(messages)
    if unknown:
        raise CatalogueError(f"{path.name}: review_exceptions name keys it does not have: {sorted(unknown)}")
    return LanguageInfo(code, meta["name"], meta["dir"], meta["review"], dict(exceptions))


def _pattern(english: str) -> re.Pattern[str]:
    """`Enter a date on or after {date}` -> a regular expression matching it with `date` as a group."""
    parts = PLACEHOLDER.split(english)
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+)" for i, part in enumerate(parts)))
