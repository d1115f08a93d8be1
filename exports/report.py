"""The Local Patient Participation Report for a practice and scheme year: gathered from the data, then
rendered as one self-contained accessible HTML page (inline CSS and SVG charts, nothing fetched) and
as a DOCX document.

The sections are the scheme year's own list (`prg.des` scheme-year data: ten for the DES years, the
reporting template's for 2014/15). Each section is filled from what the system holds (the register and
representativeness check, recruitment records, priorities, the engagement log, the action plan, the
survey and its published results, the practice's opening and extended hours). A section with nothing
behind it is *flagged as missing*, never invented. Published numbers follow disclosure control: member
counts from 1 to the suppression threshold minus one are shown as "fewer than N" (with their shares),
plus the secondary suppression the representativeness check names; survey figures are the results
API's `publish=true` figures (withheld questions say so).

Text typed by staff (priorities, decisions, action items, hours) reaches the page only through Jinja's
autoescape and python-docx's text runs, so it can never be markup or a field code.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from docx import Document
from piccolo.query.functions.aggregate import Count, Max, Min

from exports.safe import clean_cell_text, gb_date
from prg.accounts.schemas import PracticeOut
from prg.accounts.services import PracticeAccess, get_practice
from prg.des.records import list_action_items, list_meetings, list_priorities
from prg.des.scheme_years import scheme_year
from prg.errors import DomainError, NotFound
from prg.members.rules import in_group_on
from prg.members.services import register_rows
from prg.pages import render
from prg.recruitment import services as recruitment
from prg.representativeness import services as representativeness
from prg.settings import get_settings
from surveys.definition import SingleChoiceQuestion, load_definition, text_for
from surveys.results import survey_results
from surveys.tables import Survey, SurveyResponse, SurveyVersion

MISSING = "missing"
FILLED = "filled"


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class Chart:
    """A grouped bar chart: categories, and per series (name, shares 0..1 or None when suppressed)."""

    title: str
    categories: list[str]
    series: list[tuple[str, list[float | None]]]


@dataclass
class Section:
    key: str
    title: str
    status: str = FILLED
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    missing_note: str = ""


@dataclass
class ReportData:
    ods_code: str
    practice_name: str
    year_code: str
    year_title: str
    starts_on: date
    ends_on: date
    generated_on: date
    threshold: int
    website: str
    sections: list[Section]
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[Section]:
        return [s for s in self.sections if s.status == MISSING]


# --- gathering ---------------------------------------------------------------------------------------------

def _pct(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.0f}%"


def _year(code: str) -> tuple[str, date, date, list[tuple[str, str]], list[str]]:
    """Title, dates, sections and notes of a scheme year (prg.des's scheme-year data)."""
    year = scheme_year(code)
    return (year.title, year.starts_on, year.ends_on, [(s.key, s.title) for s in year.report_sections],
            list(year.notes))


async def _check(access: PracticeAccess, as_at: date, **spec: str):
    try:
        return await representativeness.check(access, representativeness.parse_spec(**spec, as_at=as_at))
    except (NotFound, DomainError):
        return None


def _suppressed_rows(result, threshold: int) -> tuple[list[list[str]], list[float | None], list[float | None]]:
    hidden = set(result.secondary_suppression)
    rows, practice, prg = [], [], []
    for g in result.groups:
        small = g.suppressed or g.group in hidden or g.label in hidden
        rows.append([g.label, _pct(g.population_share), f"fewer than {threshold}" if small else str(g.members),
                     "suppressed" if small else _pct(g.member_share)])
        practice.append(g.population_share)
        prg.append(None if small else g.member_share)
    return rows, practice, prg


async def _prg_profile(access: PracticeAccess, section: Section, members: list[dict[str, Any]], threshold: int,
                       as_at: date) -> None:
    """The group as it was on `as_at` (the year's last day, or today while the year runs), against the
    population extract nearest before it."""
    active = [m for m in members if in_group_on(m, as_at)]
    if not active:
        section.status, section.missing_note = MISSING, f"No members were in the PRG register on {gb_date(as_at)}."
        return
    by_kind = {k: sum(1 for m in active if m["participation"] == k) for k in ("core", "virtual", "both")}
    section.paragraphs.append(
        f"On {gb_date(as_at)} the group had {len(active)} members: {by_kind['core']} meet in person, "
        f"{by_kind['virtual']} take part virtually (by e-mail or text) and {by_kind['both']} do both.")
    found_any = False
    for title, spec in (("Age band", {"dimension": "age", "bands": "des"}), ("Sex", {"dimension": "sex"}),
                        ("Ethnic group", {"dimension": "ethnicity", "level": "high_level"})):
        result = await _check(access, as_at, **spec)
        if result is None:
            continue
        found_any = True
        rows, practice, prg = _suppressed_rows(result, threshold)
        caption = (f"{title}: practice patients ({result.profile.extract_date:%B %Y}) against PRG members")
        section.tables.append(Table(caption, [title, "Practice %", "PRG members", "PRG %"], rows))
        if title != "Sex":
            section.charts.append(Chart(f"Practice and PRG by {title.lower()}", [g.label for g in result.groups],
                                        [("Practice", practice), ("PRG", prg)]))
    if not found_any:
        section.paragraphs.append("No practice population profile has been imported, so the group is not yet "
                                  "compared with the registered list.")


async def _representative_steps(access: PracticeAccess, section: Section, members: list[dict[str, Any]],
                                starts_on: date, ends_on: date, as_at: date, threshold: int) -> None:
    result = await _check(access, as_at, dimension="age", bands="des")
    if result is not None:
        section.items.extend(result.findings[:6])
    for c in await recruitment.list_campaigns(access, starts_on, ends_on):
        counts = [f"{c.total_sent} sent"] if c.total_sent else []
        counts.append(f"{c.joined if c.joined == 0 or c.joined >= threshold else f'fewer than {threshold}'} joined")
        section.items.append(f"{gb_date(c.sent_on)}: {c.name} ({', '.join([c.channel.replace('_', ' '), *counts])})")
    joined = [m for m in members if m["joined_on"] and starts_on <= m["joined_on"] <= ends_on]
    channels: dict[str, int] = {}
    for m in joined:
        channels[m["recruitment_channel"]] = channels.get(m["recruitment_channel"], 0) + 1
    if channels:
        section.paragraphs.append("Members who joined during the year were recruited through: " + ", ".join(
            f"{name.replace('_', ' ')} ({n})" for name, n in sorted(channels.items(), key=lambda x: -x[1])) + ".")
    if not section.items and not section.paragraphs:
        section.status = MISSING
        section.missing_note = "No recruitment steps are recorded for the year (no campaigns, no members joining)."


async def _priorities(access: PracticeAccess, section: Section, year_code: str) -> None:
    priorities = await list_priorities(access, year_code)
    if not priorities:
        section.status = MISSING
        section.missing_note = "No priorities are recorded for the year."
        return
    rows = []
    for p in priorities:
        agreed = f"{gb_date(p.agreed_on)} ({(p.agreed_how or '').replace('_', ' ')})" if p.agreed_on else "not yet agreed"
        rows.append([p.title, p.proposed_by.replace("_", " "), p.status.replace("_", " "), agreed])
    section.tables.append(Table("Priority areas for the survey", ["Priority", "Proposed by", "Status", "Agreed"], rows))


async def _survey_for_year(access: PracticeAccess, starts_on: date, ends_on: date, survey_id: int | None) -> dict[str, Any] | None:
    where = ((SurveyResponse.practice == access.practice_id) & (SurveyResponse.submitted_on >= starts_on)
             & (SurveyResponse.submitted_on <= ends_on))
    if survey_id is not None:
        where = where & (SurveyResponse.survey == survey_id)
    counts = await SurveyResponse.select(
        SurveyResponse.survey, Count(SurveyResponse.id, alias="n"), Min(SurveyResponse.submitted_on, alias="first"),
        Max(SurveyResponse.submitted_on, alias="last")).where(where).group_by(SurveyResponse.survey)
    if not counts:
        return None
    chosen = max(counts, key=lambda r: (r["n"], r["survey"]))
    modes = await SurveyResponse.select(SurveyResponse.mode, Count(SurveyResponse.id, alias="n")).where(
        where & (SurveyResponse.survey == chosen["survey"])).group_by(SurveyResponse.mode)
    survey = await Survey.select(Survey.title, Survey.access).where(Survey.id == chosen["survey"]).first()
    return {"id": chosen["survey"], "title": survey["title"], "access": survey["access"], "responses": chosen["n"],
            "first": chosen["first"], "last": chosen["last"], "modes": {m["mode"]: m["n"] for m in modes}}


MODE_WORDS = {"web": "online", "paper": "on paper", "kiosk": "at a kiosk in the practice", "sms": "by text message",
              "email": "by e-mail"}


def _survey_method(section: Section, survey: dict[str, Any] | None) -> None:
    if survey is None:
        section.status, section.missing_note = MISSING, "No survey responses are recorded in the year."
        return
    modes = ", ".join(f"{n} {MODE_WORDS.get(m, m)}" for m, n in sorted(survey["modes"].items(), key=lambda x: -x[1]))
    how = "through single-use invitations" if survey["access"] == "invitation" else "open to any patient"
    first, last = _as_date(survey["first"]), _as_date(survey["last"])
    section.paragraphs.append(
        f"The practice ran the survey \u201c{survey['title']}\u201d ({how}) from {gb_date(first)} to {gb_date(last)}. "
        f"{survey['responses']} patients answered: {modes}.")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def _survey_evidence(access: PracticeAccess, section: Section, survey: dict[str, Any] | None,
                           starts_on: date, ends_on: date, threshold: int) -> None:
    if survey is None:
        section.status, section.missing_note = MISSING, "No survey results to summarise for the year."
        return

    results = await survey_results(access, survey["id"], weight=False, publish=True, date_from=starts_on,
                                   date_to=ends_on)
    version = await SurveyVersion.select(SurveyVersion.definition).where(
        (SurveyVersion.survey == survey["id"]) & (SurveyVersion.number == results["version"])).output(load_json=True).first()
    definition = load_definition(version["definition"])
    lang = definition.default_language
    section.paragraphs.append(
        f"{results['respondents']} responses. Results from fewer than {threshold} answers are not shown, and small "
        "counts are shown as * so that no one can be identified. Free-text comments are not published.")
    for q in definition.questions():
        result = results["questions"].get(q.id)
        if not isinstance(q, SingleChoiceQuestion) or result is None:
            continue
        label = text_for(q.label, lang)
        if result.get("withheld"):
            section.items.append(f"{label}: fewer than {threshold} answers, not shown.")
            continue
        labels = {o.code: text_for(o.label, lang) for o in q.options}
        rows = [[labels.get(o["code"], o["code"]), str(o["count"]), _pct(o["share"]) if o["share"] is not None else "*"]
                for o in result["options"]]
        section.tables.append(Table(f"{label} (base {result['base']})", ["Answer", "Responses", "Share"], rows))
        if len(section.charts) < 6:
            section.charts.append(Chart(label, [r[0] for r in rows], [("Share of answers", [o["share"] for o in result["options"]])]))


async def _discussion(access: PracticeAccess, section: Section, year_code: str) -> None:
    meetings = await list_meetings(access, year_code)
    if not meetings:
        section.status = MISSING
        section.missing_note = "No meetings or virtual consultations of the group are recorded for the year."
        return
    rows = []
    for m in meetings:
        took_part = "" if m.attended is None else f"{m.attended}" + (f" of {m.invited}" if m.invited else "")
        rows.append([gb_date(m.held_on), m.title, m.kind.replace("_", " "), m.purpose.replace("_", " "), took_part,
                     m.decisions or (m.outcome or "").replace("_", " ")])
    section.tables.append(Table("How the group was involved", ["Date", "What", "How", "Purpose", "Took part",
                                                               "Decisions"], rows))


async def _action_plan(access: PracticeAccess, section: Section, year_code: str, previous: bool) -> None:
    items = await list_action_items(access, year_code, include_previous=previous)
    if not items:
        section.status = MISSING
        section.missing_note = "No action plan is recorded for the year." if not previous else \
            "No actions are recorded for the year or carried from earlier years."
        return
    rows, not_acting = [], []
    for item in items:
        if item.status == "not_acting":
            not_acting.append(f"{item.finding}: {item.not_acting_reason}")
            continue
        agreed = gb_date(item.prg_agreed_on) if item.prg_agreed_on else "not yet agreed with the group"
        row = [item.finding, item.proposed_change, item.owner, gb_date(item.due_on), item.status.replace("_", " "), agreed]
        if previous:
            row = [item.year] + row + [item.progress_notes]
        rows.append(row)
    header = ["Finding (you said)", "Change (we will)", "Who", "By", "Status", "Agreed with the group"]
    if previous:
        header = ["Year"] + header + ["Progress"]
    if rows:
        section.tables.append(Table("Action plan" if not previous else "Actions and progress", header, rows))
    if not_acting and not previous:
        section.paragraphs.append("Findings the practice will not act on, and why:")
        section.items.extend(not_acting)


def _hours(section: Section, practice: PracticeOut, kind: str) -> None:
    if kind == "opening":
        text = (practice.opening_hours or "").strip()
        if not text:
            section.status, section.missing_note = MISSING, "The practice's opening hours are not set (practice settings)."
            return
        section.paragraphs.extend(line for line in text.splitlines() if line.strip())
        return
    hours = practice.extended_hours or []
    if not hours:
        section.status, section.missing_note = MISSING, "No extended hours are set (practice settings)."
        return
    section.tables.append(Table("Extended hours", ["Clinician", "When"], [[h.clinician, h.times] for h in hours]))


async def gather(access: PracticeAccess, year_code: str, survey_id: int | None = None,
                 today: date | None = None) -> ReportData:

    title, starts_on, ends_on, sections, notes = _year(year_code)
    threshold = get_settings().suppression_threshold
    practice = await get_practice(access)
    members = await register_rows(access.practice_id)
    as_at = min(ends_on, today or date.today())  # the group at the year's end, or today while the year runs
    survey = await _survey_for_year(access, starts_on, ends_on, survey_id)
    out = []
    for key, section_title in sections:
        section = Section(key, section_title)
        if key == "prg_profile":
            await _prg_profile(access, section, members, threshold, as_at)
        elif key == "engagement_method":
            await _prg_profile(access, section, members, threshold, as_at)
            section.tables, section.charts = [], []
        elif key == "representative_steps":
            await _representative_steps(access, section, members, starts_on, ends_on, as_at, threshold)
        elif key == "priorities":
            await _priorities(access, section, year_code)
        elif key == "survey_method":
            _survey_method(section, survey)
        elif key in ("survey_evidence", "feedback_review"):
            await _survey_evidence(access, section, survey, starts_on, ends_on, threshold)
        elif key in ("discussion", "engagement"):
            await _discussion(access, section, year_code)
        elif key == "action_plan":
            await _action_plan(access, section, year_code, previous=False)
        elif key in ("actions_and_progress", "previous_progress", "improvements"):
            await _action_plan(access, section, year_code, previous=True)
        elif key == "opening_hours":
            _hours(section, practice, "opening")
        elif key == "extended_hours":
            _hours(section, practice, "extended")
        else:  # e.g. the 2014/15 template's sign-off: nothing in the system can stand for it
            section.status = MISSING
            section.missing_note = "Nothing recorded in the system fills this section; complete it by hand."
        out.append(section)
    return ReportData(access.ods_code, practice.name, year_code, title, starts_on, ends_on, today or date.today(),
                      threshold, practice.website or "", out, notes)


# --- rendering ---------------------------------------------------------------------------------------------

PALETTE = ["#1f5f99", "#b8520a", "#2e7d32"]  # dark enough for text contrast on white and for bars


def svg_chart(chart: Chart, chart_id: str) -> dict[str, Any]:
    """Geometry for an accessible horizontal grouped bar chart (the template draws it)."""
    bar, gap, label_width, width = 16, 10, 170, 640
    plot = width - label_width - 60
    groups = []
    y = 30
    for i, category in enumerate(chart.categories):
        bars = []
        for s, (name, values) in enumerate(chart.series):
            value = values[i] if i < len(values) else None
            bars.append({"y": y + s * bar, "width": round((value or 0) * plot, 1), "colour": PALETTE[s % len(PALETTE)],
                         "text": "suppressed" if value is None else _pct(value), "series": name})
        groups.append({"label": category, "y": y, "height": bar * len(chart.series), "bars": bars})
        y += bar * len(chart.series) + gap
    return {"id": chart_id, "title": chart.title, "width": width, "height": y + 10, "label_width": label_width,
            "groups": groups, "legend": [(name, PALETTE[s % len(PALETTE)]) for s, (name, _) in enumerate(chart.series)],
            "description": "; ".join(f"{g['label']}: " + ", ".join(f"{b['series']} {b['text']}" for b in g["bars"])
                                     for g in groups)}


def render_html(report: ReportData) -> str:
    charts = {}
    for s, section in enumerate(report.sections):
        for c, chart in enumerate(section.charts):
            charts[(s, c)] = svg_chart(chart, f"chart-{s}-{c}")
    return render("participation_report.html", package="exports", report=report, charts=charts,
                  gb_date=gb_date, MISSING=MISSING)


def render_docx(report: ReportData) -> bytes:
    t = clean_cell_text  # python-docx refuses characters XML cannot hold
    document = Document()
    document.core_properties.title = f"Local Patient Participation Report {report.year_code}"
    document.core_properties.author = t(report.practice_name)[:200]
    document.add_heading(t(f"{report.practice_name}: Local Patient Participation Report"), level=0)
    document.add_paragraph(t(f"{report.year_title} ({gb_date(report.starts_on)} to {gb_date(report.ends_on)}). "
                             f"Practice code {report.ods_code}. Prepared {gb_date(report.generated_on)}."))
    if report.missing:
        document.add_paragraph(t("Sections still missing: " + "; ".join(s.title for s in report.missing) + "."))
    for section in report.sections:
        document.add_heading(t(section.title), level=1)
        if section.status == MISSING:
            paragraph = document.add_paragraph()
            run = paragraph.add_run(t(f"Missing: {section.missing_note}"))
            run.bold = True
        for text in section.paragraphs:
            document.add_paragraph(t(text))
        for item in section.items:
            document.add_paragraph(t(item), style="List Bullet")
        for table in section.tables:
            document.add_paragraph(t(table.caption), style="Caption")
            grid = document.add_table(rows=1, cols=len(table.header))
            grid.style = "Table Grid"
            for cell, text in zip(grid.rows[0].cells, table.header):
                cell.text = ""
                cell.paragraphs[0].add_run(t(text)).bold = True
            for row in table.rows:
                cells = grid.add_row().cells
                for cell, text in zip(cells, row):
                    cell.text = t(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
