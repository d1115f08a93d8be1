"""API types for the recruitment pack. Other features read campaigns through `services.list_campaigns`,
which returns `CampaignOut`: keep its fields stable (add, never rename)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

_LINE = r"^(?![=@])[^\x00-\x1f\x7f]*$"

TemplateKind = Literal["recruitment_core", "recruitment_virtual", "follow_up", "meeting_invitation", "poster",
                       "leaflet", "email", "sms"]
LetterKind = Literal["recruitment_core", "recruitment_virtual", "follow_up", "meeting_invitation", "email", "sms"]
LanguageCode = Annotated[str, msgspec.Meta(min_length=2, max_length=10, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
#: How a mailing reaches people. A member's recruitment channel is compared with it to count responses.
MailingChannel = Literal["letter", "email", "sms"]
#: Recruitment that is not a targeted mailing, recorded by hand as evidence.
OtherChannel = Literal["poster", "leaflet", "prescription", "website", "clinician", "other"]
_BAND = r"(Under 16|<16|\d{1,3}-\d{1,3}|\d{1,3}\+)"
#: A target group: age x sex band, age band, sex, ethnic category code, high-level ethnic group, or a flag
#: column of the patient list (a member's characteristic of the same key).
GroupKey = Annotated[str, msgspec.Meta(min_length=3, max_length=80, pattern=(
    rf"^(age_x_sex:(female|male):{_BAND}|age:{_BAND}|sex:(female|male)|ethnicity:[A-HJ-NPRS]|"
    r"ethnic_group:(white|mixed|asian|black|other)|flag:[a-z0-9_]{1,50})$"))]


def Line(max_length: int, min_length: int = 0):  # noqa: N802 - reads like a type
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=max_length, pattern=_LINE)]


class CampaignGroupOut(msgspec.Struct):
    group: str  # age_x_sex:female:16-24, ethnicity:K, ethnic_group:asian, flag:carer ...
    label: str
    eligible: int  # patients of the list in the group who could be sent to
    sent: int  # of them, how many the campaign went to
    joined: int  # members who joined through the campaign's channel in the response window and fit the group
    response_rate: float | None  # joined / sent (None when nothing was sent)


class CampaignOut(msgspec.Struct):
    id: int
    sent_on: date
    channel: str  # letter | email | sms | poster | leaflet | prescription | website | clinician | other
    member_channel: str  # the members' recruitment_channel that counts as answering this campaign
    template: str
    name: str
    total_sent: int
    languages: dict[str, int]  # template language -> pieces sent
    excluded: dict[str, int]  # reason -> patients left out
    groups: list[CampaignGroupOut]
    joined: int  # members who joined through the channel within the response window (any group)
    response_window_days: int
    notes: str
    created_at: datetime


class CampaignIn(msgspec.Struct, forbid_unknown_fields=True):
    """A recruitment step that is not a mailing (posters up, leaflets on prescriptions...), kept as evidence."""

    channel: OtherChannel
    sent_on: date
    name: Line(100, 1)
    total_sent: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0  # posters put up, leaflets handed out
    groups: Annotated[list[GroupKey], msgspec.Meta(max_length=50)] = []
    notes: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class TemplateInfo(msgspec.Struct):
    kind: str
    description: str
    language: str
    language_name: str
    direction: str
    reviewed: bool  # the shipped translation has been checked by a native speaker
    overridden: bool  # the practice uses its own copy


class TemplateText(msgspec.Struct):
    kind: str
    language: str
    body: str
    overridden: bool
    updated_at: datetime | None = None


class TemplateTextIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
