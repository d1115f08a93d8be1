"""The question bank shipped with the product: ready-made questions a practice picks from.

The bank is data, not code. Each ``collection_<id>.json`` file in this folder is one collection (the
Friends and Family Test, a GP-Patient-Survey-style core, the DES local-survey priorities, demographic
questions) whose questions are written in the survey definition format with their English text as plain
strings; each ``translations_<lang>.json`` file maps text keys (``<question id>.label``, ``.help``,
``.options.<code>``, ``.rows.<row id>``) to that language. Loading merges them into ordinary
`surveys.definition` questions whose every text is ``{"en": ..., "pl": ...}``. See README.md in this
folder for how a translator adds a language. Bank question ids are unique across the bank, so questions
picked from several collections never clash in one survey.

API: `bank_collections()`, `bank_questions(collection=None, topic=None)`, `bank_question(id)` (NotFound for an
unknown id), `bank_languages()`, `survey_from_bank(...)` to build a definition from picked questions, and
`translation_template(lang)` / `bank_problems()` for translators and tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

import msgspec

from prg.errors import NotFound
from surveys.definition import Question, SurveyDefinition, load_definition

__all__ = [
    "BankCollection",
    "BankQuestion",
    "bank_languages",
    "bank_problems",
    "bank_question",
    "bank_collections",
    "bank_questions",
    "survey_from_bank",
    "translation_template",
]

SOURCE_LANGUAGE = "en"


class BankQuestion(msgspec.Struct, frozen=True, kw_only=True):
    """A question of the bank, ready to put in a survey (its id is unique across the bank)."""

    id: str
    collection: str
    topic: str
    source: str
    question: Question


class BankCollection(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    description: str
    question_ids: list[str]


def _package_files(prefix: str) -> Iterator[tuple[str, Any]]:
    folder = resources.files(__name__)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith(prefix) and entry.name.endswith(".json"):
            yield entry.name, json.loads(entry.read_text(encoding="utf-8"))


def _text_keys(question: Mapping[str, Any]) -> Iterator[tuple[str, Any, str]]:
    """(key, the dict holding the text, the field name) for every text of a raw bank question."""
    qid = question["id"]
    for name in ("label", "help"):
        if name in question:
            yield f"{qid}.{name}", question, name
    for option in question.get("options", []):
        yield f"{qid}.options.{option['code']}", option, "label"
    for row in question.get("rows", []):
        yield f"{qid}.rows.{row['id']}", row, "label"


@cache
def _raw() -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """The collection files, and {language: {key: text}} from the translation files."""
    raw_collections = [data for _, data in _package_files("collection_")]
    translations: dict[str, dict[str, str]] = {}
    for name, data in _package_files("translations_"):
        lang = data.get("language") or name.removeprefix("translations_").removesuffix(".json")
        translations[lang] = dict(data.get("texts", {}))
    return raw_collections, translations


@cache
def _load() -> tuple[dict[str, BankCollection], dict[str, BankQuestion]]:
    raw_collections, translations = _raw()
    found_collections: dict[str, BankCollection] = {}
    questions: dict[str, BankQuestion] = {}
    for coll in raw_collections:
        ids = []
        for entry in coll["questions"]:
            raw = json.loads(json.dumps(entry["question"]))  # a private copy to fill in
            for key, holder, field in _text_keys(raw):
                text = {SOURCE_LANGUAGE: holder[field]}
                for lang, texts in translations.items():
                    if key in texts:
                        text[lang] = texts[key]
                holder[field] = text
            question = msgspec.convert(raw, Question)
            if question.id in questions:
                raise ValueError(f"bank question id {question.id!r} appears twice")
            questions[question.id] = BankQuestion(
                id=question.id, collection=coll["id"], topic=entry["topic"], source=entry["source"], question=question
            )
            ids.append(question.id)
        found_collections[coll["id"]] = BankCollection(
            id=coll["id"], title=coll["title"], description=coll["description"], question_ids=ids
        )
    return found_collections, questions


def bank_collections() -> list[BankCollection]:
    """The bank's collections, in file order (fft, gpps_core, des_priorities, demographics...)."""
    return sorted(_load()[0].values(), key=lambda c: _COLLECTION_ORDER.get(c.id, 99))


_COLLECTION_ORDER = {"fft": 0, "gpps_core": 1, "des_priorities": 2, "demographics": 3}


