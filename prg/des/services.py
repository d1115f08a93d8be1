"""The participation year: scheme years (data), priorities, the engagement log, the action plan, the
published report, and the live guide that reads all the evidence back.

The guide's chain, per scheme year (1 April to 31 March), in the DES's order: a group (members during the
year, a population profile and a representativeness check, recruitment steps), priorities agreed with it, a
survey with responses in the year (the Friends and Family Test in 2014/15), a discussion of the findings
after the survey, an action plan the group agreed, and the report published by 31 March. Each component is
`done`, `in_progress` or `missing`, with the evidence found and the next step in plain English.

Read functions other features rely on (exports: the Local Patient Participation Report and the achievement
report), with stable signatures: `scheme_years()`, `scheme_year(code)`, `list_priorities`, `list_meetings`,
`list_action_items`, `year_guide`.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec

from prg.accounts.audit.services import record
from prg.accounts.services import Identity, PracticeAccess, msgspec_changes
from prg.accounts.tables import Practice
from prg.db import utcnow, write_transaction
from prg.des import schemas
from prg.des.schemas import SchemeYear
from prg.des.tables import (
    ActionItem,
    Consultation,
    ConsultationDelivery,
    Engagement,
    Priority,
    ReportPublication,
    SchemeOverride,
)
from prg.errors import DomainError, ErrorDetail, InvalidInput, NotFound

DATA_FILE = Path(__file__).parent / "scheme_years.json"
CHAIN = ("prg", "priorities", "survey", "discussion", "action_plan", "report")

# --------------------------------------------------------------------------------------------------------
# Scheme years
# --------------------------------------------------------------------------------------------------------


def year_code_for(day: date) -> str:
    """The financial year (1 April to 31 March) a day falls in, as "2026-27"."""
    start = day.year if day >= date(day.year, 4, 1) else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _start_year(code: str) -> int:
    return int(code[:4])


def _deadlines(start: int, end_of_year_return: dict[str, Any] | None) -> list[schemas.Deadline]:
    deadlines = [schemas.Deadline("report_on_website", "Report published on the practice website",
                                  date(start + 1, 3, 31), True)]
    if end_of_year_return:
        deadlines.append(schemas.Deadline(
            "end_of_year_return", "End-of-year return to the commissioner",
            date(start + 1, end_of_year_return["month"], end_of_year_return["day"]),
            end_of_year_return["confirmed"], end_of_year_return.get("note", "")))
    return deadlines


def _components(raw: list[dict[str, Any]], weights: dict[str, list[Any]] | None) -> list[schemas.Component]:
    out = []
    for c in raw:
        weight, confirmed = (weights or {}).get(c["key"], (None, True))
        out.append(schemas.Component(c["key"], c["title"], weight, confirmed, c.get("required", True), c["next_step"]))
    return out


def _build_years(data: dict[str, Any], today: date) -> list[SchemeYear]:
    years = []
    des_sections = [schemas.ReportSection(**s) for s in data["des_report_sections"]]
    for y in data["years"]:
        start = _start_year(y["code"])
        years.append(SchemeYear(
            code=y["code"], title=y["title"], kind=y["kind"], starts_on=date(start, 4, 1),
            ends_on=date(start + 1, 3, 31),
            components=_components(y.get("components", data["des_components"]), y.get("weights")),
            report_sections=[schemas.ReportSection(**s) for s in y["report_sections"]] if "report_sections" in y
            else des_sections,
            deadlines=_deadlines(start, y.get("end_of_year_return")),
            rate_per_patient=float(y["rate_per_patient"]) if y.get("rate_per_patient") else None,
            rate_confirmed=y["rate_confirmed"], rate_note=y.get("rate_note", ""),
            list_size_reference_date=date(start, 4, 1), survey_kind=y.get("survey_kind", "any"), notes=y["notes"],
        ))
    template = data["contract_template"]
    last = _start_year(year_code_for(today))
    for start in range(template["first_start_year"], last + 1):
        code = f"{start}-{(start + 1) % 100:02d}"
        years.append(SchemeYear(
            code=code, title=template["title"].format(label=f"{start}/{(start + 1) % 100:02d}"),
            kind=template["kind"], starts_on=date(start, 4, 1), ends_on=date(start + 1, 3, 31),
            components=_components(template["components"], None),
            report_sections=[schemas.ReportSection(**s) for s in template["report_sections"]],
            deadlines=_deadlines(start, None), rate_per_patient=None, rate_confirmed=True, rate_note="",
            list_size_reference_date=date(start, 4, 1), survey_kind="any", notes=template["notes"],
        ))
    return years


@lru_cache(maxsize=4)
def _years_on(today: date) -> tuple[SchemeYear, ...]:
    return tuple(_build_years(json.loads(DATA_FILE.read_text()), today))


def scheme_years(today: date | None = None) -> list[SchemeYear]:
    """Every scheme year from 2011-12 to the current financial year, oldest first."""
    return list(_years_on(today or date.today()))


def scheme_year(code: str, today: date | None = None) -> SchemeYear:
    """One scheme year by its code ("2013-14"); NotFound for a year the product does not know."""
    for year in _years_on(today or date.today()):
        if year.code == code:
            return year
    raise NotFound(f"No scheme year {code!r}: years run from 2011-12 to {year_code_for(today or date.today())}.")


# --------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------


def _fields(struct_type: type[msgspec.Struct], row: dict[str, Any], **extra: Any) -> Any:
    values = {f: row[f] for f in struct_type.__struct_fields__ if f in row}
    values.update(extra)
    return msgspec.convert(values, struct_type, strict=False)


def _not_future(day: date | None, field: str, errors: list[ErrorDetail]) -> None:
    if day is not None and day > date.today():
        errors.append(ErrorDetail("is in the future", field=field))


async def _check_survey(access: PracticeAccess, survey_id: int | None, field: str) -> None:
    if survey_id is None:
        return
    from surveys.tables import Survey  # surveys builds on prg; read lazily to keep the import graph one-way

    if not await Survey.exists().where((Survey.id == survey_id) & (Survey.practice == access.practice_id)):
        raise InvalidInput("No such survey at this practice.", [ErrorDetail(f"no survey {survey_id}", field=field)])


async def _question_ids(survey_id: int) -> set[str]:
    """The question ids of the survey's latest version (draft or published)."""
    from surveys.definition import load_definition
    from surveys.tables import SurveyVersion

    row = await SurveyVersion.select(SurveyVersion.definition).where(SurveyVersion.survey == survey_id).order_by(
        SurveyVersion.number, ascending=False).output(load_json=True).first()
    return {q.id for q in load_definition(row["definition"]).questions()} if row else set()


