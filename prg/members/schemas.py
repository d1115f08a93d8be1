"""API types for the PRG register. The bounds here are the real rules (OpenAPI shows them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from prg.accounts.audit.schemas import AuditEntry

# One line of text a person typed: no control characters, and no leading `=` or `@`, which spreadsheets
# would run as a formula when the register is exported.
_LINE = r"^(?![=@])[^\x00-\x1f\x7f]*$"


def Line(max_length: int, min_length: int = 0):  # noqa: N802 - reads like a type
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=max_length, pattern=_LINE)]


Address = Annotated[str, msgspec.Meta(max_length=500, pattern=r"^(?![=@])[^\x00-\x09\x0b-\x1f\x7f]*$")]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, msgspec.Meta(max_length=30, pattern=r"^$|^\+?[0-9 ()-]{6,30}$")]
Postcode = Annotated[str, msgspec.Meta(max_length=10, pattern=r"^$|^[A-Za-z]{1,2}[0-9][0-9A-Za-z]? ?[0-9][A-Za-z]{2}$")]
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")]
AgeBand = Annotated[str, msgspec.Meta(max_length=20, pattern=r"^$|^(<\d{1,3}|\d{1,3}-\d{1,3}|\d{1,3}\+)$")]
BirthYear = Annotated[int, msgspec.Meta(ge=1890, le=2100)]
CharacteristicKey = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")]
Characteristics = Annotated[dict[CharacteristicKey, Line(100)], msgspec.Meta(max_length=30)]

Sex = Literal["female", "male", "other", "not_stated", "not_known"]
Participation = Literal["core", "virtual", "both"]
Status = Literal["invited", "active", "left"]
Channel = Literal["letter", "poster", "leaflet", "website", "clinician", "prescription", "email", "self_signup", "other"]
ContactMethod = Literal["email", "phone", "sms", "post"]
# NHS Data Dictionary ETHNIC CATEGORY: A..S, Z = not stated (asked, declined), 99 = not known / not recorded.
EthnicCategory = Literal["A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z", "99"]
ConsentPurpose = Literal["prg_contact", "monitoring"]
ConsentMethod = Literal["paper", "web", "verbal", "email", "phone"]


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    first_name: Line(100, 1)
    last_name: Line(100, 1)
    reference: Reference | None = None  # given by the practice, or PRG-0001... when left out
    title: Line(20) = ""
    email: Email = ""
    phone: Phone = ""
    address: Address = ""
    postcode: Postcode = ""
    # Left out: the first of e-mail, phone, post that the member has (none if they have no details).
    preferred_contact: ContactMethod | None = None
    participation: Participation = "virtual"
    status: Status = "active"
    joined_on: date | None = None
    left_on: date | None = None
    recruitment_channel: Channel = "other"
    sex: Sex = "not_known"
    birth_year: BirthYear | None = None
    age_band: AgeBand = ""
    ethnic_category: EthnicCategory = "99"
    characteristics: Characteristics = {}


class MemberUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    first_name: Line(100, 1) | msgspec.UnsetType = msgspec.UNSET
    last_name: Line(100, 1) | msgspec.UnsetType = msgspec.UNSET
    reference: Reference | msgspec.UnsetType = msgspec.UNSET
    title: Line(20) | msgspec.UnsetType = msgspec.UNSET
    email: Email | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | msgspec.UnsetType = msgspec.UNSET
    address: Address | msgspec.UnsetType = msgspec.UNSET
    postcode: Postcode | msgspec.UnsetType = msgspec.UNSET
    preferred_contact: ContactMethod | None | msgspec.UnsetType = msgspec.UNSET
    participation: Participation | msgspec.UnsetType = msgspec.UNSET
    status: Status | msgspec.UnsetType = msgspec.UNSET
    joined_on: date | None | msgspec.UnsetType = msgspec.UNSET
    left_on: date | None | msgspec.UnsetType = msgspec.UNSET
    recruitment_channel: Channel | msgspec.UnsetType = msgspec.UNSET
    sex: Sex | msgspec.UnsetType = msgspec.UNSET
    birth_year: BirthYear | None | msgspec.UnsetType = msgspec.UNSET
    age_band: AgeBand | msgspec.UnsetType = msgspec.UNSET
    ethnic_category: EthnicCategory | msgspec.UnsetType = msgspec.UNSET
    characteristics: Characteristics | msgspec.UnsetType = msgspec.UNSET


class ConsentIn(msgspec.Struct, forbid_unknown_fields=True):
    purpose: ConsentPurpose
    method: ConsentMethod
    wording_version: Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=_LINE)]
    given_at: datetime | None = None  # defaults to now


class ConsentWithdrawal(msgspec.Struct, forbid_unknown_fields=True):
    method: ConsentMethod


class ConsentOut(msgspec.Struct):
    id: int
    purpose: ConsentPurpose
    given_at: datetime
    method: ConsentMethod
    wording_version: str
    withdrawn_at: datetime | None
    withdrawal_method: str
    active: bool


class MemberOut(msgspec.Struct):
    id: int
    reference: str
    title: str
    first_name: str
    last_name: str
    email: str
    phone: str
    address: str
    postcode: str
    preferred_contact: ContactMethod | None
    participation: Participation
    status: Status
    joined_on: date | None
    left_on: date | None
    recruitment_channel: Channel
    sex: Sex
    birth_year: int | None
    age_band: str
    ethnic_category: EthnicCategory
    characteristics: dict[str, str]
    created_at: datetime
    updated_at: datetime
    consents: list[ConsentOut] | None = None  # present on single-member reads


class MemberPage(msgspec.Struct):
    items: list[MemberOut]
    total: int
    limit: int
    offset: int


class ImportResult(msgspec.Struct):
    created: int
    references: list[str]


class ConsultationCopy(msgspec.Struct):
    """A virtual consultation put to the member, and their answer if they gave one."""

    title: str
    question: str
    channel: str
    status: str
    sent_at: datetime | None
    answer: str | None
    comment: str
    answered_at: datetime | None


class ContactBlockOut(msgspec.Struct):
    """The practice stopped e-mailing the member: their address bounced, or they opted out."""

    reason: str
    recorded_at: datetime


class SubjectAccessExport(msgspec.Struct):
    """Everything held on one member (UK GDPR Article 15): every table that names the member has a part here
    (tests/integration/test_members.py checks the list against the schema)."""

    practice: str
    generated_at: datetime
    member: MemberOut
    consultations: list[ConsultationCopy]
    contact_blocks: list[ContactBlockOut]
    audit_trail: list[AuditEntry]
