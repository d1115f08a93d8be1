"""The definition features a patient survey can use beyond plain questions (issue 23): notes anywhere, ranges,
exclusive bounds, answers shown back in text, cascading choices, calculations, defaults; checked through the
definition's validation and the response validator, as the API and the web form use them."""

from __future__ import annotations

from typing import Any

import pytest

from prg.errors import InvalidInput
from prg.pages import words
from surveys.answers import CompiledSurvey, conditions, same_page_conditions, validate_response
from surveys.calculations import CalculationError, parse_calculation
from surveys.collation import collate
from surveys.definition import load_definition, piped_names
from surveys.form_view import FormView


def text(value: str) -> dict[str, str]:
    return {"en": value}


def choice(qid: str, codes: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "single_choice", "id": qid, "label": text(qid),
            "options": [{"code": c, "label": text(c.title())} for c in codes], **extra}  # fmt: skip


def survey(*sections: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"title": text("Features"),
            "sections": [{"id": f"s{n}", "questions": qs} for n, qs in enumerate(sections, start=1)], **extra}  # fmt: skip


def problems(data: dict[str, Any]) -> list[tuple[str | None, str]]:
    with pytest.raises(InvalidInput) as caught:
        load_definition(data)
    return [(e.field, e.message) for e in caught.value.errors]


def answer_problems(defn: Any, answers: dict[str, Any]) -> list[tuple[str | None, str]]:
    with pytest.raises(InvalidInput) as caught:
        validate_response(defn, answers, "en")
    return [(e.field, e.message) for e in caught.value.errors]


# ---------------------------------------------------------------------------------------------------------
# Names as XLSForm writes them
# ---------------------------------------------------------------------------------------------------------


def test_ids_keep_capitals_dots_and_dashes_but_must_differ_in_more_than_capitals():
    defn = load_definition(survey([choice("Meta", ["yes", "no"]), choice("visit.type", ["a", "b"]),
                                   {"type": "short_text", "id": "why-not", "label": text("Why not?")}]))
    assert [q.id for q in defn.questions()] == ["Meta", "visit.type", "why-not"]
    assert problems(survey([choice("Q1", ["a", "b"]), choice("q1", ["a", "b"])])) == [
        ("sections[0].questions[1].id", "'q1' differs from the id of sections[0].questions[0] only in capitals; ids "
                                        "must differ in more than that (exports and spreadsheets ignore case)"),
    ]
    assert problems(survey([choice("meta", ["a", "b"])])) == [
        ("sections[0].questions[0].id", "'meta' is a name XLSForm keeps for itself; choose another"),
    ]
    clash = survey([{"type": "date", "id": "visit", "label": text("When?")},
                    {"type": "short_text", "id": "visit-day", "label": text("Which day?")}])
    assert problems(clash) == [
        ("sections[0].questions[0].id", "its form field 'visit-day' is already the id of sections[0].questions[1]; "
                                        "rename one of them"),
    ]


def test_answer_codes_may_use_any_alphabet():
    defn = load_definition(survey([choice("parent", ["père", "mère"])]))
    assert validate_response(defn, {"parent": "père"}, "en") == {"parent": "père"}


# ---------------------------------------------------------------------------------------------------------
# Numbers: exclusive bounds and ranges
# ---------------------------------------------------------------------------------------------------------


def test_exclusive_bounds():
    defn = load_definition(survey([{"type": "number", "id": "dose", "label": text("Dose"), "integer": False,
                                    "min": 0, "min_exclusive": True, "max": 10}]))  # fmt: skip
    assert validate_response(defn, {"dose": "0.5"}, "en") == {"dose": 0.5}
    assert validate_response(defn, {"dose": 10}, "en") == {"dose": 10}
    assert answer_problems(defn, {"dose": 0}) == [("dose", "Enter a number that is more than 0 and 10 or less")]
    assert problems(survey([{"type": "number", "id": "n", "label": text("N"), "max_exclusive": True}])) == [
        ("sections[0].questions[0].max_exclusive", "needs max"),
    ]


