"""The year's records: the priorities agreed with the group, the engagement log (meetings and events, with
the virtual consultations' tallies), the action plan, where the report was published and the practice's own
figures (a commissioner's rate or weights).

Priorities, meetings and action items share one shape (`RecordKind`): each is a row of a practice's scheme
year, created, corrected and deleted the same way (404 unless it is this practice's and in this year, rules
checked on the row as it would be, every write audited in its transaction); only their rules and their
output differ. The report publication and the figures are one row per practice and year, set or deleted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from piccolo.table import Table

from prg.accounts.audit.services import record
from prg.accounts.services import Identity, PracticeAccess, msgspec_changes
from prg.db import utcnow, write_transaction
from prg.des import schemas
from prg.des.scheme_years import scheme_year
from prg.des.schemas import SchemeYear
from prg.des.survey_evidence import SurveyEvidence
from prg.des.tables import (
    ActionItem,
    Consultation,
    ConsultationDelivery,
    Engagement,
    Priority,
    ReportPublication,
    SchemeOverride,
)
from prg.errors import ErrorDetail, InvalidInput, NotFound

# --------------------------------------------------------------------------------------------------------
# One shape for the year's rows
# --------------------------------------------------------------------------------------------------------

Rules = Callable[[PracticeAccess, SchemeYear, dict[str, Any], SurveyEvidence], Awaitable[None]]


@dataclass(frozen=True)
class RecordKind:
    """A kind of row in a practice's scheme year, as the API creates, corrects and deletes it."""

    table: type[Table]
    what: str  # in messages: "No priority 3 in 2013-14 at A81001."
    entity: str  # in the audit log, with the actions `{action}_create`, `_update`, `_delete`
    action: str
    out: Callable[[dict[str, Any]], Any]
    rules: Rules  # raises InvalidInput; sees the row as it would be after the write
    columns: Mapping[str, str] = field(default_factory=dict)  # API field -> column, where they differ
    stamped: bool = False  # the table keeps `updated_at`


def _fields(struct_type: type[msgspec.Struct], row: dict[str, Any], **extra: Any) -> Any:
    values = {f: row[f] for f in struct_type.__struct_fields__ if f in row}
    values.update(extra)
    return msgspec.convert(values, struct_type, strict=False)


def _not_future(day: date | None, field: str, errors: list[ErrorDetail]) -> None:
    if day is not None and day > date.today():
        errors.append(ErrorDetail("is in the future", field=field))


def _column_values(kind: RecordKind, data: dict[str, Any]) -> dict[str, Any]:
    """A body's fields as column values: renamed where the API's name differs, nested Structs as JSON."""
    def plain(value: Any) -> Any:
        if isinstance(value, list):
            return [msgspec.to_builtins(v) if isinstance(v, msgspec.Struct) else v for v in value]
        return value
    return {kind.columns.get(name, name): plain(value) for name, value in data.items()}


async def _row(table: type[Table], access: PracticeAccess, item_id: int, year_code: str, what: str) -> dict[str, Any]:
    row = await table.select().where(
        (table.id == item_id) & (table.practice == access.practice_id) & (table.year_code == year_code)
    ).output(load_json=True).first()
    if row is None:
        raise NotFound(f"No {what} {item_id} in {year_code} at {access.ods_code}.")
    return row


async def create_record(kind: RecordKind, access: PracticeAccess, year_code: str, data: msgspec.Struct,
                        actor: Identity, surveys: SurveyEvidence) -> Any:
    year = scheme_year(year_code)
    values = _column_values(kind, msgspec.structs.asdict(data))
    await kind.rules(access, year, values, surveys)
    async with write_transaction():
        now = utcnow()
        stamps = {"created_at": now, **({"updated_at": now} if kind.stamped else {})}
        row = kind.table(practice=access.practice_id, year_code=year_code, **stamps, **values)
        await row.save()
        await record(f"{kind.action}_create", actor, practice_id=access.practice_id, entity=kind.entity,
                     entity_id=row.id)
    return kind.out(await _row(kind.table, access, row.id, year_code, kind.what))


