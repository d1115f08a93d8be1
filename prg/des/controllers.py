"""HTTP for the participation year, under /api/practices/{ods_code}/years (practice-scoped). The public
consultation page a member's link opens is in public_pages.py."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, SkipValidation

from prg.des import consultations, records, schemas
from prg.des.guide import year_guide
from prg.des.scheme_years import scheme_year, scheme_years
from prg.des.survey_evidence import SurveyEvidence
from prg.errors import InvalidInput, NotFound
from prg.pages import render
from prg.web import CurrentPractice, RecordId

# What the year reads about surveys, provided by prg/app.py (surveys implements it).
YearSurveys = NamedDependency[SkipValidation[SurveyEvidence]]  # a Protocol: nothing to validate

YearPath = Annotated[str, Parameter(pattern=r"^20\d\d-\d\d$", max_length=7, description="A scheme year, e.g. 2013-14")]


def _path_id_named(handler: Callable[..., Awaitable[Any]], name: str) -> Callable[..., Awaitable[Any]]:
    """`handler` with its `record_id` parameter published as `name`, the path parameter's public name
    (`priority_id`...): Litestar reads the signature, so one handler serves every kind of record."""
    signature = inspect.signature(handler)

    @functools.wraps(handler)
    async def named(*args: Any, **kwargs: Any) -> Any:
        return await handler(*args, record_id=kwargs.pop(name), **kwargs)

    named.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(name=name) if p.name == "record_id" else p for p in signature.parameters.values()])
    named.__annotations__ = {name if k == "record_id" else k: v for k, v in handler.__annotations__.items()}
    return named


def _year_records(kind: records.RecordKind, segment: str, id_name: str, singular: str, data_in: type,
                  data_update: type, out: type) -> tuple[HTTPRouteHandler, HTTPRouteHandler, HTTPRouteHandler]:
    """POST, PATCH and DELETE for one kind of the year's records under /years/{year}/<segment>; handler
    names (`create_<singular>`...) and the record's path parameter keep their public names in the OpenAPI
    schema."""
    types = {"DataIn": data_in, "DataUpdate": data_update, "Out": out}
    one = f"/{{year:str}}/{segment}/{{{id_name}:int}}"

    async def create(self: Controller, request: Request, practice: CurrentPractice, year: YearPath,
                     data: JSONBody[DataIn], survey_evidence: YearSurveys) -> Out:  # noqa: F821 - in `types`
        return await records.create_record(kind, practice, year, data, request.auth, survey_evidence)

    async def update(self: Controller, request: Request, practice: CurrentPractice, year: YearPath,
                     record_id: RecordId, data: JSONBody[DataUpdate],  # noqa: F821
                     survey_evidence: YearSurveys) -> Out:  # noqa: F821
        return await records.update_record(kind, practice, year, record_id, data, request.auth, survey_evidence)

    async def remove(self: Controller, request: Request, practice: CurrentPractice, year: YearPath,
                     record_id: RecordId) -> None:
        await records.delete_record(kind, practice, year, record_id, request.auth)

    for verb, handler in (("create", create), ("update", update), ("delete", remove)):
        handler.__name__ = handler.__qualname__ = f"{verb}_{singular}"
    return (post(f"/{{year:str}}/{segment}", signature_namespace=types)(create),
            patch(one, signature_namespace=types)(_path_id_named(update, id_name)),
            delete(one, signature_namespace=types)(_path_id_named(remove, id_name)))


class SchemeYearController(Controller):
    path = "/years"
    tags = ["participation year"]

    @get("/")
    async def list_years(self, practice: CurrentPractice) -> list[schemas.SchemeYearSummary]:
        """Every scheme year the product knows, oldest first (2011-12 to the current year)."""
        return [schemas.SchemeYearSummary(y.code, y.title, y.kind, y.starts_on, y.ends_on)
                for y in scheme_years()]

    @get("/{year:str}")
    async def guide(self, practice: CurrentPractice, year: YearPath,
                    survey_evidence: YearSurveys) -> schemas.YearGuide:
        """The live guide: each component (done, in_progress, missing) with its evidence and next step, days
        to each deadline, and the payment to expect on current evidence."""
        return await year_guide(practice, year, survey_evidence)

    @get("/{year:str}/scheme")
    async def scheme(self, practice: CurrentPractice, year: YearPath) -> schemas.SchemeYear:
        """The scheme year's rules as data: components and weights, report sections, deadlines, rate."""
        return scheme_year(year)

    # --- the practice's own figures -------------------------------------------------------------------

    @get("/{year:str}/override")
    async def get_override(self, practice: CurrentPractice, year: YearPath) -> schemas.OverrideOut:
        return await records.get_override(practice, year)

    @put("/{year:str}/override", opt={"role": "manager"})
    async def set_override(self, request: Request, practice: CurrentPractice, year: YearPath,
                           data: JSONBody[schemas.OverrideIn]) -> schemas.OverrideOut:
        """The commissioner's own rate per patient and/or component weights for this practice and year."""
        return await records.set_override(practice, year, data, request.auth)

    @delete("/{year:str}/override", opt={"role": "manager"})
    async def delete_override(self, request: Request, practice: CurrentPractice, year: YearPath) -> None:
        await records.delete_override(practice, year, request.auth)

    # --- priorities ---------------------------------------------------------------------------------------

    @get("/{year:str}/priorities")
    async def list_priorities(self, practice: CurrentPractice, year: YearPath) -> list[schemas.PriorityOut]:
        return await records.list_priorities(practice, year)

    create_priority, update_priority, delete_priority = _year_records(
        records.PRIORITY, "priorities", "priority_id", "priority",
        schemas.PriorityIn, schemas.PriorityUpdate, schemas.PriorityOut)

    # --- meetings and the engagement log -----------------------------------------------------------------

    @get("/{year:str}/meetings")
    async def list_meetings(self, practice: CurrentPractice, year: YearPath) -> list[schemas.EngagementOut]:
        """The engagement log: meetings and events, and virtual consultations with their tallies."""
        return await records.list_meetings(practice, year)

    create_meeting, update_meeting, delete_meeting = _year_records(
        records.MEETING, "meetings", "meeting_id", "meeting",
        schemas.EngagementIn, schemas.EngagementUpdate, schemas.EngagementOut)

    # --- action plan ---------------------------------------------------------------------------------------

    @get("/{year:str}/action-items")
    async def list_action_items(self, practice: CurrentPractice, year: YearPath,
                                include_previous: FromQuery[bool] = False) -> list[schemas.ActionItemOut]:
        """The year's action plan; `include_previous` adds earlier years' items still open."""
        return await records.list_action_items(practice, year, include_previous=include_previous)

    create_action_item, update_action_item, delete_action_item = _year_records(
        records.ACTION_ITEM, "action-items", "item_id", "action_item",
        schemas.ActionItemIn, schemas.ActionItemUpdate, schemas.ActionItemOut)

    @get("/{year:str}/you-said-we-did")
    async def you_said_we_did(
        self, practice: CurrentPractice, year: YearPath,
        format: FromQuery[Literal["json", "html"]] = "json",  # noqa: A002 - the query parameter's public name
    ) -> Response:
        """The agreed action plan for publication ("You said, we did"), as JSON or a simple page."""
        view = await records.you_said_we_did(practice, year)
        if format == "html":
            return Response(render("you_said_we_did.html", package="prg.des", view=view), media_type="text/html")
        return Response(view)

    # --- the published report ------------------------------------------------------------------------------

    @get("/{year:str}/report")
    async def get_report(self, practice: CurrentPractice, year: YearPath) -> schemas.ReportPublicationOut:
        return await records.get_report(practice, year)

    @put("/{year:str}/report")
    async def record_report(self, request: Request, practice: CurrentPractice, year: YearPath,
                            data: JSONBody[schemas.ReportPublicationIn]) -> schemas.ReportPublicationOut:
        """Record (or correct) where and when the year's report was published on the practice website."""
        return await records.record_report(practice, year, data, request.auth)

    @delete("/{year:str}/report")
    async def delete_report(self, request: Request, practice: CurrentPractice, year: YearPath) -> None:
        await records.delete_report(practice, year, request.auth)


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
