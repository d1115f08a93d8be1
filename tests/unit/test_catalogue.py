"""The word catalogue (prg/locales) and the page language rule (prg.pages): every key in every language,
every key a page uses exists, English fills in only what a language lacks, review status per language and
per key, service messages worded in the page's language, and one Accept-Language rule with q-values."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from litestar import Request

from prg.pages import catalogue, choose_language, language_links, language_name, text_direction, words
from prg.pages.catalogue import LOCALES, Catalogue, CatalogueError
from prg.pages.languages import accepted_languages

ROOT = Path(__file__).parents[2]
# Where pages name catalogue keys: templates as t("ns.key"), modules as "ns.key" literals.
TEMPLATES = [*ROOT.glob("prg/templates/*.html"), *ROOT.glob("surveys/templates/*.html"),
             ROOT / "prg/des/templates/consultation.html"]
MODULES = [ROOT / "prg/members/public_pages.py", ROOT / "prg/members/signup.py", ROOT / "surveys/public.py",
           ROOT / "prg/des/public_pages.py"]
NAMESPACES = ("page", "join", "survey", "answer", "consultation")


def request(accept_language: str = "") -> Request:
    headers = [(b"accept-language", accept_language.encode())] if accept_language else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


def test_every_language_has_every_key_and_no_other():
    english = set(catalogue().messages["en"])
    assert {key.split(".")[0] for key in english} == set(NAMESPACES)
    assert set(catalogue().languages) >= {"en", "pl"}
    for lang in catalogue().languages:
        assert set(catalogue().messages[lang]) == english, lang


def test_every_language_keeps_the_placeholders_of_english():
    for lang in catalogue().languages:
        for key, english in catalogue().messages["en"].items():
            assert set(re.findall(r"\{(\w+)\}", catalogue().messages[lang][key])) <= set(
                re.findall(r"\{(\w+)\}", english)), (lang, key)


def test_every_key_a_page_uses_exists():
    used = set()
    for template in TEMPLATES:
        used |= set(re.findall(r"""\bt\(["']([\w.<+>-]+)["']""", template.read_text()))
    for module in MODULES:
        used |= {key for key in re.findall(r"""["']([a-z]+\.[\w<+>-]+)["']""", module.read_text())
                 if key.split(".")[0] in NAMESPACES}
    used = {key for key in used if not key.endswith(".html")}
    prefixes = {key for key in used if key.endswith("_")}  # the start of keys a page builds, e.g. "join.sex_"
    keys = set(catalogue().messages["en"])
    assert len(used) > 60 and len(prefixes) > 5  # the scan finds the pages' keys
    assert sorted(used - prefixes - keys) == []
    assert sorted(p for p in prefixes if not any(key.startswith(p) for key in keys)) == []
    # Keys built from a prefix (the sign-up form's answer labels) are complete too.
    from prg.members import signup
    t = words("en")
    for prefix, codes in [("join.participation_", signup.PARTICIPATION), ("join.contact_", signup.CONTACT_METHODS),
                          ("join.sex_", signup.SEXES), ("join.age_band_", signup.AGE_BANDS),
                          ("join.ethnic_", signup.ETHNIC_CODES), ("join.carer_", signup.CARER)]:
        assert [code for code, _ in t.choices(prefix, codes)] == list(codes)


def test_each_file_says_its_name_direction_and_review_status():
    for lang in catalogue().languages:
        meta = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))["_meta"]
        info = catalogue().info[lang]
        assert (info.name, info.direction, info.review) == (meta["name"], meta["dir"], meta["review"])
    assert language_name("pl") == "Polski" and catalogue().review_status("pl") == "machine-checked"


def write(folder: Path, code: str, meta: dict, **namespaces: dict) -> None:
    (folder / f"{code}.json").write_text(json.dumps({"_meta": meta, **namespaces}), encoding="utf-8")


ENGLISH_META = {"name": "English", "dir": "ltr", "review": "reviewed"}


def test_english_fills_in_only_a_missing_key_and_an_unknown_key_is_an_error(tmp_path):
    write(tmp_path, "en", ENGLISH_META, page={"hello": "Hello {name}", "bye": "Goodbye"})
    write(tmp_path, "ur", {"name": "اردو", "dir": "rtl", "review": "machine-checked"}, page={"hello": "سلام {name}"})
    found = Catalogue(tmp_path)
    assert found.languages == ("en", "ur")
    urdu = found.words("ur")
    assert urdu("page.hello", name="Amira") == "سلام Amira" and urdu("page.bye") == "Goodbye"
    assert found.words("de")("page.hello", name="Jo") == "Hello Jo"  # a language with no file speaks English
    with pytest.raises(KeyError):
        urdu("page.nothing")


def test_review_status_is_per_language_with_exceptions_per_key(tmp_path):
    write(tmp_path, "en", ENGLISH_META, page={"a": "A", "b": "B"})
    write(tmp_path, "bn", {"name": "বাংলা", "dir": "ltr", "review": "reviewed",
                           "review_exceptions": {"page.b": "machine-checked"}}, page={"a": "ক", "b": "খ"})
    found = Catalogue(tmp_path)
    assert found.review_status("bn") == "reviewed"
    assert (found.review_status("bn", "page.a"), found.review_status("bn", "page.b")) == ("reviewed", "machine-checked")


