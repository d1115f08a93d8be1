"""Validating a patient's answers: what is stored, and the error a patient (or a kiosk) gets back."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest

from prg.errors import InvalidInput
from surveys.answers import CompiledSurvey, clean_text, validate_response
from surveys.definition import load_definition

OPTIONS = [{"code": c, "label": {"en": c.title()}} for c in ("yes", "no")]
SCALE = [{"code": c, "label": {"en": c}} for c in ("very_good", "good", "poor")]

SURVEY = load_definition(
    {
        "title": {"en": "Practice survey", "pl": "Ankieta"},
        "languages": ["en", "pl"],
        "sections": [
            {
                "id": "visit",
                "questions": [
                    {"type": "single_choice", "id": "visited", "label": {"en": "Seen us this year?"},
                     "required": True, "options": OPTIONS},
                    {"type": "rating_grid", "id": "care", "label": {"en": "How good was the GP at"},
                     "required": True, "show_if": "visited = 'yes'", "options": SCALE,
                     "rows": [{"id": "time", "label": {"en": "Time"}}, {"id": "listening", "label": {"en": "Listening"}}]},
                    {"type": "scale_0_10", "id": "recommend", "label": {"en": "Recommend us?"}},
                    {"type": "multiple_choice", "id": "problems", "label": {"en": "Problems?"},
                     "options": [{"code": c, "label": {"en": c}} for c in ("phone", "wait", "parking")]},
                    {"type": "long_text", "id": "why", "label": {"en": "What went wrong?"}, "required": True,
                     "max_length": 200, "show_if": "recommend <= 6 or selected(problems, 'phone')"},
                ],
            },
            {
                "id": "more",
                "show_if": "visited = 'yes'",
                "questions": [
                    {"type": "number", "id": "visits", "label": {"en": "How many visits?"}, "min": 1, "max": 50},
                    {"type": "number", "id": "miles", "label": {"en": "Miles from home?"}, "integer": False,
                     "min": 0, "max": 100},
                    {"type": "date", "id": "last", "label": {"en": "Last visit"}, "min": "2020-01-01",
                     "max": "2030-12-31"},
                    {"type": "short_text", "id": "gp", "label": {"en": "Your GP's name"}, "max_length": 20},
                ],
            },
        ],
    }
)  # fmt: skip
COMPILED = CompiledSurvey(SURVEY)


def _problems(answers: Any, lang: str = "en", **kw: Any) -> list[tuple[str | None, str]]:
    with pytest.raises(InvalidInput) as caught:
        COMPILED.validate(answers, lang, **kw)
    return [(e.field, e.message) for e in caught.value.errors]


def test_a_complete_response_is_normalised_for_storage():
    cleaned = validate_response(
        COMPILED,
        {
            "visited": "yes",
            "care": {"listening": "good", "time": "very_good"},
            "recommend": "3",
            "problems": ["wait", "phone"],
            "why": "  The phone\r\nline was <b>busy</b>.\x00\x1b  ",
            "visits": 4.0,
            "miles": "2.5",
            "last": {"day": "7", "month": "3", "year": "2024"},
            "gp": "Dr\tSmith\nJones",
        },
        "en",
    )
    assert cleaned == {
        "visited": "yes",
        "care": {"time": "very_good", "listening": "good"},  # rows in survey order
        "recommend": 3,
        "problems": ["phone", "wait"],  # codes in survey order
        "why": "The phone\nline was <b>busy</b>.",  # kept as typed (escaped when shown), controls removed
        "visits": 4,
        "miles": 2.5,
        "last": "2024-03-07",
        "gp": "Dr Smith Jones",  # one line
    }
    assert list(cleaned) == ["visited", "care", "recommend", "problems", "why", "visits", "miles", "last", "gp"]


def test_only_answered_questions_are_stored():
    assert COMPILED.validate({"visited": "no", "recommend": "", "problems": [], "why": None}, "en") == {"visited": "no"}


def test_required_questions_that_are_shown_must_be_answered():
    assert _problems({"visited": "yes", "care": {"time": "good"}, "recommend": 2}) == [
        ("care[listening]", "Select an answer for this row"),
        ("why", "Enter an answer"),
    ]
    assert _problems({}) == [("visited", "Select an answer")]


def test_required_questions_that_are_hidden_need_no_answer():
    # visited = 'no' hides the grid and the whole second section; recommend 9 without phone hides `why`.
    assert COMPILED.validate({"visited": "no", "recommend": 9}, "en") == {"visited": "no", "recommend": 9}


def test_answers_to_hidden_questions_are_rejected_by_default():
    problems = _problems({"visited": "no", "care": {"time": "good"}, "visits": 3, "recommend": 10, "why": "x"})
    message = "This question was not asked, given the earlier answers, so it cannot be answered"
    assert problems == [("care", message), ("why", message), ("visits", message)]


def test_the_web_form_drops_answers_to_hidden_questions():
    cleaned = COMPILED.validate(
        {"visited": "no", "care": {"time": "good"}, "visits": 3, "recommend": 10, "why": "x"}, "en", hidden="drop"
    )
    assert cleaned == {"visited": "no", "recommend": 10}


def test_empty_fields_of_hidden_questions_are_not_answers():
    # A server-rendered form posts every field, filled in or not.
    answers = {"visited": "no", "care": {}, "recommend": "", "why": "", "visits": "", "miles": "  ", "last": "",
               "gp": "", "problems": []}  # fmt: skip
    assert COMPILED.validate(answers, "en") == {"visited": "no"}


def test_an_invalid_answer_does_not_cascade_into_skip_logic_errors():
    # `visited` is wrong, so whether the grid is shown is unknown: no "required" or "hidden" error for it.
    assert _problems({"visited": "maybe", "care": {"time": "good"}}) == [("visited", "Select one of the answers given")]
    assert _problems({"visited": "maybe"}) == [("visited", "Select one of the answers given")]


def test_every_problem_is_listed_with_its_field():
    problems = _problems(
        {
            "visited": "yes",
            "care": {"time": "excellent", "listening": "good", "smell": "poor"},
            "recommend": 11,
            "problems": ["phone", "phone"],
            "visits": 0,
            "miles": "far",
            "last": "2024-02-30",
            "gp": "x" * 21,
            "colour": "blue",
        }
    )
    assert problems == [
        ("colour", "is not a question in this survey"),
        ("care[smell]", "is not a row of this question"),
        ("care[time]", "Select one of the answers given"),
        ("recommend", "Select a whole number from 0 to 10"),
        ("problems", "Select each answer only once"),
        ("visits", "Enter a whole number between 1 and 50"),
        ("miles", "Enter a number, like 12 or 3.5"),
        ("last", "Enter a real date, for example 2024-03-27"),
        ("gp", "Answer must be 20 characters or fewer"),
    ]


@pytest.mark.parametrize(
    ("question", "value", "expected"),
    [
        ("visited", 1, "Select one of the answers given"),
        ("visited", ["yes"], "Select one of the answers given"),
        ("problems", "phone", "Give the selected answers as a list of answer codes"),
        ("problems", ["phone", "fax"], "Select only answers that are given"),
        ("problems", [1], "Select only answers that are given"),
        ("recommend", 7.5, "Select a whole number from 0 to 10"),
        ("recommend", -1, "Select a whole number from 0 to 10"),
        ("recommend", True, "Select a whole number from 0 to 10"),
        ("visits", 2.5, "Enter a whole number, like 12"),
        ("visits", "lots", "Enter a whole number, like 12"),
        ("visits", float("nan"), "Enter a whole number, like 12"),
        ("visits", float("inf"), "Enter a whole number, like 12"),
        ("visits", 51, "Enter a whole number between 1 and 50"),
        ("miles", "3,5", "Enter a number, like 12 or 3.5"),  # a comma is not a decimal point in English
        ("miles", 100.01, "Enter a number between 0 and 100"),
        ("last", "07/03/2024", "Enter a real date, for example 2024-03-27"),
        ("last", "2019-12-31", "Enter a date on or after 2020-01-01"),
        ("last", {"day": 31, "month": 2, "year": 2024}, "Enter a real date, for example 2024-03-27"),
        ("last", 20240307, "Enter a real date, for example 2024-03-27"),
        ("gp", 42, "Enter the answer as text"),
        ("care", ["good"], "Give the answers as an object of row id to answer code"),
    ],
)
def test_wrong_values_are_refused_with_a_plain_message(question, value, expected):
    answers = {"visited": "yes", "care": {"time": "good", "listening": "good"}, "recommend": 8, question: value}
    assert _problems(answers) == [(question, expected)]


@pytest.mark.parametrize(
    ("lang", "typed", "outcome"),
    [
        ("pl", "3,5", 3.5),
        ("pl", "1 500", "Enter a number between 0 and 100"),  # read as 1500, so out of range
        ("en", "1,500", "Enter a number between 0 and 100"),
        ("en", "1,5", "Enter a number, like 12 or 3.5"),  # not a number in English
        ("en", " 7 ", 7),
        ("pl", "7", 7),
        ("en", "+2.25", 2.25),
    ],
)
def test_numbers_are_read_the_way_the_respondent_writes_them(lang, typed, outcome):
    answers = {"visited": "yes", "care": {"time": "good", "listening": "good"}, "recommend": 8, "miles": typed}
    if isinstance(outcome, str):
        assert _problems(answers, lang) == [("miles", outcome)]
    else:
        assert COMPILED.validate(answers, lang)["miles"] == outcome


def test_dates_accept_iso_text_date_objects_and_day_month_year_fields():
    base = {"visited": "yes", "care": {"time": "good", "listening": "good"}, "recommend": 8}
    assert COMPILED.validate({**base, "last": date(2024, 3, 7)}, "en")["last"] == "2024-03-07"
    assert COMPILED.validate({**base, "last": "2024-03-07"}, "en")["last"] == "2024-03-07"
    assert "last" not in COMPILED.validate({**base, "last": {"day": "", "month": "", "year": ""}}, "en")


def test_the_language_must_be_one_of_the_survey_languages():
    assert _problems({"visited": "no"}, lang="de") == [("language", "'de' is not one of this survey's languages")]
    assert COMPILED.validate({"visited": "no"}, "pl") == {"visited": "no"}


def test_the_hidden_answer_policy_is_checked():
    with pytest.raises(ValueError, match="hidden must be"):
        COMPILED.validate({"visited": "no"}, "en", hidden="keep")  # type: ignore[arg-type]


def test_answers_must_be_an_object():
    with pytest.raises(InvalidInput, match="object keyed by question id"):
        COMPILED.validate(["visited", "no"], "en")


def test_a_flood_of_unknown_keys_gives_a_short_error_list():
    problems = _problems({"visited": "no", **{f"junk{i}": 1 for i in range(5000)}})
    assert len(problems) == 20


@pytest.mark.parametrize(
    ("raw", "multiline", "stored"),
    [
        ("  hello  ", False, "hello"),
        ("a\r\nb\rc\u2028d", True, "a\nb\nc\nd"),
        ("a\r\nb", False, "a b"),
        ("line one   \n\n\n\n   line two", True, "line one\n\nline two"),
        ("tab\there", False, "tab here"),
        ("bell\x07 null\x00 esc\x1b del\x7f c1\x85x", True, "bell null esc del c1\nx"),
        ("e\u0301", False, "\u00e9"),  # NFC: one character, as typed on another keyboard
        ("\ufeffbom", False, "bom"),
        ("lone \ud800 surrogate", False, "lone  surrogate"),
        ("=HYPERLINK(\"x\")", False, "=HYPERLINK(\"x\")"),  # stored as typed; exports write it as text
    ],
)
def test_text_cleaning(raw, multiline, stored):
    assert clean_text(raw, multiline) == stored


def test_shown_questions_follow_the_answers_so_far():
    assert COMPILED.shown({}) == ["visited", "recommend", "problems"]
    assert COMPILED.shown({"visited": "yes", "recommend": 2}) == [
        "visited", "care", "recommend", "problems", "why", "visits", "miles", "last", "gp",
    ]  # fmt: skip


def test_an_invalid_definition_cannot_be_compiled():
    bad = load_definition({"title": {"en": "x"}, "sections": [{"id": "s", "questions": [
        {"type": "short_text", "id": "a", "label": {"en": "A"}}]}]})  # fmt: skip
    from surveys.definition import SurveyDefinition, ShortTextQuestion, Section

    broken = SurveyDefinition(
        title=bad.title,
        sections=[Section(id="s", questions=[ShortTextQuestion("a", {"en": "A"}, show_if="b = 'x'")])],
    )
    with pytest.raises(InvalidInput) as caught:
        CompiledSurvey(broken)
    assert caught.value.errors[0].field == "sections[0].questions[0].show_if"


def test_validating_is_fast_enough_for_the_hot_path():
    """Thousands of submissions a second need validation in tens of microseconds (generous bound here)."""
    answers = {"visited": "yes", "care": {"time": "good", "listening": "poor"}, "recommend": 4,
               "problems": ["phone"], "why": "Could not get through on the phone at 8am.", "visits": 3,
               "miles": 1.5, "last": "2024-05-01", "gp": "Dr Patel"}  # fmt: skip
    COMPILED.validate(answers, "en")
    start = time.perf_counter()
    for _ in range(2000):
        COMPILED.validate(answers, "en")
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"2000 validations took {elapsed:.2f}s"
