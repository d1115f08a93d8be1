"""API types for practices, users, roles, sessions and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

OdsCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][0-9]{5}$", description="GP practice ODS code, e.g. A81001")]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, msgspec.Meta(min_length=12, max_length=200, description="At least 12 characters")]
Postcode = Annotated[str, msgspec.Meta(max_length=10)]
Role = Literal["viewer", "staff", "manager"]
# Published text: one line without control characters or a leading formula trigger; hours may run to lines.
Website = Annotated[str, msgspec.Meta(max_length=300, pattern=r"^$|^https?://[^\s<>\"]+$",
                                      examples=["https://www.example-surgery.nhs.uk"])]
OpeningHours = Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^(?![=+@-])[^\x00-\x09\x0b-\x1f\x7f]*$",
                                           description="Opening hours and how to reach services in core hours")]
HoursLine = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^(?![=+@-])[^\x00-\x1f\x7f]*$")]


class ExtendedHours(msgspec.Struct, forbid_unknown_fields=True):
    """When one kind of clinician can be seen outside core hours."""

    clinician: HoursLine  # e.g. "GP", "Practice nurse"
    times: HoursLine  # e.g. "Tuesday 18:30 to 20:00"


class PracticeIn(msgspec.Struct, forbid_unknown_fields=True):
    ods_code: OdsCode
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    address: Annotated[str, msgspec.Meta(max_length=500)] = ""
    postcode: Postcode = ""
    list_size: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None


class PracticeUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    address: Annotated[str, msgspec.Meta(max_length=500)] | msgspec.UnsetType = msgspec.UNSET
    postcode: Postcode | msgspec.UnsetType = msgspec.UNSET
    list_size: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None | msgspec.UnsetType = msgspec.UNSET
    website: Website | msgspec.UnsetType = msgspec.UNSET
    opening_hours: OpeningHours | msgspec.UnsetType = msgspec.UNSET
    extended_hours: Annotated[list[ExtendedHours], msgspec.Meta(max_length=20)] | msgspec.UnsetType = msgspec.UNSET


class PracticeOut(msgspec.Struct):
    """A practice. The published details (website, opening and extended hours) appear once they are set."""

    ods_code: str
    name: str
    address: str
    postcode: str
    list_size: int | None
    role: Role | None = None
    website: str | msgspec.UnsetType = msgspec.UNSET
    opening_hours: str | msgspec.UnsetType = msgspec.UNSET
    extended_hours: list[ExtendedHours] | msgspec.UnsetType = msgspec.UNSET


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    display_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    is_admin: bool = False


class UserOut(msgspec.Struct):
    id: int
    email: str
    display_name: str
    is_admin: bool
    is_active: bool


class RoleGrant(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    role: Role
    # Only used when no account exists yet for the e-mail: the new account's first password.
    password: Password | None = None
    display_name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class AdminRoleGrant(msgspec.Struct, forbid_unknown_fields=True):
    ods_code: OdsCode
    role: Role


class PracticeUserOut(msgspec.Struct):
    user_id: int
    email: str
    display_name: str
    role: Role


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Me(msgspec.Struct):
    user: UserOut
    practices: list[PracticeOut]
    # The value to send back in the X-CSRF-Token header on unsafe requests (cookie sessions only).
    csrf_token: str | None = None


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class TokenOut(msgspec.Struct):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(msgspec.Struct):
    token: TokenOut
    # Shown once: only its hash is stored.
    secret: str
