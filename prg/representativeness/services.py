"""Does the PRG look like the practice's patients, and whom must it recruit?

The service lines up two sets of counts over the same groups: the registered population (a stored profile:
the latest of its dimension unless one is named) and the group's active members, each assigned from their
own characteristics (birth year -> age on the profile's extract date, sex, ethnic category, a custom
characteristic). Anyone who fits no group (no value recorded, not stated, a value no group has) is counted in
`not_compared`, never dropped. The numbers are `prg.stats`' (pure, tested against published values); this
module adds the groups' names, disclosure control and the findings in plain English.

Dimensions: `sex`; `age` (bands: `five_year`, `des` = the DES template's Under 16, 16-24 ... 75+,
`template_2014`, or `custom` cut points such as 16,35,65; the DES-era bands need the single-year files);
`age_x_sex`; `ethnicity` (`level` = the 16 ETHNIC CATEGORY codes or the 5 high-level groups; Z "not stated"
and 99 "not known" are reported apart and shares are of people with a recorded ethnicity); `custom:<key>`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import anyio.to_thread
import numpy as np

from prg.accounts.services import PracticeAccess
from prg.errors import ErrorDetail, InvalidInput
from prg.members.services import members_characteristics
from prg.population import services as population
from prg.population.dimensions import (
    DES_TEMPLATE,
    ETHNIC_CATEGORIES,
    FEMALE,
    FIVE_YEAR,
    HIGH_LEVEL_GROUPS,
    MALE,
    NOT_RECORDED,
    NOT_STATED,
    STATED_CODES,
    TEMPLATE_2014,
    AgeBand,
    AgeBands,
    age_at,
    custom_bands,
    high_level_group,
    regroup_five_year,
    regroup_single_year,
)
from prg.representativeness import schemas
from prg.settings import get_settings
from prg.stats.recruitment import recruitment_targets
from prg.stats.representativeness import compare_groups

BandsName = Literal["five_year", "des", "template_2014", "custom"]
Level = Literal["category", "high_level"]
NAMED_BANDS: dict[str, AgeBands] = {"five_year": FIVE_YEAR, "des": DES_TEMPLATE, "template_2014": TEMPLATE_2014}
DIMENSION_PATTERN = r"^(sex|age|age_x_sex|ethnicity|custom:[a-z][a-z0-9_]{0,49})$"
#: Which members are compared: those who have joined and not left (with `as_at`, those in the group that day).
MEMBERS_COUNTED = "active"
#: A finding calls a group under-represented below this ratio, over-represented above the other, and only
#: where at least one member would be expected (an absent group of 0.3 expected members is not news).
UNDER_RATIO = 0.8
OVER_RATIO = 1.25
MIN_EXPECTED_FOR_FINDING = 1.0
SEX_LABELS = {FEMALE: "Female", MALE: "Male"}
MEMBER_SEX_NOT_COMPARED = {"other": "Sex recorded as other", "not_stated": "Sex not stated",
                           "not_known": "Sex not known"}
_MEMBER_BAND = re.compile(r"^\s*(?:<\s*(\d{1,3})|(\d{1,3})\s*-\s*(\d{1,3})|(\d{1,3})\s*\+)\s*$")


# ---------------------------------------------------------------------------------------------------------
# What is asked
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A validated request: the dimension and its options."""

    dimension: str
    bands: BandsName | None = None
    cuts: tuple[int, ...] | None = None
    level: Level = "category"
    profile_id: int | None = None
    as_at: date | None = None  # the group as it was that day, against the population extract nearest it

    @property
    def uses_age(self) -> bool:
        return self.dimension in ("age", "age_x_sex")

    @property
    def profile_dimension(self) -> str:
        if self.dimension in ("sex", "age", "age_x_sex"):
            return population.AGE_SEX
        return self.dimension


