"""Surveys, their frozen versions, invitations and responses.

A survey's definition is edited as a draft version; publishing freezes it (`published_at`) and every
response points at the version it answered, so later edits never change what old answers mean.
Anonymous surveys keep no link from a response to an invitation or a person, and only the day it
arrived (`submitted_on`); identified surveys also keep the invitation and the exact time.
"""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from prg.accounts.tables import Practice


class Survey(Table):
    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=200)
    public_id = Varchar(length=32, unique=True, index=True)  # the /s/{public_id} link; random, unguessable
    status = Varchar(length=10, default="draft")  # draft | open | closed
    access = Varchar(length=12, default="open")  # open (any number of answers) | invitation (single-use links)
    anonymous = Boolean(default=True)
    created_at = Timestamptz()


class SurveyVersion(Table):
    survey = ForeignKey(references=Survey, on_delete=OnDelete.cascade, index=True)
    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    number = Integer()
    definition = JSON()
    created_at = Timestamptz()
    published_at = Timestamptz(null=True, default=None)
    # What an XLSForm import did not carry over (surveys.xlsform.report), for the staff to read before publishing.
    import_report = JSON(null=True, default=None)


class Invitation(Table):
    """A single-use link. Only the token's hash is stored; `draft` holds saved answers for resuming."""

    survey = ForeignKey(references=Survey, on_delete=OnDelete.cascade, index=True)
    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    channel = Varchar(length=10)  # sms | email | paper | kiosk | other
    created_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    draft = JSON(null=True, default=None)


class SurveyResponse(Table):
    practice = ForeignKey(references=Practice, on_delete=OnDelete.cascade, index=True)
    survey = ForeignKey(references=Survey, on_delete=OnDelete.cascade, index=True)
    version = ForeignKey(references=SurveyVersion, on_delete=OnDelete.cascade, index=True)
    mode = Varchar(length=10)  # web | paper | kiosk | sms | email
    language = Varchar(length=10)
    submitted_on = Date(index=True)
    submitted_at = Timestamptz(null=True, default=None)  # identified surveys only
    invitation = ForeignKey(references=Invitation, on_delete=OnDelete.set_null, null=True, default=None)
    answers = JSON()