async def _row(table: type, access: PracticeAccess, item_id: int, year_code: str, what: str) -> dict[str, Any]:
    row = await table.select().where(
        (table.id == item_id) & (table.practice == access.practice_id) & (table.year_code == year_code)
    ).output(load_json=True).first()
    if row is None:
        raise NotFound(f"No {what} {item_id} in {year_code} at {access.ods_code}.")
    return row


async def _delete_row(table: type, access: PracticeAccess, item_id: int, year_code: str, what: str, *,
                      entity: str, action: str, actor: Identity) -> None:
    """Delete one of the year's rows (404 unless it is this practice's, in this year), audited."""
    async with write_transaction():
        await _row(table, access, item_id, year_code, what)
        await table.delete().where(table.id == item_id)
        await record(action, actor, practice_id=access.practice_id, entity=entity, entity_id=item_id)


# --------------------------------------------------------------------------------------------------------
# Priorities
# --------------------------------------------------------------------------------------------------------


def _priority_out(row: dict[str, Any]) -> schemas.PriorityOut:
    return _fields(schemas.PriorityOut, row, year=row["year_code"], engagement_id=row["engagement"],
                   consultation_id=row["consultation"], survey_questions=row["survey_questions"] or [])


async def list_priorities(access: PracticeAccess, year_code: str) -> list[schemas.PriorityOut]:
    """The year's priorities, agreed ones first by date, then proposed, then dropped."""
    scheme_year(year_code)
    rows = await Priority.select().where(
        (Priority.practice == access.practice_id) & (Priority.year_code == year_code)
    ).order_by(Priority.id).output(load_json=True)
    rank = {"agreed": 0, "proposed": 1, "dropped": 2}
    rows.sort(key=lambda r: (rank.get(r["status"], 3), r["agreed_on"] or date.max, r["id"]))
    return [_priority_out(r) for r in rows]


async def _priority_rules(access: PracticeAccess, values: dict[str, Any]) -> None:
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
        await _check_survey(access, ref["survey_id"], f"survey_questions[{n}].survey_id")
        if ref["question_id"] not in await _question_ids(ref["survey_id"]):
            raise InvalidInput("The survey has no such question.", [ErrorDetail(
                f"survey {ref['survey_id']} has no question {ref['question_id']!r}", field=f"survey_questions[{n}].question_id")])