def bank_questions(collection: str | None = None, topic: str | None = None) -> list[BankQuestion]:
    """Bank questions, optionally of one collection and/or topic, in collection then file order."""
    by_id = _load()[1]
    out = []
    for coll in bank_collections():
        if collection is not None and coll.id != collection:
            continue
        out.extend(q for q in (by_id[i] for i in coll.question_ids) if topic is None or q.topic == topic)
    return out


def bank_question(question_id: str) -> BankQuestion:
    """One bank question by id; NotFound if the bank has no such question."""
    try:
        return _load()[1][question_id]
    except KeyError:
        raise NotFound(f"The question bank has no question '{question_id[:64]}'.") from None


def bank_languages() -> list[str]:
    """Languages every bank text is available in (English first)."""
    _, translations = _raw()
    keys = {key for _, key, _ in _all_keys()}
    complete = [lang for lang, texts in sorted(translations.items()) if keys <= texts.keys()]
    return [SOURCE_LANGUAGE, *(lang for lang in complete if lang != SOURCE_LANGUAGE)]


def _all_keys() -> Iterator[tuple[str, str, str]]:
    """(question id, key, English text) for every text in the bank."""
    raw_collections, _ = _raw()
    for coll in raw_collections:
        for entry in coll["questions"]:
            q = entry["question"]
            for key, holder, field in _text_keys(q):
                yield q["id"], key, holder[field]


def translation_template(lang: str) -> dict[str, Any]:
    """A translations file for `lang` to fill in: every key with the English text, existing ones kept.

    ``{"language": lang, "texts": {key: text}, "missing": {key: English text}}``: a translator fills in
    `missing` and moves each entry into `texts` (see README.md).
    """
    _, translations = _raw()
    have = translations.get(lang, {})
    texts, missing = {}, {}
    for _, key, english in _all_keys():
        if key in have:
            texts[key] = have[key]
        else:
            missing[key] = english
    return {"language": lang, "texts": texts, "missing": missing}


def bank_problems() -> list[str]:
    """Everything wrong with the bank's data files (empty when healthy): for tests and translators."""
    problems: list[str] = []
    _, translations = _raw()
    keys = {key for _, key, _ in _all_keys()}
    for lang, texts in sorted(translations.items()):
        for key in sorted(texts.keys() - keys):
            problems.append(f"translations_{lang}.json: '{key}' is not a text of any bank question")
        for key in sorted(keys - texts.keys()):
            problems.append(f"translations_{lang}.json: '{key}' is not translated")
        for key, text in texts.items():
            if not isinstance(text, str) or not text.strip() or text != text.strip():
                problems.append(f"translations_{lang}.json: '{key}' is empty or has spaces at its ends")
    try:
        _load()
    except (msgspec.ValidationError, ValueError) as exc:
        problems.append(f"a bank question is not valid: {exc}")
    return problems


def _only(text: Mapping[str, str] | None, languages: Sequence[str]) -> dict[str, str] | None:
    return None if text is None else {lang: s for lang, s in text.items() if lang in languages}


def _restrict(question: Question, languages: Sequence[str]) -> Question:
    raw = msgspec.to_builtins(question)
    for _, holder, field in _text_keys(raw):
        holder[field] = _only(holder[field], languages)
    return msgspec.convert(raw, Question)


def survey_from_bank(
    title: Mapping[str, str],
    sections: Sequence[tuple[str, Mapping[str, str] | None, Sequence[str]]],
    *,
    languages: Sequence[str] = ("en",),
    default_language: str = "en",
) -> SurveyDefinition:
    """A validated definition made of bank questions: ``sections`` is ``[(section id, title or None,
    [bank question ids])]``; texts are kept only in `languages`. InvalidInput / NotFound if it cannot be.

    Example: ``survey_from_bank({"en": "FFT"}, [("fft", None, ["fft_2020_experience", "fft_2020_reason"])])``.
    """
    built = []
    for section_id, section_title, ids in sections:
        questions = [msgspec.to_builtins(_restrict(bank_question(qid).question, languages)) for qid in ids]
        entry: dict[str, Any] = {"id": section_id, "questions": questions}
        if section_title is not None:
            entry["title"] = dict(section_title)
        built.append(entry)
    data = {
        "title": dict(title),
        "default_language": default_language,
        "languages": list(languages),
        "sections": built,
    }
    return load_definition(data)
