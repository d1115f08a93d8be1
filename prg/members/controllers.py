"""HTTP for the PRG register, mounted under /api/practices/{ods_code}/members."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, MediaType, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, JSONBody, QueryParameter, SkipValidation

from prg.members import schemas, services
from prg.members.services import MemberCorrespondence
from prg.pages import render
from prg.web import CurrentPractice, FileUpload, RecordId, read_upload

# What the participation year holds on a member, provided by prg/app.py (prg.des implements it).
Correspondence = NamedDependency[SkipValidation[MemberCorrespondence]]  # a Protocol: nothing to validate


class MemberController(Controller):
    path = "/members"
    tags = ["members"]

    @get("/")
    async def list_members(
        self,
        practice: CurrentPractice,
        status: FromQuery[schemas.Status | None] = None,
        participation: FromQuery[schemas.Participation | None] = None,
        channel: FromQuery[schemas.Channel | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=100, description="Search names, e-mail and reference")] = None,
        sort: FromQuery[Literal["reference", "last_name", "joined_on", "created_at", "status"]] = "reference",
        descending: FromQuery[bool] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> schemas.MemberPage:
        return await services.list_members(
            practice, status=status, participation=participation, channel=channel, q=q, sort=sort,
            descending=descending, limit=limit, offset=offset,
        )

    @post("/")
    async def create_member(self, request: Request, practice: CurrentPractice,
                            data: JSONBody[schemas.MemberIn]) -> schemas.MemberOut:
        return await services.create_member(practice, data, request.auth)

    @post("/import")
    async def import_members(
        self, request: Request, practice: CurrentPractice,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.ImportResult:
        """Import a register from CSV or XLSX (multipart field `file`). All rows or none."""
        content, filename = await read_upload(data.file)
        return await services.import_members(practice, content, filename, request.auth)

    @get("/{member_id:int}")
    async def get_member(self, practice: CurrentPractice, member_id: RecordId) -> schemas.MemberOut:
        return await services.get_member(practice, member_id)

    @patch("/{member_id:int}")
    async def update_member(self, request: Request, practice: CurrentPractice, member_id: RecordId,
                            data: JSONBody[schemas.MemberUpdate]) -> schemas.MemberOut:
        return await services.update_member(practice, member_id, data, request.auth)

    @delete("/{member_id:int}", opt={"role": "manager"})
    async def erase_member(self, request: Request, practice: CurrentPractice, member_id: RecordId) -> None:
        """Erase the member: their personal data is removed from every table, for good."""
        await services.erase_member(practice, member_id, request.auth)

    @post("/{member_id:int}/consents")
    async def give_consent(self, request: Request, practice: CurrentPractice, member_id: RecordId,
                           data: JSONBody[schemas.ConsentIn]) -> schemas.ConsentOut:
        return await services.give_consent(practice, member_id, data, request.auth)

    @post("/{member_id:int}/consents/{consent_id:int}/withdraw", status_code=200)
    async def withdraw_consent(self, request: Request, practice: CurrentPractice, member_id: RecordId, consent_id: RecordId,
                               data: JSONBody[schemas.ConsentWithdrawal]) -> schemas.ConsentOut:
        return await services.withdraw_consent(practice, member_id, consent_id, data, request.auth)

    @get("/{member_id:int}/subject-access", opt={"role": "manager"})
    async def subject_access(self, request: Request, practice: CurrentPractice, member_id: RecordId,
                             correspondence: Correspondence) -> Response[schemas.SubjectAccessExport]:
        """Everything held on the member, as a JSON file (audited)."""
        export = await services.subject_access_export(practice, member_id, request.auth, correspondence)
        name = f"{practice.ods_code}-subject-access-{export.member.reference}.json"
        return Response(export, headers={"content-disposition": f'attachment; filename="{name}"'})

    @get("/{member_id:int}/subject-access.html", opt={"role": "manager"}, media_type=MediaType.HTML)
    async def subject_access_page(self, request: Request, practice: CurrentPractice, member_id: RecordId,
                                  correspondence: Correspondence) -> Response[str]:
        """The same, as a page to print or send to the member (audited)."""
        export = await services.subject_access_export(practice, member_id, request.auth, correspondence)
        name = f"{practice.ods_code}-subject-access-{export.member.reference}.html"
        return Response(render("subject_access.html", export=export), media_type=MediaType.HTML,
                        headers={"content-disposition": f'attachment; filename="{name}"'})