def _priority_values(data: dict[str, Any]) -> dict[str, Any]:
    if "engagement_id" in data:
        data["engagement"] = data.pop("engagement_id")
    if "survey_questions" in data:
        data["survey_questions"] = [msgspec.to_builtins(q) for q in data["survey_questions"]]
    return data


async def create_priority(access: PracticeAccess, year_code: str, data: schemas.PriorityIn,
                          actor: Identity) -> schemas.PriorityOut:
    scheme_year(year_code)
    values = _priority_values(msgspec.structs.asdict(data))
    await _priority_rules(access, values)
    async with write_transaction():
        row = Priority(practice=access.practice_id, year_code=year_code, created_at=utcnow(), **values)
        await row.save()
        await record("des.priority_create", actor, practice_id=access.practice_id, entity="priority", entity_id=row.id)
    return _priority_out((await _row(Priority, access, row.id, year_code, "priority")))


async def update_priority(access: PracticeAccess, year_code: str, priority_id: int, data: schemas.PriorityUpdate,
                          actor: Identity) -> schemas.PriorityOut:
    changes = _priority_values(msgspec_changes(data))
    async with write_transaction():
        current = await _row(Priority, access, priority_id, year_code, "priority")
        await _priority_rules(access, {**current, **changes})
        if changes:
            await Priority.update(changes, force=True).where(Priority.id == priority_id)
        await record("des.priority_update", actor, practice_id=access.practice_id, entity="priority",
                     entity_id=priority_id, details={"fields": sorted(changes)})
    return _priority_out(await _row(Priority, access, priority_id, year_code, "priority"))


async def delete_priority(access: PracticeAccess, year_code: str, priority_id: int, actor: Identity) -> None:
    await _delete_row(Priority, access, priority_id, year_code, "priority",
                      entity="priority", action="des.priority_delete", actor=actor)


# --------------------------------------------------------------------------------------------------------
# Meetings and the engagement log
# --------------------------------------------------------------------------------------------------------


def _engagement_out(row: dict[str, Any]) -> schemas.EngagementOut:
    return _fields(schemas.EngagementOut, row, source="engagement", year=row["year_code"])


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


def _engagement_rules(year: SchemeYear, values: dict[str, Any]) -> None:
    errors = []
    if not year.contains(values["held_on"]):
        errors.append(ErrorDetail(f"must fall in {year.code} ({year.starts_on} to {year.ends_on})", field="held_on"))
    if values.get("attended") is not None and values.get("invited") is not None and values["attended"] > values["invited"]:
        errors.append(ErrorDetail("more attended than were invited", field="attended"))
    if errors:
        raise InvalidInput("The meeting breaks a rule.", errors)


async def create_meeting(access: PracticeAccess, year_code: str, data: schemas.EngagementIn,
                         actor: Identity) -> schemas.EngagementOut:
    year = scheme_year(year_code)
    values = msgspec.structs.asdict(data)
    _engagement_rules(year, values)
    async with write_transaction():
        row = Engagement(practice=access.practice_id, year_code=year_code, created_at=utcnow(), **values)
        await row.save()
        await record("des.meeting_create", actor, practice_id=access.practice_id, entity="engagement", entity_id=row.id)
    return _engagement_out(await _row(Engagement, access, row.id, year_code, "meeting"))


async def update_meeting(access: PracticeAccess, year_code: str, meeting_id: int, data: schemas.EngagementUpdate,
                         actor: Identity) -> schemas.EngagementOut:
    year = scheme_year(year_code)
    changes = msgspec_changes(data)
    async with write_transaction():
        current = await _row(Engagement, access, meeting_id, year_code, "meeting")
        _engagement_rules(year, {**current, **changes})
        if changes:
            await Engagement.update(changes, force=True).where(Engagement.id == meeting_id)
        await record("des.meeting_update", actor, practice_id=access.practice_id, entity="engagement",
                     entity_id=meeting_id, details={"fields": sorted(changes)})
    return _engagement_out(await _row(Engagement, access, meeting_id, year_code, "meeting"))


async def delete_meeting(access: PracticeAccess, year_code: str, meeting_id: int, actor: Identity) -> None:
    await _delete_row(Engagement, access, meeting_id, year_code, "meeting",
                      entity="engagement", action="des.meeting_delete", actor=actor)


# --------------------------------------------------------------------------------------------------------
# Action plan
# --------------------------------------------------------------------------------------------------------


def _action_out(row: dict[str, Any]) -> schemas.ActionItemOut:
    return _fields(schemas.ActionItemOut, row, year=row["year_code"], priority_id=row["priority"],
                   consultation_id=row["consultation"])


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


