"""Writing and reading the audit log. `record` joins the caller's transaction, so an action and its
audit entry commit together or not at all."""

from __future__ import annotations

from typing import Any, Protocol

from prg.accounts.audit.tables import AuditEvent
from prg.db import utcnow


class Actor(Protocol):
    """Who did it: a signed-in staff member (`prg.accounts.services.Identity`); None is the system."""

    @property
    def user_id(self) -> int: ...

    @property
    def email(self) -> str: ...


async def record(
    action: str,
    actor: Actor | None,
    *,
    practice_id: int | None = None,
    entity: str = "",
    entity_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await AuditEvent.insert(
        AuditEvent(
            practice=practice_id,
            at=utcnow(),
            actor_user_id=actor.user_id if actor else None,
            actor=actor.email if actor else "system",
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=details or {},
        )
    )


async def list_events(
    practice_id: int, *, entity: str | None = None, entity_id: int | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    where = [AuditEvent.practice == practice_id]
    if entity:
        where.append(AuditEvent.entity == entity)
    if entity_id is not None:
        where.append(AuditEvent.entity_id == entity_id)
    query = AuditEvent.select(
        AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.entity,
        AuditEvent.entity_id, AuditEvent.details,
    ).where(*where)
    rows = await query.order_by(AuditEvent.id, ascending=False).limit(limit).offset(offset).output(load_json=True)
    total = await AuditEvent.count().where(*where)
    return rows, total
