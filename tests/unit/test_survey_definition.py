"""Survey definitions: the shape the API accepts, per-language text, and the errors an author sees."""

from __future__ import annotations

import copy
import json
from typing import Any

import msgspec
import pytest

from prg.errors import InvalidInput
from surveys.definition import (
    RatingGridQuestion,
    SingleChoiceQuestion,
    SurveyDefinition,
    dump_definition,
    load_definition,
    text_for,
    validate_definition,
)


def _q(qid: str, kind: str = "single_choice", **extra: Any) -> dict[str, Any]:
    q: dict[str, Any] = {"type": kind, "id": qid, "label": {"en": f"Question {qid}", "pl": f"Pytanie {qid}"}}
    if kind in ("single_choice", "multiple_choice", "rating_grid"):
        q["options"] = [
            {"code": "yes", "label": {"en": "Yes", "pl": "Tak"}},
            {"code": "no", "label": {"en": "No", "pl": "Nie"}},
        ]
    if kind == "rating_grid":
        q["rows"] = [{"id": "time", "label": {"en": "Time"}}, {"id": "care", "label": {"en": "Care"}}]
    q.update(extra)
    return q


def _survey(*sections: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": {"en": "Practice survey", "pl": "Ankieta przychodni"},
        "default_language": "en",
        "languages": ["en", "pl"],
        "sections": [{"id": f"s{i + 1}", "questions": qs} for i, qs in enumerate(sections)],
    }
    data.update(extra)
    return data


VALID = _survey(
    [
        _q("visited", required=True),
        _q("rating", "scale_0_10", show_if="visited = 'yes'"),
        _q("care", "rating_grid", top_box=["yes"], show_if="rating >= 5"),
        _q("problems", "multiple_choice"),
        _q("visits", "number", min=0, max=50),
        _q("when", "date", min="2020-01-01"),
        _q("name", "short_text", max_length=80),
        _q("why", "long_text", help={"en": "Tell us more", "pl": "Prosimy napisać więcej"},
           show_if="selected(problems, 'yes') or not answered(visited)"),  # fmt: skip
    ],
    [
        _q("sex", dimension={"name": "sex", "groups": {"yes": "female", "no": "male"}}),
    ],
)


def _errors(data: dict[str, Any]) -> list[tuple[str | None, str]]:
    with pytest.raises(InvalidInput) as caught:
        load_definition(data)
    return [(e.field, e.message) for e in caught.value.errors]


def _one_error(data: dict[str, Any]) -> tuple[str | None, str]:
    errors = _errors(data)
    assert len(errors) == 1, errors
    return errors[0]


def test_a_valid_definition_loads_from_json_and_dumps_back():
    defn = load_definition(json.dumps(VALID))
    assert isinstance(defn.sections[0].questions[2], RatingGridQuestion)
    assert [q.id for q in defn.questions()] == [
        "visited", "rating", "care", "problems", "visits", "when", "name", "why", "sex",
    ]  # fmt: skip
    assert load_definition(dump_definition(defn)) == defn
    assert load_definition(msgspec.json.encode(defn)) == defn
    # Defaults are left out of stored JSON, and each question says its type first.
    stored = dump_definition(defn)
    first = stored["sections"][0]["questions"][0]
    assert list(first)[:2] == ["type", "id"] and "help" not in first
    assert validate_definition(defn) == []


def test_text_resolution_falls_back_to_the_default_language():
    text = {"en": "Very good", "pl": "Bardzo dobrze"}
    assert text_for(text, "pl") == "Bardzo dobrze"
    assert text_for(text, "pl-PL") == "Bardzo dobrze"  # primary language
    assert text_for(text, "cy") == "Very good"  # the default
    assert text_for({"pl": "Tak"}, "cy", default="en") == "Tak"  # anything rather than nothing
    assert text_for(None, "en") == ""
    defn = load_definition(VALID)
    assert defn.text(defn.title, "pl") == "Ankieta przychodni"
    assert defn.text(defn.sections[0].questions[0].label, "uk") == "Question visited"


def test_missing_default_language_and_undeclared_languages():
    data = copy.deepcopy(VALID)
    data["sections"][0]["questions"][0]["label"] = {"pl": "Tylko po polsku"}
    data["sections"][0]["questions"][3]["options"][1]["label"]["de"] = "Nein"
    assert _errors(data) == [
        ("sections[0].questions[0].label", "has no text in the survey's default language 'en'"),
        ("sections[0].questions[3].options[1].label", "has text in 'de', which is not one of the survey's languages"),
    ]