def parse_spec(dimension: str, *, bands: str | None = None, cuts: str | None = None, level: str | None = None,
               profile: int | None = None, as_at: date | None = None) -> Spec:
    """Check the options against the dimension; every problem names its query parameter."""
    errors: list[ErrorDetail] = []
    if not re.fullmatch(DIMENSION_PATTERN, dimension or ""):
        errors.append(ErrorDetail("use sex, age, age_x_sex, ethnicity or custom:<key>", field="dimension"))
    uses_age = dimension in ("age", "age_x_sex")
    parsed_cuts: tuple[int, ...] | None = None
    if cuts is not None:
        if bands not in (None, "custom"):
            errors.append(ErrorDetail("cut points go with bands=custom", field="cuts"))
        else:
            try:
                parsed_cuts = tuple(int(c) for c in cuts.split(","))
                custom_bands(list(parsed_cuts))
            except ValueError as exc:
                message = str(exc) if parsed_cuts is not None else "give ages separated by commas, e.g. 16,35,65"
                errors.append(ErrorDetail(message, field="cuts"))
            bands = "custom"
    elif bands == "custom":
        errors.append(ErrorDetail("bands=custom needs cut points, e.g. cuts=16,35,65", field="cuts"))
    if bands is not None and bands not in (*NAMED_BANDS, "custom"):
        errors.append(ErrorDetail("use five_year, des, template_2014 or custom", field="bands"))
    if bands is not None and not uses_age and dimension:
        errors.append(ErrorDetail("age bands apply to the age and age_x_sex dimensions", field="bands"))
    if level is not None and level not in ("category", "high_level"):
        errors.append(ErrorDetail("use category or high_level", field="level"))
    if level is not None and dimension != "ethnicity":
        errors.append(ErrorDetail("the level applies to the ethnicity dimension", field="level"))
    if as_at is not None and as_at > date.today():
        errors.append(ErrorDetail("is in the future; leave it out for the group as it is today", field="as_at"))
    if errors:
        raise InvalidInput("The comparison cannot be made as asked.", errors)
    return Spec(dimension=dimension, bands=bands, cuts=parsed_cuts, level=level or "category",  # type: ignore[arg-type]
                profile_id=profile, as_at=as_at)


# ---------------------------------------------------------------------------------------------------------
# Groups and who is in them
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Group:
    key: str
    label: str
    subject: str  # how a finding names the group's people ("Women aged 16-24")
    population: int
    members: int = 0


@dataclass
class Frame:
    """Population and member counts over the same groups, plus everyone who fits none of them."""

    spec: Spec
    profile: population.Profile
    groups: list[Group]
    bands_name: str | None = None
    bands: AgeBands | None = None
    not_compared: dict[str, list[Any]] = field(default_factory=dict)  # key -> [label, population, members]
    members_under_16: int = 0
    notes: list[str] = field(default_factory=list)

    def outside(self, key: str, label: str, *, population: int | None = None, members: int = 0) -> None:
        entry = self.not_compared.setdefault(key, [label, population, 0])
        entry[2] += members


def _age_phrase(band: AgeBand) -> str:
    if band.lower == 0 and band.upper is not None and band.label.lower().startswith(("under", "<")):
        return f"under {band.upper + 1}"
    if band.upper is None:
        return f"aged {band.lower} and over"
    return f"aged {band.lower}-{band.upper}"


def _sex_subject(sex: str, band: AgeBand | None) -> str:
    if band is not None and band.upper is not None and band.upper < 16:
        return "Girls" if sex == FEMALE else "Boys"
    if band is not None and band.lower >= 16:
        return "Women" if sex == FEMALE else "Men"
    return "Females" if sex == FEMALE else "Males"


def _bands_for(spec: Spec, profile: population.Profile) -> tuple[str, AgeBands]:
    name = spec.bands or ("des" if profile.age_detail == "single_year" else "five_year")
    bands = custom_bands(list(spec.cuts or ())) if name == "custom" else NAMED_BANDS[name]
    return name, bands