async def _action_rules(access: PracticeAccess, values: dict[str, Any]) -> None:
    errors: list[ErrorDetail] = []
    _not_future(values.get("prg_agreed_on"), "prg_agreed_on", errors)
    if values.get("status") == "not_acting" and not (values.get("not_acting_reason") or "").strip():
        errors.append(ErrorDetail("say why the finding will not be acted on", field="not_acting_reason"))
    if values.get("prg_agreed_how") and not values.get("prg_agreed_on"):
        errors.append(ErrorDetail("give the date the group agreed", field="prg_agreed_on"))
    if errors:
        raise InvalidInput("The action item breaks a rule.", errors)
    await _check_survey(access, values.get("survey_id"), "survey_id")
    if values.get("priority") is not None and not await Priority.exists().where(
            (Priority.id == values["priority"]) & (Priority.practice == access.practice_id)):
        raise InvalidInput("No such priority.", [ErrorDetail("no such priority at this practice", field="priority_id")])


def _action_values(data: dict[str, Any]) -> dict[str, Any]:
    if "priority_id" in data:
        data["priority"] = data.pop("priority_id")
    return data


async def create_action_item(access: PracticeAccess, year_code: str, data: schemas.ActionItemIn,
                             actor: Identity) -> schemas.ActionItemOut:
    scheme_year(year_code)
    values = _action_values(msgspec.structs.asdict(data))
    await _action_rules(access, values)
    async with write_transaction():
        now = utcnow()
        row = ActionItem(practice=access.practice_id, year_code=year_code, created_at=now, updated_at=now, **values)
        await row.save()
        await record("des.action_create", actor, practice_id=access.practice_id, entity="action_item", entity_id=row.id)
    return _action_out(await _row(ActionItem, access, row.id, year_code, "action item"))


async def update_action_item(access: PracticeAccess, year_code: str, item_id: int, data: schemas.ActionItemUpdate,
                             actor: Identity) -> schemas.ActionItemOut:
    changes = _action_values(msgspec_changes(data))
    async with write_transaction():
        current = await _row(ActionItem, access, item_id, year_code, "action item")
        await _action_rules(access, {**current, **changes})
        if changes:
            changes["updated_at"] = utcnow()
            await ActionItem.update(changes, force=True).where(ActionItem.id == item_id)
        await record("des.action_update", actor, practice_id=access.practice_id, entity="action_item",
                     entity_id=item_id, details={"fields": sorted(k for k in changes if k != "updated_at")})
    return _action_out(await _row(ActionItem, access, item_id, year_code, "action item"))


async def delete_action_item(access: PracticeAccess, year_code: str, item_id: int, actor: Identity) -> None:
    await _delete_row(ActionItem, access, item_id, year_code, "action item",
                      entity="action_item", action="des.action_delete", actor=actor)


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
# The published report and the practice's own figures
# --------------------------------------------------------------------------------------------------------


def _report_out(row: dict[str, Any]) -> schemas.ReportPublicationOut:
    return _fields(schemas.ReportPublicationOut, row, year=row["year_code"])


async def get_report(access: PracticeAccess, year_code: str) -> schemas.ReportPublicationOut:
    scheme_year(year_code)
    row = await ReportPublication.select().where(
        (ReportPublication.practice == access.practice_id) & (ReportPublication.year_code == year_code)).first()
    if row is None:
        raise NotFound(f"No report publication recorded for {year_code}.")
    return _report_out(row)


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
    async with write_transaction():
        where = (ReportPublication.practice == access.practice_id) & (ReportPublication.year_code == year_code)
        if await ReportPublication.exists().where(where):
            await ReportPublication.update(values, force=True).where(where)
        else:
            await ReportPublication(practice=access.practice_id, year_code=year_code, **values).save()
        await record("des.report_record", actor, practice_id=access.practice_id, entity="report_publication",
                     details={"year": year_code})
    return await get_report(access, year_code)


async def delete_report(access: PracticeAccess, year_code: str, actor: Identity) -> None:
    async with write_transaction():
        await get_report(access, year_code)
        await ReportPublication.delete().where(
            (ReportPublication.practice == access.practice_id) & (ReportPublication.year_code == year_code))
        await record("des.report_delete", actor, practice_id=access.practice_id, entity="report_publication",
                     details={"year": year_code})


async def _override_row(access: PracticeAccess, year_code: str) -> dict[str, Any] | None:
    return await SchemeOverride.select().where(
        (SchemeOverride.practice == access.practice_id) & (SchemeOverride.year_code == year_code)
    ).output(load_json=True).first()