async def update_record(kind: RecordKind, access: PracticeAccess, year_code: str, item_id: int,
                        data: msgspec.Struct, actor: Identity, surveys: SurveyEvidence) -> Any:
    """Apply the fields the PATCH body set; the audit entry names them (never their values)."""
    year = scheme_year(year_code)
    changes = _column_values(kind, msgspec_changes(data))
    async with write_transaction():
        current = await _row(kind.table, access, item_id, year_code, kind.what)
        await kind.rules(access, year, {**current, **changes}, surveys)
        if changes:
            stamp = {"updated_at": utcnow()} if kind.stamped else {}
            await kind.table.update({**changes, **stamp}, force=True).where(kind.table.id == item_id)
        await record(f"{kind.action}_update", actor, practice_id=access.practice_id, entity=kind.entity,
                     entity_id=item_id, details={"fields": sorted(changes)})
    return kind.out(await _row(kind.table, access, item_id, year_code, kind.what))


async def delete_record(kind: RecordKind, access: PracticeAccess, year_code: str, item_id: int,
                        actor: Identity) -> None:
    """Delete one of the year's rows (404 unless it is this practice's, in this year), audited."""
    async with write_transaction():
        await _row(kind.table, access, item_id, year_code, kind.what)
        await kind.table.delete().where(kind.table.id == item_id)
        await record(f"{kind.action}_delete", actor, practice_id=access.practice_id, entity=kind.entity,
                     entity_id=item_id)


async def _check_survey(access: PracticeAccess, surveys: SurveyEvidence, survey_id: int | None, field: str) -> None:
    if survey_id is not None and not await surveys.belongs_to(access.practice_id, survey_id):
        raise InvalidInput("No such survey at this practice.", [ErrorDetail(f"no survey {survey_id}", field=field)])


# --------------------------------------------------------------------------------------------------------
# Priorities
# --------------------------------------------------------------------------------------------------------


def _priority_out(row: dict[str, Any]) -> schemas.PriorityOut:
    return _fields(schemas.PriorityOut, row, year=row["year_code"], engagement_id=row["engagement"],
                   consultation_id=row["consultation"], survey_questions=row["survey_questions"] or [])


async def _priority_rules(access: PracticeAccess, year: SchemeYear, values: dict[str, Any],
                          surveys: SurveyEvidence) -> None:
    errors: list[ErrorDetail] = []
    _not_future(values.get("agreed_on"), "agreed_on", errors)
    if values.get("status") == "agreed" and not values.get("agreed_on"):
        errors.append(ErrorDetail("an agreed priority needs the date it was agreed", field="agreed_on"))
    if values.get("agreed_on") and values.get("status") != "agreed":
        errors.append(ErrorDetail("a date of agreement needs status 'agreed'", field="status"))
    if errors:
        raise InvalidInput("The priority breaks a rule.", errors)
    if values.get("engagement") is not None and not await Engagement.exists().where(
            (Engagement.id == values["engagement"]) & (Engagement.practice == access.practice_id)):
        raise InvalidInput("No such meeting.", [ErrorDetail("no such meeting at this practice", field="engagement_id")])
    for n, ref in enumerate(values.get("survey_questions") or []):
        await _check_survey(access, surveys, ref["survey_id"], f"survey_questions[{n}].survey_id")
        if ref["question_id"] not in await surveys.question_ids(ref["survey_id"]):
            raise InvalidInput("The survey has no such question.", [ErrorDetail(
                f"survey {ref['survey_id']} has no question {ref['question_id']!r}", field=f"survey_questions[{n}].question_id")])


PRIORITY = RecordKind(Priority, "priority", "priority", "des.priority", _priority_out, _priority_rules,
                      columns={"engagement_id": "engagement"})


async def list_priorities(access: PracticeAccess, year_code: str) -> list[schemas.PriorityOut]:
    """The year's priorities, agreed ones first by date, then proposed, then dropped."""
    scheme_year(year_code)
    rows = await Priority.select().where(
        (Priority.practice == access.practice_id) & (Priority.year_code == year_code)
    ).order_by(Priority.id).output(load_json=True)
    rank = {"agreed": 0, "proposed": 1, "dropped": 2}
    rows.sort(key=lambda r: (rank.get(r["status"], 3), r["agreed_on"] or date.max, r["id"]))
    return [_priority_out(r) for r in rows]


