"""Friends and Family Test counting on hand-made frames: exact numbers, both wordings."""

from __future__ import annotations

import csv
import io
from datetime import date

import pandas as pd
import pytest

from prg.errors import InvalidInput
from surveys.bank import survey_from_bank
from surveys.definition import load_definition
from surveys.fft import WORDINGS, find_fft_question, monthly_counts, parse_month, write_monthly_return

W2020, W2014 = WORDINGS


def from_bank(*ids: str) -> object:
    return survey_from_bank({"en": "T"}, [("s", None, list(ids))])


def definition(*questions: dict) -> object:
    return load_definition({"title": {"en": "T"}, "sections": [{"id": "s", "questions": list(questions)}]})


def frame(rows: list[tuple[str, str, str | None]], qid: str = "fft") -> pd.DataFrame:
    return pd.DataFrame({"submitted_on": pd.to_datetime([r[0] for r in rows]),
                         "mode": [r[1] for r in rows], qid: pd.Series([r[2] for r in rows], dtype=object)})


# June 2025: kiosk 3 very_good, 1 good, 1 poor, 1 dont_know; paper 1 neither, 1 very_poor, 1 good;
# one kiosk response without an FFT answer; plus responses on 31 May and 1 July that must not count.
JUNE_2020 = [
    ("2025-06-01", "kiosk", "very_good"), ("2025-06-02", "kiosk", "very_good"), ("2025-06-30", "kiosk", "very_good"),
    ("2025-06-10", "kiosk", "good"), ("2025-06-11", "kiosk", "poor"), ("2025-06-12", "kiosk", "dont_know"),
    ("2025-06-05", "paper", "neither"), ("2025-06-06", "paper", "very_poor"), ("2025-06-07", "paper", "good"),
    ("2025-06-15", "kiosk", None),
    ("2025-05-31", "kiosk", "very_poor"), ("2025-07-01", "paper", "very_good"),
]


def by_mode(result: dict) -> dict[str, dict]:
    return {m["mode"]: m for m in result["modes"]}


def test_counts_per_category_and_mode_2020_wording():
    result = monthly_counts(frame(JUNE_2020), "fft", W2020.codes, "2025-06")
    assert result["month"] == "2025-06" and result["wording"] == "2020"
    assert [c["label"] for c in result["categories"]] == ["Very good", "Good", "Neither good nor poor", "Poor",
                                                          "Very poor", "Don't know"]
    assert result["responses"] == 10 and result["not_answered"] == 1
    modes = by_mode(result)
    assert list(modes) == ["web", "paper", "kiosk", "sms", "email"]
    kiosk = modes["kiosk"]
    assert kiosk["counts"] == {"very_good": 3, "good": 1, "neither": 0, "poor": 1, "very_poor": 0}
    assert kiosk["dont_know"] == 1 and kiosk["total"] == 6 and kiosk["base_excluding_dont_know"] == 5
    assert kiosk["top_two_share"] == pytest.approx(4 / 5) and kiosk["bottom_two_share"] == pytest.approx(1 / 5)
    paper = modes["paper"]
    assert paper["counts"] == {"very_good": 0, "good": 1, "neither": 1, "poor": 0, "very_poor": 1}
    assert paper["dont_know"] == 0 and paper["total"] == 3
    assert paper["top_two_share"] == pytest.approx(1 / 3) and paper["bottom_two_share"] == pytest.approx(1 / 3)
    assert modes["web"]["total"] == 0 and modes["web"]["top_two_share"] is None
    total = result["total"]
    assert total["counts"] == {"very_good": 3, "good": 2, "neither": 1, "poor": 1, "very_poor": 1}
    assert total["dont_know"] == 1 and total["total"] == 9 and total["base_excluding_dont_know"] == 8
    # Shares exclude "Don't know": 5 of 8, not 5 of 9.
    assert total["top_two"] == 5 and total["top_two_share"] == pytest.approx(5 / 8)
    assert total["bottom_two"] == 2 and total["bottom_two_share"] == pytest.approx(2 / 8)