def _regroup(profile: population.Profile, bands: AgeBands, sex: str | None) -> dict[str, int]:
    try:
        if profile.age_detail == "single_year":
            return regroup_single_year(profile.by_age(sex), bands)
        return regroup_five_year({str(k): v for k, v in profile.by_age(sex).items()}, bands)
    except ValueError as exc:
        raise InvalidInput(
            f"Profile {profile.id} ({profile.source_filename or 'entered counts'}) cannot give these age bands: {exc}",
            [ErrorDetail(str(exc), field="bands")],
        ) from None


def _population_groups(frame: Frame) -> None:
    spec, profile = frame.spec, frame.profile
    if spec.dimension == "sex":
        by_sex = profile.by_sex()
        frame.groups = [Group(s, SEX_LABELS[s], "Females" if s == FEMALE else "Males", by_sex.get(s, 0))
                        for s in (FEMALE, MALE)]
    elif spec.uses_age:
        frame.bands_name, frame.bands = _bands_for(spec, profile)
        if spec.dimension == "age":
            counts = _regroup(profile, frame.bands, None)
            frame.groups = [Group(b.label, b.label, f"People {_age_phrase(b)}", counts[b.label]) for b in frame.bands]
        else:
            frame.groups = []
            for sex in (FEMALE, MALE):
                counts = _regroup(profile, frame.bands, sex)
                frame.groups += [Group(f"{sex}:{b.label}", f"{SEX_LABELS[sex]} {_age_phrase(b)}",
                                       f"{_sex_subject(sex, b)} {_age_phrase(b)}", counts[b.label])
                                 for b in frame.bands]
    elif spec.dimension == "ethnicity":
        by_code = profile.by_category()
        if spec.level == "category":
            frame.groups = [Group(c, ETHNIC_CATEGORIES[c], f"People recorded as {ETHNIC_CATEGORIES[c]}",
                                  by_code.get(c, 0)) for c in STATED_CODES]
        else:
            totals = Counter()
            for code in STATED_CODES:
                totals[high_level_group(code)] += by_code.get(code, 0)
            frame.groups = [Group(k, name, f"People recorded as {name}", totals[k])
                            for k, name in HIGH_LEVEL_GROUPS.items()]
        frame.outside(NOT_STATED, "Ethnicity not stated", population=by_code.get(NOT_STATED, 0))
        frame.outside(NOT_RECORDED, "Ethnicity not known or not recorded", population=by_code.get(NOT_RECORDED, 0))
    else:
        name = profile.label or profile.custom_key or ""
        frame.groups = [Group(g, g, f"People whose {name.lower()} is '{g}'", n) for g, n in profile.by_category().items()]


def _member_age(member: dict[str, Any], on: date) -> tuple[int, int | None] | str:
    """(youngest, oldest or None) a member can be on `on`, or why it is not known."""
    if member["birth_year"] is not None:
        try:
            age = age_at(int(member["birth_year"]), on)
        except ValueError:
            return "born_after"
        return age, age
    band = (member["age_band"] or "").strip()
    if not band:
        return "no_age"
    m = _MEMBER_BAND.match(band)
    if not m:
        return f"band:{band}"
    if m.group(1):
        return 0, int(m.group(1)) - 1
    if m.group(4):
        return int(m.group(4)), None
    return int(m.group(2)), int(m.group(3))


def _band_of(bands: AgeBands, lower: int, upper: int | None) -> AgeBand | None:
    for band in bands:
        if band.lower <= lower and (band.upper is None or (upper is not None and upper <= band.upper)):
            return band
    return None


def members_counted(spec: Spec) -> str:
    """Which members a comparison counted, as the API says it."""
    return MEMBERS_COUNTED if spec.as_at is None else f"in the group on {spec.as_at.isoformat()}"