# --------------------------------------------------------------------------------------------------------
# Meetings and the engagement log
# --------------------------------------------------------------------------------------------------------


def _engagement_out(row: dict[str, Any]) -> schemas.EngagementOut:
    return _fields(schemas.EngagementOut, row, source="engagement", year=row["year_code"])


async def _engagement_rules(access: PracticeAccess, year: SchemeYear, values: dict[str, Any],
                            surveys: SurveyEvidence) -> None:
    errors = []
    if not year.contains(values["held_on"]):
        errors.append(ErrorDetail(f"must fall in {year.code} ({year.starts_on} to {year.ends_on})", field="held_on"))
    if values.get("attended") is not None and values.get("invited") is not None and values["attended"] > values["invited"]:
        errors.append(ErrorDetail("more attended than were invited", field="attended"))
    if errors:
        raise InvalidInput("The meeting breaks a rule.", errors)


MEETING = RecordKind(Engagement, "meeting", "engagement", "des.meeting", _engagement_out, _engagement_rules)


async def consultation_tallies(consultation_ids: list[int]) -> dict[int, schemas.Tally]:
    """Per consultation: recipients (delivery rows), sent, answered, agree, disagree and comments."""
    tallies = {cid: schemas.Tally(0, 0, 0, 0, 0, 0) for cid in consultation_ids}
    if not consultation_ids:
        return tallies
    rows = await ConsultationDelivery.select(
        ConsultationDelivery.consultation, ConsultationDelivery.status, ConsultationDelivery.answer,
        ConsultationDelivery.comment,
    ).where(ConsultationDelivery.consultation.is_in(consultation_ids))
    for r in rows:
        t = tallies[r["consultation"]]
        t.recipients += 1
        t.sent += r["status"] == "sent"
        if r["answer"]:
            t.answered += 1
            t.agree += r["answer"] == "agree"
            t.disagree += r["answer"] == "disagree"
        t.comments += bool(r["comment"])
    return tallies


def _consultation_entry(row: dict[str, Any], tally: schemas.Tally) -> schemas.EngagementOut:
    return schemas.EngagementOut(
        id=row["id"], source="consultation", year=row["year_code"], held_on=row["opens_on"],
        kind="virtual_consultation", purpose="general" if row["subject"] == "question" else row["subject"],
        title=row["title"], invited=tally.recipients, attended=tally.answered, notes=row["question"],
        decisions=row["decisions"], tally=tally, outcome=row["outcome"],
    )


async def list_meetings(access: PracticeAccess, year_code: str) -> list[schemas.EngagementOut]:
    """The year's engagement log by date: meetings and events as recorded, and virtual consultations with
    their tallies (invited = members it was addressed to, attended = members who answered)."""
    scheme_year(year_code)
    engagements = await Engagement.select().where(
        (Engagement.practice == access.practice_id) & (Engagement.year_code == year_code))
    consultations = await Consultation.select().where(
        (Consultation.practice == access.practice_id) & (Consultation.year_code == year_code)
        & (Consultation.status != "draft"))
    tallies = await consultation_tallies([c["id"] for c in consultations])
    log = [_engagement_out(r) for r in engagements] + [_consultation_entry(c, tallies[c["id"]]) for c in consultations]
    log.sort(key=lambda e: (e.held_on, e.source, e.id))
    return log


# --------------------------------------------------------------------------------------------------------
# Action plan
# --------------------------------------------------------------------------------------------------------


def _action_out(row: dict[str, Any]) -> schemas.ActionItemOut:
    return _fields(schemas.ActionItemOut, row, year=row["year_code"], priority_id=row["priority"],
                   consultation_id=row["consultation"])


