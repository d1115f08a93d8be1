"""The participation year's records: priorities, the engagement log, the action plan, virtual
consultations with one delivery row per member, contact blocks (bounces, opt-outs), the published report,
and a practice's own rate or weights for a scheme year.

Every row carries its practice and the scheme year code ("2013-14") it counts towards. Composite unique
indexes (one delivery per member and consultation, one report and one override per practice and year,
one block per member) are in a raw migration.
"""

from piccolo.columns import JSON, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from prg.accounts.tables import Practice
from prg.members.tables import Member


class SchemeOverride(Table):
    """The commissioner's own figures for one scheme year at this practice: rate and/or component weights."""

    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    year_code = Varchar(length=7)
    rate_per_patient = Varchar(length=12, null=True, default=None)  # a decimal as text: exact pence
    weights = JSON(default="{}")
    note = Varchar(length=300, default="")
    updated_at = Timestamptz()


class Engagement(Table):
    """A meeting, event or other recorded contact with the group (virtual consultations have their own table)."""

    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    year_code = Varchar(length=7, index=True)
    held_on = Date()
    kind = Varchar(length=24, default="meeting")  # meeting | virtual_consultation | event
    purpose = Varchar(length=16, default="general")  # general | priorities | discussion | action_plan
    title = Varchar(length=200, default="PRG meeting")
    invited = Integer(null=True, default=None)
    attended = Integer(null=True, default=None)
    notes = Text(default="")
    decisions = Text(default="")
    created_at = Timestamptz()


class Consultation(Table):
    """A question or draft put to the group's members by e-mail or text; each member answers once."""

    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    year_code = Varchar(length=7, index=True)
    title = Varchar(length=200)
    question = Text()
    subject = Varchar(length=16, default="question")  # question | priorities | discussion | action_plan
    opens_on = Date()
    closes_on = Date(null=True, default=None)
    status = Varchar(length=10, default="draft")  # draft | sending | closed
    outcome = Varchar(length=12, null=True, default=None)  # agreed | not_agreed | noted
    closed_on = Date(null=True, default=None)
    decisions = Text(default="")
    item_ids = JSON(default="[]")
    created_at = Timestamptz()
    audience = Varchar(length=8, default="virtual")  # virtual (virtual and "both" members) | all


class Priority(Table):
    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    year_code = Varchar(length=7, index=True)
    title = Varchar(length=200)
    description = Text(default="")
    proposed_by = Varchar(length=16, default="practice")
    proposed_on = Date(null=True, default=None)
    status = Varchar(length=10, default="proposed")  # proposed | agreed | dropped
    agreed_on = Date(null=True, default=None)
    agreed_how = Varchar(length=24, null=True, default=None)  # meeting | virtual_consultation | other
    engagement = ForeignKey(references=Engagement, on_delete=OnDelete.set_null, null=True, default=None)
    consultation = ForeignKey(references=Consultation, on_delete=OnDelete.set_null, null=True, default=None)
    survey_questions = JSON(default="[]")  # [{"survey_id": 1, "question_id": "q"}]
    created_at = Timestamptz()


class ActionItem(Table):
    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    year_code = Varchar(length=7, index=True)
    finding = Text()
    proposed_change = Text(default="")
    owner = Varchar(length=100, default="")
    due_on = Date(null=True, default=None)
    status = Varchar(length=12, default="proposed")  # proposed | agreed | in_progress | done | not_acting
    progress_notes = Text(default="")
    prg_agreed_on = Date(null=True, default=None)
    prg_agreed_how = Varchar(length=24, null=True, default=None)
    not_acting_reason = Text(default="")
    survey_id = Integer(null=True, default=None)  # a survey of this practice (checked on write)
    priority = ForeignKey(references=Priority, on_delete=OnDelete.set_null, null=True, default=None)
    consultation = ForeignKey(references=Consultation, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ConsultationDelivery(Table):
    """One member's copy of a consultation. Unique per (consultation, member): a member is never sent the
    same consultation twice. `status`: pending -> sending (claimed by a sender) -> sent, or failed (the server
    refused it) or skipped. Only the token's SHA-256 is kept; the link is in the member's mail alone."""

    consultation = ForeignKey(references=Consultation, on_delete=OnDelete.cascade, index=True)
    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    member = ForeignKey(references=Member, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=8, default="email")  # email | sms
    status = Varchar(length=8, default="pending", index=True)
    token_hash = Varchar(length=64, null=True, default=None, unique=True)
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    error = Varchar(length=200, default="")  # the SMTP reply code and class, never an address
    answer = Varchar(length=10, null=True, default=None)  # agree | disagree | comment
    comment = Text(default="")
    answered_at = Timestamptz(null=True, default=None)


class ContactBlock(Table):
    """A member not to e-mail again: the address bounced, or they opted out through a mail's link."""

    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    member = ForeignKey(references=Member, on_delete=OnDelete.cascade, index=True)
    reason = Varchar(length=10)  # bounced | opted_out
    recorded_at = Timestamptz()


class ReportPublication(Table):
    """Where and when the year's report was published (one per practice and year)."""

    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    year_code = Varchar(length=7)
    published_on = Date()
    url = Varchar(length=500)
    notes = Varchar(length=500, default="")
    recorded_at = Timestamptz()