def _assign_members(frame: Frame, members: list[dict[str, Any]]) -> None:
    spec, on = frame.spec, frame.profile.extract_date
    index = {g.key: g for g in frame.groups}
    folded = {g.key.casefold(): g for g in frame.groups}
    custom_key = frame.profile.custom_key
    for member in members:
        age = _member_age(member, on)
        if isinstance(age, tuple) and age[1] is not None and age[1] < 16:
            frame.members_under_16 += 1
        target: Group | None = None
        if spec.dimension in ("sex", "age_x_sex"):
            sex = member["sex"]
            if sex not in (FEMALE, MALE):
                frame.outside(f"sex:{sex}", MEMBER_SEX_NOT_COMPARED.get(sex, f"Sex {sex}"), members=1)
                continue
        if spec.uses_age:
            assert frame.bands is not None
            if isinstance(age, str):
                if age == "no_age":
                    frame.outside("age:none", "No birth year or age band recorded", members=1)
                elif age == "born_after":
                    frame.outside("age:born_after", "Birth year after the profile's extract date", members=1)
                else:
                    frame.outside(f"age:{age}", f"Age band '{age[5:]}' is not a range of ages", members=1)
                continue
            band = _band_of(frame.bands, *age)
            if band is None:
                shown = (member["age_band"] or "").strip()
                frame.outside(f"age:band:{shown}", f"Age band '{shown}' does not fit the bands", members=1)
                continue
            target = index[band.label if spec.dimension == "age" else f"{member['sex']}:{band.label}"]
        elif spec.dimension == "sex":
            target = index[member["sex"]]
        elif spec.dimension == "ethnicity":
            code = member["ethnic_category"] or NOT_RECORDED
            if code in (NOT_STATED, NOT_RECORDED) or code not in ETHNIC_CATEGORIES:
                frame.outside(NOT_STATED if code == NOT_STATED else NOT_RECORDED, "", members=1)
                continue
            target = index[code if spec.level == "category" else high_level_group(code)]
        else:
            value = str((member["characteristics"] or {}).get(custom_key or "", "")).strip()
            if not value:
                frame.outside("value:none", f"No value recorded for '{custom_key}'", members=1)
                continue
            target = folded.get(value.casefold())
            if target is None:
                frame.outside(f"value:{value.casefold()}", f"'{value[:100]}' matches no group", members=1)
                continue
        target.members += 1


async def build_frame(access: PracticeAccess, spec: Spec) -> Frame:
    profile = await population.load_profile(access.practice_id, spec.profile_dimension, spec.profile_id, on=spec.as_at,
                                            prefer_single_year=spec.uses_age)
    frame = Frame(spec=spec, profile=profile, groups=[])
    _population_groups(frame)
    _assign_members(frame, await members_characteristics(access.practice_id, spec.as_at))
    if sum(g.population for g in frame.groups) == 0:
        raise InvalidInput(
            f"Profile {profile.id} has no patients in any of the compared groups: there is nothing to compare with.",
            [ErrorDetail("the profile's compared groups are all 0", field="profile")],
        )
    return frame


# ---------------------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------------------


def _pct(share: float) -> str:
    percent = share * 100
    if 0 < percent < 0.5:
        return "less than 1%"
    return f"{percent:.0f}%"


def _people(n: int, one: str = "member", many: str = "members") -> str:
    return f"{n:,} {one if n == 1 else many}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


_SINGULAR = {"People": "person", "Women": "woman", "Men": "man", "Girls": "girl", "Boys": "boy", "Females": "female",
             "Males": "male"}


def _singular(subject: str) -> str:
    first, _, rest = subject.partition(" ")
    return f"{_SINGULAR.get(first, first)} {rest}".strip()


