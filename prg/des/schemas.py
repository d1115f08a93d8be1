"""API types of the participation year: scheme years, priorities, the engagement log, the action plan,
virtual consultations, the published report and the live guide. Bounds here are the real rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

_LINE = r"^(?![=@])[^\x00-\x1f\x7f]*$"
_TEXT = r"^(?![=@])[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def Line(max_length: int, min_length: int = 0):  # noqa: N802 - reads like a type
    """One line a person typed: no control characters, no leading formula character."""
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=max_length, pattern=_LINE)]


def Text(max_length: int, min_length: int = 0):  # noqa: N802
    """Several lines a person typed (notes, minutes)."""
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=max_length, pattern=_TEXT)]


YearCode = Annotated[str, msgspec.Meta(pattern=r"^20\d\d-\d\d$", max_length=7)]
Url = Annotated[str, msgspec.Meta(max_length=500, pattern=r"^https?://[^\s<>\"]+$")]
Count = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]
Weight = Annotated[float, msgspec.Meta(ge=0, le=1)]
Rate = Annotated[float, msgspec.Meta(ge=0, le=100)]

Status = Literal["done", "in_progress", "missing"]
ComponentKey = Literal["prg", "priorities", "survey", "discussion", "action_plan", "report"]
ProposedBy = Literal["practice", "prg", "patients", "survey", "commissioner", "other"]
AgreedHow = Literal["meeting", "virtual_consultation", "other"]
PriorityStatus = Literal["proposed", "agreed", "dropped"]
EngagementKind = Literal["meeting", "virtual_consultation", "event"]
Purpose = Literal["general", "priorities", "discussion", "action_plan"]
ActionStatus = Literal["proposed", "agreed", "in_progress", "done", "not_acting"]
Subject = Literal["question", "priorities", "discussion", "action_plan"]
Answer = Literal["agree", "disagree", "comment"]


# --------------------------------------------------------------------------------------------------------
# Scheme years (data, from scheme_years.json)
# --------------------------------------------------------------------------------------------------------


class Component(msgspec.Struct, frozen=True):
    key: str
    title: str
    weight: float | None
    weight_confirmed: bool
    required: bool
    next_step: str


class ReportSection(msgspec.Struct, frozen=True):
    key: str
    title: str
    confirmed: bool


class Deadline(msgspec.Struct, frozen=True):
    key: str  # report_on_website | end_of_year_return
    title: str
    due_on: date
    confirmed: bool
    note: str = ""


class SchemeYear(msgspec.Struct, frozen=True):
    code: str  # "2013-14"
    title: str
    kind: str  # des | enhanced_service | contract
    starts_on: date  # 1 April
    ends_on: date  # 31 March
    components: list[Component]
    report_sections: list[ReportSection]
    deadlines: list[Deadline]
    rate_per_patient: float | None  # GBP per registered patient; None: no payment
    rate_confirmed: bool
    rate_note: str
    list_size_reference_date: date  # the list size paid on: 1 April
    survey_kind: str  # any | fft
    notes: list[str]

    def component(self, key: str) -> Component:
        return next(c for c in self.components if c.key == key)

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


# --------------------------------------------------------------------------------------------------------
# Per-practice overrides (the commissioner's own rate or weights)
# --------------------------------------------------------------------------------------------------------


class OverrideIn(msgspec.Struct, forbid_unknown_fields=True):
    rate_per_patient: Rate | None = None
    weights: Annotated[dict[ComponentKey, Weight], msgspec.Meta(max_length=6)] = {}
    note: Line(300) = ""


class OverrideOut(msgspec.Struct):
    year: str
    rate_per_patient: float | None
    weights: dict[str, float]
    note: str
    updated_at: datetime


# --------------------------------------------------------------------------------------------------------
# Priorities
# --------------------------------------------------------------------------------------------------------


class SurveyQuestionRef(msgspec.Struct, forbid_unknown_fields=True):
    survey_id: Id
    question_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\[\]-]+$")]


class PriorityIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Line(200, 1)
    description: Text(2000) = ""
    proposed_by: ProposedBy = "practice"
    proposed_on: date | None = None
    status: PriorityStatus = "proposed"
    agreed_on: date | None = None
    agreed_how: AgreedHow | None = None
    engagement_id: Id | None = None
    survey_questions: Annotated[list[SurveyQuestionRef], msgspec.Meta(max_length=50)] = []


class PriorityUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: Line(200, 1) | msgspec.UnsetType = msgspec.UNSET
    description: Text(2000) | msgspec.UnsetType = msgspec.UNSET
    proposed_by: ProposedBy | msgspec.UnsetType = msgspec.UNSET
    proposed_on: date | None | msgspec.UnsetType = msgspec.UNSET
    status: PriorityStatus | msgspec.UnsetType = msgspec.UNSET
    agreed_on: date | None | msgspec.UnsetType = msgspec.UNSET
    agreed_how: AgreedHow | None | msgspec.UnsetType = msgspec.UNSET
    engagement_id: Id | None | msgspec.UnsetType = msgspec.UNSET
    survey_questions: Annotated[list[SurveyQuestionRef], msgspec.Meta(max_length=50)] | msgspec.UnsetType = msgspec.UNSET


class PriorityOut(msgspec.Struct):
    id: int
    year: str
    title: str
    description: str
    proposed_by: str
    proposed_on: date | None
    status: str
    agreed_on: date | None
    agreed_how: str | None
    engagement_id: int | None
    consultation_id: int | None
    survey_questions: list[SurveyQuestionRef]


# --------------------------------------------------------------------------------------------------------
# Meetings and the engagement log
# --------------------------------------------------------------------------------------------------------


class EngagementIn(msgspec.Struct, forbid_unknown_fields=True):
    held_on: date
    kind: EngagementKind = "meeting"
    purpose: Purpose = "general"
    title: Line(200, 1) = "PRG meeting"
    invited: Count | None = None
    attended: Count | None = None
    notes: Text(20_000) = ""
    decisions: Text(10_000) = ""


class EngagementUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    held_on: date | msgspec.UnsetType = msgspec.UNSET
    kind: EngagementKind | msgspec.UnsetType = msgspec.UNSET
    purpose: Purpose | msgspec.UnsetType = msgspec.UNSET
    title: Line(200, 1) | msgspec.UnsetType = msgspec.UNSET
    invited: Count | None | msgspec.UnsetType = msgspec.UNSET
    attended: Count | None | msgspec.UnsetType = msgspec.UNSET
    notes: Text(20_000) | msgspec.UnsetType = msgspec.UNSET
    decisions: Text(10_000) | msgspec.UnsetType = msgspec.UNSET


class Tally(msgspec.Struct):
    recipients: int
    sent: int
    answered: int
    agree: int
    disagree: int
    comments: int


class EngagementOut(msgspec.Struct):
    """One entry of the engagement log: a meeting or event as recorded, or a virtual consultation."""

    id: int
    source: str  # engagement | consultation
    year: str
    held_on: date
    kind: str
    purpose: str
    title: str
    invited: int | None
    attended: int | None  # for a consultation: members who answered
    notes: str
    decisions: str
    tally: Tally | None = None
    outcome: str | None = None


# --------------------------------------------------------------------------------------------------------
# Action plan
# --------------------------------------------------------------------------------------------------------


class ActionItemIn(msgspec.Struct, forbid_unknown_fields=True):
    finding: Text(2000, 1)
    proposed_change: Text(2000) = ""
    owner: Line(100) = ""
    due_on: date | None = None
    status: ActionStatus = "proposed"
    progress_notes: Text(10_000) = ""
    prg_agreed_on: date | None = None
    prg_agreed_how: AgreedHow | None = None
    not_acting_reason: Text(2000) = ""
    survey_id: Id | None = None
    priority_id: Id | None = None


class ActionItemUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    finding: Text(2000, 1) | msgspec.UnsetType = msgspec.UNSET
    proposed_change: Text(2000) | msgspec.UnsetType = msgspec.UNSET
    owner: Line(100) | msgspec.UnsetType = msgspec.UNSET
    due_on: date | None | msgspec.UnsetType = msgspec.UNSET
    status: ActionStatus | msgspec.UnsetType = msgspec.UNSET
    progress_notes: Text(10_000) | msgspec.UnsetType = msgspec.UNSET
    prg_agreed_on: date | None | msgspec.UnsetType = msgspec.UNSET
    prg_agreed_how: AgreedHow | None | msgspec.UnsetType = msgspec.UNSET
    not_acting_reason: Text(2000) | msgspec.UnsetType = msgspec.UNSET
    survey_id: Id | None | msgspec.UnsetType = msgspec.UNSET
    priority_id: Id | None | msgspec.UnsetType = msgspec.UNSET


class ActionItemOut(msgspec.Struct):
    id: int
    year: str
    finding: str
    proposed_change: str
    owner: str
    due_on: date | None
    status: str
    progress_notes: str
    prg_agreed_on: date | None
    prg_agreed_how: str | None
    not_acting_reason: str
    survey_id: int | None
    priority_id: int | None
    consultation_id: int | None
    created_at: datetime
    updated_at: datetime


class YouSaidWeDid(msgspec.Struct):
    practice: str
    year: str
    year_title: str
    items: list[YouSaidItem]
    not_acted_on: list[YouSaidItem]


class YouSaidItem(msgspec.Struct):
    you_said: str
    we_did: str
    status: str
    progress: str
    agreed_on: date | None
    due_on: date | None


# --------------------------------------------------------------------------------------------------------
# Virtual consultations
# --------------------------------------------------------------------------------------------------------


class ConsultationIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Line(200, 1)
    question: Text(5000, 1)
    subject: Subject = "question"
    opens_on: date | None = None
    closes_on: date | None = None
    # The priorities or action items the consultation asks the group to agree (by subject).
    item_ids: Annotated[list[Id], msgspec.Meta(max_length=200)] = []
    # virtual: members taking part virtually (virtual or both); all: every active member.
    audience: Literal["virtual", "all"] = "virtual"


class ConsultationOut(msgspec.Struct):
    id: int
    year: str
    title: str
    question: str
    subject: str
    opens_on: date
    closes_on: date | None
    status: str  # draft | sending | closed
    outcome: str | None
    closed_on: date | None
    item_ids: list[int]
    tally: Tally
    deliveries: dict[str, int]  # status -> count
    audience: str


class SendResult(msgspec.Struct):
    consultation_id: int
    sent_now: int
    failed_now: int
    pending: int
    sent_total: int
    skipped: dict[str, int]  # reason -> members skipped
    throttle_per_minute: int
    retry_after_seconds: int  # 0 when nothing is pending


class CloseIn(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Literal["agreed", "not_agreed", "noted"]
    closed_on: date | None = None
    decisions: Text(10_000) = ""


class ContactBlockIn(msgspec.Struct, forbid_unknown_fields=True):
    """A bounce or an opt-out to record: by the address the bounce names, or by member."""

    reason: Literal["bounced", "opted_out"] = "bounced"
    email: Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    member_id: Id | None = None


class ContactBlockOut(msgspec.Struct):
    member_id: int
    reason: str
    recorded_at: datetime


# --------------------------------------------------------------------------------------------------------
# The published report and the guide
# --------------------------------------------------------------------------------------------------------


class ReportPublicationIn(msgspec.Struct, forbid_unknown_fields=True):
    published_on: date
    url: Url
    notes: Line(500) = ""


class ReportPublicationOut(msgspec.Struct):
    year: str
    published_on: date
    url: str
    notes: str
    recorded_at: datetime


class Evidence(msgspec.Struct):
    kind: str  # members | population_profile | representativeness | recruitment | priority | survey | ...
    date: date | None
    description: str
    link: str | None = None


class ComponentStatus(msgspec.Struct):
    key: str
    title: str
    status: Status
    required: bool
    weight: float | None
    weight_confirmed: bool
    evidence: list[Evidence]
    next_step: str | None  # None when done


class DeadlineStatus(msgspec.Struct):
    key: str
    title: str
    due_on: date
    confirmed: bool
    days_remaining: int  # negative once passed
    note: str = ""


class Payment(msgspec.Struct):
    payable: bool
    rate_per_patient: float | None
    rate_confirmed: bool
    rate_source: str  # scheme | practice override | none
    list_size: int | None
    list_size_source: str
    list_size_date: date | None
    maximum: float | None  # GBP, rate x list size
    expected: float | None  # GBP, on current evidence
    weights_confirmed: bool
    components_paid: list[str]
    note: str


class YearGuide(msgspec.Struct):
    practice: str
    year: str
    title: str
    kind: str
    starts_on: date
    ends_on: date
    today: date
    components: list[ComponentStatus]
    done: int
    total: int
    next_step: str | None
    deadlines: list[DeadlineStatus]
    payment: Payment
    report_sections: list[ReportSection]
    notes: list[str]


class SchemeYearSummary(msgspec.Struct):
    code: str
    title: str
    kind: str
    starts_on: date
    ends_on: date
