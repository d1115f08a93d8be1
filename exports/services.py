"""Use cases behind every downloadable file: read from `prg` and `surveys` services, hand plain data to
the writers in this package, and return (bytes, file name). Uploads of our own workbooks (PRG
collation, paper entry) are checked here and written all-or-nothing in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec

from exports.achievement_workbook import TemplateTable, write_achievement_workbook
from exports.collation_workbook import CollationData, ProfileTable, collation_sheet_fields, write_collation_workbook
from exports.paper_workbook import fingerprint, parse_paper_rows, read_meta, write_paper_workbook
from exports.report import _check, _suppressed_rows, gather, render_docx, render_html
from exports.results_workbook import write_results_workbook
from exports.safe import download_name
from prg.accounts.audit.services import record
from prg.accounts.services import Identity, PracticeAccess, get_practice
from prg.db import utcnow, write_transaction
from prg.des.guide import year_guide
from prg.des.scheme_years import scheme_year
from prg.errors import BadFile, Conflict, DomainError, ErrorDetail, InvalidInput, NotFound
from prg.members.importer import parse_members
from prg.members.services import register_rows, upsert_members
from prg.representativeness import services as representativeness
from prg.settings import get_settings
from prg.uploads import DOCX, XLSX, column_letter, is_xlsx, read_rows, read_table, shown_name
from surveys.definition import SingleChoiceQuestion, SurveyDefinition
from surveys.fft import write_monthly_return
from surveys.fft_service import fft_counts
from surveys.results import survey_results
from surveys.services import published_version
from surveys.tables import Survey, SurveyResponse
from surveys.year_evidence import SurveysYearEvidence

MAX_BREAKDOWNS = 4


@dataclass
class FileOut:
    content: bytes
    filename: str
    media_type: str


HTML = "text/html"  # Litestar adds "; charset=utf-8" to text types


async def stored_responses(version_id: int) -> list[tuple[Any, str, str, str]]:
    """Every response of one version as (answers as stored JSON text, mode, language, submitted_on),
    oldest first. The JSON stays text: the workbook writer decodes one row at a time."""
    rows = await SurveyResponse.select(
        SurveyResponse.answers, SurveyResponse.mode, SurveyResponse.language, SurveyResponse.submitted_on
    ).where(SurveyResponse.version == version_id).order_by(SurveyResponse.id)
    return [(r["answers"] or "{}", r["mode"], r["language"], str(r["submitted_on"])[:10]) for r in rows]


def breakdown_questions(definition: SurveyDefinition, asked: list[str] | None) -> list[str]:
    """The questions to break results down by: those asked for, or the survey's demographic questions."""
    single = {q.id for q in definition.questions() if isinstance(q, SingleChoiceQuestion)}
    if asked:
        bad = [b for b in asked if b not in single]
        if bad:
            raise InvalidInput("Break results down by single-choice questions of this survey.",
                               [ErrorDetail(f"'{b[:50]}' is not a single-choice question", field="by") for b in bad])
        return asked[:MAX_BREAKDOWNS]
    return [q.id for q in definition.questions() if isinstance(q, SingleChoiceQuestion) and q.dimension][:MAX_BREAKDOWNS]


async def results_workbook(access: PracticeAccess, survey_id: int, *, publish: bool, weight: bool,
                           by: list[str] | None = None) -> FileOut:

    _, version, definition = await published_version(access, survey_id)
    results = await survey_results(access, survey_id, weight=weight, publish=publish)
    breakdowns = {}
    for question_id in breakdown_questions(definition, by):
        breakdowns[question_id] = await survey_results(access, survey_id, weight=weight, publish=publish,
                                                       by=question_id)
    responses = None if publish else await stored_responses(version["id"])
    content = write_results_workbook(results, definition, responses, practice=access.ods_code,
                                     breakdowns=breakdowns)
    kind = f"survey-{survey_id}-results" + ("-published" if publish else "")
    return FileOut(content, download_name(access.ods_code, kind, "xlsx"), XLSX)


# --- PRG collation workbook ----------------------------------------------------------------------------


async def _profile_table(access: PracticeAccess, title: str, **spec: str):
    """One dimension of the practice profile as the representativeness check groups it, or None when
    the practice has not imported that profile yet."""
    try:
        frame = await representativeness.build_frame(access, representativeness.parse_spec(**spec))
    except (NotFound, DomainError):
        return None
    return ProfileTable(title, frame.profile.extract_date, [(g.key, g.label, g.population) for g in frame.groups])


async def collation_workbook(access: PracticeAccess, actor: Identity) -> FileOut:
    members = await register_rows(access.practice_id)
    keys = sorted({k for m in members for k in (m["characteristics"] or {})})
    data = CollationData(
        access.ods_code, (await get_practice(access)).name, members, keys,
        sex=await _profile_table(access, "Sex", dimension="sex"),
        age=await _profile_table(access, "Age band (DES)", dimension="age", bands="des"),
        ethnicity=await _profile_table(access, "Ethnic group", dimension="ethnicity", level="high_level"),
    )
    content = write_collation_workbook(data)
    async with write_transaction():  # the register leaves the system: say who took it
        await record("member.workbook_export", actor, practice_id=access.practice_id, entity="member",
                     details={"members": len(members)})
    return FileOut(content, download_name(access.ods_code, "prg-collation", "xlsx"), XLSX)


@dataclass
class CollationImport:
    created: list[str]
    updated: list[str]


