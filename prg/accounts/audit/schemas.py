"""The audit log as the API shows it."""

from __future__ import annotations

from datetime import datetime

import msgspec


class AuditEntry(msgspec.Struct):
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    details: dict


class AuditPage(msgspec.Struct):
    items: list[AuditEntry]
    total: int