async def _action_rules(access: PracticeAccess, year: SchemeYear, values: dict[str, Any],
                        surveys: SurveyEvidence) -> None:
    errors: list[ErrorDetail] = []
    _not_future(values.get("prg_agreed_on"), "prg_agreed_on", errors)
    if values.get("status") == "not_acting" and not (values.get("not_acting_reason") or "").strip():
        errors.append(ErrorDetail("say why the finding will not be acted on", field="not_acting_reason"))
    if values.get("prg_agreed_how") and not values.get("prg_agreed_on"):
        errors.append(ErrorDetail("give the date the group agreed", field="prg_agreed_on"))
    if errors:
        raise InvalidInput("The action item breaks a rule.", errors)
    await _check_survey(access, surveys, values.get("survey_id"), "survey_id")
    if values.get("priority") is not None and not await Priority.exists().where(
            (Priority.id == values["priority"]) & (Priority.practice == access.practice_id)):
        raise InvalidInput("No such priority.", [ErrorDetail("no such priority at this practice", field="priority_id")])


ACTION_ITEM = RecordKind(ActionItem, "action item", "action_item", "des.action", _action_out, _action_rules,
                         columns={"priority_id": "priority"}, stamped=True)


async def list_action_items(access: PracticeAccess, year_code: str,
                            include_previous: bool = True) -> list[schemas.ActionItemOut]:
    """The year's action items; with `include_previous`, also the items of earlier years that are not yet
    done or dropped (the report shows progress on the previous plan). Oldest year first, then by id."""
    scheme_year(year_code)
    where = (ActionItem.practice == access.practice_id) & (ActionItem.year_code == year_code)
    if include_previous:
        carried = ((ActionItem.practice == access.practice_id) & (ActionItem.year_code < year_code)
                   & ActionItem.status.is_in(["proposed", "agreed", "in_progress"]))
        where = where | carried
    rows = await ActionItem.select().where(where).order_by(ActionItem.year_code).order_by(ActionItem.id)
    return [_action_out(r) for r in rows]


async def you_said_we_did(access: PracticeAccess, year_code: str) -> schemas.YouSaidWeDid:
    """The agreed action items as patients read them: the finding, the change, its progress; and the
    findings not acted on, with the reason. Only items the group agreed are published."""
    year = scheme_year(year_code)
    rows = await ActionItem.select().where(
        (ActionItem.practice == access.practice_id) & (ActionItem.year_code == year_code)
    ).order_by(ActionItem.id)

    def item(r: dict[str, Any]) -> schemas.YouSaidItem:
        return schemas.YouSaidItem(
            you_said=r["finding"], we_did=r["not_acting_reason"] if r["status"] == "not_acting" else r["proposed_change"],
            status=r["status"], progress=r["progress_notes"], agreed_on=r["prg_agreed_on"], due_on=r["due_on"])

    agreed = [r for r in rows if r["prg_agreed_on"] is not None]
    return schemas.YouSaidWeDid(
        practice=access.name, year=year.code, year_title=year.title,
        items=[item(r) for r in agreed if r["status"] != "not_acting"],
        not_acted_on=[item(r) for r in agreed if r["status"] == "not_acting"],
    )


# --------------------------------------------------------------------------------------------------------
# One row per practice and year: the published report, the practice's own figures
# --------------------------------------------------------------------------------------------------------


def _of_year(table: type[Table], access: PracticeAccess, year_code: str) -> Any:
    return (table.practice == access.practice_id) & (table.year_code == year_code)


async def _get_for_year(table: type[Table], access: PracticeAccess, year_code: str,
                        out: Callable[[dict[str, Any]], Any], missing: str) -> Any:
    scheme_year(year_code)
    row = await table.select().where(_of_year(table, access, year_code)).output(load_json=True).first()
    if row is None:
        raise NotFound(missing)
    return out(row)


async def _set_for_year(table: type[Table], access: PracticeAccess, year_code: str, values: dict[str, Any],
                        actor: Identity, *, action: str, entity: str) -> None:
    async with write_transaction():
        if await table.exists().where(_of_year(table, access, year_code)):
            await table.update(values, force=True).where(_of_year(table, access, year_code))
        else:
            await table(practice=access.practice_id, year_code=year_code, **values).save()
        await record(action, actor, practice_id=access.practice_id, entity=entity, details={"year": year_code})