def test_a_range_takes_values_in_steps_from_its_start():
    defn = load_definition(survey([{"type": "number", "id": "pain", "label": text("Pain"), "integer": False,
                                    "min": 1, "max": 5, "step": 0.5}]))  # fmt: skip
    assert validate_response(defn, {"pain": "3.5"}, "en") == {"pain": 3.5}
    assert answer_problems(defn, {"pain": "3.25"}) == [("pain", "Enter a number from 1 to 5 in steps of 0.5")]
    assert answer_problems(defn, {"pain": 6}) == [("pain", "Enter a number from 1 to 5 in steps of 0.5")]
    assert problems(survey([{"type": "number", "id": "n", "label": text("N"), "min": 1, "step": 1}])) == [
        ("sections[0].questions[0].step", "needs both min and max (a range runs from min to max in steps)"),
    ]
    assert problems(survey([{"type": "number", "id": "n", "label": text("N"), "min": 1, "max": 2, "step": 5}])) == [
        ("sections[0].questions[0].step", "is larger than the range from min to max"),
    ]


# ---------------------------------------------------------------------------------------------------------
# Notes, answers shown back, defaults
# ---------------------------------------------------------------------------------------------------------


def test_notes_sit_between_questions_and_may_have_their_own_condition():
    data = survey([choice("rating", ["good", "poor"])],
                  [{"type": "short_text", "id": "why", "label": text("You said ${rating}: why?")}])
    data["sections"][1]["notes"] = [
        {"id": "sorry", "label": text("We are sorry to hear that."), "show_if": "rating = 'poor'", "before": "why"},
        {"id": "thanks", "label": text("Thank you.")},
    ]
    defn = load_definition(data)
    assert [n.id for n in defn.sections[1].notes] == ["sorry", "thanks"]
    predicate, reads = conditions(defn)["sorry"]
    assert reads == {"rating"} and predicate({"rating": "poor"}) and not predicate({"rating": "good"})
    data["sections"][1]["notes"][0]["before"] = "rating"
    assert problems(data) == [("sections[1].notes[0].before", "'rating' is not a question of this section")]


def test_text_can_show_answers_from_earlier_pages_only():
    assert piped_names("You said ${rating} and ${ why }") == ["rating", "why"]
    same_page = survey([choice("rating", ["good", "poor"]),
                        {"type": "short_text", "id": "why", "label": text("You said ${rating}: why?")}])
    assert problems(same_page) == [
        ("sections[0].questions[1].label", "shows ${rating}, which is answered on this page or a later one; text can "
                                           "only show answers from earlier pages (sections): move the question to an "
                                           "earlier section"),
    ]
    assert problems(survey([choice("q", ["a", "b"])], title=text("Hello ${q}"))) == [
        ("title", "shows ${q}, but nothing is answered yet where this text is shown"),
    ]
    assert problems(survey([choice("q", ["a", "b"], help=text("Costs ${5}"))])) == [
        ("sections[0].questions[0].help", "'${5}' is not a reference to an answer: write ${question_id}"),
    ]


@pytest.mark.parametrize(
    ("question", "default", "problem"),
    [
        (choice("q", ["a", "b"]), "a", None),
        (choice("q", ["a", "b"]), "c", "'c' is not an answer code of this question (codes: a, b)"),
        ({"type": "multiple_choice", "id": "q", "label": text("Q"), "options": [{"code": "a", "label": text("A")},
                                                                              {"code": "b", "label": text("B")}]},
         "a b", None),
        ({"type": "number", "id": "q", "label": text("Q"), "min": 0, "max": 10}, "11", "is outside the question's bounds"),
        ({"type": "number", "id": "q", "label": text("Q")}, "2.5", "must be a whole number"),
        ({"type": "scale_0_10", "id": "q", "label": text("Q")}, "7", None),
        ({"type": "date", "id": "q", "label": text("Q")}, "2024-02-30", "'2024-02-30' is not a date written YYYY-MM-DD"),
        ({"type": "short_text", "id": "q", "label": text("Q"), "max_length": 3}, "four", "is longer than the answer may be (3 characters)"),
    ],
)
def test_defaults_must_be_possible_answers(question, default, problem):
    data = survey([{**question, "default": default}])
    if problem is None:
        assert load_definition(data).sections[0].questions[0].default == default
    else:
        assert problems(data) == [("sections[0].questions[0].default", problem)]


# ---------------------------------------------------------------------------------------------------------
# Cascading choices
# ---------------------------------------------------------------------------------------------------------


def clinician_survey() -> dict[str, Any]:
    clinicians = choice("clinician", ["ahmed", "brown", "clark"], choice_filter={"site": "site"})
    for option, site in zip(clinicians["options"], ["north", "north", "south"]):
        option["filters"] = {"site": site}
    return survey([choice("site", ["north", "south"])], [clinicians])