def _override_out(row: dict[str, Any]) -> schemas.OverrideOut:
    rate = row["rate_per_patient"]
    return schemas.OverrideOut(year=row["year_code"], rate_per_patient=float(rate) if rate is not None else None,
                               weights=row["weights"] or {}, note=row["note"], updated_at=row["updated_at"])


async def get_override(access: PracticeAccess, year_code: str) -> schemas.OverrideOut:
    scheme_year(year_code)
    row = await _override_row(access, year_code)
    if row is None:
        raise NotFound(f"No figures of your own for {year_code}: the scheme's are used.")
    return _override_out(row)


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
    async with write_transaction():
        if await _override_row(access, year_code):
            await SchemeOverride.update(values, force=True).where(
                (SchemeOverride.practice == access.practice_id) & (SchemeOverride.year_code == year_code))
        else:
            await SchemeOverride(practice=access.practice_id, year_code=year_code, **values).save()
        await record("des.override_set", actor, practice_id=access.practice_id, entity="scheme_override",
                     details={"year": year_code})
    return await get_override(access, year_code)


async def delete_override(access: PracticeAccess, year_code: str, actor: Identity) -> None:
    async with write_transaction():
        await get_override(access, year_code)
        await SchemeOverride.delete().where(
            (SchemeOverride.practice == access.practice_id) & (SchemeOverride.year_code == year_code))
        await record("des.override_delete", actor, practice_id=access.practice_id, entity="scheme_override",
                     details={"year": year_code})


# --------------------------------------------------------------------------------------------------------
# The guide
# --------------------------------------------------------------------------------------------------------


def _base(access: PracticeAccess) -> str:
    return f"/api/practices/{access.ods_code}"


async def _members_in_year(practice_id: int, year: SchemeYear) -> list[dict[str, Any]]:
    """Members who belonged during the year: active or left, joined by its end (or date unknown), not left
    before its start. Invited people are not members yet."""
    from prg.members.tables import Member

    rows = await Member.select(Member.id, Member.status, Member.joined_on, Member.left_on,
                               Member.recruitment_channel, Member.participation).where(
        (Member.practice == practice_id) & Member.status.is_in(["active", "left"]))
    return [r for r in rows if (r["joined_on"] is None or r["joined_on"] <= year.ends_on)
            and (r["left_on"] is None or r["left_on"] >= year.starts_on)]


async def _recruitment_evidence(access: PracticeAccess, year: SchemeYear,
                                members: list[dict[str, Any]]) -> list[schemas.Evidence]:
    """Recruitment steps: the recruitment feature's campaigns sent during the year, and the members who
    joined during the year by recruitment channel (from the register)."""
    evidence = []
    try:
        from prg.recruitment.services import list_campaigns
    except ImportError:  # a deployment without the recruitment feature: the register alone
        list_campaigns = None
    if list_campaigns is not None:
        for c in await list_campaigns(access, year.starts_on, year.ends_on):
            evidence.append(schemas.Evidence(
                "recruitment", c.sent_on, f"Recruitment by {c.channel.replace('_', ' ')}: {c.name} "
                f"({c.total_sent} sent, {c.joined} joined)", f"{_base(access)}/recruitment/campaigns/{c.id}"))
    joined = [m for m in members if m["joined_on"] and year.contains(m["joined_on"])]
    by_channel: dict[str, list[date]] = {}
    for m in joined:
        by_channel.setdefault(m["recruitment_channel"], []).append(m["joined_on"])
    evidence += [schemas.Evidence("recruitment", max(days),
                                  f"{len(days)} member(s) joined through {channel.replace('_', ' ')}",
                                  f"{_base(access)}/members?channel={channel}")
                 for channel, days in sorted(by_channel.items())]
    return evidence


async def _profile_for(practice_id: int, on: date) -> dict[str, Any] | None:
    """The age/sex profile nearest a date: the latest extract on or before it, else the earliest after."""
    from prg.population.tables import PopulationProfile

    cols = (PopulationProfile.id, PopulationProfile.extract_date, PopulationProfile.total,
            PopulationProfile.source_filename)
    where = (PopulationProfile.practice == practice_id) & (PopulationProfile.dimension == "age_sex")
    before = await PopulationProfile.select(*cols).where(where & (PopulationProfile.extract_date <= on)).order_by(
        PopulationProfile.extract_date, PopulationProfile.id, ascending=False).first()
    if before is not None:
        return before
    return await PopulationProfile.select(*cols).where(where).order_by(
        PopulationProfile.extract_date, PopulationProfile.id).first()


