"""Use cases for population profiles: import (files or JSON), read back, correct, delete, and find the profile
a comparison uses. Every query is scoped by the caller's practice. A file is read and checked in full before
the transaction opens, so an import is all or nothing and a bad file changes nothing; each write is audited
in its own transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import anyio.to_thread

from prg.accounts.audit.services import record
from prg.accounts.services import Identity, PracticeAccess
from prg.db import utcnow, write_transaction
from prg.errors import BadFile, ErrorDetail, InvalidInput, NotFound
from prg.population import schemas
from prg.population.dimensions import (
    ETHNIC_CATEGORIES,
    FEMALE,
    MALE,
    TOP_CODED_AGE,
    TOP_CODED_KEY,
    parse_ethnic_category,
    parse_five_year_label,
)
from prg.population.readers.custom import read_custom_dimension
from prg.population.readers.ethnicity import read_ethnicity_report
from prg.population.readers.nhs_digital import NhsDigitalExtract, read_nhs_digital
from prg.population.tables import PopulationCount, PopulationProfile
from prg.uploads import shown_name

AGE_SEX = "age_sex"
ETHNICITY = "ethnicity"
CUSTOM_PREFIX = "custom:"
INSERT_CHUNK = 500  # rows per INSERT, well under both engines' bound-parameter caps
MAX_NHS_FILES = 2


# ---------------------------------------------------------------------------------------------------------
# The profile in memory
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountRow:
    """One group of a profile: `sex` + ages `age_from`..`age_to` (None: and over), or a `category`."""

    patients: int
    sex: str = ""
    age_from: int | None = None
    age_to: int | None = None
    category: str = ""

    @property
    def age_key(self) -> str:
        """'37' for a single year, '95+' for an open group, '0-4' for a 5-year group."""
        if self.age_to is None:
            return f"{self.age_from}+"
        if self.age_from == self.age_to:
            return str(self.age_from)
        return f"{self.age_from}-{self.age_to}"


@dataclass
class NewProfile:
    dimension: str
    extract_date: date
    rows: list[CountRow]
    label: str = ""
    age_detail: str = ""
    source_filename: str = ""
    publication: str = ""

    @property
    def total(self) -> int:
        return sum(r.patients for r in self.rows)


@dataclass(frozen=True)
class Profile:
    """A stored profile with its counts, as the comparisons read it."""

    id: int
    dimension: str
    label: str
    age_detail: str
    extract_date: date
    source_filename: str
    publication: str
    total: int
    rows: tuple[CountRow, ...] = field(default=())

    @property
    def custom_key(self) -> str | None:
        return self.dimension.removeprefix(CUSTOM_PREFIX) if self.dimension.startswith(CUSTOM_PREFIX) else None

    def by_sex(self) -> dict[str, int]:
        out = {FEMALE: 0, MALE: 0}
        for r in self.rows:
            out[r.sex] = out.get(r.sex, 0) + r.patients
        return out

    def by_age(self, sex: str | None = None) -> dict[int | str, int]:
        """Patients per age key as `prg.population.dimensions` regroups them: single years as ints and
        '95+', or 5-year labels ('0-4' ... '95+'); for one sex or (None) both."""
        out: dict[int | str, int] = {}
        for r in self.rows:
            if sex is not None and r.sex != sex:
                continue
            if self.age_detail == "single_year":
                key: int | str = TOP_CODED_KEY if r.age_to is None else int(r.age_from or 0)
            else:
                key = r.age_key
            out[key] = out.get(key, 0) + r.patients
        return out

    def by_category(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.category] = out.get(r.category, 0) + r.patients
        return out


def custom_dimension(key: str) -> str:
    return CUSTOM_PREFIX + key


def slug(text: str) -> str:
    """A characteristic key from a name, as the register import makes them ('Carer status' -> 'carer_status')."""
    key = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:50].rstrip("_")
    return key if key and key[0].isalpha() else ""


# ---------------------------------------------------------------------------------------------------------
# From files
# ---------------------------------------------------------------------------------------------------------


def _rows_from_extract(extract: NhsDigitalExtract) -> list[CountRow]:
    rows = []
    for (sex, age), n in extract.counts.items():
        if extract.kind == "five_year":
            lower, upper = parse_five_year_label(str(age))
        elif age == TOP_CODED_KEY:
            lower, upper = TOP_CODED_AGE, None
        else:
            lower = upper = int(age)
        rows.append(CountRow(patients=n, sex=sex, age_from=lower, age_to=upper))
    return rows


def profile_from_nhs_files(files: list[tuple[bytes, str]], ods_code: str) -> NewProfile:
    """The practice's sex x age profile from NHS Digital files: the 5-year file alone, or the two
    single-year-of-age files (female and male) together. Raises with every problem, naming file and row."""
    if not files:
        raise InvalidInput("No file was sent.", [ErrorDetail("send the file in the multipart field 'file'", field="file")])
    if len(files) > MAX_NHS_FILES:
        raise InvalidInput(
            f"{len(files)} files were sent; send the 5-year file alone, or the two single-year files together.",
            [ErrorDetail("too many files", field="file")],
        )
    extracts = [read_nhs_digital(data, name, ods_code) for data, name in files]
    names = [shown_name(e.source_filename) for e in extracts]
    for extract, name in zip(extracts, names):
        if extract.kind == "totals":
            raise BadFile(
                f"{name} is the totals file (one number per practice): it has no ages. Import the 5-year file "
                "(gp-reg-pat-prac-quin-age.csv) or the two single-year files (gp-reg-pat-prac-sing-age-female.csv "
                "and -male.csv).",
                [ErrorDetail("a totals file has no ages", field="file", row=1, column="AGE")],
            )
    kinds = [e.kind for e in extracts]
    if kinds == ["five_year"]:
        [extract] = extracts
        return NewProfile(
            dimension=AGE_SEX, age_detail="five_year", extract_date=extract.extract_date,
            rows=_rows_from_extract(extract), source_filename=names[0], publication=extract.publication or "",
        )
    if "five_year" in kinds:
        raise InvalidInput(
            "Import the 5-year file on its own; the single-year files go together in another request.",
            [ErrorDetail("the 5-year file must be sent alone", field="file")],
        )
    sexes = sorted(e.sex or "" for e in extracts)
    if sexes != [FEMALE, MALE]:
        found = " and ".join(f"{n} ({e.sex or 'both sexes'})" for n, e in zip(names, extracts))
        raise InvalidInput(
            f"The single-year-of-age files come in two, one per sex: send gp-reg-pat-prac-sing-age-female.csv and "
            f"gp-reg-pat-prac-sing-age-male.csv together (both in the field 'file'); this request had {found}.",
            [ErrorDetail("send the female and the male single-year files together", field="file")],
        )
    dates = {e.extract_date for e in extracts}
    if len(dates) != 1:
        listed = ", ".join(f"{n}: {e.extract_date.isoformat()}" for n, e in zip(names, extracts))
        raise InvalidInput(
            f"The two files are from different extracts ({listed}); use the files of one month.",
            [ErrorDetail("the EXTRACT_DATE differs between the files", field="file", column="EXTRACT_DATE")],
        )
    ordered = sorted(zip(extracts, names), key=lambda pair: pair[0].sex or "")  # female, then male
    rows = [row for extract, _ in ordered for row in _rows_from_extract(extract)]
    publication = next((e.publication for e in extracts if e.publication), "") or ""
    return NewProfile(
        dimension=AGE_SEX, age_detail="single_year", extract_date=extracts[0].extract_date, rows=rows,
        source_filename=" + ".join(n for _, n in ordered), publication=publication,
    )


def profile_from_ethnicity_report(data: bytes, filename: str, extract_date: date) -> NewProfile:
    rows = [CountRow(patients=n, category=code) for code, n in read_ethnicity_report(data, filename)]
    return NewProfile(dimension=ETHNICITY, extract_date=extract_date, rows=rows, source_filename=shown_name(filename))


def profile_from_custom_file(data: bytes, filename: str, extract_date: date, key: str | None,
                             label: str | None) -> NewProfile:
    name, groups = read_custom_dimension(data, filename)
    label = (label or name or "").strip()
    key = key or slug(label)
    if not key:
        raise InvalidInput(
            "Say which member characteristic this dimension compares: send the form field 'key' (e.g. carer).",
            [ErrorDetail("the file does not name the dimension; give 'key'", field="key")],
        )
    rows = [CountRow(patients=n, category=group) for group, n in groups.items()]
    return NewProfile(dimension=custom_dimension(key), extract_date=extract_date, rows=rows,
                      label=label or key.replace("_", " ").capitalize(), source_filename=shown_name(filename))


# ---------------------------------------------------------------------------------------------------------
# From JSON
# ---------------------------------------------------------------------------------------------------------


def _age_range(value: int | str, detail: str) -> tuple[int, int | None]:
    text = str(value).strip()
    if detail == "single_year":
        if text == TOP_CODED_KEY:
            return TOP_CODED_AGE, None
        if text.isdigit() and int(text) < TOP_CODED_AGE:
            return int(text), int(text)
        raise ValueError(f"{text!r} is not a single year of age: use 0 to 94, or '95+'")
    return parse_five_year_label(text)


def profile_from_json(data: schemas.ProfileIn) -> NewProfile:
    """Check a JSON profile row by row; every problem names its `counts[i]` field."""
    errors: list[ErrorDetail] = []
    rows: list[CountRow] = []
    seen: dict[Any, int] = {}

    def bad(message: str, where: str) -> None:
        errors.append(ErrorDetail(message, field=where))

    if data.dimension != "custom" and data.key is not None:
        bad("only a custom dimension has a key", "key")
    if data.dimension != AGE_SEX and data.age_detail is not None:
        bad("only an age_sex profile has age_detail", "age_detail")
    if data.dimension == AGE_SEX and data.age_detail is None:
        bad("say whether the ages are single years or 5-year groups", "age_detail")
    if data.dimension == "custom" and data.key is None:
        bad("a custom dimension needs the member characteristic it compares, e.g. 'carer'", "key")
    for i, count in enumerate(data.counts):
        at = f"counts[{i}]"
        if data.dimension == AGE_SEX:
            if count.group is not None:
                bad("age rows have no group", f"{at}.group")
            if count.sex is None:
                bad("give the sex (female or male)", f"{at}.sex")
            if count.age is None:
                bad("give the age", f"{at}.age")
            if count.sex is None or count.age is None or data.age_detail is None:
                continue
            try:
                lower, upper = _age_range(count.age, data.age_detail)
            except ValueError as exc:
                bad(str(exc), f"{at}.age")
                continue
            identity: Any = (count.sex, lower)
            row = CountRow(patients=count.patients, sex=count.sex, age_from=lower, age_to=upper)
        else:
            if count.sex is not None:
                bad("only age_sex rows have a sex", f"{at}.sex")
            if count.age is not None:
                bad("only age_sex rows have an age", f"{at}.age")
            if count.group is None:
                bad("give the group", f"{at}.group")
                continue
            if data.dimension == ETHNICITY:
                try:
                    category = parse_ethnic_category(count.group)
                except ValueError as exc:
                    bad(str(exc), f"{at}.group")
                    continue
            else:
                category = count.group.strip()
            identity = category.casefold()
            row = CountRow(patients=count.patients, category=category)
        if identity in seen:
            bad(f"repeats counts[{seen[identity]}]", at)
            continue
        seen[identity] = i
        rows.append(row)
    if not errors and sum(r.patients for r in rows) == 0:
        bad("the counts add up to 0: there is no population to compare with", "counts")
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) in the profile; nothing was saved.", errors)
    dimension = custom_dimension(data.key) if data.dimension == "custom" and data.key else data.dimension
    label = data.label.strip() or (data.key.replace("_", " ").capitalize() if data.key else "")
    return NewProfile(
        dimension=dimension, extract_date=data.extract_date, rows=rows, label=label,
        age_detail=data.age_detail or "", source_filename=data.source_filename, publication=data.publication,
    )


# ---------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------


def _count_records(practice_id: int, profile_id: int, rows: list[CountRow]) -> list[PopulationCount]:
    return [
        PopulationCount(profile=profile_id, practice=practice_id, position=i, sex=r.sex, age_from=r.age_from,
                        age_to=r.age_to, category=r.category, patients=r.patients)
        for i, r in enumerate(rows)
    ]


async def _insert_counts(practice_id: int, profile_id: int, rows: list[CountRow]) -> None:
    records = _count_records(practice_id, profile_id, rows)
    for start in range(0, len(records), INSERT_CHUNK):
        await PopulationCount.insert(*records[start:start + INSERT_CHUNK])


def _audit_details(new: NewProfile) -> dict[str, Any]:
    return {"dimension": new.dimension, "extract_date": new.extract_date.isoformat(), "total": new.total,
            "groups": len(new.rows), "source_filename": new.source_filename}


async def save_profile(access: PracticeAccess, new: NewProfile, actor: Identity | None,
                       action: str = "population.import") -> schemas.ProfileOut:
    """Store a checked profile and its counts, with the audit entry, in one transaction."""
    if new.total <= 0:
        raise InvalidInput("The counts add up to 0: there is no population to compare with.",
                           [ErrorDetail("no registered patients in the file", field="file")])
    async with write_transaction():
        profile = PopulationProfile(
            practice=access.practice_id, dimension=new.dimension, label=new.label, age_detail=new.age_detail,
            extract_date=new.extract_date, source_filename=new.source_filename[:300],
            publication=new.publication[:100], total=new.total, created_at=utcnow(),
            created_by=actor.user_id if actor else None,
        )
        await profile.save()
        await _insert_counts(access.practice_id, profile.id, new.rows)
        await record(action, actor, practice_id=access.practice_id, entity="population_profile",
                     entity_id=profile.id, details=_audit_details(new))
    return await get_profile(access, profile.id)


async def import_nhs_digital(access: PracticeAccess, files: list[tuple[bytes, str]], actor: Identity) -> schemas.ProfileOut:
    # Reading a national file is CPU work (a byte search, sometimes pandas): keep it off the event loop.
    new = await anyio.to_thread.run_sync(profile_from_nhs_files, files, access.ods_code)
    return await save_profile(access, new, actor)


async def import_ethnicity(access: PracticeAccess, data: bytes, filename: str, extract_date: date | None,
                           actor: Identity) -> schemas.ProfileOut:
    new = await anyio.to_thread.run_sync(profile_from_ethnicity_report, data, filename, extract_date or date.today())
    return await save_profile(access, new, actor)


async def import_custom(access: PracticeAccess, data: bytes, filename: str, *, key: str | None, label: str | None,
                        extract_date: date | None, actor: Identity) -> schemas.ProfileOut:
    new = await anyio.to_thread.run_sync(
        lambda: profile_from_custom_file(data, filename, extract_date or date.today(), key, label)
    )
    return await save_profile(access, new, actor)


async def create_profile(access: PracticeAccess, data: schemas.ProfileIn, actor: Identity) -> schemas.ProfileOut:
    return await save_profile(access, profile_from_json(data), actor)


async def replace_profile(access: PracticeAccess, profile_id: int, data: schemas.ProfileIn,
                          actor: Identity) -> schemas.ProfileOut:
    """Correct a profile: its counts and details are replaced, keeping its id (audited with the old total)."""
    new = profile_from_json(data)
    async with write_transaction():
        old = await _profile_row(access.practice_id, profile_id)
        if old["dimension"] != new.dimension:
            raise InvalidInput(
                f"Profile {profile_id} is a {old['dimension']} profile; a correction cannot change its dimension "
                "(import a new profile instead).",
                [ErrorDetail(f"must be the profile's own dimension ({old['dimension']})", field="dimension")],
            )
        await PopulationCount.delete().where(PopulationCount.profile == profile_id)
        await PopulationProfile.update({
            PopulationProfile.label: new.label, PopulationProfile.age_detail: new.age_detail,
            PopulationProfile.extract_date: new.extract_date, PopulationProfile.source_filename: new.source_filename,
            PopulationProfile.publication: new.publication, PopulationProfile.total: new.total,
        }).where(PopulationProfile.id == profile_id)
        await _insert_counts(access.practice_id, profile_id, new.rows)
        await record("population.replace", actor, practice_id=access.practice_id, entity="population_profile",
                     entity_id=profile_id, details=_audit_details(new) | {"previous_total": old["total"]})
    return await get_profile(access, profile_id)


async def delete_profile(access: PracticeAccess, profile_id: int, actor: Identity) -> None:
    async with write_transaction():
        old = await _profile_row(access.practice_id, profile_id)
        await PopulationProfile.delete().where(PopulationProfile.id == profile_id)
        await record("population.delete", actor, practice_id=access.practice_id, entity="population_profile",
                     entity_id=profile_id, details={"dimension": old["dimension"],
                                                    "extract_date": old["extract_date"].isoformat()})


# ---------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------

_SUMMARY_COLUMNS = (
    PopulationProfile.id, PopulationProfile.dimension, PopulationProfile.label, PopulationProfile.age_detail,
    PopulationProfile.extract_date, PopulationProfile.source_filename, PopulationProfile.publication,
    PopulationProfile.total, PopulationProfile.created_at, PopulationProfile.created_by.email.as_alias("created_by"),
)


def _summary(row: dict[str, Any]) -> schemas.ProfileSummary:
    return schemas.ProfileSummary(
        id=row["id"], dimension=row["dimension"], label=row["label"], age_detail=row["age_detail"] or None,
        extract_date=row["extract_date"], source_filename=row["source_filename"], publication=row["publication"],
        total=row["total"], created_at=row["created_at"], created_by=row["created_by"],
    )


async def _profile_row(practice_id: int, profile_id: int) -> dict[str, Any]:
    row = await PopulationProfile.select(*_SUMMARY_COLUMNS).where(
        (PopulationProfile.practice == practice_id) & (PopulationProfile.id == profile_id)
    ).first()
    if row is None:
        raise NotFound(f"No population profile {profile_id} at this practice.")
    return row


async def list_profiles(access: PracticeAccess, dimension: str | None = None) -> schemas.ProfileList:
    """Newest extract first (then newest import)."""
    where = PopulationProfile.practice == access.practice_id
    if dimension:
        where = where & (PopulationProfile.dimension == dimension)
    rows = await PopulationProfile.select(*_SUMMARY_COLUMNS).where(where).order_by(
        PopulationProfile.extract_date, PopulationProfile.id, ascending=False
    )
    return schemas.ProfileList(items=[_summary(r) for r in rows])


async def _count_rows(profile_id: int) -> list[CountRow]:
    rows = await PopulationCount.select(
        PopulationCount.sex, PopulationCount.age_from, PopulationCount.age_to, PopulationCount.category,
        PopulationCount.patients,
    ).where(PopulationCount.profile == profile_id).order_by(PopulationCount.position)
    return [CountRow(patients=r["patients"], sex=r["sex"], age_from=r["age_from"], age_to=r["age_to"],
                     category=r["category"]) for r in rows]


def _count_out(dimension: str, row: CountRow) -> schemas.CountOut:
    if dimension == AGE_SEX:
        return schemas.CountOut(patients=row.patients, sex=row.sex, age=row.age_key)
    label = ETHNIC_CATEGORIES.get(row.category) if dimension == ETHNICITY else None
    return schemas.CountOut(patients=row.patients, group=row.category, label=label)


async def get_profile(access: PracticeAccess, profile_id: int) -> schemas.ProfileOut:
    summary = _summary(await _profile_row(access.practice_id, profile_id))
    counts = [_count_out(summary.dimension, r) for r in await _count_rows(profile_id)]
    return schemas.ProfileOut(**{f: getattr(summary, f) for f in summary.__struct_fields__}, counts=counts)


async def load_profile(practice_id: int, dimension: str, profile_id: int | None = None, *,
                       prefer_single_year: bool = False, on: date | None = None) -> Profile:
    """The profile a comparison uses: the one named, else the latest of the dimension (newest extract date,
    then newest import; among profiles of the newest extract date, single years before 5-year groups when
    `prefer_single_year`, since they can build any bands). With `on`, the latest extracted on or before that
    date, else the earliest after it (the nearest the practice has)."""
    if profile_id is not None:
        row = await _profile_row(practice_id, profile_id)
        if row["dimension"] != dimension:
            raise InvalidInput(
                f"Profile {profile_id} is a {row['dimension']} profile; this comparison needs {dimension}.",
                [ErrorDetail(f"name a {dimension} profile", field="profile")],
            )
    else:
        of_dimension = (PopulationProfile.practice == practice_id) & (PopulationProfile.dimension == dimension)
        candidates = await PopulationProfile.select(*_SUMMARY_COLUMNS).where(
            of_dimension if on is None else of_dimension & (PopulationProfile.extract_date <= on)
        ).order_by(PopulationProfile.extract_date, PopulationProfile.id, ascending=False).limit(10)
        if not candidates and on is not None:
            earliest = await PopulationProfile.select(PopulationProfile.extract_date).where(of_dimension).order_by(
                PopulationProfile.extract_date).first()
            if earliest is not None:
                candidates = await PopulationProfile.select(*_SUMMARY_COLUMNS).where(
                    of_dimension & (PopulationProfile.extract_date == earliest["extract_date"])
                ).order_by(PopulationProfile.id, ascending=False)
        if not candidates:
            raise NotFound(f"No {dimension} population profile has been imported at this practice yet: import one "
                           "under /population first.")
        newest = [c for c in candidates if c["extract_date"] == candidates[0]["extract_date"]]
        row = next((c for c in newest if c["age_detail"] == "single_year"), newest[0]) if prefer_single_year \
            else candidates[0]
    return Profile(
        id=row["id"], dimension=row["dimension"], label=row["label"], age_detail=row["age_detail"],
        extract_date=row["extract_date"], source_filename=row["source_filename"], publication=row["publication"],
        total=row["total"], rows=tuple(await _count_rows(row["id"])),
    )


async def has_profile(practice_id: int, dimension: str) -> bool:
    return await PopulationProfile.exists().where(
        (PopulationProfile.practice == practice_id) & (PopulationProfile.dimension == dimension)
    )



async def profile_nearest(practice_id: int, on: date, dimension: str = "age_sex") -> dict[str, Any] | None:
    """The profile nearest a date, as evidence (id, extract_date, total, source_filename): the latest extracted
    on or before it, else the earliest after it; None when the practice has none of the dimension."""
    cols = (PopulationProfile.id, PopulationProfile.extract_date, PopulationProfile.total,
            PopulationProfile.source_filename)
    where = (PopulationProfile.practice == practice_id) & (PopulationProfile.dimension == dimension)
    before = await PopulationProfile.select(*cols).where(where & (PopulationProfile.extract_date <= on)).order_by(
        PopulationProfile.extract_date, PopulationProfile.id, ascending=False).first()
    if before is not None:
        return before
    return await PopulationProfile.select(*cols).where(where).order_by(
        PopulationProfile.extract_date, PopulationProfile.id).first()