def test_default_language_must_be_declared():
    assert _errors(_survey([_q("a")], default_language="cy", title={"cy": "Arolwg", "en": "x", "pl": "y"}))[0] == (
        "default_language",
        "'cy' is not one of the survey's languages",
    )


def test_ids_must_be_unique_across_sections_and_questions():
    data = _survey([_q("visited"), _q("visited", "short_text")], [_q("s1", "number")])
    assert _errors(data) == [
        ("sections[0].questions[1].id", "'visited' is already used by sections[0].questions[0]"),
        ("sections[1].questions[0].id", "'s1' is already used by sections[0]"),
    ]


def test_option_codes_and_grid_rows_must_be_unique():
    q = _q("q", "rating_grid")
    q["options"].append({"code": "yes", "label": {"en": "Yes again"}})
    q["rows"].append({"id": "time", "label": {"en": "Time again"}})
    assert _errors(_survey([q])) == [
        ("sections[0].questions[0].options[2].code", "'yes' is used by another answer"),
        ("sections[0].questions[0].rows[2].id", "'time' is used by another row"),
    ]


def test_grid_rows_must_not_clash_with_other_ids_in_a_spreadsheet():
    field, message = _one_error(_survey([_q("care", "rating_grid"), _q("care_time", "short_text")]))
    assert field == "sections[0].questions[0].rows[0].id"
    assert "'care_time'" in message and "sections[0].questions[1]" in message


@pytest.mark.parametrize(
    ("show_if", "message"),
    [
        ("later = 'yes'", "refers to 'later', which comes later; skip logic can only use earlier questions"),
        ("nobody = 'yes'", "refers to 'nobody', which is not a question of this survey"),
        ("second = 'yes'", "refers to 'second' itself; skip logic can only use earlier questions"),
        ("first = 'maybe'", "'maybe' is not an answer code of 'first' (codes: yes, no)"),
        ("first > 'yes'", "'first' is a choice: compare it with = or != only"),
        ("first = 1", "'first' is a choice: compare it with an answer code in quotes, e.g. first = 'yes'"),
        ("many = 'yes'", "'many' allows several answers: use selected(many, 'code')"),
        ("selected(many, 'nope')", "'nope' is not an answer code of 'many' (codes: yes, no)"),
        ("score = '7'", "'score' is a number: compare it with a number, not text in quotes"),
        ("selected(score, '7')", "'score' is a number: compare it, e.g. score >= 5"),
        ("words = 'hi'", "'words' is a short_text question: skip logic can only test it with answered(words)"),
        ("first = 'yes' and", "cannot be read: at character 18: expected a question name, found the end of the expression"),
    ],
)
def test_skip_logic_errors_name_the_question_and_reason(show_if, message):
    data = _survey(
        [_q("first"), _q("many", "multiple_choice"), _q("score", "scale_0_10"), _q("words", "short_text"),
         _q("second", "short_text", show_if=show_if), _q("later")]  # fmt: skip
    )
    assert _one_error(data) == ("sections[0].questions[4].show_if", message)


def test_a_section_can_only_depend_on_earlier_sections():
    data = _survey([_q("a")], [_q("b")])
    data["sections"][1]["show_if"] = "b = 'yes'"
    assert _one_error(data) == (
        "sections[1].show_if",
        "refers to 'b', which comes later; skip logic can only use earlier questions",
    )
    data["sections"][1]["show_if"] = "a = 'yes'"
    assert load_definition(data).sections[1].show_if == "a = 'yes'"


def test_top_box_and_dimensions_must_name_real_answers_and_groups():
    data = _survey(
        [
            _q("a", top_box=["yes", "maybe"]),
            _q("sex", dimension={"name": "sex", "groups": {"yes": "woman", "nope": "male"}}),
            _q("age", dimension={"name": "age_band", "groups": {"yes": "Under 16", "no": "sixteen"}}),
            _q("eth", dimension={"name": "ethnicity", "groups": {"yes": "white", "no": "A"}}),
            _q("eth2", dimension={"name": "ethnicity", "groups": {"yes": "A", "no": "H"}}),
            _q("carer", dimension={"name": "custom:carer", "groups": {"yes": "Carer"}}),
        ]
    )
    assert _errors(data) == [
        ("sections[0].questions[0].top_box", "names 'maybe', not answers of this question"),
        ("sections[0].questions[1].dimension.groups", "maps 'nope', not answers of this question"),
        ("sections[0].questions[1].dimension.groups", "'woman' is not a group of 'sex': use 'female' or 'male'"),
        ("sections[0].questions[2].dimension.groups",
         "'sixteen' is not a group of 'age_band': use an age band label such as 'Under 16', '16-24' or '75+'"),
        ("sections[0].questions[3].dimension.groups",
         "'A' is not a group of 'ethnicity': use a high-level group (white, mixed, asian, black, other) "
         "or an NHS ethnic category letter (A to S)"),
        ("sections[0].questions[4].dimension.name", "'ethnicity' is already measured by sections[0].questions[3]"),
        ("sections[0].questions[5].dimension.groups",
         "'Carer' is not a group of 'custom:carer': use a lower-case key (letters, digits, _)"),
    ]  # fmt: skip


