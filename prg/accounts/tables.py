from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Practice(Table):
    """A GP practice: the tenant. Everything a practice owns points here."""

    ods_code = Varchar(length=6, unique=True, index=True)
    name = Varchar(length=200)
    address = Text(default="")
    postcode = Varchar(length=10, default="")
    list_size = Integer(null=True, default=None)
    # Published in the Local Patient Participation Report (the DES asked for opening hours, how to reach
    # services in core hours, and when each kind of clinician can be seen in extended hours).
    website = Varchar(length=300, default="")
    opening_hours = Text(default="")
    extended_hours = JSON(default="[]")  # [{"clinician": "GP", "times": "Tuesday 18:30-20:00"}, ...]
    created_at = Timestamptz()


class StaffUser(Table):
    """A person who signs in: practice staff, or a host-level admin (PCN, commissioner)."""

    email = Varchar(length=254, unique=True, index=True)
    display_name = Varchar(length=200, default="")
    password_hash = Varchar(length=200)
    is_admin = Boolean(default=False)
    is_active = Boolean(default=True)
    created_at = Timestamptz()


class PracticeRole(Table):
    """A user's role at one practice (unique per user and practice: see the migration)."""

    user = ForeignKey(references=StaffUser, on_delete=OnDelete.cascade, index=True)
    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=10)  # viewer | staff | manager


class StaffSession(Table):
    """A signed-in browser. Only a hash of the cookie value is stored."""

    token_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(references=StaffUser, on_delete=OnDelete.cascade, index=True)
    csrf_token = Varchar(length=64)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()


class ApiToken(Table):
    """A personal token for scripts (`Authorization: Bearer ...`). Only its hash is stored."""

    user = ForeignKey(references=StaffUser, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True, index=True)
    prefix = Varchar(length=12)  # shown in lists so a user can tell tokens apart
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class LoginFailure(Table):
    """A failed sign-in, for throttling. The e-mail is kept only as a hash."""

    email_hash = Varchar(length=64, index=True)
    at = Timestamptz(index=True)
