from piccolo.columns import JSON, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from prg.accounts.tables import Practice


class AuditEvent(Table):
    """One action. Rows are only ever inserted. `details` never holds a patient's personal data:
    it names fields and counts, not values, so an erased member leaves no trace here."""

    practice = ForeignKey(references=Practice, on_delete=OnDelete.restrict, null=True, index=True)
    at = Timestamptz(index=True)
    # The actor is copied, not referenced, so the record outlives the account.
    actor_user_id = Integer(null=True, default=None)
    actor = Varchar(length=254, default="")
    action = Varchar(length=60)
    entity = Varchar(length=40, default="")
    entity_id = Integer(null=True, default=None, index=True)
    details = JSON(default="{}")
