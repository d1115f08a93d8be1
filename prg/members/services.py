"""Use cases for the PRG register. Every query is scoped by the caller's practice; each write is
audited in the same transaction. Audit details name fields, never their values, so erasure is total.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any, Protocol

import msgspec

from prg.accounts.audit.schemas import AuditEntry
from prg.accounts.audit.services import list_events, record
from prg.accounts.services import Identity, PracticeAccess, msgspec_changes
from prg.db import is_sqlite, utcnow, write_transaction
from prg.errors import Conflict, ErrorDetail, InvalidInput, NotFound
from prg.members import schemas
from prg.members.importer import parse_members
from prg.members.rules import in_group_on, rule_errors
from prg.members.tables import Consent, Member
from prg.settings import get_settings
from prg.uploads import read_table

AUTO_REFERENCE = re.compile(r"^PRG-(\d+)$")
# Rows per INSERT: SQLite and asyncpg both cap bound parameters near 32,767 (about 23 per member).
INSERT_CHUNK = 500
SORTABLE = {"reference", "last_name", "joined_on", "created_at", "status"}


async def members_in_year(practice_id: int, starts_on: date, ends_on: date) -> list[dict[str, Any]]:
    """Members who belonged at some time between the two days: active or left, joined by the end (or date
    unknown), not left before the start; invited people are not members yet. Each row: id, status, joined_on,
    left_on, recruitment_channel, participation."""
    rows = await Member.select(Member.id, Member.status, Member.joined_on, Member.left_on,
                               Member.recruitment_channel, Member.participation).where(
        (Member.practice == practice_id) & Member.status.is_in(["active", "left"]))
    return [r for r in rows if (r["joined_on"] is None or r["joined_on"] <= ends_on)
            and (r["left_on"] is None or r["left_on"] >= starts_on)]


async def register_rows(practice_id: int) -> list[dict[str, Any]]:
    """Every row of the practice's register as stored (characteristics decoded), by reference: for the files
    that carry the whole register."""
    return await Member.select().where(Member.practice == practice_id).order_by(Member.reference).output(
        load_json=True)


async def members_characteristics(practice_id: int, as_at: date | None = None) -> list[dict[str, Any]]:
    """What the representativeness check compares (sex, birth_year, age_band, ethnic_category, characteristics):
    of the active members; or, `as_at` a day, of those in the group that day (`in_group_on`)."""
    columns = (Member.sex, Member.birth_year, Member.age_band, Member.ethnic_category, Member.characteristics)
    if as_at is None:
        return await Member.select(*columns).where(
            (Member.practice == practice_id) & (Member.status == "active")).output(load_json=True)
    rows = await Member.select(*columns, Member.status, Member.joined_on, Member.left_on).where(
        Member.practice == practice_id).output(load_json=True)
    return [m for m in rows if in_group_on(m, as_at)]


async def active_members(practice_id: int) -> list[dict[str, Any]]:
    """The active members, with what it takes to contact them: id, first_name, last_name, email, phone,
    participation, reference."""
    return await Member.select(Member.id, Member.first_name, Member.last_name, Member.email, Member.phone,
                               Member.participation, Member.reference).where(
        (Member.practice == practice_id) & (Member.status == "active"))


async def consenting_members(practice_id: int, purpose: str) -> set[int]:
    """The ids of members whose consent for `purpose` (e.g. "prg_contact") stands (given, not withdrawn)."""
    return {r["member"] for r in await Consent.select(Consent.member).where(
        (Consent.practice == practice_id) & (Consent.purpose == purpose) & Consent.withdrawn_at.is_null())}


async def member_addresses(practice_id: int, member_id: int | None = None) -> list[dict[str, Any]]:
    """Members' ids and e-mail addresses: every member's, or the one named."""
    where = Member.practice == practice_id
    if member_id is not None:
        where = where & (Member.id == member_id)
    return await Member.select(Member.id, Member.email).where(where)


def _out(row: dict[str, Any], consents: list[dict[str, Any]] | None = None) -> schemas.MemberOut:
    fields = {f: row[f] for f in schemas.MemberOut.__struct_fields__ if f in row and f != "consents"}
    out = msgspec.convert(fields, schemas.MemberOut, strict=False)
    if consents is not None:
        out.consents = [_consent_out(c) for c in consents]
    return out


def _consent_out(row: dict[str, Any]) -> schemas.ConsentOut:
    return schemas.ConsentOut(
        id=row["id"], purpose=row["purpose"], given_at=row["given_at"], method=row["method"],
        wording_version=row["wording_version"], withdrawn_at=row["withdrawn_at"],
        withdrawal_method=row["withdrawal_method"], active=row["withdrawn_at"] is None,
    )


async def _next_references(practice_id: int, count: int) -> list[str]:
    rows = await Member.select(Member.reference).where(
        (Member.practice == practice_id) & Member.reference.like("PRG-%")
    )
    numbers = [int(m.group(1)) for r in rows if (m := AUTO_REFERENCE.match(r["reference"]))]
    start = max(numbers, default=0) + 1
    return [f"PRG-{n:04d}" for n in range(start, start + count)]


async def _taken_references(practice_id: int, references: list[str]) -> set[str]:
    if not references:
        return set()
    rows = await Member.select(Member.reference).where(
        (Member.practice == practice_id) & Member.reference.is_in(references)
    )
    return {r["reference"] for r in rows}


def default_contact(values: dict[str, Any]) -> str | None:
    return next((method for method, field in (("email", "email"), ("phone", "phone"), ("post", "address"))
                 if values.get(field)), None)


def _row_for_insert(practice_id: int, data: schemas.MemberIn, reference: str) -> Member:
    values = msgspec.structs.asdict(data)
    values["reference"] = reference
    values["preferred_contact"] = values["preferred_contact"] or default_contact(values)
    values["postcode"] = values["postcode"].upper()
    values["email"] = values["email"].strip()
    now = utcnow()
    return Member(practice=practice_id, created_at=now, updated_at=now, **values)


async def create_members(access: PracticeAccess, items: list[schemas.MemberIn], actor: Identity,
                         *, action: str = "member.create") -> list[Member]:
    """Insert members all together or not at all."""
    async with write_transaction():
        given = [m.reference for m in items if m.reference]
        taken = await _taken_references(access.practice_id, given)
        if taken:
            raise Conflict("A member already has that reference.",
                           [ErrorDetail(f"{ref} is already used", field="reference") for ref in sorted(taken)])
        generated = iter(await _next_references(access.practice_id, sum(1 for m in items if not m.reference)))
        rows = [_row_for_insert(access.practice_id, m, m.reference or next(generated)) for m in items]
        for start in range(0, len(rows), INSERT_CHUNK):
            await Member.insert(*rows[start:start + INSERT_CHUNK])
        if action == "member.create":
            for row in rows:
                await record(action, actor, practice_id=access.practice_id, entity="member", entity_id=row.id)
        else:
            await record(action, actor, practice_id=access.practice_id, entity="member",
                         details={"created": len(rows)})
    return rows


async def create_member(access: PracticeAccess, data: schemas.MemberIn, actor: Identity) -> schemas.MemberOut:
    errors = rule_errors(msgspec.structs.asdict(data))
    if errors:
        raise InvalidInput("The member's details break a rule.", errors)
    [row] = await create_members(access, [data], actor)
    return await get_member(access, row.id)


async def _member_row(access: PracticeAccess, member_id: int) -> dict[str, Any]:
    row = await Member.select().where(
        (Member.id == member_id) & (Member.practice == access.practice_id)
    ).output(load_json=True).first()
    if row is None:
        raise NotFound(f"No member {member_id} at {access.ods_code}.")
    return row


async def get_member(access: PracticeAccess, member_id: int) -> schemas.MemberOut:
    row = await _member_row(access, member_id)
    consents = await Consent.select().where(Consent.member == member_id).order_by(Consent.id)
    return _out(row, consents)


async def list_members(
    access: PracticeAccess, *, status: str | None = None, participation: str | None = None,
    channel: str | None = None, q: str | None = None, sort: str = "reference", descending: bool = False,
    limit: int = 50, offset: int = 0,
) -> schemas.MemberPage:
    where = [Member.practice == access.practice_id]
    if status:
        where.append(Member.status == status)
    if participation:
        where.append(Member.participation == participation)
    if channel:
        where.append(Member.recruitment_channel == channel)
    if q:
        pattern = "%" + q.replace("\\", "").replace("%", "").replace("_", "") + "%"
        # SQLite's LIKE already ignores ASCII case (and Piccolo warns on ILIKE there).
        match = "like" if is_sqlite() else "ilike"
        where.append(getattr(Member.first_name, match)(pattern) | getattr(Member.last_name, match)(pattern)
                     | getattr(Member.email, match)(pattern) | getattr(Member.reference, match)(pattern))
    if sort not in SORTABLE:  # the controller's schema already restricts this; kept as a guard
        raise InvalidInput("Unknown sort field.", [ErrorDetail(f"one of {sorted(SORTABLE)}", field="sort")])
    rows = await (
        Member.select().where(*where).order_by(getattr(Member, sort), ascending=not descending)
        .order_by(Member.id, ascending=not descending).limit(limit).offset(offset).output(load_json=True)
    )
    total = await Member.count().where(*where)
    return schemas.MemberPage(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def update_member(access: PracticeAccess, member_id: int, data: schemas.MemberUpdate, actor: Identity) -> schemas.MemberOut:
    changes = msgspec_changes(data)
    async with write_transaction():
        current = await _member_row(access, member_id)
        merged = {**current, **changes}
        errors = rule_errors(merged)
        if errors:
            raise InvalidInput("The member's details break a rule.", errors)
        if "reference" in changes and changes["reference"] != current["reference"]:
            if await _taken_references(access.practice_id, [changes["reference"]]):
                raise Conflict("A member already has that reference.", [ErrorDetail("already used", field="reference")])
        if "postcode" in changes:
            changes["postcode"] = changes["postcode"].upper()
        if changes:
            changes["updated_at"] = utcnow()
            await Member.update(changes, force=True).where(Member.id == member_id)
        await record("member.update", actor, practice_id=access.practice_id, entity="member", entity_id=member_id,
                     details={"fields": sorted(k for k in changes if k != "updated_at")})
    return await get_member(access, member_id)


async def erase_member(access: PracticeAccess, member_id: int, actor: Identity) -> None:
    """Remove the person's data for good. Consent records, the member's copies of consultations (with their
    answers) and contact blocks go with the member row (ON DELETE CASCADE); the audit log keeps only that
    member number N was erased, by whom and when."""
    async with write_transaction():
        await _member_row(access, member_id)
        await Consent.delete().where(Consent.member == member_id)
        await Member.delete().where(Member.id == member_id)
        await record("member.erase", actor, practice_id=access.practice_id, entity="member", entity_id=member_id)


# Patient groups in English general practice long postdate this; an earlier date is a mistake.
EARLIEST_CONSENT = datetime(2000, 1, 1, tzinfo=timezone.utc)


async def give_consent(access: PracticeAccess, member_id: int, data: schemas.ConsentIn, actor: Identity) -> schemas.ConsentOut:
    given_at = data.given_at or utcnow()
    if given_at.tzinfo is None:
        raise InvalidInput("Give a time zone with the time.", [ErrorDetail("needs a UTC offset, e.g. Z", field="given_at")])
    if given_at > utcnow():
        raise InvalidInput("Consent cannot be given in the future.", [ErrorDetail("is in the future", field="given_at")])
    if given_at < EARLIEST_CONSENT:  # also catches a number read as seconds since 1970
        raise InvalidInput("That consent date is too early to be right.",
                           [ErrorDetail("is before 2000; check the date", field="given_at")])
    async with write_transaction():
        await _member_row(access, member_id)
        consent = Consent(
            member=member_id, practice=access.practice_id, purpose=data.purpose, given_at=given_at,
            method=data.method, wording_version=data.wording_version,
        )
        await consent.save()
        await record("consent.give", actor, practice_id=access.practice_id, entity="member", entity_id=member_id,
                     details={"purpose": data.purpose, "method": data.method, "wording_version": data.wording_version})
    return _consent_out(consent.to_dict())


async def withdraw_consent(access: PracticeAccess, member_id: int, consent_id: int,
                           data: schemas.ConsentWithdrawal, actor: Identity) -> schemas.ConsentOut:
    async with write_transaction():
        row = await Consent.select().where(
            (Consent.id == consent_id) & (Consent.member == member_id) & (Consent.practice == access.practice_id)
        ).first()
        if row is None:
            raise NotFound("No such consent for this member.")
        if row["withdrawn_at"] is None:
            row["withdrawn_at"], row["withdrawal_method"] = utcnow(), data.method
            await Consent.update({Consent.withdrawn_at: row["withdrawn_at"], Consent.withdrawal_method: data.method}
                                 ).where(Consent.id == consent_id)
            await record("consent.withdraw", actor, practice_id=access.practice_id, entity="member",
                         entity_id=member_id, details={"purpose": row["purpose"], "method": data.method})
    return _consent_out(row)


class MemberCorrespondence(Protocol):
    """What the participation year holds on a member (the consultations put to them, the blocks on e-mailing
    them), for the subject access export. The year sits above the register in the layers, so it implements
    this (`prg.des.consultations.ConsultationCorrespondence`) and `prg/app.py` provides it."""

    async def consultations_of(self, practice_id: int, member_id: int) -> list[schemas.ConsultationCopy]: ...

    async def contact_blocks_of(self, practice_id: int, member_id: int) -> list[schemas.ContactBlockOut]: ...


async def subject_access_export(access: PracticeAccess, member_id: int, actor: Identity,
                                correspondence: MemberCorrespondence) -> schemas.SubjectAccessExport:
    member = await get_member(access, member_id)
    copies = await correspondence.consultations_of(access.practice_id, member_id)
    blocks = await correspondence.contact_blocks_of(access.practice_id, member_id)
    events, _ = await list_events(access.practice_id, entity="member", entity_id=member_id, limit=10_000)
    async with write_transaction():
        await record("member.subject_access_export", actor, practice_id=access.practice_id, entity="member",
                     entity_id=member_id)
    return schemas.SubjectAccessExport(
        practice=f"{access.name} ({access.ods_code})", generated_at=utcnow(), member=member,
        consultations=copies, contact_blocks=blocks,
        audit_trail=[msgspec.convert(e, AuditEntry, strict=False) for e in reversed(events)],
    )


async def import_members(access: PracticeAccess, data: bytes, filename: str, actor: Identity) -> schemas.ImportResult:
    """All rows or none: every bad row is reported and nothing is written."""
    table = read_table(data, filename, max_rows=get_settings().max_import_rows)
    numbered = parse_members(table)
    taken = await _taken_references(access.practice_id, [m.reference for _, m in numbered if m.reference])
    if taken:
        raise Conflict(f"{len(taken)} reference(s) in the file are already in the register; nothing was imported.",
                       [ErrorDetail(f"{m.reference} is already used", row=n, field="reference")
                        for n, m in numbered if m.reference in taken])
    rows = await create_members(access, [m for _, m in numbered], actor, action="member.import")
    return schemas.ImportResult(created=len(rows), references=[r.reference for r in rows])


def _same_person(values: dict[str, Any]) -> tuple:
    return (values["first_name"].casefold(), values["last_name"].casefold(), values["email"].casefold(),
            values["birth_year"])


async def upsert_members(access: PracticeAccess, numbered: list[tuple[int, schemas.MemberIn]], fields: set[str],
                         actor: Identity) -> tuple[list[str], list[str]]:
    """A register spreadsheet sent back (the PRG collation workbook): rows whose reference is already in
    the register update that member's `fields` (the columns the sheet has), the others are added.
    All rows or none; every row that breaks a rule is reported with its row number. Returns the
    references (created, updated)."""
    async with write_transaction():
        given = [m.reference for _, m in numbered if m.reference]
        current = {r["reference"]: r for r in await Member.select().where(
            (Member.practice == access.practice_id) & Member.reference.is_in(given or [""])
        ).output(load_json=True)}
        errors: list[ErrorDetail] = []
        updates: list[tuple[int, dict[str, Any]]] = []
        new: list[schemas.MemberIn] = []
        # A row without a reference that is someone already in the register (a workbook sent twice)
        # is refused rather than added again.
        known = {_same_person(r): r["reference"] for r in await Member.select(
            Member.reference, Member.first_name, Member.last_name, Member.email, Member.birth_year
        ).where(Member.practice == access.practice_id)}
        for number, member in numbered:
            row = current.get(member.reference) if member.reference else None
            if row is None:
                twin = None if member.reference else known.get(_same_person(msgspec.structs.asdict(member)))
                if twin:
                    errors.append(ErrorDetail(f"is already in the register as {twin}: give that reference to "
                                              "update the member", row=number, field="reference"))
                new.append(member)
                continue
            values = msgspec.structs.asdict(member)
            changes = {f: values[f] for f in fields if f in values and f != "reference" and values[f] != row[f]}
            if "postcode" in changes:
                changes["postcode"] = changes["postcode"].upper()
            merged = {**row, **changes}
            if "preferred_contact" in fields and merged.get("preferred_contact") is None:
                merged["preferred_contact"] = default_contact(merged)
                if merged["preferred_contact"] != row["preferred_contact"]:
                    changes["preferred_contact"] = merged["preferred_contact"]
            problems = rule_errors(merged)
            errors.extend(ErrorDetail(p.message, row=number, field=p.field) for p in problems)
            if changes:
                updates.append((row["id"], changes))
        if errors:
            raise InvalidInput(f"{len({e.row for e in errors})} row(s) break a rule; nothing was changed.", errors)
        for member_id, changes in updates:
            changes["updated_at"] = utcnow()
            await Member.update(changes, force=True).where(Member.id == member_id)
        generated = iter(await _next_references(access.practice_id, sum(1 for m in new if not m.reference)))
        rows = [_row_for_insert(access.practice_id, m, m.reference or next(generated)) for m in new]
        for start in range(0, len(rows), INSERT_CHUNK):
            await Member.insert(*rows[start:start + INSERT_CHUNK])
        await record("member.workbook_import", actor, practice_id=access.practice_id, entity="member",
                     details={"created": len(rows), "updated": len(updates)})
    updated_ids = {member_id for member_id, _ in updates}
    return [r.reference for r in rows], sorted(ref for ref, r in current.items() if r["id"] in updated_ids)
