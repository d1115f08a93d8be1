"""Use cases for surveys: drafting and publishing versions, invitations, and storing responses.

Publishing freezes the draft version; editing after that starts a new draft, so responses always
point at the exact questions they answered. The public form and the kiosk API find a survey through
`PublishedSurveys`, a small cache: a published version never changes, so its compiled validator is
kept; whether the survey is still open is re-read at most every few seconds.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Any

import msgspec

from prg.accounts.audit.services import record
from prg.accounts.security import token_hash
from prg.accounts.services import Identity, PracticeAccess
from prg.db import utcnow, write_transaction
from prg.errors import Conflict, ErrorDetail, InvalidInput, NotFound
from surveys import schemas
from surveys.answers import CompiledSurvey, same_page_conditions, validate_response
from surveys.bank import bank_questions, survey_from_bank
from surveys.definition import SurveyDefinition, dump_definition, load_definition, text_for, validate_definition
from surveys.ingest import ResponseWriter
from surveys.response_store import Submission
from surveys.tables import Invitation, Survey, SurveyResponse, SurveyVersion
from surveys.xlsform import ReportEntry, export_xlsform, read_xlsform


def _check(definition: SurveyDefinition) -> dict[str, Any]:
    errors = validate_definition(definition)
    if errors:
        raise InvalidInput("The survey definition has problems.",
                           [ErrorDetail(e.message, field=f"definition.{e.field}" if e.field else "definition")
                            for e in errors])
    return dump_definition(definition)


def _title(definition: SurveyDefinition) -> str:
    return definition.text(definition.title, definition.default_language)


async def _versions(survey_id: int) -> list[dict[str, Any]]:
    return await SurveyVersion.select(SurveyVersion.id, SurveyVersion.number, SurveyVersion.published_at).where(
        SurveyVersion.survey == survey_id).order_by(SurveyVersion.number)


async def _out(row: dict[str, Any]) -> schemas.SurveyOut:
    versions = await _versions(row["id"])
    published = [v["number"] for v in versions if v["published_at"] is not None]
    drafts = [v["number"] for v in versions if v["published_at"] is None]
    return schemas.SurveyOut(
        id=row["id"], title=row["title"], public_id=row["public_id"], link=f"/s/{row['public_id']}",
        status=row["status"], access=row["access"], anonymous=row["anonymous"],
        published_version=published[-1] if published else None, draft_version=drafts[-1] if drafts else None,
        created_at=row["created_at"],
    )


async def _survey_row(access: PracticeAccess, survey_id: int) -> dict[str, Any]:
    row = await Survey.select().where((Survey.id == survey_id) & (Survey.practice == access.practice_id)).first()
    if row is None:
        raise NotFound(f"No survey {survey_id} at {access.ods_code}.")
    return row


async def create_survey(access: PracticeAccess, data: schemas.SurveyCreate, actor: Identity,
                        *, source: str = "definition", import_report: list[Any] | None = None) -> schemas.SurveyOut:
    """A new survey whose version 1 is a draft of `data.definition` (source: definition, bank, xlsform; an
    XLSForm's import report is stored with the draft)."""
    definition = _check(data.definition)
    now = utcnow()
    async with write_transaction():
        survey = Survey(practice=access.practice_id, title=_title(data.definition), public_id=secrets.token_urlsafe(12),
                        status="draft", access=data.access, anonymous=data.anonymous, created_at=now)
        await survey.save()
        await SurveyVersion.insert(SurveyVersion(survey=survey.id, practice=access.practice_id, number=1,
                                                 definition=definition, created_at=now,
                                                 import_report=import_report))
        await record("survey.create", actor, practice_id=access.practice_id, entity="survey", entity_id=survey.id,
                     details={"source": source})
    return await _out(survey.to_dict())


async def create_from_bank(access: PracticeAccess, data: schemas.FromBank, actor: Identity) -> schemas.SurveyOut:
    definition = survey_from_bank(data.title, [(s.id, s.title, s.questions) for s in data.sections],
                                  languages=data.languages, default_language=data.default_language)
    return await create_survey(access, schemas.SurveyCreate(definition, data.access, data.anonymous), actor,
                               source="bank")


async def create_from_xlsform(access: PracticeAccess, content: bytes, filename: str, survey_access: str,
                              anonymous: bool, actor: Identity) -> schemas.XLSFormImportOut:
    """A draft from an XLSForm workbook, with the report of what the import did not carry over (also stored
    with the draft, for the workspace to show before publishing)."""
    imported = read_xlsform(content, filename=filename)
    report = msgspec.to_builtins(imported.report)
    created = await create_survey(access, schemas.SurveyCreate(imported.definition, survey_access, anonymous), actor,
                                  source="xlsform", import_report=report)
    return schemas.XLSFormImportOut(**msgspec.structs.asdict(created), import_report=imported.report)


async def xlsform_of(access: PracticeAccess, survey_id: int, number: int | None) -> tuple[bytes, int]:
    version = await get_version(access, survey_id, number)
    definition = load_definition(version.definition)
    return export_xlsform(definition, form_id=f"{access.ods_code.lower()}_survey_{survey_id}",
                          version=str(version.number)), version.number


def bank_listing(collection: str | None, topic: str | None, lang: str) -> list[schemas.BankQuestionOut]:
    return [
        schemas.BankQuestionOut(
            id=q.id, collection=q.collection, topic=q.topic, source=q.source,
            type=q.question.__struct_config__.tag, label=text_for(q.question.label, lang),
            question=msgspec.to_builtins(q.question),
        )
        for q in bank_questions(collection, topic)
    ]


async def published_version(access: PracticeAccess, survey_id: int) -> tuple[dict[str, Any], dict[str, Any],
                                                                         SurveyDefinition]:
    """The survey (id, title, status, access) and its newest published version (id, number, definition):
    the version results, paper entry and exports read."""
    survey = await Survey.select(Survey.id, Survey.title, Survey.status, Survey.access).where(
        (Survey.id == survey_id) & (Survey.practice == access.practice_id)).first()
    if survey is None:
        raise NotFound(f"No survey {survey_id} at {access.ods_code}.")
    version = await SurveyVersion.select(SurveyVersion.id, SurveyVersion.number, SurveyVersion.definition).where(
        (SurveyVersion.survey == survey_id) & SurveyVersion.published_at.is_not_null()
    ).order_by(SurveyVersion.number, ascending=False).output(load_json=True).first()
    if version is None:
        raise NotFound("This survey has no published version yet, so it has no responses or results.")
    return survey, version, load_definition(version["definition"])


async def list_surveys(access: PracticeAccess) -> list[schemas.SurveyOut]:
    rows = await Survey.select().where(Survey.practice == access.practice_id).order_by(Survey.id)
    return [await _out(r) for r in rows]


async def get_survey(access: PracticeAccess, survey_id: int) -> schemas.SurveyOut:
    return await _out(await _survey_row(access, survey_id))


async def get_version(access: PracticeAccess, survey_id: int, number: int | None = None) -> schemas.VersionOut:
    await _survey_row(access, survey_id)
    query = SurveyVersion.select().where(SurveyVersion.survey == survey_id)
    if number is not None:
        query = query.where(SurveyVersion.number == number)
    row = await query.order_by(SurveyVersion.number, ascending=False).output(load_json=True).first()
    if row is None:
        raise NotFound("No such version.")
    return schemas.VersionOut(number=row["number"], published_at=row["published_at"], definition=row["definition"],
                              import_report=None if row.get("import_report") is None else
                              msgspec.convert(row["import_report"], list[ReportEntry]))


async def update_definition(access: PracticeAccess, survey_id: int, definition: SurveyDefinition,
                            actor: Identity) -> schemas.SurveyOut:
    """Replace the draft; if the newest version is published, the change becomes a new draft version."""
    stored = _check(definition)
    async with write_transaction():
        row = await _survey_row(access, survey_id)
        latest = (await _versions(survey_id))[-1]
        if latest["published_at"] is None:
            await SurveyVersion.update({SurveyVersion.definition: stored}).where(SurveyVersion.id == latest["id"])
        else:
            await SurveyVersion.insert(SurveyVersion(survey=survey_id, practice=access.practice_id,
                                                     number=latest["number"] + 1, definition=stored,
                                                     created_at=utcnow()))
        await Survey.update({Survey.title: _title(definition)}).where(Survey.id == survey_id)
        await record("survey.edit", actor, practice_id=access.practice_id, entity="survey", entity_id=survey_id)
    return await _out({**row, "title": _title(definition)})


async def publish(access: PracticeAccess, survey_id: int, actor: Identity) -> schemas.SurveyOut:
    async with write_transaction():
        row = await _survey_row(access, survey_id)
        latest = (await _versions(survey_id))[-1]
        if latest["published_at"] is not None and row["status"] == "open":
            raise Conflict("The newest version is already published; edit the survey to make a new draft.")
        if latest["published_at"] is None:
            await SurveyVersion.update({SurveyVersion.published_at: utcnow()}).where(SurveyVersion.id == latest["id"])
        await Survey.update({Survey.status: "open"}).where(Survey.id == survey_id)
        await record("survey.publish", actor, practice_id=access.practice_id, entity="survey", entity_id=survey_id,
                     details={"version": latest["number"]})
    published_surveys.forget(row["public_id"])
    return await _out({**row, "status": "open"})


async def close(access: PracticeAccess, survey_id: int, actor: Identity) -> schemas.SurveyOut:
    async with write_transaction():
        row = await _survey_row(access, survey_id)
        await Survey.update({Survey.status: "closed"}).where(Survey.id == survey_id)
        await record("survey.close", actor, practice_id=access.practice_id, entity="survey", entity_id=survey_id)
    published_surveys.forget(row["public_id"])
    return await _out({**row, "status": "closed"})


# --- invitations ------------------------------------------------------------------------------------


async def create_invitations(access: PracticeAccess, survey_id: int, data: schemas.InvitationRequest,
                             actor: Identity) -> list[str]:
    """New single-use links; returns their tokens, which are stored only as hashes (shown this once)."""
    tokens = [secrets.token_urlsafe(16) for _ in range(data.count)]  # 128 bits each
    now = utcnow()
    async with write_transaction():
        row = await _survey_row(access, survey_id)
        if row["access"] != "invitation":
            raise Conflict("This survey has an open link; invitations are for single-use link surveys.")
        rows = [Invitation(survey=survey_id, practice=access.practice_id, token_hash=token_hash(t),
                           channel=data.channel, created_at=now) for t in tokens]
        for start in range(0, len(rows), 500):
            await Invitation.insert(*rows[start:start + 500])
        await record("survey.invitations", actor, practice_id=access.practice_id, entity="survey",
                     entity_id=survey_id, details={"channel": data.channel, "count": data.count})
    return tokens


# --- the published survey, as patients reach it --------------------------------------------------------


@dataclass(frozen=True)
class PublishedSurvey:
    survey_id: int
    practice_id: int
    public_id: str
    status: str
    access: str
    anonymous: bool
    version_id: int
    definition: SurveyDefinition
    compiled: CompiledSurvey
    same_page_conditions: frozenset[str]


class PublishedSurveys:
    """Surveys by public id. Versions are immutable once published, so their compiled validators are
    kept; the survey row (open or closed) is re-read after `ttl` seconds.

    One read at a time per survey: when the entry expires under load, every request in flight would
    otherwise miss at once and each run the same two queries (on SQLite, each a new connection and
    thread), which cost submissions more than their own work. Later requests wait for the first one's."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._surveys: dict[str, tuple[float, PublishedSurvey | None]] = {}
        self._compiled: dict[int, tuple[SurveyDefinition, CompiledSurvey, frozenset[str]]] = {}
        self._loading: dict[str, asyncio.Task[PublishedSurvey | None]] = {}

    def forget(self, public_id: str) -> None:
        self._surveys.pop(public_id, None)
        self._loading.pop(public_id, None)  # a read already under way may predate the change: not reused

    def clear(self) -> None:
        """Forget everything (a process that switches databases, such as the test suite)."""
        self._surveys.clear()
        self._compiled.clear()
        self._loading.clear()

    async def get(self, public_id: str) -> PublishedSurvey | None:
        cached = self._surveys.get(public_id)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        loading = self._loading.get(public_id)
        if loading is None or loading.get_loop() is not asyncio.get_running_loop():
            loading = self._loading[public_id] = asyncio.create_task(self._refresh(public_id))
        # Shielded: a caller that goes away (a dropped connection) does not cancel the others' read.
        return await asyncio.shield(loading)

    async def _refresh(self, public_id: str) -> PublishedSurvey | None:
        try:
            found = await self._load(public_id)
        finally:
            current = self._loading.get(public_id) is asyncio.current_task()
            if current:
                del self._loading[public_id]
        if current:  # not forgotten meanwhile
            if len(self._surveys) > 10_000:
                self._surveys.clear()
            self._surveys[public_id] = (time.monotonic(), found)
        return found

    async def _load(self, public_id: str) -> PublishedSurvey | None:
        survey = await Survey.select().where(Survey.public_id == public_id).first()
        if survey is None:
            return None
        version = await SurveyVersion.select(SurveyVersion.id, SurveyVersion.definition).where(
            (SurveyVersion.survey == survey["id"]) & SurveyVersion.published_at.is_not_null()
        ).order_by(SurveyVersion.number, ascending=False).output(load_json=True).first()
        if version is None:
            return None
        if version["id"] not in self._compiled:
            definition = load_definition(version["definition"])
            self._compiled[version["id"]] = (definition, CompiledSurvey(definition, check=False),
                                             same_page_conditions(definition))
        definition, compiled, same_page = self._compiled[version["id"]]
        return PublishedSurvey(survey["id"], survey["practice"], public_id, survey["status"], survey["access"],
                               survey["anonymous"], version["id"], definition, compiled, same_page)


published_surveys = PublishedSurveys()


async def find_invitation(survey: PublishedSurvey, token: str) -> dict[str, Any]:
    row = await Invitation.select(Invitation.id, Invitation.used_at, Invitation.draft).where(
        (Invitation.token_hash == token_hash(token)) & (Invitation.survey == survey.survey_id)
    ).output(load_json=True).first()
    if row is None:
        raise NotFound("This survey link is not right. Check it against the message you were sent.")
    if row["used_at"] is not None:
        raise Conflict("This survey link has already been used to send answers. Thank you.")
    return row


async def save_draft(survey: PublishedSurvey, answers: dict[str, Any], token: str | None) -> str:
    """Keep unfinished answers under a link the patient can come back to; returns its token."""
    async with write_transaction():
        if token:
            invitation = await find_invitation(survey, token)
            await Invitation.update({Invitation.draft: answers}).where(Invitation.id == invitation["id"])
            return token
        token = secrets.token_urlsafe(16)
        await Invitation.insert(Invitation(survey=survey.survey_id, practice=survey.practice_id,
                                           token_hash=token_hash(token), channel="resume",
                                           created_at=utcnow(), draft=answers))
        return token


async def submit(writer: ResponseWriter, survey: PublishedSurvey, answers: dict[str, Any], *, language: str,
                 mode: str, token: str | None, hidden: str = "reject") -> int:
    """Validate against the published version and store; returns once committed."""
    return await writer.submit(await prepare_submission(survey, answers, language=language, mode=mode, token=token,
                                                        hidden=hidden))


async def prepare_submission(survey: PublishedSurvey, answers: dict[str, Any], *, language: str, mode: str,
                             token: str | None, hidden: str = "reject") -> Submission:
    """The checked response, ready for the writer (InvalidInput, Conflict or SurveyClosed otherwise)."""
    if survey.status != "open":
        raise SurveyClosed("This survey is closed and no longer takes answers.")
    invitation_id = None
    if token:
        invitation_id = (await find_invitation(survey, token))["id"]
    elif survey.access == "invitation":
        raise InvitationNeeded("This survey is answered through the personal link you were sent.")
    if language not in survey.definition.languages:
        language = survey.definition.default_language
    cleaned = validate_response(survey.compiled, answers, language, hidden=hidden)
    return Submission(survey.practice_id, survey.survey_id, survey.version_id, mode, language, cleaned,
                      anonymous=survey.anonymous, invitation_id=invitation_id)


class SurveyClosed(Conflict):
    title = "Survey closed"
    slug = "survey-closed"


class InvitationNeeded(Conflict):
    status = 403
    title = "Invitation needed"
    slug = "invitation-needed"


async def submit_for_practice(writer: ResponseWriter, access: PracticeAccess, survey_id: int,
                              data: schemas.ResponseSubmit) -> schemas.Submitted:
    """A kiosk's or integration's response, sent with a staff token."""
    row = await _survey_row(access, survey_id)
    survey = await published_surveys.get(row["public_id"])
    if survey is None:
        raise SurveyClosed("This survey has no published version yet.")
    if survey.access == "invitation":
        raise InvitationNeeded("This survey takes answers only through single-use links.")
    return schemas.Submitted(await submit(writer, survey, data.answers, language=data.language, mode=data.mode,
                                          token=None))


# --- responses, for staff -------------------------------------------------------------------------------


async def list_responses(access: PracticeAccess, survey_id: int, limit: int, offset: int) -> schemas.ResponsePage:
    await _survey_row(access, survey_id)
    where = (SurveyResponse.survey == survey_id) & (SurveyResponse.practice == access.practice_id)
    rows = await SurveyResponse.select(
        SurveyResponse.id, SurveyResponse.version.number, SurveyResponse.mode, SurveyResponse.language,
        SurveyResponse.submitted_on, SurveyResponse.answers,
    ).where(where).order_by(SurveyResponse.id).limit(limit).offset(offset).output(load_json=True)
    items = [schemas.ResponseOut(id=r["id"], version=r["version.number"], mode=r["mode"], language=r["language"],
                                 submitted_on=r["submitted_on"], answers=r["answers"]) for r in rows]
    return schemas.ResponsePage(items=items, total=await SurveyResponse.count().where(where))


async def delete_response(access: PracticeAccess, survey_id: int, response_id: int, actor: Identity) -> None:
    async with write_transaction():
        deleted = await SurveyResponse.delete().where(
            (SurveyResponse.id == response_id) & (SurveyResponse.survey == survey_id)
            & (SurveyResponse.practice == access.practice_id)
        ).returning(SurveyResponse.id)
        if not deleted:
            raise NotFound("No such response.")
        await record("survey.response_delete", actor, practice_id=access.practice_id, entity="survey",
                     entity_id=survey_id, details={"response": response_id})


