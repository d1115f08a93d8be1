"""Scheme years as data: the years known, their dates, deadlines, rates and weights, one test per year."""

from __future__ import annotations

from datetime import date

import pytest

from prg.des.scheme_years import deadline_statuses, scheme_year, scheme_years, year_code_for
from prg.errors import NotFound

TODAY = date(2026, 11, 24)
DES = ["2011-12", "2012-13", "2013-14"]
CONTRACT = [f"{y}-{(y + 1) % 100:02d}" for y in range(2015, 2027)]


def test_years_run_from_the_des_to_the_current_year():
    codes = [y.code for y in scheme_years(TODAY)]
    assert codes == DES + ["2014-15"] + CONTRACT
    assert codes[-1] == "2026-27" == year_code_for(TODAY)
    assert year_code_for(date(2027, 3, 31)) == "2026-27" and year_code_for(date(2027, 4, 1)) == "2027-28"
    assert [y.code for y in scheme_years(date(2027, 4, 1))][-1] == "2027-28"
    with pytest.raises(NotFound):
        scheme_year("2027-28", TODAY)
    with pytest.raises(NotFound):
        scheme_year("2010-11", TODAY)


# (code, report deadline, days to it from TODAY, end-of-year return or None, rate, kind)
EXPECTED = [
    ("2011-12", date(2012, 3, 31), -5351, date(2012, 4, 30), 1.10, "des"),
    ("2012-13", date(2013, 3, 31), -4986, date(2013, 4, 30), 1.10, "des"),
    ("2013-14", date(2014, 3, 31), -4621, date(2014, 4, 30), 1.10, "des"),
    ("2014-15", date(2015, 3, 31), -4256, date(2015, 4, 30), 0.35, "enhanced_service"),
] + [(code, date(int(code[:4]) + 1, 3, 31), (date(int(code[:4]) + 1, 3, 31) - TODAY).days, None, None, "contract")
     for code in CONTRACT]


@pytest.mark.parametrize(("code", "report_due", "days", "return_due", "rate", "kind"), EXPECTED,
                         ids=[e[0] for e in EXPECTED])
def test_each_year_dates_deadlines_and_rate(code, report_due, days, return_due, rate, kind):
    year = scheme_year(code, TODAY)
    start = int(code[:4])
    assert (year.starts_on, year.ends_on) == (date(start, 4, 1), date(start + 1, 3, 31))
    assert year.list_size_reference_date == date(start, 4, 1) and year.kind == kind
    deadlines = {d.key: d for d in deadline_statuses(year, TODAY)}
    assert deadlines["report_on_website"].due_on == report_due and deadlines["report_on_website"].confirmed
    assert deadlines["report_on_website"].days_remaining == days
    if return_due is None:
        assert "end_of_year_return" not in deadlines and year.rate_per_patient is None
    else:
        ret = deadlines["end_of_year_return"]
        assert ret.due_on == return_due and not ret.confirmed and ret.note  # sources differ: marked so
        assert ret.days_remaining == (return_due - TODAY).days
        assert year.rate_per_patient == rate
    assert [c.key for c in year.components] == ["prg", "priorities", "survey", "discussion", "action_plan", "report"]


def test_the_current_years_deadline_counts_down():
    year = scheme_year("2026-27", TODAY)
    assert deadline_statuses(year, TODAY)[0].days_remaining == 127  # 24 Nov 2026 -> 31 Mar 2027
    assert deadline_statuses(year, date(2027, 3, 31))[0].days_remaining == 0


def test_des_weights_and_uncertain_values_are_marked():
    first = scheme_year("2011-12", TODAY)
    assert first.component("prg").weight == 0.20 and first.component("prg").weight_confirmed
    assert abs(sum(c.weight for c in first.components) - 1) < 1e-9
    assert not first.component("survey").weight_confirmed
    assert scheme_year("2012-13", TODAY).component("prg").weight == 0.0
    es = scheme_year("2014-15", TODAY)
    assert not es.rate_confirmed and "33p" in es.rate_note and es.survey_kind == "fft"
    assert abs(sum(c.weight for c in es.components) - 1) < 1e-9
    # The Local Patient Participation Report's 10 items in the DES years; the template's sections in 2014/15.
    assert len(first.report_sections) == 10 and [s.confirmed for s in first.report_sections[:5]] == [True] * 5
    assert any("17-24" in s.title for s in es.report_sections)
    contract = scheme_year("2020-21", TODAY)
    assert {c.key for c in contract.components if c.required} == {"prg", "discussion", "action_plan"}