async def _prg_component(access: PracticeAccess, year: SchemeYear) -> tuple[str, list[schemas.Evidence], str | None]:
    from prg.representativeness import services as representativeness

    members = await _members_in_year(access.practice_id, year)
    evidence: list[schemas.Evidence] = []
    if members:
        virtual = sum(m["participation"] in ("virtual", "both") for m in members)
        evidence.append(schemas.Evidence(
            "members", None, f"{len(members)} member(s) in the group during the year ({virtual} taking part virtually)",
            f"{_base(access)}/members"))
    profile = await _profile_for(access.practice_id, year.ends_on)
    if profile:
        evidence.append(schemas.Evidence(
            "population_profile", profile["extract_date"],
            f"Practice population by age and sex: {profile['total']} registered patients",
            f"{_base(access)}/population/{profile['id']}"))
    checked = False
    if members and profile:
        try:
            spec = representativeness.parse_spec("age_x_sex")
            result = await representativeness.check(access, spec)
        except DomainError:  # no profile, nothing comparable: the check cannot be made yet
            result = None
        if result is not None and result.members_total > 0:
            checked = True
            evidence.append(schemas.Evidence(
                "representativeness", result.profile.extract_date,
                f"Group compared with the population by age and sex: index of dissimilarity "
                f"{result.dissimilarity_index:.2f}",
                f"{_base(access)}/representativeness?dimension=age_x_sex"))
    evidence += await _recruitment_evidence(access, year, members)
    if not members:
        return "missing", evidence, None
    if not profile:
        return "in_progress", evidence, ("Import the practice's population (the NHS Digital \"Patients Registered at "
                                         "a GP Practice\" file) to check how representative the group is.")
    if not checked:
        return "in_progress", evidence, ("Record the members' sex and age (birth year or age band) so the group "
                                         "can be compared with the practice population.")
    return "done", evidence, None


async def _priorities_component(access: PracticeAccess, year: SchemeYear) -> tuple[str, list[schemas.Evidence], str | None]:
    priorities = await list_priorities(access, year.code)
    link = f"{_base(access)}/years/{year.code}/priorities"
    agreed = [p for p in priorities if p.status == "agreed" and p.agreed_on]
    evidence = [schemas.Evidence("priority", p.agreed_on or p.proposed_on,
                                 f"{'Agreed' if p.status == 'agreed' else p.status.capitalize()}: {p.title}"
                                 + (f" ({p.agreed_how.replace('_', ' ')})" if p.agreed_how else ""), f"{link}/{p.id}")
                for p in priorities if p.status != "dropped"]
    if agreed:
        return "done", evidence, None
    if evidence:
        return "in_progress", evidence, "Agree the proposed priorities with the group and record the date and how."
    return "missing", evidence, None


async def _surveys_in_year(access: PracticeAccess, year: SchemeYear) -> list[dict[str, Any]]:
    """Surveys with responses dated in the year, or published in it: id, title, responses, first/last dates,
    published_on, and whether the survey carries the Friends and Family Test question."""
    from surveys.fft import find_fft_question
    from surveys.definition import load_definition
    from surveys.tables import Survey, SurveyResponse, SurveyVersion

    from prg.db import is_sqlite
    from piccolo.query.functions.aggregate import Count, Max, Min

    responses = await SurveyResponse.select(
        SurveyResponse.survey, Count(SurveyResponse.id, alias="n"), Min(SurveyResponse.submitted_on, alias="first"),
        Max(SurveyResponse.submitted_on, alias="last"),
    ).where((SurveyResponse.practice == access.practice_id) & (SurveyResponse.submitted_on >= year.starts_on)
            & (SurveyResponse.submitted_on <= year.ends_on)).group_by(SurveyResponse.survey)
    by_survey = {r["survey"]: r for r in responses}
    versions = await SurveyVersion.select(SurveyVersion.survey, SurveyVersion.published_at, SurveyVersion.definition,
                                          SurveyVersion.number).where(
        (SurveyVersion.practice == access.practice_id) & SurveyVersion.published_at.is_not_null()
    ).order_by(SurveyVersion.number).output(load_json=True)
    published: dict[int, dict[str, Any]] = {}
    for v in versions:
        published.setdefault(v["survey"], {"first": v["published_at"], "definition": v["definition"]})
        published[v["survey"]]["definition"] = v["definition"]  # the latest published version
    titles = {r["id"]: r["title"] for r in await Survey.select(Survey.id, Survey.title).where(
        Survey.practice == access.practice_id)}
    out = []
    for survey_id, info in published.items():
        published_on = info["first"].date() if isinstance(info["first"], datetime) else info["first"]
        stats = by_survey.get(survey_id)
        if stats is None and not year.contains(published_on):
            continue
        try:
            definition = load_definition(info["definition"])
            find_fft_question(definition, titles.get(survey_id, ""))
            fft = True
        except Exception:  # no FFT question: a DomainError, or a definition this reader cannot parse
            fft = False
        first, last = (stats["first"], stats["last"]) if stats else (None, None)
        if is_sqlite() and isinstance(first, str):  # aggregates come back as text on SQLite
            first, last = date.fromisoformat(first), date.fromisoformat(last)
        out.append({"id": survey_id, "title": titles.get(survey_id, ""), "responses": stats["n"] if stats else 0,
                    "first": first, "last": last, "published_on": published_on, "fft": fft})
    out.sort(key=lambda s: (s["first"] or s["published_on"], s["id"]))
    return out


