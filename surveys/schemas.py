"""API types for surveys, invitations and responses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from surveys.definition import SurveyDefinition
from surveys.xlsform.report import ReportEntry

Access = Literal["open", "invitation"]
Status = Literal["draft", "open", "closed"]
Mode = Literal["web", "paper", "kiosk", "sms", "email"]
Channel = Literal["sms", "email", "paper", "kiosk", "other"]


class SurveyCreate(msgspec.Struct, forbid_unknown_fields=True):
    definition: SurveyDefinition
    access: Access = "open"
    anonymous: bool = True


class DefinitionUpdate(msgspec.Struct, forbid_unknown_fields=True):
    definition: SurveyDefinition


class SurveyOut(msgspec.Struct):
    id: int
    title: str
    public_id: str
    link: str  # the path patients open: /s/{public_id}
    status: Status
    access: Access
    anonymous: bool
    published_version: int | None
    draft_version: int | None
    created_at: datetime


class VersionOut(msgspec.Struct):
    number: int
    published_at: datetime | None
    definition: dict[str, Any]
    # For a draft made from an XLSForm: what the import did not carry over (shown before publishing).
    import_report: list[ReportEntry] | None = None


class XLSFormImportOut(SurveyOut):
    """The draft an XLSForm made, and the report of everything in the workbook it did not keep as written."""

    import_report: list[ReportEntry] = []


class InvitationRequest(msgspec.Struct, forbid_unknown_fields=True):
    channel: Channel
    count: Annotated[int, msgspec.Meta(ge=1, le=10_000)]


class ResponseSubmit(msgspec.Struct, forbid_unknown_fields=True):
    """A response from a kiosk or an integration (validated exactly as the web form's)."""

    answers: Annotated[dict[str, Any], msgspec.Meta(max_length=400)]
    language: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")] = "en"
    mode: Mode = "kiosk"


class ResponseOut(msgspec.Struct):
    id: int
    version: int
    mode: Mode
    language: str
    submitted_on: date
    answers: dict[str, Any]


class ResponsePage(msgspec.Struct):
    items: list[ResponseOut]
    total: int


class Submitted(msgspec.Struct):
    id: int


LanguageCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]
BankId = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class BankSection(msgspec.Struct, forbid_unknown_fields=True):
    id: BankId
    questions: Annotated[list[BankId], msgspec.Meta(min_length=1, max_length=100)]
    title: Annotated[dict[LanguageCode, Annotated[str, msgspec.Meta(max_length=1000)]], msgspec.Meta(max_length=20)] | None = None


class FromBank(msgspec.Struct, forbid_unknown_fields=True):
    """A survey made of bank questions, section by section, in the chosen languages."""

    title: Annotated[dict[LanguageCode, Annotated[str, msgspec.Meta(min_length=1, max_length=200)]], msgspec.Meta(min_length=1, max_length=20)]
    sections: Annotated[list[BankSection], msgspec.Meta(min_length=1, max_length=50)]
    languages: Annotated[list[LanguageCode], msgspec.Meta(min_length=1, max_length=20)] = msgspec.field(default_factory=lambda: ["en"])
    default_language: LanguageCode = "en"
    access: Access = "open"
    anonymous: bool = True


class BankQuestionOut(msgspec.Struct):
    id: str
    collection: str
    topic: str
    source: str
    type: str
    label: str
    question: dict[str, Any]
