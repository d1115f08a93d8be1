"""HTTP for the participation year, under /api/practices/{ods_code}/years (practice-scoped). The public
consultation page a member's link opens is in public_pages.py."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from prg.des import consultations, schemas, services
from prg.pages import render
from prg.web import CurrentPractice, RecordId

YearPath = Annotated[str, Parameter(pattern=r"^20\d\d-\d\d$", max_length=7, description="A scheme year, e.g. 2013-14")]


class SchemeYearController(Controller):
    path = "/years"
    tags = ["participation year"]

    @get("/")
    async def list_years(self, practice: CurrentPractice) -> list[schemas.SchemeYearSummary]:
        """Every scheme year the product knows, oldest first (2011-12 to the current year)."""
        return [schemas.SchemeYearSummary(y.code, y.title, y.kind, y.starts_on, y.ends_on)
                for y in services.scheme_years()]

    @get("/{year:str}")
    async def guide(self, practice: CurrentPractice, year: YearPath) -> schemas.YearGuide:
        """The live guide: each component (done, in_progress, missing) with its evidence and next step, days
        to each deadline, and the payment to expect on current evidence."""
        return await services.year_guide(practice, year)

    @get("/{year:str}/scheme")
    async def scheme(self, practice: CurrentPractice, year: YearPath) -> schemas.SchemeYear:
        """The scheme year's rules as data: components and weights, report sections, deadlines, rate."""
        return services.scheme_year(year)

    # --- the practice's own figures -------------------------------------------------------------------

    @get("/{year:str}/override")
    async def get_override(self, practice: CurrentPractice, year: YearPath) -> schemas.OverrideOut:
        return await services.get_override(practice, year)

    @put("/{year:str}/override", opt={"role": "manager"})
    async def set_override(self, request: Request, practice: CurrentPractice, year: YearPath,
                           data: JSONBody[schemas.OverrideIn]) -> schemas.OverrideOut:
        """The commissioner's own rate per patient and/or component weights for this practice and year."""
        return await services.set_override(practice, year, data, request.auth)

    @delete("/{year:str}/override", opt={"role": "manager"})
    async def delete_override(self, request: Request, practice: CurrentPractice, year: YearPath) -> None:
        await services.delete_override(practice, year, request.auth)

    # --- priorities ---------------------------------------------------------------------------------------

    @get("/{year:str}/priorities")
    async def list_priorities(self, practice: CurrentPractice, year: YearPath) -> list[schemas.PriorityOut]:
        return await services.list_priorities(practice, year)

    @post("/{year:str}/priorities")
    async def create_priority(self, request: Request, practice: CurrentPractice, year: YearPath,
                              data: JSONBody[schemas.PriorityIn]) -> schemas.PriorityOut:
        return await services.create_priority(practice, year, data, request.auth)

    @patch("/{year:str}/priorities/{priority_id:int}")
    async def update_priority(self, request: Request, practice: CurrentPractice, year: YearPath,
                              priority_id: RecordId, data: JSONBody[schemas.PriorityUpdate]) -> schemas.PriorityOut:
        return await services.update_priority(practice, year, priority_id, data, request.auth)

    @delete("/{year:str}/priorities/{priority_id:int}")
    async def delete_priority(self, request: Request, practice: CurrentPractice, year: YearPath,
                              priority_id: RecordId) -> None:
        await services.delete_priority(practice, year, priority_id, request.auth)

    # --- meetings and the engagement log -----------------------------------------------------------------

    @get("/{year:str}/meetings")
    async def list_meetings(self, practice: CurrentPractice, year: YearPath) -> list[schemas.EngagementOut]:
        """The engagement log: meetings and events, and virtual consultations with their tallies."""
        return await services.list_meetings(practice, year)

    @post("/{year:str}/meetings")
    async def create_meeting(self, request: Request, practice: CurrentPractice, year: YearPath,
                             data: JSONBody[schemas.EngagementIn]) -> schemas.EngagementOut:
        return await services.create_meeting(practice, year, data, request.auth)

    @patch("/{year:str}/meetings/{meeting_id:int}")
    async def update_meeting(self, request: Request, practice: CurrentPractice, year: YearPath,
                             meeting_id: RecordId, data: JSONBody[schemas.EngagementUpdate]) -> schemas.EngagementOut:
        return await services.update_meeting(practice, year, meeting_id, data, request.auth)

    @delete("/{year:str}/meetings/{meeting_id:int}")
    async def delete_meeting(self, request: Request, practice: CurrentPractice, year: YearPath,
                             meeting_id: RecordId) -> None:
        await services.delete_meeting(practice, year, meeting_id, request.auth)

    # --- action plan ---------------------------------------------------------------------------------------

    @get("/{year:str}/action-items")
    async def list_action_items(self, practice: CurrentPractice, year: YearPath,
                                include_previous: FromQuery[bool] = False) -> list[schemas.ActionItemOut]:
        """The year's action plan; `include_previous` adds earlier years' items still open."""
        return await services.list_action_items(practice, year, include_previous=include_previous)

    @post("/{year:str}/action-items")
    async def create_action_item(self, request: Request, practice: CurrentPractice, year: YearPath,
                                 data: JSONBody[schemas.ActionItemIn]) -> schemas.ActionItemOut:
        return await services.create_action_item(practice, year, data, request.auth)

    @patch("/{year:str}/action-items/{item_id:int}")
    async def update_action_item(self, request: Request, practice: CurrentPractice, year: YearPath,
                                 item_id: RecordId, data: JSONBody[schemas.ActionItemUpdate]) -> schemas.ActionItemOut:
        return await services.update_action_item(practice, year, item_id, data, request.auth)

    @delete("/{year:str}/action-items/{item_id:int}")
    async def delete_action_item(self, request: Request, practice: CurrentPractice, year: YearPath,
                                 item_id: RecordId) -> None:
        await services.delete_action_item(practice, year, item_id, request.auth)

    @get("/{year:str}/you-said-we-did")
    async def you_said_we_did(
        self, practice: CurrentPractice, year: YearPath,
        format: FromQuery[Literal["json", "html"]] = "json",  # noqa: A002 - the query parameter's public name
    ) -> Response:
        """The agreed action plan for publication ("You said, we did"), as JSON or a simple page."""
        view = await services.you_said_we_did(practice, year)
        if format == "html":
            return Response(render("you_said_we_did.html", package="prg.des", view=view), media_type="text/html")
        return Response(view)

    # --- the published report ------------------------------------------------------------------------------

    @get("/{year:str}/report")
    async def get_report(self, practice: CurrentPractice, year: YearPath) -> schemas.ReportPublicationOut:
        return await services.get_report(practice, year)

    @put("/{year:str}/report")
    async def record_report(self, request: Request, practice: CurrentPractice, year: YearPath,
                            data: JSONBody[schemas.ReportPublicationIn]) -> schemas.ReportPublicationOut:
        """Record (or correct) where and when the year's report was published on the practice website."""
        return await services.record_report(practice, year, data, request.auth)

    @delete("/{year:str}/report")
    async def delete_report(self, request: Request, practice: CurrentPractice, year: YearPath) -> None:
        await services.delete_report(practice, year, request.auth)