async def import_collation_workbook(access: PracticeAccess, content: bytes, filename: str,
                                    actor: Identity) -> CollationImport:
    """The collation workbook (or any register sheet with a Reference column) sent back."""

    table = read_table(content, filename, max_rows=get_settings().max_import_rows)
    numbered = parse_members(table)
    created, updated = await upsert_members(access, numbered, collation_sheet_fields(table.headers), actor)
    return CollationImport(created, updated)


# --- paper entry -----------------------------------------------------------------------------------------


async def paper_workbook(access: PracticeAccess, survey_id: int) -> FileOut:
    survey, version, definition = await published_version(access, survey_id)
    content = write_paper_workbook(definition, ods_code=access.ods_code, survey_id=survey_id,
                                   version=version["number"], title=survey["title"])
    return FileOut(content, download_name(access.ods_code, f"survey-{survey_id}-v{version['number']}-paper-entry",
                                          "xlsx"), XLSX)


@dataclass
class PaperImport:
    survey_id: int
    version: int
    imported: int


async def import_paper_workbook(access: PracticeAccess, survey_id: int, content: bytes, filename: str,
                                actor: Identity) -> PaperImport:
    """Every keyed questionnaire becomes a `paper` response, all in one transaction, or none does."""
    survey, version, definition = await published_version(access, survey_id)
    if not is_xlsx(content):  # the survey and version it was made for live inside the workbook
        raise BadFile(f"{shown_name(filename)} is not an Excel workbook (.xlsx): key the questionnaires into "
                      "the paper-entry workbook downloaded for this survey", [ErrorDetail("not a workbook", field="file")])
    found = read_rows(content, filename, max_rows=get_settings().max_import_rows)
    if found.problems:
        raise InvalidInput("Some cells cannot be imported; nothing was imported.",
                           [ErrorDetail(p.message, row=p.row, column=column_letter(p.index)) for p in found.problems])
    meta = read_meta(content)
    if meta.practice != access.ods_code or meta.survey_id != survey_id:
        raise Conflict(f"This workbook was made for survey {meta.survey_id} of practice {meta.practice}, "
                       f"not survey {survey_id}; nothing was imported.",
                       [ErrorDetail("made for another survey", field="file")])
    if meta.version != version["number"] or meta.fingerprint != fingerprint(definition):
        raise Conflict(f"This workbook was made for version {meta.version} of the survey; the published version "
                       f"is {version['number']}. Download a new paper-entry workbook; nothing was imported.",
                       [ErrorDetail("made for another version", field="file")])
    answers = parse_paper_rows(definition, found.rows)
    now = utcnow()
    anonymous = (await Survey.select(Survey.anonymous).where(Survey.id == survey_id).first())["anonymous"]
    rows = [SurveyResponse(practice=access.practice_id, survey=survey_id, version=version["id"], mode="paper",
                           language=definition.default_language, submitted_on=now.date(),
                           submitted_at=None if anonymous else now, invitation=None,
                           answers=msgspec.json.encode(a).decode()) for a in answers]
    async with write_transaction():
        for start in range(0, len(rows), 500):
            await SurveyResponse.insert(*rows[start:start + 500])
        await record("survey.paper_import", actor, practice_id=access.practice_id, entity="survey",
                     entity_id=survey_id, details={"responses": len(rows), "version": version["number"]})
    return PaperImport(survey_id, version["number"], len(rows))


# --- Local Patient Participation Report and achievement report ----------------------------------------


async def participation_report(access: PracticeAccess, year_code: str, fmt: str, survey_id: int | None) -> FileOut:
    report = await gather(access, year_code, survey_id)
    name = f"participation-report-{year_code}"
    if fmt == "docx":
        return FileOut(render_docx(report), download_name(access.ods_code, name, "docx"), DOCX)
    return FileOut(render_html(report).encode(), download_name(access.ods_code, name, "html"), HTML)


async def achievement_workbook(access: PracticeAccess, year_code: str) -> FileOut:
    guide = await year_guide(access, year_code, SurveysYearEvidence())
    practice_name = (await get_practice(access)).name
    template, notes = [], []
    if year_code == "2014-15":  # the standard reporting template's fixed tables, for the group at the year's end
        threshold = get_settings().suppression_threshold
        as_at = min(scheme_year(year_code).ends_on, date.today())
        for title, spec in (("Sex", {"dimension": "sex"}), ("Age band", {"dimension": "age", "bands": "template_2014"}),
                            ("Ethnic group", {"dimension": "ethnicity", "level": "high_level"})):
            result = await _check(access, as_at, **spec)
            if result is None:
                notes.append(f"{title}: no population profile imported, so this table is missing.")
                continue
            _, practice_shares, ppg_shares = _suppressed_rows(result, threshold)
            template.append(TemplateTable(title, [(g.label, p, q) for g, p, q in
                                                  zip(result.groups, practice_shares, ppg_shares)]))
        notes.append("The template printed the second age band as 17-24; 16-year-olds are counted in it here.")
    content = write_achievement_workbook(guide, practice_name=practice_name, template=template, template_notes=notes)
    return FileOut(content, download_name(access.ods_code, f"achievement-report-{year_code}", "xlsx"), XLSX)


async def fft_return(access: PracticeAccess, survey_id: int, month: str) -> FileOut:
    """The Friends and Family Test monthly return, as the FFT API makes it (counts in surveys.fft)."""

    counts = await fft_counts(access, survey_id, month)
    return FileOut(write_monthly_return(counts, access.ods_code).encode(),
                   download_name(access.ods_code, f"fft-return-{counts['month']}", "csv"), "text/csv; charset=utf-8")


__all__ = ["DOCX", "HTML", "XLSX", "FileOut", "Identity", "results_workbook"]
