"""The scheme years as data: the DES years 2011/12 to 2014/15 and the contractual years since, read from
scheme_years.json (components and their weights, report sections, deadlines, the rate per patient), and the
days left to each deadline. Pure: no database."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from prg.des import schemas
from prg.des.schemas import SchemeYear
from prg.errors import NotFound

DATA_FILE = Path(__file__).parent / "scheme_years.json"


def year_code_for(day: date) -> str:
    """The financial year (1 April to 31 March) a day falls in, as "2026-27"."""
    start = day.year if day >= date(day.year, 4, 1) else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _start_year(code: str) -> int:
    return int(code[:4])


def _deadlines(start: int, end_of_year_return: dict[str, Any] | None) -> list[schemas.Deadline]:
    deadlines = [schemas.Deadline("report_on_website", "Report published on the practice website",
                                  date(start + 1, 3, 31), True)]
    if end_of_year_return:
        deadlines.append(schemas.Deadline(
            "end_of_year_return", "End-of-year return to the commissioner",
            date(start + 1, end_of_year_return["month"], end_of_year_return["day"]),
            end_of_year_return["confirmed"], end_of_year_return.get("note", "")))
    return deadlines


def _components(raw: list[dict[str, Any]], weights: dict[str, list[Any]] | None) -> list[schemas.Component]:
    out = []
    for c in raw:
        weight, confirmed = (weights or {}).get(c["key"], (None, True))
        out.append(schemas.Component(c["key"], c["title"], weight, confirmed, c.get("required", True), c["next_step"]))
    return out


def _build_years(data: dict[str, Any], today: date) -> list[SchemeYear]:
    years = []
    des_sections = [schemas.ReportSection(**s) for s in data["des_report_sections"]]
    for y in data["years"]:
        start = _start_year(y["code"])
        years.append(SchemeYear(
            code=y["code"], title=y["title"], kind=y["kind"], starts_on=date(start, 4, 1),
            ends_on=date(start + 1, 3, 31),
            components=_components(y.get("components", data["des_components"]), y.get("weights")),
            report_sections=[schemas.ReportSection(**s) for s in y["report_sections"]] if "report_sections" in y
            else des_sections,
            deadlines=_deadlines(start, y.get("end_of_year_return")),
            rate_per_patient=float(y["rate_per_patient"]) if y.get("rate_per_patient") else None,
            rate_confirmed=y["rate_confirmed"], rate_note=y.get("rate_note", ""),
            list_size_reference_date=date(start, 4, 1), survey_kind=y.get("survey_kind", "any"), notes=y["notes"],
        ))
    template = data["contract_template"]
    last = _start_year(year_code_for(today))
    for start in range(template["first_start_year"], last + 1):
        code = f"{start}-{(start + 1) % 100:02d}"
        years.append(SchemeYear(
            code=code, title=template["title"].format(label=f"{start}/{(start + 1) % 100:02d}"),
            kind=template["kind"], starts_on=date(start, 4, 1), ends_on=date(start + 1, 3, 31),
            components=_components(template["components"], None),
            report_sections=[schemas.ReportSection(**s) for s in template["report_sections"]],
            deadlines=_deadlines(start, None), rate_per_patient=None, rate_confirmed=True, rate_note="",
            list_size_reference_date=date(start, 4, 1), survey_kind="any", notes=template["notes"],
        ))
    return years


@lru_cache(maxsize=4)
def _years_on(today: date) -> tuple[SchemeYear, ...]:
    return tuple(_build_years(json.loads(DATA_FILE.read_text()), today))


def scheme_years(today: date | None = None) -> list[SchemeYear]:
    """Every scheme year from 2011-12 to the current financial year, oldest first."""
    return list(_years_on(today or date.today()))


def scheme_year(code: str, today: date | None = None) -> SchemeYear:
    """One scheme year by its code ("2013-14"); NotFound for a year the product does not know."""
    for year in _years_on(today or date.today()):
        if year.code == code:
            return year
    raise NotFound(f"No scheme year {code!r}: years run from 2011-12 to {year_code_for(today or date.today())}.")


def deadline_statuses(year: SchemeYear, today: date) -> list[schemas.DeadlineStatus]:
    """Each deadline of the year with the days left from `today` (negative once passed)."""
    return [schemas.DeadlineStatus(d.key, d.title, d.due_on, d.confirmed, (d.due_on - today).days, d.note)
            for d in year.deadlines]