class ConsultationController(Controller):
    path = "/years/{year:str}/consultations"
    tags = ["participation year"]

    @get("/")
    async def list_consultations(self, practice: CurrentPractice, year: YearPath) -> list[schemas.ConsultationOut]:
        return await consultations.list_consultations(practice, year)

    @post("/")
    async def create_consultation(self, request: Request, practice: CurrentPractice, year: YearPath,
                                  data: JSONBody[schemas.ConsultationIn]) -> schemas.ConsultationOut:
        """A question or a draft (priorities, action plan: name the items) to put to the group."""
        return await consultations.create_consultation(practice, year, data, request.auth)

    @get("/{consultation_id:int}")
    async def get_consultation(self, practice: CurrentPractice, year: YearPath,
                               consultation_id: RecordId) -> schemas.ConsultationOut:
        return await consultations.get_consultation(practice, year, consultation_id)

    @delete("/{consultation_id:int}")
    async def delete_consultation(self, request: Request, practice: CurrentPractice, year: YearPath,
                                  consultation_id: RecordId) -> None:
        await consultations.delete_consultation(practice, year, consultation_id, request.auth)

    @post("/{consultation_id:int}/send", status_code=200)
    async def send(self, request: Request, practice: CurrentPractice, year: YearPath,
                   consultation_id: RecordId) -> schemas.SendResult:
        """E-mail the consultation to the members due it, up to PRG_MAIL_PER_MINUTE; call again after
        `retry_after_seconds` until `pending` is 0. Never sends a member the same consultation twice."""
        return await consultations.send(practice, year, consultation_id, request.auth, str(request.base_url))

    @post("/{consultation_id:int}/sms-links", status_code=200)
    async def sms_links(
        self, request: Request, practice: CurrentPractice, year: YearPath, consultation_id: RecordId,
        who: FromQuery[Literal["without_email", "all_with_phone"]] = "without_email",
    ) -> Response:
        """New single-use links as CSV (reference, phone, link) for an SMS tool; each link is made once."""
        text = await consultations.sms_links(practice, year, consultation_id, request.auth, str(request.base_url), who)
        name = f"{practice.ods_code}-consultation-{consultation_id}-links.csv"
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{name}"'})

    @post("/{consultation_id:int}/close", status_code=200)
    async def close(self, request: Request, practice: CurrentPractice, year: YearPath, consultation_id: RecordId,
                    data: JSONBody[schemas.CloseIn]) -> schemas.ConsultationOut:
        """Close with the outcome; `agreed` records the group's agreement on the named priorities or actions."""
        return await consultations.close_consultation(practice, year, consultation_id, data, request.auth)


class ContactBlockController(Controller):
    path = "/contact-blocks"
    tags = ["participation year"]

    @get("/")
    async def list_blocks(self, practice: CurrentPractice) -> list[schemas.ContactBlockOut]:
        """Members not to e-mail: bounced addresses and opt-outs."""
        return await consultations.list_blocks(practice)

    @post("/", status_code=200)
    async def record_block(self, request: Request, practice: CurrentPractice,
                           data: JSONBody[schemas.ContactBlockIn]) -> list[schemas.ContactBlockOut]:
        """Record a bounce (by the address in the bounce report, or by member) or an opt-out."""
        return await consultations.record_block(practice, data, request.auth)

    @delete("/{member_id:int}")
    async def lift_block(self, request: Request, practice: CurrentPractice, member_id: RecordId) -> None:
        await consultations.lift_block(practice, member_id, request.auth)
