"""HTTP for a practice's surveys, mounted under /api/practices/{ods_code}/surveys."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, JSONBody, QueryParameter

from prg.uploads import XLSX
from prg.web import CurrentPractice, FileUpload, RecordId, read_upload
from surveys import schemas, services
from surveys.ingest import ResponseWriter
from surveys.results import survey_results


def provide_writer(request: Request) -> ResponseWriter:
    """The app's group-commit writer (started with the app)."""
    return request.app.state.response_writer


Writer = NamedDependency[ResponseWriter]



class SurveyController(Controller):
    path = "/surveys"
    tags = ["surveys"]

    @get("/")
    async def list_surveys(self, practice: CurrentPractice) -> list[schemas.SurveyOut]:
        return await services.list_surveys(practice)

    @post("/")
    async def create_survey(self, request: Request, practice: CurrentPractice,
                            data: JSONBody[schemas.SurveyCreate]) -> schemas.SurveyOut:
        """Create a survey from a definition; it stays a draft until published."""
        return await services.create_survey(practice, data, request.auth)

    @get("/bank")
    async def question_bank(
        self, practice: CurrentPractice,
        collection: Annotated[str | None, QueryParameter(max_length=40)] = None,
        topic: Annotated[str | None, QueryParameter(max_length=40)] = None,
        lang: Annotated[str, QueryParameter(pattern=r"^[a-z]{2,3}$")] = "en",
    ) -> list[schemas.BankQuestionOut]:
        """The question bank shipped with the product (FFT, GP-patient-survey core, DES priorities,
        demographics), with labels in `lang`."""
        return services.bank_listing(collection, topic, lang)

    @post("/from-bank")
    async def create_from_bank(self, request: Request, practice: CurrentPractice,
                               data: JSONBody[schemas.FromBank]) -> schemas.SurveyOut:
        """Create a draft survey from bank questions, section by section."""
        return await services.create_from_bank(practice, data, request.auth)

    @post("/xlsform")
    async def import_xlsform(
        self, request: Request, practice: CurrentPractice,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        access: FromQuery[schemas.Access] = "open", anonymous: FromQuery[bool] = True,
    ) -> schemas.XLSFormImportOut:
        """Create a draft survey from an XLSForm workbook (multipart field `file`; subset in docs/surveys.md),
        with `import_report`: what the import did not carry over (ignored, left out or changed)."""
        content, filename = await read_upload(data.file)
        return await services.create_from_xlsform(practice, content, filename, access, anonymous, request.auth)

    @get("/{survey_id:int}/xlsform", media_type=XLSX)
    async def export_xlsform(self, practice: CurrentPractice, survey_id: RecordId,
                             version: Annotated[int | None, QueryParameter(ge=1, le=100_000)] = None) -> Response[bytes]:
        """The definition as an XLSForm workbook, to edit in Excel or use in KoBoToolbox/ODK."""
        content, number = await services.xlsform_of(practice, survey_id, version)
        name = f"{practice.ods_code}-survey-{survey_id}-v{number}.xlsx"
        return Response(content, media_type=XLSX, headers={"content-disposition": f'attachment; filename="{name}"'})

    @get("/{survey_id:int}")
    async def get_survey(self, practice: CurrentPractice, survey_id: RecordId) -> schemas.SurveyOut:
        return await services.get_survey(practice, survey_id)

    @get("/{survey_id:int}/definition")
    async def get_definition(self, practice: CurrentPractice, survey_id: RecordId,
                             version: Annotated[int | None, QueryParameter(ge=1, le=100_000)] = None
                             ) -> schemas.VersionOut:
        """The newest version's definition, or the numbered `version`."""
        return await services.get_version(practice, survey_id, version)

    @put("/{survey_id:int}/definition")
    async def update_definition(self, request: Request, practice: CurrentPractice, survey_id: RecordId,
                                data: JSONBody[schemas.DefinitionUpdate]) -> schemas.SurveyOut:
        """Replace the draft (a published version is never changed: editing starts a new draft)."""
        return await services.update_definition(practice, survey_id, data.definition, request.auth)

    @post("/{survey_id:int}/publish", status_code=200)
    async def publish(self, request: Request, practice: CurrentPractice, survey_id: RecordId) -> schemas.SurveyOut:
        """Freeze the draft and open the survey to patients."""
        return await services.publish(practice, survey_id, request.auth)

    @post("/{survey_id:int}/close", status_code=200)
    async def close(self, request: Request, practice: CurrentPractice, survey_id: RecordId) -> schemas.SurveyOut:
        return await services.close(practice, survey_id, request.auth)

    @post("/{survey_id:int}/invitations", status_code=201)
    async def create_invitations(self, request: Request, practice: CurrentPractice, survey_id: RecordId,
                                 data: JSONBody[schemas.InvitationRequest]) -> Response[str]:
        """Single-use links as CSV (`link`, `code`) for an SMS or e-mail tool or printing; shown once."""
        tokens = await services.create_invitations(practice, survey_id, data, request.auth)
        survey = await services.get_survey(practice, survey_id)
        base = str(request.base_url).rstrip("/")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["link", "code"])
        writer.writerows([f"{base}{survey.link}?t={token}", token] for token in tokens)
        name = f"{practice.ods_code}-survey-{survey_id}-invitations-{data.channel}.csv"
        return Response(out.getvalue(), media_type="text/csv",
                        headers={"content-disposition": f'attachment; filename="{name}"'}, status_code=201)

    @post("/{survey_id:int}/responses", status_code=201)
    async def submit_response(self, practice: CurrentPractice, survey_id: RecordId,
                              data: JSONBody[schemas.ResponseSubmit], writer: Writer) -> schemas.Submitted:
        """A response from a kiosk or integration, validated like the web form's; 201 once committed."""
        return await services.submit_for_practice(writer, practice, survey_id, data)

    @get("/{survey_id:int}/results")
    async def results(
        self, practice: CurrentPractice, survey_id: RecordId,
        weight: FromQuery[bool] = False, publish: FromQuery[bool] = False,
        by: Annotated[str | None, QueryParameter(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")] = None,
        mode: FromQuery[schemas.Mode | None] = None,
        language: Annotated[str | None, QueryParameter(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")] = None,
        date_from: FromQuery[date | None] = None, date_to: FromQuery[date | None] = None,
        compare: FromQuery[bool] = False, redact: FromQuery[bool] = False,
        compare_with: Annotated[int | None, QueryParameter(ge=1, le=10_000_000)] = None,
    ) -> dict[str, Any]:
        """What the patients said: per question counts, shares, Wilson intervals, means, top box; with
        `weight`, raked to the practice population on the survey's demographic questions (weighted
        figures beside unweighted, with design effect and effective sample size); with `publish`,
        small numbers withheld or shown as * (see docs/surveys.md). Filters: `mode`, `language`,
        `date_from`, `date_to`; `by` breaks every figure down by a single-choice question, `mode` or
        `language`; `compare` adds respondents against the population per demographic question; `redact`
        removes e-mail addresses, phone and NHS numbers from comments; `compare_with` (an earlier survey
        of this practice) adds each shared question's change in share with Newcombe's interval."""
        return await survey_results(practice, survey_id, weight=weight, publish=publish, by=by, mode=mode,
                                    language=language, date_from=date_from, date_to=date_to, compare=compare,
                                    redact_comments=redact, compare_with=compare_with)

    @get("/{survey_id:int}/responses")
    async def list_responses(
        self, practice: CurrentPractice, survey_id: RecordId,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000_000)] = 0,
    ) -> schemas.ResponsePage:
        return await services.list_responses(practice, survey_id, limit, offset)

    @delete("/{survey_id:int}/responses/{response_id:int}")
    async def delete_response(self, request: Request, practice: CurrentPractice, survey_id: RecordId,
                              response_id: RecordId) -> None:
        """Delete one response (audited)."""
        await services.delete_response(practice, survey_id, response_id, request.auth)


