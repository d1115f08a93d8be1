"""The question bank: valid, translated, worded as the NHS words it, and tagged for population comparison."""

from __future__ import annotations

import pytest

from prg.errors import NotFound
from prg.population.dimensions import DES_TEMPLATE, HIGH_LEVEL_GROUPS
from surveys.answers import CompiledSurvey
from surveys.bank import (
    bank_collections,
    bank_languages,
    bank_problems,
    bank_question,
    bank_questions,
    survey_from_bank,
    translation_template,
)
from surveys.definition import (
    MultipleChoiceQuestion,
    RatingGridQuestion,
    SingleChoiceQuestion,
    text_for,
    validate_definition,
)


def _labels(question_id: str, lang: str = "en") -> list[str]:
    q = bank_question(question_id).question
    return [o.label[lang] for o in q.options]  # type: ignore[union-attr]


def _texts(question):
    yield question.label
    if question.help:
        yield question.help
    for option in getattr(question, "options", []):
        yield option.label
    for row in getattr(question, "rows", []):
        yield row.label


def test_the_bank_data_files_are_healthy():
    assert bank_problems() == []


def test_every_bank_question_validates_in_every_shipped_language():
    assert bank_languages() == ["en", "pl"]
    sections = [(c.id, None, c.question_ids) for c in bank_collections()]
    for languages, default in ((["en"], "en"), (["pl"], "pl"), (["en", "pl"], "en"), (["pl", "en"], "pl")):
        defn = survey_from_bank({default: "Bank"}, sections, languages=languages, default_language=default)
        assert validate_definition(defn) == []
        CompiledSurvey(defn)  # and compiles for the submission path
    assert len(bank_questions()) == sum(len(c.question_ids) for c in bank_collections())


def test_every_bank_text_is_in_english_and_polish():
    for item in bank_questions():
        for text in _texts(item.question):
            assert set(text) == {"en", "pl"}, (item.id, text)
            assert text["en"].strip() and text["pl"].strip()


def test_polish_is_a_translation_not_a_copy():
    for item in bank_questions():
        assert item.question.label["pl"] != item.question.label["en"], item.id
    assert "ą" in "".join(t["pl"] for q in bank_questions() for t in _texts(q.question))  # real Polish letters


def test_friends_and_family_test_2020_wording():
    q = bank_question("fft_2020_experience").question
    assert isinstance(q, SingleChoiceQuestion) and q.required
    assert q.label["en"] == "Overall, how was your experience of our service?"
    assert _labels("fft_2020_experience") == [
        "Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know",
    ]  # fmt: skip
    assert q.top_box == ["very_good", "good"]
    follow_up = bank_question("fft_2020_reason").question
    assert follow_up.label["en"] == "Please can you tell us why you gave your answer?"


def test_friends_and_family_test_2014_wording():
    q = bank_question("fft_2014_recommend").question
    assert q.label["en"] == (
        "How likely are you to recommend our GP practice to friends and family if they needed similar care or treatment?"
    )
    assert _labels("fft_2014_recommend") == [
        "Extremely likely", "Likely", "Neither likely nor unlikely", "Unlikely", "Extremely unlikely", "Don't know",
    ]  # fmt: skip
    assert bank_question("fft_2014_reason").question.label["en"].startswith("Please can you tell us")


def test_gp_patient_survey_style_core():
    ids = [q.id for q in bank_questions(collection="gpps_core")]
    assert ids == [
        "gpps_overall_experience", "gpps_phone_ease", "gpps_booking_experience", "gpps_reception_helpful",
        "gpps_opening_hours", "gpps_clinical_care",
    ]  # fmt: skip
    assert bank_question("gpps_overall_experience").question.label["en"] == (
        "Overall, how would you describe your experience of your GP practice?"
    )
    assert _labels("gpps_overall_experience") == [
        "Very good", "Fairly good", "Neither good nor poor", "Fairly poor", "Very poor",
    ]  # fmt: skip
    grid = bank_question("gpps_clinical_care").question
    assert isinstance(grid, RatingGridQuestion)
    assert [r.label["en"] for r in grid.rows] == [
        "Listening to you",
        "Giving you enough time",
        "Treating you with care and concern",
        "Involving you as much as you wanted in decisions about your care and treatment",
        "Being someone you could have confidence and trust in",
    ]