async def _delete_for_year(table: type[Table], access: PracticeAccess, year_code: str, actor: Identity,
                           present: Callable[[PracticeAccess, str], Awaitable[Any]], *, action: str,
                           entity: str) -> None:
    """Delete the year's row; `present` raises NotFound when there is none."""
    async with write_transaction():
        await present(access, year_code)
        await table.delete().where(_of_year(table, access, year_code))
        await record(action, actor, practice_id=access.practice_id, entity=entity, details={"year": year_code})


def _report_out(row: dict[str, Any]) -> schemas.ReportPublicationOut:
    return _fields(schemas.ReportPublicationOut, row, year=row["year_code"])


async def get_report(access: PracticeAccess, year_code: str) -> schemas.ReportPublicationOut:
    return await _get_for_year(ReportPublication, access, year_code, _report_out,
                               f"No report publication recorded for {year_code}.")


async def record_report(access: PracticeAccess, year_code: str, data: schemas.ReportPublicationIn,
                        actor: Identity) -> schemas.ReportPublicationOut:
    """Record (or correct) where and when the year's report was published."""
    year = scheme_year(year_code)
    errors: list[ErrorDetail] = []
    _not_future(data.published_on, "published_on", errors)
    if data.published_on < year.starts_on:
        errors.append(ErrorDetail(f"is before the year began ({year.starts_on})", field="published_on"))
    if errors:
        raise InvalidInput("The publication breaks a rule.", errors)
    values = {"published_on": data.published_on, "url": data.url, "notes": data.notes, "recorded_at": utcnow()}
    await _set_for_year(ReportPublication, access, year_code, values, actor, action="des.report_record",
                        entity="report_publication")
    return await get_report(access, year_code)


async def delete_report(access: PracticeAccess, year_code: str, actor: Identity) -> None:
    await _delete_for_year(ReportPublication, access, year_code, actor, get_report, action="des.report_delete",
                           entity="report_publication")


async def override_row(access: PracticeAccess, year_code: str) -> dict[str, Any] | None:
    """The practice's own figures for the year, as stored (None: the scheme's apply)."""
    return await SchemeOverride.select().where(_of_year(SchemeOverride, access, year_code)
                                               ).output(load_json=True).first()


def _override_out(row: dict[str, Any]) -> schemas.OverrideOut:
    rate = row["rate_per_patient"]
    return schemas.OverrideOut(year=row["year_code"], rate_per_patient=float(rate) if rate is not None else None,
                               weights=row["weights"] or {}, note=row["note"], updated_at=row["updated_at"])


async def get_override(access: PracticeAccess, year_code: str) -> schemas.OverrideOut:
    return await _get_for_year(SchemeOverride, access, year_code, _override_out,
                               f"No figures of your own for {year_code}: the scheme's are used.")


async def set_override(access: PracticeAccess, year_code: str, data: schemas.OverrideIn,
                       actor: Identity) -> schemas.OverrideOut:
    """The commissioner's own rate per patient and/or component weights for this practice and year."""
    year = scheme_year(year_code)
    if year.rate_per_patient is None and data.rate_per_patient is not None:
        raise InvalidInput(f"{year.code} carries no payment.", [ErrorDetail("no payment in this year", field="rate_per_patient")])
    if sum(data.weights.values()) > 1.0001:
        raise InvalidInput("Weights add up to more than 1.", [ErrorDetail("must add up to 1 or less", field="weights")])
    values = {"rate_per_patient": None if data.rate_per_patient is None else str(Decimal(str(data.rate_per_patient))),
              "weights": data.weights, "note": data.note, "updated_at": utcnow()}
    await _set_for_year(SchemeOverride, access, year_code, values, actor, action="des.override_set",
                        entity="scheme_override")
    return await get_override(access, year_code)


async def delete_override(access: PracticeAccess, year_code: str, actor: Identity) -> None:
    await _delete_for_year(SchemeOverride, access, year_code, actor, get_override, action="des.override_delete",
                           entity="scheme_override")