def test_counts_2014_wording_and_unknown_modes():
    rows = [("2024-02-29", "sms", "extremely_likely"), ("2024-02-01", "sms", "likely"),
            ("2024-02-14", "web", "extremely_unlikely"), ("2024-02-14", "web", "dont_know"),
            ("2024-02-20", "web", "dont_know"), ("2024-03-01", "web", "likely")]
    result = monthly_counts(frame(rows, "rec"), "rec", W2014.codes, date(2024, 2, 17))
    assert result["month"] == "2024-02" and result["wording"] == "2014" and result["question"] == "rec"
    modes = by_mode(result)
    assert modes["sms"]["counts"] == {"extremely_likely": 1, "likely": 1, "neither": 0, "unlikely": 0,
                                      "extremely_unlikely": 0}
    assert modes["sms"]["top_two_share"] == 1.0 and modes["sms"]["bottom_two_share"] == 0.0
    assert modes["web"]["dont_know"] == 2 and modes["web"]["total"] == 3
    assert modes["web"]["top_two_share"] == 0.0 and modes["web"]["bottom_two_share"] == 1.0
    assert result["total"]["total"] == 5 and result["total"]["top_two_share"] == pytest.approx(2 / 3)


def test_only_dont_know_gives_no_share_and_empty_frame_gives_zeros():
    result = monthly_counts(frame([("2025-01-03", "paper", "dont_know")]), "fft", W2020.codes, "2025-01")
    assert result["total"]["total"] == 1 and result["total"]["top_two_share"] is None
    empty = monthly_counts(pd.DataFrame(), "fft", W2020.codes, "2025-01")
    assert empty["responses"] == 0 and empty["total"]["total"] == 0 and empty["total"]["bottom_two_share"] is None


def test_monthly_return_csv():
    result = monthly_counts(frame(JUNE_2020), "fft", W2020.codes, "2025-06")
    rows = list(csv.reader(io.StringIO(write_monthly_return(result, "Y90001"))))
    assert rows[0] == ["practice_code", "month", "mode", "Very good", "Good", "Neither good nor poor", "Poor",
                       "Very poor", "Don't know", "Total"]
    assert rows[1:] == [
        ["Y90001", "2025-06", "web", "0", "0", "0", "0", "0", "0", "0"],
        ["Y90001", "2025-06", "paper", "0", "1", "1", "0", "1", "0", "3"],
        ["Y90001", "2025-06", "kiosk", "3", "1", "0", "1", "0", "1", "6"],
        ["Y90001", "2025-06", "sms", "0", "0", "0", "0", "0", "0", "0"],
        ["Y90001", "2025-06", "email", "0", "0", "0", "0", "0", "0", "0"],
        ["Y90001", "2025-06", "Total", "3", "2", "1", "1", "1", "1", "9"],
    ]


def test_find_fft_question_either_wording_first_wins():
    found = find_fft_question(from_bank("fft_2020_reason", "fft_2014_recommend", "fft_2020_experience"), "1")
    assert found.question_id == "fft_2014_recommend" and found.wording.name == "2014"
    found = find_fft_question(from_bank("fft_2020_experience", "fft_2014_recommend"), "1")
    assert found.question_id == "fft_2020_experience" and found.wording.name == "2020"


def test_no_fft_question_names_the_survey():
    other = {"type": "single_choice", "id": "q", "label": {"en": "Q"},
             "options": [{"code": "very_good", "label": {"en": "A"}}, {"code": "good", "label": {"en": "B"}}]}
    with pytest.raises(InvalidInput) as raised:
        find_fft_question(definition(other), "7 ('Waiting room')")
    assert "7 ('Waiting room')" in raised.value.detail


@pytest.mark.parametrize("bad", ["2025-13", "2025-00", "2025-6", "0000-01", "25-06", "2025/06", "abcd-ef", ""])
def test_bad_months_are_refused_naming_month(bad):
    with pytest.raises(InvalidInput) as raised:
        parse_month(bad)
    assert raised.value.errors[0].field == "month"


def test_codes_must_be_an_fft_wording():
    with pytest.raises(InvalidInput):
        monthly_counts(frame(JUNE_2020), "fft", ["yes", "no"], "2025-06")
