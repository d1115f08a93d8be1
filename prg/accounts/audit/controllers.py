from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import QueryParameter

from prg.accounts.audit.schemas import AuditEntry, AuditPage
from prg.accounts.audit.services import list_events
from prg.web import CurrentPractice


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]

    @get("/", opt={"role": "manager"})
    async def list_audit(
        self, practice: CurrentPractice,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> AuditPage:
        """The practice's audit log, newest first."""
        rows, total = await list_events(practice.practice_id, limit=limit, offset=offset)
        return AuditPage(items=[msgspec.convert(r, AuditEntry, strict=False) for r in rows], total=total)
