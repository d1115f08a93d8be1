"""HTTP for the recruitment pack, under /api/practices/{ods_code}/recruitment/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter

from prg.recruitment import schemas, services
from prg.uploads import DOCX
from prg.web import CurrentPractice, RecordId, read_upload

Size = Annotated[Literal["a4", "a5"] | None, QueryParameter(description="Paper size: a4 or a5")]
Language = Annotated[str, QueryParameter(min_length=2, max_length=10, pattern=r"^[a-z]{2,3}$",
                                         description="Template language: en, pl, ur, bn ...")]
Survey = Annotated[str | None, QueryParameter(
    min_length=4, max_length=32, pattern=r"^[A-Za-z0-9_-]+$",
    description="A survey's public id: the QR code opens /s/{survey} instead of the sign-up page")]
Phone = Annotated[str | None, QueryParameter(max_length=30, pattern=r"^\+?[0-9 ()-]{0,30}$",
                                             description="The practice's phone number to print")]


@dataclass
class MailingUpload:
    """The patient list (`file`) and the mailing's options, as multipart form fields."""

    file: UploadFile
    template: str | None = None  # recruitment_core | recruitment_virtual | follow_up | meeting_invitation | email | sms
    channel: str | None = None  # letter | email | sms
    groups: str | None = None  # comma-separated target groups; default: the gaps from the recruitment targets
    min_ratio: str | None = None
    sample_per_group: str | None = None
    seed: str | None = None
    name: str | None = None
    contact_name: str | None = None
    phone: str | None = None
    email: str | None = None
    meeting_date: str | None = None
    meeting_time: str | None = None
    meeting_place: str | None = None