async def _survey_component(access: PracticeAccess, year: SchemeYear,
                            surveys: list[dict[str, Any]]) -> tuple[str, list[schemas.Evidence], str | None]:
    wanted = [s for s in surveys if s["fft"]] if year.survey_kind == "fft" else surveys
    evidence = [schemas.Evidence(
        "survey", s["first"] or s["published_on"],
        f"{'Friends and Family Test' if s['fft'] else 'Survey'} \u201c{s['title']}\u201d: {s['responses']} response(s) "
        f"in the year" + (f", {s['first']} to {s['last']}" if s["first"] else ""),
        f"{_base(access)}/surveys/{s['id']}/results") for s in wanted]
    if any(s["responses"] > 0 for s in wanted):
        return "done", evidence, None
    if wanted:
        return "in_progress", evidence, "The survey is published: collect responses (web form, links, paper)."
    if year.survey_kind == "fft" and surveys:
        return "in_progress", [], "This year needs the Friends and Family Test: add the FFT question to a survey."
    return "missing", evidence, None


async def _discussion_component(access: PracticeAccess, year: SchemeYear, survey_from: date | None,
                                log: list[schemas.EngagementOut]) -> tuple[str, list[schemas.Evidence], str | None]:
    discussions = [e for e in log if e.purpose == "discussion"]
    link = f"{_base(access)}/years/{year.code}/meetings"
    evidence = [schemas.Evidence(
        "consultation" if e.source == "consultation" else e.kind, e.held_on,
        f"{e.title}: " + (f"virtual consultation, {e.tally.answered} of {e.tally.recipients} answered "
                          f"({e.tally.agree} agree, {e.tally.disagree} disagree)" if e.tally is not None
                          else f"{e.kind.replace('_', ' ')}" + (f", {e.attended} attended" if e.attended is not None else "")),
        f"{_base(access)}/years/{year.code}/consultations/{e.id}" if e.source == "consultation" else f"{link}/{e.id}")
        for e in discussions]
    after = [e for e in discussions if survey_from is not None and e.held_on >= survey_from
             and (e.tally is None or e.tally.answered > 0)]
    if after:
        return "done", evidence, None
    if discussions:
        if survey_from is None:
            return "in_progress", evidence, "Collect the survey's responses, then discuss its findings with the group."
        return "in_progress", evidence, ("Discuss the survey findings with the group after the responses are in "
                                         "(a virtual consultation needs at least one answer).")
    return "missing", evidence, None


async def _action_component(access: PracticeAccess, year: SchemeYear) -> tuple[str, list[schemas.Evidence], str | None]:
    items = await list_action_items(access, year.code, include_previous=False)
    link = f"{_base(access)}/years/{year.code}/action-items"
    evidence = [schemas.Evidence(
        "action_item", i.prg_agreed_on or i.created_at.date(),
        f"{'Agreed with the group' if i.prg_agreed_on else 'Not yet agreed'}"
        + (f" ({i.prg_agreed_how.replace('_', ' ')})" if i.prg_agreed_how else "") + f": {i.finding[:120]}",
        f"{link}/{i.id}") for i in items]
    if any(i.prg_agreed_on for i in items):
        return "done", evidence, None
    if items:
        return "in_progress", evidence, ("Ask the group to agree the action plan (a meeting, or a virtual "
                                         "consultation on the action plan) and record the date.")
    return "missing", evidence, None


async def _report_component(access: PracticeAccess, year: SchemeYear) -> tuple[str, list[schemas.Evidence], str | None]:
    try:
        report = await get_report(access, year.code)
    except NotFound:
        return "missing", [], None
    deadline = year.deadlines[0].due_on
    evidence = [schemas.Evidence("report", report.published_on, f"Report published at {report.url}", report.url)]
    if report.published_on > deadline:
        return "in_progress", evidence, f"The report was published after the deadline ({deadline:%-d %B %Y})."
    return "done", evidence, None


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