def test_choice_filter_offers_only_the_answers_that_fit_earlier_ones():
    defn = load_definition(clinician_survey())
    compiled = CompiledSurvey(defn)
    assert compiled.offered("clinician", {"site": "north"}) == ["ahmed", "brown"]
    assert compiled.offered("clinician", {}) == []  # as in XLSForm: nothing fits an unanswered site
    assert validate_response(compiled, {"site": "south", "clinician": "clark"}, "en") == {"site": "south",
                                                                                        "clinician": "clark"}
    assert answer_problems(compiled, {"site": "south", "clinician": "ahmed"}) == [
        ("clinician", "Select one of the answers given"),
    ]


def test_choice_filter_by_a_multiple_choice_question_offers_what_was_selected():
    picked = {"type": "multiple_choice", "id": "problems", "label": text("Problems"),
              "options": [{"code": c, "label": text(c)} for c in ("phone", "parking", "staff")]}
    worst = {"type": "single_choice", "id": "worst", "label": text("Worst"), "choice_filter": {"name": "problems"},
             "options": [{"code": c, "label": text(c)} for c in ("phone", "parking", "staff")]}
    compiled = CompiledSurvey(load_definition(survey([picked], [worst])))
    assert compiled.offered("worst", {"problems": ["phone", "staff"]}) == ["phone", "staff"]


def test_choice_filter_must_use_an_earlier_page():
    data = clinician_survey()
    data["sections"][0]["questions"] += data["sections"].pop(1)["questions"]
    assert problems(data) == [
        ("sections[0].questions[1].choice_filter", "filters by 'site', which is answered on this page or a later one; "
                                                   "the answers offered can only depend on earlier pages (sections)"),
    ]


# ---------------------------------------------------------------------------------------------------------
# Calculations
# ---------------------------------------------------------------------------------------------------------


def bmi_survey() -> dict[str, Any]:
    return survey(
        [{"type": "number", "id": "weight", "label": text("Weight (kg)"), "integer": False},
         {"type": "number", "id": "height", "label": text("Height (m)"), "integer": False}],
        [{"type": "short_text", "id": "advice", "label": text("Your BMI is ${bmi}. Would you like advice?"),
          "show_if": "bmi >= 30"}],
        calculations=[{"id": "bmi", "calculation": "round(${weight} div (${height} * ${height}), 1)"}],
    )  # fmt: skip


def test_a_calculation_feeds_skip_logic_on_the_hot_path_and_in_results():
    defn = load_definition(bmi_survey())
    compiled = CompiledSurvey(defn)
    assert validate_response(compiled, {"weight": "120", "height": "1.8", "advice": "Yes"}, "en")["advice"] == "Yes"
    assert answer_problems(compiled, {"weight": "60", "height": "1.8", "advice": "Yes"}) == [
        ("advice", "This question was not asked, given the earlier answers, so it cannot be answered"),
    ]
    assert conditions(defn)["advice"][1] == {"weight", "height"}  # the answers the results factorise by
    results = collate(defn, [{"weight": 120, "height": 1.8, "advice": "Yes"}, {"weight": 60, "height": 1.8}])
    assert results["questions"]["advice"]["not_shown"] == 1


def test_calculations_are_checked():
    data = bmi_survey()
    data["calculations"] = [{"id": "bmi", "calculation": "${weight} div ${loop}"},
                            {"id": "loop", "calculation": "${bmi} + 1"}]
    assert problems(data) == [
        ("calculations[0].calculation", "depends on itself: bmi -> loop -> bmi"),
        ("calculations[1].calculation", "depends on itself: loop -> bmi -> loop"),
    ]
    data["calculations"] = [{"id": "bmi", "calculation": "today() - ${weight}"}]
    assert problems(data)[0][1].startswith("cannot be read: at character 1: the function today() is not supported")
    late = bmi_survey()
    late["sections"][0]["questions"][0]["show_if"] = "bmi > 1"
    assert ("sections[0].questions[0].show_if",
            "refers to 'bmi', a calculation that uses 'height', which comes later; skip logic can only use earlier "
            "answers") in problems(late)
    with pytest.raises(CalculationError, match="expected"):
        parse_calculation("${a} +")