def _download(result: services.Download) -> Response:
    headers = {"content-disposition": f'attachment; filename="{result.filename}"'}
    if result.campaign_id is not None:
        headers["x-campaign-id"] = str(result.campaign_id)
    return Response(result.content, media_type=result.media_type, headers=headers)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class RecruitmentController(Controller):
    path = "/recruitment"
    tags = ["recruitment"]

    @post("/mailing", status_code=200, media_type="application/zip")
    async def mailing(self, request: Request, practice: CurrentPractice,
                      data: Annotated[MailingUpload, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Response:
        """A targeted mailing from the practice's patient list export (CSV or XLSX, multipart field `file`):
        the chosen patients' letters as DOCX (one a page) and printable HTML, or their e-mails or texts as CSV,
        with the mail-merge CSV and a summary per group, in one ZIP. The list is read in memory and not kept;
        the campaign (groups, counts, languages, date, channel) is recorded and its id returned in the
        `X-Campaign-Id` header. Options (form fields): `template`, `channel`, `groups` (comma-separated, e.g.
        `age_x_sex:male:16-24,ethnicity:K,flag:carer`; default: the groups the recruitment targets say to
        invite more of), `min_ratio`, `sample_per_group` with `seed`, `name`, `contact_name`, `phone`, `email`,
        `meeting_date`, `meeting_time`, `meeting_place`."""
        options = services.parse_options({name: getattr(data, name) for name in services.MailingOptions.__struct_fields__})
        content, filename = await read_upload(data.file)
        return _download(await services.make_mailing(practice, content, filename, options, request.auth,
                                                      _base(request)))

    async def _print(self, request: Request, practice, kind: str, file_format: str, size: str | None,
                     language: str, survey: str | None, phone: str | None) -> Response:
        return _download(await services.print_piece(practice, kind=kind, size=size, file_format=file_format,
                                                     language=language, survey=survey, request_base=_base(request),
                                                     phone=phone or ""))

    @get("/poster.docx", media_type=DOCX)
    async def poster_docx(self, request: Request, practice: CurrentPractice, size: Size = None,
                          language: Language = "en", survey: Survey = None, phone: Phone = None) -> Response:
        """A practice-personalised waiting-room poster (A4 unless `size=a5`) with a QR code and short address
        for the PRG sign-up page `/join/{ods_code}` (or the survey `/s/{survey}`), as DOCX."""
        return await self._print(request, practice, "poster", "docx", size, language, survey, phone)

    @get("/poster.html", media_type=MediaType.HTML)
    async def poster_html(self, request: Request, practice: CurrentPractice, size: Size = None,
                          language: Language = "en", survey: Survey = None, phone: Phone = None) -> Response:
        """The poster as a self-contained printable page (the QR code as inline SVG)."""
        return await self._print(request, practice, "poster", "html", size, language, survey, phone)

    @get("/leaflet.docx", media_type=DOCX)
    async def leaflet_docx(self, request: Request, practice: CurrentPractice, size: Size = None,
                           language: Language = "en", survey: Survey = None, phone: Phone = None) -> Response:
        """A leaflet to attach to prescriptions (A5 unless `size=a4`), with the QR code, as DOCX."""
        return await self._print(request, practice, "leaflet", "docx", size, language, survey, phone)

    @get("/leaflet.html", media_type=MediaType.HTML)
    async def leaflet_html(self, request: Request, practice: CurrentPractice, size: Size = None,
                           language: Language = "en", survey: Survey = None, phone: Phone = None) -> Response:
        """The leaflet as a self-contained printable page (the QR code as inline SVG)."""
        return await self._print(request, practice, "leaflet", "html", size, language, survey, phone)

    @get("/campaigns")
    async def list_campaigns(self, practice: CurrentPractice, date_from: FromQuery[date | None] = None,
                             date_to: FromQuery[date | None] = None) -> list[schemas.CampaignOut]:
        """Every recruitment campaign sent between the dates, oldest first: target groups, how many were
        eligible and sent per group, and per group how many members have joined through the campaign's
        channel within the response window (the response rate)."""
        return await services.list_campaigns(practice, date_from, date_to)

    @post("/campaigns")
    async def record_campaign(self, request: Request, practice: CurrentPractice,
                              data: JSONBody[schemas.CampaignIn]) -> schemas.CampaignOut:
        """Record recruitment that is not a mailing (posters, leaflets, the website, clinicians asking)."""
        return await services.record_campaign(practice, data, request.auth)

    @get("/campaigns/{campaign_id:int}")
    async def get_campaign(self, practice: CurrentPractice, campaign_id: RecordId) -> schemas.CampaignOut:
        return await services.get_campaign(practice, campaign_id)

    @delete("/campaigns/{campaign_id:int}", opt={"role": "manager"})
    async def delete_campaign(self, request: Request, practice: CurrentPractice, campaign_id: RecordId) -> None:
        await services.delete_campaign(practice, campaign_id, request.auth)

    @get("/templates")
    async def list_templates(self, practice: CurrentPractice) -> list[schemas.TemplateInfo]:
        """Every template kind in every language, saying which the practice has its own copy of."""
        return await services.list_templates(practice)

    @get("/templates/{kind:str}/{language:str}")
    async def get_template(self, practice: CurrentPractice, kind: FromPath[str], language: FromPath[str]) -> schemas.TemplateText:
        """The wording in use: the practice's own copy, else the shipped one."""
        return await services.get_template(practice, kind, language)

    @put("/templates/{kind:str}/{language:str}")
    async def set_template(self, request: Request, practice: CurrentPractice, kind: FromPath[str],
                           language: FromPath[str], data: JSONBody[schemas.TemplateTextIn]) -> schemas.TemplateText:
        """Use the practice's own wording (Jinja: `{{ field }}` and `{% if %}` only; see docs/recruitment.md)."""
        return await services.set_template(practice, kind, language, data.body, request.auth)

    @delete("/templates/{kind:str}/{language:str}")
    async def reset_template(self, request: Request, practice: CurrentPractice, kind: FromPath[str],
                             language: FromPath[str]) -> None:
        """Go back to the shipped wording."""
        await services.reset_template(practice, kind, language, request.auth)
