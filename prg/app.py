"""The composition root: every route, the policies around them, and the database's lifetime."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from litestar import Litestar, MediaType, Request, Router, get
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.middleware import DefineMiddleware
from piccolo.querystring import QueryString

from prg import db
from prg.accounts.audit.controllers import AuditController
from prg.accounts.controllers import AdminController, AuthController, PracticeController
from prg.accounts.schemas import PracticeOut
from prg.accounts.services import practices_of
from prg.errors import DomainError
from exports.controllers import ExportController
from prg.des.consultations import ConsultationCorrespondence
from prg.des.controllers import (
    ConsultationController,
    ContactBlockController,
    SchemeYearController,
)
from prg.des.public_pages import PublicConsultationController
from prg.des.survey_evidence import SurveyEvidence
from prg.members.controllers import MemberController
from prg.members.public_pages import JoinController
from prg.members.services import MemberCorrespondence
from prg.population.controllers import PopulationController
from prg.openapi import answer_options_with_every_method, document_problem_responses, openapi_config
from prg.problems import EXCEPTION_HANDLERS, problem
from prg.recruitment.controllers import RecruitmentController
from prg.representativeness.controllers import RecruitmentTargetsController, RepresentativenessController
from prg.settings import Settings, get_settings
from prg.web import (
    RequireKnownBodyType,
    StaffAuthentication,
    add_security_headers,
    practice_guard,
    provide_practice,
)
from surveys.controllers import SurveyController, provide_writer
from surveys.fft_controller import FFTController
from surveys.ingest import ResponseWriter
from surveys.public import PublicSurveyController
from surveys.year_evidence import SurveysYearEvidence


@get("/livez", opt={"exclude_from_auth": True}, tags=["health"], include_in_schema=True)
async def livez() -> dict[str, str]:
    """The process answers. Touches nothing else."""
    return {"status": "ok"}


@get("/healthz", opt={"exclude_from_auth": True}, tags=["health"])
async def healthz() -> dict[str, str]:
    """The database answers."""
    try:
        await db.current_engine().run_querystring(QueryString("SELECT 1"))
    except Exception as exc:  # any driver failure means unhealthy
        raise DatabaseDown("The database did not answer.") from exc
    return {"status": "ok", "database": db.current_engine().engine_type}


@get("/.well-known/security.txt", opt={"exclude_from_auth": True}, include_in_schema=False,
     media_type=MediaType.TEXT, sync_to_thread=False)
def security_txt() -> str:
    """RFC 9116: whom to tell about a vulnerability in this deployment (`PRG_SECURITY_CONTACT`)."""
    contact = get_settings().security_contact.strip()
    if not contact:
        raise NotFoundException("This deployment has not published a security contact.")
    expires = (db.utcnow() + timedelta(days=180)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return f"Contact: {contact}\nExpires: {expires}\nPreferred-Languages: en\n"


class DatabaseDown(DomainError):
    status = 503
    title = "Service unavailable"
    slug = "database-unavailable"


# Dependency inversion (docs/architecture.md): a lower feature defines what it needs from a higher one, the
# higher one implements it, and this is where the two meet.
def provide_survey_evidence() -> SurveyEvidence:
    """What the participation year reads about surveys (prg.des defines it, surveys implements it)."""
    return SurveysYearEvidence()


def provide_member_correspondence() -> MemberCorrespondence:
    """What the year holds on a member, for the subject access export (members defines it, prg.des implements it)."""
    return ConsultationCorrespondence()


def practice_router() -> Router:
    return Router(
        path="/api/practices/{ods_code:str}",
        route_handlers=[PracticeController, MemberController, AuditController, SurveyController, FFTController,
                        PopulationController, RepresentativenessController, RecruitmentTargetsController,
                        ExportController, SchemeYearController, ConsultationController,
                        ContactBlockController, RecruitmentController],
        guards=[practice_guard],
        dependencies={"practice": Provide(provide_practice, sync_to_thread=False),
                      "writer": Provide(provide_writer, sync_to_thread=False),
                      "survey_evidence": Provide(provide_survey_evidence, sync_to_thread=False),
                      "correspondence": Provide(provide_member_correspondence, sync_to_thread=False)},
    )


@get("/api/practices", tags=["practice"])
async def my_practices(request: Request) -> list[PracticeOut]:
    """The practices where the caller has a role."""
    return await practices_of(request.auth.user_id)


def create_app(settings: Settings | None = None, *, pool: bool = True) -> Litestar:
    """Build the application on the engine bound in `prg.db`. With `pool`, it keeps a connection pool
    on PostgreSQL for its lifetime (tests turn it off: their fixtures run on another event loop)."""
    settings = settings or get_settings()
    logging.getLogger("prg").setLevel(settings.log_level.upper())

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = db.current_engine()
        await db.prepare(engine)
        if pool:
            await db.start_pool(engine, settings.pg_pool_max)
        app.state.response_writer = writer = ResponseWriter()
        await writer.start()
        try:
            yield
        finally:
            await writer.stop()
            await db.close_pool(engine)

    cors = CORSConfig(allow_origins=[o.strip() for o in settings.cors_origins.split(",") if o.strip()],
                      allow_credentials=True) if settings.cors_origins.strip() else None
    app = Litestar(
        route_handlers=[livez, healthz, security_txt, my_practices, AuthController, AdminController, practice_router(),
                        PublicSurveyController, JoinController, PublicConsultationController],
        lifespan=[lifespan],
        middleware=[RequireKnownBodyType(), DefineMiddleware(StaffAuthentication, exclude=[r"^/schema"])],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[add_security_headers],
        cors_config=cors,
        request_max_body_size=settings.max_upload_bytes + 100_000,
        openapi_config=openapi_config(),
        debug=False,
    )
    document_problem_responses(app)
    answer_options_with_every_method(app)
    return app


__all__ = ["create_app", "problem"]