def test_same_page_conditions_follow_calculations():
    data = bmi_survey()
    data["sections"][0]["questions"] += data["sections"].pop(1)["questions"]
    data["sections"][0]["questions"][2]["label"] = text("Would you like advice?")
    assert same_page_conditions(load_definition(data)) == {"advice"}


# ---------------------------------------------------------------------------------------------------------
# What the web form shows (surveys.form_view)
# ---------------------------------------------------------------------------------------------------------


def test_the_form_shows_earlier_answers_as_the_patient_reads_them():
    data = survey(
        [choice("rating", ["good", "poor"]),
         {"type": "multiple_choice", "id": "problems", "label": text("Problems"),
          "options": [{"code": "phone", "label": {"en": "The phone", "pl": "Telefon"}},
                      {"code": "wait", "label": {"en": "Waiting", "pl": "Czekanie"}}]},
         {"type": "date", "id": "visit", "label": text("When?")},
         {"type": "number", "id": "cost", "label": text("Cost"), "integer": False}],
        [{"type": "short_text", "id": "why", "label": text("You said ${rating} about ${problems} on ${visit} (${cost})."),
          "help": text("Twice: ${twice}")}],
        languages=["en", "pl"], calculations=[{"id": "twice", "calculation": "${cost} * 2"}],
    )  # fmt: skip
    compiled = CompiledSurvey(load_definition(data))
    answers = {"rating": "poor", "problems": ["phone", "wait"], "visit": {"day": "3", "month": "11", "year": "2026"},
               "cost": "1.5"}
    why = compiled.definition.sections[1].questions[0]
    english = FormView(compiled, answers, "en", prefill=False, page={"why"})
    assert english.text(why.label) == "You said Poor about The phone, Waiting on November 3, 2026 (1.5)."
    assert english.text(why.help) == "Twice: 3"
    polish = FormView(compiled, {**answers, "cost": "1,5"}, "pl", prefill=False, page={"why"})
    assert polish.text(why.label) == "You said Poor about Telefon, Czekanie on 3 listopada 2026 (1,5)."
    nothing = FormView(compiled, {}, "en", prefill=False, page={"why"})
    assert nothing.text(why.label) == "You said  about  on  ()."


def test_the_form_fills_in_defaults_only_on_a_first_showing_and_rows_a_range():
    data = survey([choice("site", ["north", "south"], default="north"),
                   {"type": "number", "id": "pain", "label": text("Pain"), "integer": False, "min": 0, "max": 2,
                    "step": 0.5},
                   {"type": "number", "id": "wide", "label": text("Wide"), "min": 0, "max": 100, "step": 1}])
    compiled = CompiledSurvey(load_definition(data))
    site, pain, wide = compiled.definition.questions()
    assert FormView(compiled, {}, "en", prefill=True, page=set()).answer(site) == "north"
    assert FormView(compiled, {}, "en", prefill=False, page=set()).answer(site) is None
    assert FormView(compiled, {"site": "south"}, "en", prefill=True, page=set()).answer(site) == "south"
    view = FormView(compiled, {}, "en", prefill=True, page=set())
    assert view.range_values(pain) == ["0", "0.5", "1", "1.5", "2"]
    assert view.range_values(wide) is None  # 101 values: a number box


def test_notes_on_the_page_follow_their_conditions():
    data = survey([choice("rating", ["good", "poor"])],
                  [{"type": "short_text", "id": "why", "label": text("Why?")}])
    data["sections"][1]["notes"] = [{"id": "sorry", "label": text("Sorry."), "show_if": "rating = 'poor'",
                                     "before": "why"}]
    compiled = CompiledSurvey(load_definition(data))
    section = compiled.definition.sections[1]
    assert [n.id for n in FormView(compiled, {"rating": "poor"}, "en", prefill=False, page={"why"}).notes(section, "why")] == ["sorry"]
    assert FormView(compiled, {"rating": "good"}, "en", prefill=False, page={"why"}).notes(section, "why") == []


def test_new_answer_messages_are_translated():
    polish = words("pl")
    assert polish.message("Enter a number from 1 to 5 in steps of 0.5", within="answer.") == "Wpisz liczbę od 1 do 5 co 0.5"
    assert polish.message("Enter a number that is more than 0 and 10 or less", within="answer.") == (
        "Wpisz liczbę większą niż 0 i nie większą niż 10")