async def _payment(access: PracticeAccess, year: SchemeYear, statuses: dict[str, str]) -> schemas.Payment:
    override = await _override_row(access, year.code)
    rate_text = override["rate_per_patient"] if override and override["rate_per_patient"] is not None else None
    if year.rate_per_patient is None:
        return schemas.Payment(False, None, True, "none", None, "", None, None, None, True, [],
                               "There is no payment in this year: the duty is contractual.")
    rate = Decimal(rate_text) if rate_text is not None else Decimal(str(year.rate_per_patient))
    rate_source = "practice override" if rate_text is not None else "scheme"
    weights = {c.key: (c.weight or 0.0, c.weight_confirmed) for c in year.components}
    for key, weight in ((override or {}).get("weights") or {}).items():
        weights[key] = (float(weight), True)
    profile = await _profile_for(access.practice_id, year.list_size_reference_date)
    if profile:
        list_size, list_date = profile["total"], profile["extract_date"]
        source = f"NHS Digital registered patients extract of {list_date:%-d %B %Y}" + (
            " (the nearest to 1 April)" if list_date != year.list_size_reference_date else "")
    else:
        practice = await Practice.select(Practice.list_size).where(Practice.id == access.practice_id).first()
        list_size, list_date = practice["list_size"], None
        source = "the list size on the practice's record" if list_size is not None else "no list size known"
    paid = [k for k in CHAIN if statuses.get(k) == "done" and weights.get(k, (0, True))[0] > 0]
    maximum = expected = None
    if list_size is not None:
        maximum = _money(rate * list_size)
        share = sum(Decimal(str(weights[k][0])) for k in paid)
        expected = _money(rate * list_size * share)
    confirmed = all(c for k, (w, c) in weights.items())
    note = (f"{rate_source.capitalize()} rate £{rate} per registered patient"
            + ("" if year.rate_confirmed or rate_text is not None else f" (not confirmed: {year.rate_note})")
            + ("" if confirmed else "; component weights are not confirmed, the expected payment is an estimate")
            + ".")
    return schemas.Payment(True, float(rate), year.rate_confirmed or rate_text is not None, rate_source, list_size,
                           source, list_date, maximum, expected, confirmed, paid, note)


def deadline_statuses(year: SchemeYear, today: date) -> list[schemas.DeadlineStatus]:
    """Each deadline of the year with the days left from `today` (negative once passed)."""
    return [schemas.DeadlineStatus(d.key, d.title, d.due_on, d.confirmed, (d.due_on - today).days, d.note)
            for d in year.deadlines]


async def year_guide(access: PracticeAccess, year_code: str, today: date | None = None) -> schemas.YearGuide:
    """The live step-by-step guide to a scheme year: each component with its status, evidence and next step;
    days to each deadline (from `today`, default the real date); the payment expected on current evidence."""
    today = today or date.today()
    year = scheme_year(year_code)
    surveys = await _surveys_in_year(access, year)
    fitting = [s for s in surveys if s["fft"]] if year.survey_kind == "fft" else surveys
    survey_from = min((s["first"] for s in fitting if s["first"]), default=None)
    log = await list_meetings(access, year.code)
    found = {
        "prg": await _prg_component(access, year),
        "priorities": await _priorities_component(access, year),
        "survey": await _survey_component(access, year, surveys),
        "discussion": await _discussion_component(access, year, survey_from, log),
        "action_plan": await _action_component(access, year),
        "report": await _report_component(access, year),
    }
    components = []
    for c in year.components:
        status, evidence, advice = found[c.key]
        components.append(schemas.ComponentStatus(
            key=c.key, title=c.title, status=status, required=c.required, weight=c.weight,
            weight_confirmed=c.weight_confirmed, evidence=evidence,
            next_step=None if status == "done" else (advice or c.next_step)))
    statuses = {c.key: c.status for c in components}
    open_steps = [c for c in components if c.status != "done"]
    # The chain's first open required step comes first; optional steps after.
    open_steps.sort(key=lambda c: (not c.required, CHAIN.index(c.key)))
    deadlines = deadline_statuses(year, today)
    done = sum(c.status == "done" for c in components)
    return schemas.YearGuide(
        practice=access.ods_code, year=year.code, title=year.title, kind=year.kind, starts_on=year.starts_on,
        ends_on=year.ends_on, today=today, components=components, done=done, total=len(components),
        next_step=open_steps[0].next_step if open_steps else None, deadlines=deadlines,
        payment=await _payment(access, year, statuses), report_sections=year.report_sections, notes=year.notes,
    )