@pytest.mark.parametrize("meta, namespaces, complaint", [
    (None, {"page": {"a": "A"}}, "_meta block"),
    ({"name": "Polski", "dir": "down", "review": "reviewed"}, {"page": {"a": "A"}}, "dir 'ltr' or 'rtl'"),
    ({"name": "Polski", "dir": "ltr", "review": "looked at"}, {"page": {"a": "A"}}, "review"),
    ({"name": "Polski", "dir": "ltr", "review": "reviewed", "review_exceptions": {"page.zz": "reviewed"}},
     {"page": {"a": "A"}}, "page.zz"),
    ({"name": "Polski", "dir": "ltr", "review": "reviewed", "review_exceptions": ["page.a"]},
     {"page": {"a": "A"}}, "review_exceptions should be an object"),
    (ENGLISH_META, {"page": {"a": 5}}, "page.a should be text"),
    (ENGLISH_META, {"page": "A"}, "page should be an object"),
])
def test_a_malformed_file_is_refused_naming_the_problem(tmp_path, meta, namespaces, complaint):
    write(tmp_path, "en", ENGLISH_META, page={"a": "A"})
    document = {**({"_meta": meta} if meta else {}), **namespaces}
    (tmp_path / "pl.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CatalogueError, match=re.escape(complaint)):
        Catalogue(tmp_path)


def test_a_file_that_is_not_json_is_refused_by_name(tmp_path):
    write(tmp_path, "en", ENGLISH_META, page={"a": "A"})
    (tmp_path / "pl.json").write_text('{"page": {"a": "A",}}', encoding="utf-8")
    with pytest.raises(CatalogueError, match="pl.json"):
        Catalogue(tmp_path)


def test_a_catalogue_without_english_is_refused(tmp_path):
    write(tmp_path, "pl", {"name": "Polski", "dir": "ltr", "review": "reviewed"}, page={"a": "A"})
    with pytest.raises(CatalogueError, match="en.json"):
        Catalogue(tmp_path)


def test_validator_messages_are_translated_with_their_numbers():
    polish, english = words("pl"), words("en")
    assert polish.message("Select an answer", "answer.") == "Wybierz odpowiedź"
    assert polish.message("Enter a number between 0 and 100", "answer.") == "Wpisz liczbę od 0 do 100"
    assert polish.message("Enter a whole number that is 3 or more", "answer.") == "Wpisz liczbę nie mniejszą niż 3"
    assert (polish.message("Enter a date on or after 2024-01-01", "answer.")
            == "Wpisz datę nie wcześniejszą niż 2024-01-01")
    assert (polish.message("Answer must be 2,000 characters or fewer", "answer.")
            == "Odpowiedź może mieć najwyżej 2,000 znaków")
    assert polish.message("Something new", "answer.") == "Something new"
    assert english.message("Enter a number between 0 and 100", "answer.") == "Enter a number between 0 and 100"
    assert english.message("Select an answer", "answer.") == "Select an answer"


def test_accept_language_is_read_by_q_value():
    assert accepted_languages("pl;q=0.3, en-GB;q=0.9, *;q=0.5, de;q=0, fr") == ["fr", "en-GB", "pl"]
    assert accepted_languages("pl;q=abc, en") == ["en"]
    assert accepted_languages(",".join(["de"] * 30 + ["pl"])) == ["de"] * 20  # a header is not a list of everything


@pytest.mark.parametrize("header, asked, expected", [
    ("pl-PL,pl;q=0.9,en;q=0.5", None, "pl"),
    ("pl;q=0.3,en;q=0.9", None, "en"),  # q-values count, not the order written
    ("de-DE", None, "en"),  # nothing available: the default
    ("", None, "en"),
    ("en", "pl", "pl"),  # the link's choice wins
    ("pl", "xx", "pl"),  # ... when the page has it
    ("PL-pl", None, "pl"),
])
def test_one_language_rule(header, asked, expected):
    assert choose_language(request(header), asked=asked) == expected


def test_a_page_with_its_own_languages_and_default():
    survey = ("cy", "en", "ur")
    assert choose_language(request("ur-PK,en;q=0.8"), survey, default="cy") == "ur"
    assert choose_language(request("fr"), survey, default="cy") == "cy"


def test_names_directions_and_the_switcher():
    assert language_name("ur") == "اردو" and text_direction("ur") == "rtl"
    assert language_name("bn") == "বাংলা" and text_direction("bn") == "ltr"
    assert (language_name("en"), text_direction("pl")) == ("English", "ltr")
    assert language_name("qq") == "qq" and text_direction("qq") == "ltr"
    assert language_links("pl", ["en", "pl", "ur"], via="poster", t=None) == [
        ("en", "English", "?lang=en&via=poster"), ("ur", "اردو", "?lang=ur&via=poster")]
    assert language_links("en", ["en"]) == []
    assert language_links("pl") == [("en", "English", "?lang=en")]  # the catalogue's languages
