"""HTTP for the files a practice downloads and the workbooks it sends back, mounted under
/api/practices/{ods_code}/exports. Handlers only translate: each calls one service in exports.services."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, QueryParameter

from exports import services
from exports.safe import content_disposition
from prg.web import CurrentPractice, FileUpload, RecordId, read_upload

# Ids are database integers (32-bit on PostgreSQL): larger numbers are refused at the edge.
YearCode = Annotated[str, QueryParameter(pattern=r"^[0-9]{4}-[0-9]{2}$", description="Scheme year, e.g. 2012-13")]
QuestionId = Annotated[list[str] | None, QueryParameter(max_items=4, description="Question ids to break down by")]


def _download(file: services.FileOut) -> Response[bytes]:
    return Response(file.content, media_type=file.media_type,
                    headers={"content-disposition": content_disposition(file.filename)})


class CollationImported(msgspec.Struct):
    created: list[str]
    updated: list[str]


class PaperImported(msgspec.Struct):
    survey_id: int
    version: int
    imported: int


class ExportController(Controller):
    path = "/exports"
    tags = ["exports"]

    @get("/prg-collation.xlsx", media_type=services.XLSX, opt={"role": "manager"})
    async def collation_workbook(self, request: Request, practice: CurrentPractice) -> Response[bytes]:
        """The PRG collation workbook: members with drop-down lists, the practice profile, and a live
        comparison (COUNTIFS formulas, charts). Holds members' personal data: managers only (audited)."""
        return _download(await services.collation_workbook(practice, request.auth))

    @post("/prg-collation.xlsx", status_code=200)
    async def import_collation_workbook(
        self, request: Request, practice: CurrentPractice,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> CollationImported:
        """Send the edited collation workbook back (multipart field `file`): rows matched by reference
        update those members, new rows are added; all rows or none, every bad row reported."""
        content, filename = await read_upload(data.file)
        done = await services.import_collation_workbook(practice, content, filename, request.auth)
        return CollationImported(created=done.created, updated=done.updated)

    @get("/surveys/{survey_id:int}/results.xlsx", media_type=services.XLSX)
    async def results_workbook(
        self, practice: CurrentPractice, survey_id: RecordId, publish: FromQuery[bool] = False,
        weight: FromQuery[bool] = False, by: QuestionId = None,
    ) -> Response[bytes]:
        """The survey's results workbook: summary, breakdowns, long and wide data, comments, charts.
        `publish=true` applies suppression and leaves out row-level data and comments."""
        return _download(await services.results_workbook(practice, survey_id, publish=publish, weight=weight, by=by))

    @get("/surveys/{survey_id:int}/paper-entry.xlsx", media_type=services.XLSX)
    async def paper_workbook(self, practice: CurrentPractice, survey_id: RecordId) -> Response[bytes]:
        """The paper-entry workbook of the survey's published version: one row per paper questionnaire."""
        return _download(await services.paper_workbook(practice, survey_id))

    @post("/surveys/{survey_id:int}/paper-entry.xlsx", status_code=201)
    async def import_paper_workbook(
        self, request: Request, practice: CurrentPractice, survey_id: RecordId,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> PaperImported:
        """Import the keyed paper questionnaires (multipart field `file`) as `paper` responses: all or none,
        every bad row and column reported; a workbook made for another survey or version is refused."""
        content, filename = await read_upload(data.file)
        done = await services.import_paper_workbook(practice, survey_id, content, filename, request.auth)
        return PaperImported(survey_id=done.survey_id, version=done.version, imported=done.imported)

    @get("/participation-report.html", media_type=services.HTML)
    async def participation_report(
        self, practice: CurrentPractice, year: YearCode,
        survey_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Response[bytes]:
        """The Local Patient Participation Report for a scheme year, as a self-contained page to publish on
        the practice's website. Sections without data are flagged missing; small numbers are suppressed."""
        return _download(await services.participation_report(practice, year, "html", survey_id))

    @get("/participation-report.docx", media_type=services.DOCX)
    async def participation_report_docx(
        self, practice: CurrentPractice, year: YearCode,
        survey_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Response[bytes]:
        """The same report as a Word document."""
        return _download(await services.participation_report(practice, year, "docx", survey_id))

    @get("/achievement-report.xlsx", media_type=services.XLSX)
    async def achievement_workbook(self, practice: CurrentPractice, year: YearCode) -> Response[bytes]:
        """The achievement report for the commissioner: components, evidence and dates, and the payment."""
        return _download(await services.achievement_workbook(practice, year))