def test_dimension_only_on_single_choice():
    data = _survey([_q("m", "multiple_choice", dimension={"name": "sex", "groups": {"yes": "female"}})])
    field, message = _one_error(data)
    assert field == "sections[0].questions[0]" and "dimension" in message


def test_bounds_must_be_in_order():
    data = _survey(
        [
            _q("n", "number", min=10, max=1),
            _q("whole", "number", min=0.5),
            _q("d", "date", min="2024-02-01", max="2024-01-01"),
        ]
    )
    assert _errors(data) == [
        ("sections[0].questions[0].min", "is more than max"),
        ("sections[0].questions[1].min", "must be a whole number for a whole-number question"),
        ("sections[0].questions[2].min", "is after max"),
    ]


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        (lambda d: d["sections"][0]["questions"][0].update(id="2nd visit"), "sections[0].questions[0].id", "regex"),
        (lambda d: d["sections"][0]["questions"][0].update(type="slider"), "sections[0].questions[0].type",
         "Invalid value 'slider'"),
        (lambda d: d["sections"][0]["questions"][0].update(colour="red"), "sections[0].questions[0]",
         "unknown field `colour`"),
        (lambda d: d["sections"][0]["questions"][0]["label"].update(en="x" * 1001),
         "sections[0].questions[0].label[...]", "length <= 1000"),
        (lambda d: d["sections"][0]["questions"][0]["label"].update(en="tab\there"),
         "sections[0].questions[0].label[...]", "regex"),
        (lambda d: d["sections"][0]["questions"][0]["options"].pop(), "sections[0].questions[0].options",
         "length >= 2"),
        (lambda d: d["sections"][0]["questions"][4].update(max_length=0), "sections[0].questions[4].max_length",
         ">= 1"),
        (lambda d: d.update(sections=[]), "sections", "length >= 1"),
    ],
)
def test_schema_errors_name_the_field(change, field, fragment):
    data = _survey(
        [_q("visited"), _q("b", "multiple_choice"), _q("c", "number"), _q("d", "date"), _q("e", "short_text")]
    )
    change(data)
    errors = _errors(data)
    assert len(errors) == 1
    assert errors[0][0] == field
    assert fragment in errors[0][1]


def test_unreadable_json_is_invalid_input():
    with pytest.raises(InvalidInput) as caught:
        load_definition(b"{not json")
    assert caught.value.errors[0].message.startswith("JSON is malformed")


def test_the_json_schema_shows_the_real_bounds():
    """What OpenAPI (and fuzzers) will see: bounds on strings and lists, and the question union by type."""
    (schema,), components = msgspec.json.schema_components([SurveyDefinition])
    question = components["SingleChoiceQuestion"]
    assert question["properties"]["id"]["pattern"] == "^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"  # XLSForm names
    assert question["properties"]["id"]["maxLength"] == 64
    label = question["properties"]["label"]
    assert label["maxProperties"] == 20 and label["additionalProperties"]["maxLength"] == 1000
    assert question["properties"]["options"]["maxItems"] == 100
    assert components["SurveyDefinition"]["properties"]["sections"]["maxItems"] == 50
    section_questions = components["Section"]["properties"]["questions"]
    assert section_questions["maxItems"] == 100
    assert section_questions["items"]["discriminator"]["propertyName"] == "type"
    assert set(section_questions["items"]["discriminator"]["mapping"]) == {
        "single_choice", "multiple_choice", "rating_grid", "scale_0_10", "number", "date", "short_text", "long_text",
    }  # fmt: skip
    assert components["ShortTextQuestion"]["properties"]["max_length"]["maximum"] == 10_000


def test_structs_are_immutable_so_a_compiled_survey_can_be_shared():
    defn = load_definition(VALID)
    with pytest.raises(AttributeError):
        defn.sections[0].questions[0].id = "changed"  # type: ignore[misc]
    assert isinstance(defn.sections[1].questions[0], SingleChoiceQuestion)