def _long_date(d: date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


def _source(profile: population.Profile) -> str:
    if profile.dimension == population.AGE_SEX and profile.publication:
        return f"NHS Digital, {_long_date(profile.extract_date)}"
    return f"as at {_long_date(profile.extract_date)}"


def _p_sentence(result, n: int) -> str | None:
    if result.p_value is None:
        return None
    p = result.p_value
    shown = "p < 0.001" if p < 0.001 else (f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}")
    method = "exact test" if result.p_value_method == "exact" else f"Monte Carlo test, {result.p_value_draws:,} draws"
    if p < 0.05:
        return (f"Differences this large would seldom arise by chance if the members had been drawn at random from "
                f"the patients ({shown}, {method}).")
    return (f"Differences of this size could well arise by chance in a group of {n} ({shown}, {method}): describe "
            "them rather than rely on the test.")


def findings(frame: Frame, result, threshold: int, not_compared: list[schemas.NotCompared],
             secondary: list[str] = ()) -> list[str]:
    """Sentences a practice manager can paste into the report. Counts from 1 to threshold - 1 are never
    quoted, nor shares that would give them away; nor the count withheld by secondary suppression; and while
    anything is withheld the index of dissimilarity is rounded to 5% and given without a member count (with
    two groups it would give the counts away)."""
    n = result.members_total
    patients = "registered patients with a recorded ethnicity" if frame.spec.dimension == "ethnicity" \
        else "registered patients"
    out = [f"The group's {_people(n, 'active member is', 'active members are')} compared with the practice's "
           f"{result.population_total:,} {patients} ({_source(frame.profile)})."]
    if n == 0:
        out.append("The group has no active members to compare.")
    elif n < threshold:
        out.append(f"The group has fewer than {threshold} members to compare, so no findings are given group by "
                   "group: numbers this small would identify people.")
    else:
        labels = {g.key: g.subject for g in frame.groups}
        notable = []
        for row in result.rows:
            if row.ratio is None or row.expected < MIN_EXPECTED_FOR_FINDING:
                continue
            subject = labels[row.group]
            pop = _pct(row.population_share)
            if row.ratio < UNDER_RATIO:
                if row.members == 0:
                    text = f"{subject} are {pop} of patients but none of the group's {n} members."
                elif row.suppressed:
                    text = f"{subject} are {pop} of patients but fewer than {threshold} of the group's {n} members."
                elif row.group in secondary:
                    text = f"{subject} are {pop} of patients but a smaller share of the group's {n} members."
                else:
                    text = (f"{subject} are {pop} of patients but {row.members} of the group's {n} members "
                            f"({_pct(row.member_share)}).")
                notable.append((abs(row.difference_pp), text))
            elif row.ratio > OVER_RATIO and not row.suppressed and row.members - row.expected >= 2:
                if row.group in secondary:
                    text = f"{subject} are {pop} of patients but a larger share of the group's {n} members."
                else:
                    text = (f"{subject} are {pop} of patients but {row.members} of the group's {n} members "
                            f"({_pct(row.member_share)}).")
                notable.append((abs(row.difference_pp), text))
        out += [text for _, text in sorted(notable, key=lambda t: -t[0])]
        if not any(r.ratio is not None and r.ratio < UNDER_RATIO and r.expected >= MIN_EXPECTED_FOR_FINDING
                   for r in result.rows):
            out.append(f"Every group in which at least one member would be expected has at least "
                       f"{_pct(UNDER_RATIO)} of its share of patients.")
        if result.dissimilarity_index is not None:
            if secondary or any(r.suppressed for r in result.rows):
                share = f"about {round(result.dissimilarity_index * 20) * 5}%"
            else:
                share = f"{_pct(result.dissimilarity_index)} (about {round(result.misplaced_members or 0)} of {n})"
            out.append(f"Overall, {share} of the members would have to be in other groups for the group to match "
                       "the patients (index of dissimilarity).")
        if sentence := _p_sentence(result, n):
            out.append(sentence)
    for entry in not_compared:
        if entry.members:
            who = f"Fewer than {threshold} members are" if entry.suppressed \
                else _people(entry.members, "member is", "members are")
            out.append(f"{who} not compared ({_lower_first(entry.label)}).")
    if frame.spec.dimension == "ethnicity":
        missing = {e.group: e.population or 0 for e in not_compared}
        everyone = result.population_total + sum(missing.values())
        if everyone and any(missing.values()):
            out.append(f"Of all {everyone:,} registered patients, {_pct(missing.get(NOT_STATED, 0) / everyone)} have "
                       f"not stated their ethnicity and {_pct(missing.get(NOT_RECORDED, 0) / everyone)} have none "
                       "recorded; the shares above are of patients with a recorded ethnicity.")
    if frame.members_under_16:
        who = (f"Fewer than {threshold} members were" if 0 < frame.members_under_16 < threshold
               else f"{_people(frame.members_under_16)} were")
        out.append(f"{who} under 16 on {_long_date(frame.profile.extract_date)}.")
    return out


# ---------------------------------------------------------------------------------------------------------
# The check and the targets
# ---------------------------------------------------------------------------------------------------------


def _profile_used(profile: population.Profile) -> schemas.ProfileUsed:
    return schemas.ProfileUsed(
        id=profile.id, dimension=profile.dimension, label=profile.label, age_detail=profile.age_detail or None,
        extract_date=profile.extract_date, source_filename=profile.source_filename,
        publication=profile.publication, total=profile.total,
    )


def _not_compared(frame: Frame, threshold: int) -> list[schemas.NotCompared]:
    out = []
    for key, (label, pop, members) in frame.not_compared.items():
        if not pop and not members:
            continue
        out.append(schemas.NotCompared(group=key, label=label, population=pop, members=members,
                                       suppressed=0 < members < threshold))
    return out


def secondary_suppression(rows) -> list[str]:
    """With exactly one count suppressed, the total would give it away: withhold the next smallest count too."""
    primary = [r for r in rows if r.suppressed]
    if len(primary) != 1:
        return []
    others = [r for r in rows if not r.suppressed and r.members > 0]
    if not others:
        return []
    return [min(others, key=lambda r: (r.members, r.group)).group]


async def check(access: PracticeAccess, spec: Spec) -> schemas.Representativeness:
    threshold = get_settings().suppression_threshold
    frame = await build_frame(access, spec)
    keys = [g.key for g in frame.groups]
    population_counts = np.array([g.population for g in frame.groups], dtype=np.int64)
    member_counts = np.array([g.members for g in frame.groups], dtype=np.int64)
    # The p-value may enumerate or simulate for tens of milliseconds: off the event loop.
    result = await anyio.to_thread.run_sync(
        lambda: compare_groups(keys, population_counts, member_counts, suppress_below=threshold)
    )
    labels = {g.key: g.label for g in frame.groups}
    not_compared = _not_compared(frame, threshold)
    secondary = secondary_suppression(result.rows)
    rows = [schemas.GroupResult(label=labels[r.group], **{
        f: getattr(r, f) for f in ("group", "population", "members", "expected", "population_share", "member_share",
                                   "difference_pp", "ratio", "ci_low", "ci_high", "suppressed")}) for r in result.rows]
    return schemas.Representativeness(
        practice=access.ods_code, dimension=spec.dimension, bands=frame.bands_name,
        cuts=list(frame.bands.cut_points) if frame.bands_name == "custom" and frame.bands else None,
        level=spec.level if spec.dimension == "ethnicity" else None, profile=_profile_used(frame.profile),
        members_counted=members_counted(spec), groups=rows, population_total=result.population_total,
        members_total=result.members_total, chi_square=result.chi_square, df=result.df, p_value=result.p_value,
        p_value_method=result.p_value_method, p_value_draws=result.p_value_draws,
        dissimilarity_index=result.dissimilarity_index, misplaced_members=result.misplaced_members,
        cohens_w=result.cohens_w, confidence=result.confidence, suppression_threshold=threshold,
        secondary_suppression=secondary, excluded_from_test=list(result.excluded_from_test),
        not_compared=not_compared, members_under_16=frame.members_under_16,
        findings=findings(frame, result, threshold, not_compared, secondary), notes=list(result.notes) + frame.notes,
    )


def parse_acceptance(frame: Frame, rate_for_all: float | None, per_group: list[str] | None) -> dict[str, float]:
    """Acceptance rates by group: one rate for every group, and/or `group=rate` items overriding it."""
    keys = [g.key for g in frame.groups]
    rates = {k: rate_for_all for k in keys} if rate_for_all is not None else {}
    errors = []
    folded = {k.casefold(): k for k in keys}
    for item in per_group or []:
        group, sep, value = item.rpartition("=")
        key = folded.get(group.strip().casefold())
        try:
            rate = float(value)
            if not (0 < rate <= 1):
                raise ValueError
        except ValueError:
            errors.append(ErrorDetail(f"{item[:60]!r}: give group=rate with a rate above 0 and at most 1",
                                      field="acceptance"))
            continue
        if not sep or key is None:
            errors.append(ErrorDetail(f"{group[:60]!r} is not a group of this dimension (groups: "
                                      f"{', '.join(keys)[:300]})", field="acceptance"))
            continue
        rates[key] = rate
    if errors:
        raise InvalidInput("The acceptance rates cannot be used.", errors)
    return rates


def _targets_summary(frame: Frame, result, min_ratio: float) -> list[str]:
    subjects = {g.key: g.subject for g in frame.groups}
    if result.total_additional == 0:
        return [f"Every group already has at least {_pct(min_ratio)} of its share of patients: no one more is "
                "needed for this comparison."]
    needed = sorted((r for r in result.rows if r.additional_needed), key=lambda r: -r.additional_needed)
    parts = [f"{r.additional_needed} {_lower_first(_singular(subjects[r.group]) if r.additional_needed == 1 else subjects[r.group])}"
             for r in needed]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    out = [f"To bring every group to at least {_pct(min_ratio)} of its share of patients, recruit "
           f"{_people(result.total_additional, 'more member', 'more members')} (a group of "
           f"{result.members_total_after}): {listed}."]
    if result.total_invitations:
        out.append(f"At the expected acceptance rates, that means sending about {result.total_invitations:,} "
                   "invitations.")
    return out


async def targets(access: PracticeAccess, spec: Spec, *, min_ratio: float, max_ratio: float | None,
                  acceptance_rate: float | None, acceptance: list[str] | None) -> schemas.RecruitmentTargets:
    if max_ratio is not None and max_ratio < min_ratio:
        raise InvalidInput("max_ratio is below min_ratio.", [ErrorDetail("must be at least min_ratio", field="max_ratio")])
    threshold = get_settings().suppression_threshold
    frame = await build_frame(access, spec)
    rates = parse_acceptance(frame, acceptance_rate, acceptance)
    keys = [g.key for g in frame.groups]
    try:
        result = recruitment_targets(keys, [g.population for g in frame.groups], [g.members for g in frame.groups],
                                     min_ratio=min_ratio, max_ratio=max_ratio, acceptance_rates=rates or None)
    except ValueError as exc:
        raise InvalidInput(f"No recruitment target can be set: {exc}", [ErrorDetail(str(exc), field="min_ratio")]) from None
    labels = {g.key: g.label for g in frame.groups}
    rows = [schemas.GroupTargetOut(
        group=r.group, label=labels[r.group], population=r.population, population_share=r.population_share,
        members=r.members, ratio=r.ratio, additional_needed=r.additional_needed, members_after=r.members_after,
        ratio_after=r.ratio_after, acceptance_rate=rates.get(r.group), invitations=r.invitations,
        over_represented=r.over_represented) for r in result.rows]
    return schemas.RecruitmentTargets(
        practice=access.ods_code, dimension=spec.dimension, bands=frame.bands_name,
        cuts=list(frame.bands.cut_points) if frame.bands_name == "custom" and frame.bands else None,
        level=spec.level if spec.dimension == "ethnicity" else None, profile=_profile_used(frame.profile),
        members_counted=members_counted(spec), min_ratio=result.min_ratio, max_ratio=result.max_ratio, groups=rows,
        members_total=sum(g.members for g in frame.groups), total_additional=result.total_additional,
        members_total_after=result.members_total_after, total_invitations=result.total_invitations,
        over_represented=list(result.over_represented), not_compared=_not_compared(frame, threshold),
        summary=_targets_summary(frame, result, min_ratio), notes=list(result.notes) + frame.notes,
    )