def test_des_priorities_cover_every_area():
    topics = {q.topic for q in bank_questions(collection="des_priorities")}
    assert topics >= {"access", "appointments", "telephone", "opening_hours", "reception", "environment", "communication"}
    assert [q.id for q in bank_questions(topic="telephone")] == ["gpps_phone_ease", "des_telephone_wait"]


def test_demographic_questions_map_to_population_groups():
    demo = {q.id: q.question for q in bank_questions(collection="demographics")}
    assert set(demo) == {"demo_sex", "demo_age_band", "demo_ethnicity", "demo_carer"}
    for q in demo.values():
        assert isinstance(q, SingleChoiceQuestion) and q.dimension is not None
        assert "prefer_not" in [o.code for o in q.options]
        assert "prefer_not" not in q.dimension.groups  # never compared with the population
    assert demo["demo_sex"].dimension.groups == {"female": "female", "male": "male"}
    # Age bands are exactly the DES template bands the population profile uses.
    assert list(demo["demo_age_band"].dimension.groups.values()) == DES_TEMPLATE.labels
    assert _labels("demo_age_band")[:8] == [
        "Under 16", "16 to 24", "25 to 34", "35 to 44", "45 to 54", "55 to 64", "65 to 74", "75 or over",
    ]  # fmt: skip
    assert list(demo["demo_ethnicity"].dimension.groups.values()) == list(HIGH_LEVEL_GROUPS)
    assert demo["demo_carer"].dimension.name == "custom:carer"


def test_multiple_choice_bank_questions_say_select_all():
    for item in bank_questions():
        if isinstance(item.question, MultipleChoiceQuestion):
            assert item.question.help["en"] == "Select all that apply.", item.id


def test_unknown_bank_question():
    with pytest.raises(NotFound, match="no question 'fft_1999'"):
        bank_question("fft_1999")


def test_a_survey_from_the_bank_keeps_only_its_languages():
    defn = survey_from_bank(
        {"en": "Friends and Family Test"},
        [("fft", None, ["fft_2020_experience", "fft_2020_reason"]),
         ("about", {"en": "About you"}, ["demo_sex", "demo_age_band"])],
    )  # fmt: skip
    assert defn.languages == ["en"]
    assert defn.sections[0].questions[0].label == {"en": "Overall, how was your experience of our service?"}
    polish = survey_from_bank(
        {"pl": "Test FFT"}, [("fft", None, ["fft_2020_experience"])], languages=["pl"], default_language="pl"
    )
    first = polish.sections[0].questions[0]
    assert text_for(first.label, "pl") == (
        "Ogólnie rzecz biorąc, jak ocenia Pan/Pani swoje doświadczenia z naszymi usługami?"
    )
    assert [text_for(o.label, "pl") for o in first.options] == [
        "Bardzo dobrze", "Dobrze", "Ani dobrze, ani źle", "Źle", "Bardzo źle", "Nie wiem",
    ]  # fmt: skip


def test_a_translator_starts_from_a_template():
    urdu = translation_template("ur")
    assert urdu["texts"] == {}
    assert urdu["missing"]["fft_2020_experience.label"] == "Overall, how was your experience of our service?"
    assert urdu["missing"]["gpps_clinical_care.rows.listening"] == "Listening to you"
    assert urdu["missing"]["demo_sex.options.prefer_not"] == "Prefer not to say"
    polish = translation_template("pl")
    assert polish["missing"] == {}
    assert len(polish["texts"]) == len(urdu["missing"])
