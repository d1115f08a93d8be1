"""Who gets a letter: target groups, exclusions and the optional random sample. Pure (no database).

A target group is named by a key:
- `age_x_sex:female:16-24`, `age:75+`, `sex:male`: age on the mailing date (from the full date of birth) in
  the band, and sex; band labels are ranges (`16-24`, `75+`, `Under 16`/`<16`), so any bands work;
- `ethnicity:K`: the NHS ETHNIC CATEGORY code; `ethnic_group:asian`: the high-level group;
- `flag:carer`: a yes/no column of the patient list (a member's characteristic of the same key for responses).

A patient is chosen when they fall in at least one target group and are not excluded. Exclusions, tested in
this order, each counted under the first that applies:
1. `do_not_contact`: flagged not to be contacted in the list;
2. `under_min_age`: younger than the minimum age (16 unless configured) on the mailing date;
3. `no_address` (letters: no address line or no postcode), `no_email`, `no_mobile` (e-mail and text);
4. `member`: already on the PRG register, in any status. Members' NHS numbers are not stored, so a patient is
   the member when first name, surname and postcode match (case, spaces and accents kept as typed, compared
   case-insensitively, postcode without spaces) and, if the member's birth year is recorded, it equals the
   patient's. Without a birth year the name and postcode decide.
With `sample_per_group` = N, each group takes at most N of its eligible patients at random (seeded: the same
list, groups and seed give the same letters); the chosen are the union. A patient in two target groups
counts in both groups' figures but gets one letter.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from prg.population.dimensions import ETHNIC_CATEGORIES, HIGH_LEVEL_GROUPS, age_at, high_level_group
from prg.recruitment.patient_list import Patient

_BAND = re.compile(r"^\s*(?:(?:under\s*|<\s*)(\d{1,3})|(\d{1,3})\s*-\s*(\d{1,3})|(\d{1,3})\s*\+)\s*$", re.IGNORECASE)
YES = frozenset({"yes", "y", "true", "1", "x", "t"})
EXCLUSION_ORDER = ("do_not_contact", "under_min_age", "no_address", "no_email", "no_mobile", "member")


def band_range(label: str) -> tuple[int, int | None]:
    """(lowest age, highest age or None) of a band label: "16-24" -> (16, 24), "75+" -> (75, None)."""
    m = _BAND.match(label)
    if not m:
        raise ValueError(f"'{label}' is not an age band (write 16-24, 75+ or Under 16)")
    if m.group(1):
        return 0, int(m.group(1)) - 1
    if m.group(4):
        return int(m.group(4)), None
    low, high = int(m.group(2)), int(m.group(3))
    if high < low:
        raise ValueError(f"'{label}' ends before it starts")
    return low, high


def _in_band(age: int, band: tuple[int, int | None]) -> bool:
    return age >= band[0] and (band[1] is None or age <= band[1])


@dataclass(frozen=True)
class TargetGroup:
    key: str
    label: str
    kind: str  # age_x_sex | age | sex | ethnicity | ethnic_group | flag
    sex: str | None = None
    band: tuple[int, int | None] | None = None
    value: str | None = None

    def has_patient(self, patient: Patient, on: date) -> bool:
        if self.sex is not None and patient.sex != self.sex:
            return False
        if self.band is not None and not _in_band(patient.age_on(on), self.band):
            return False
        if self.kind == "ethnicity":
            return patient.ethnic_category == self.value
        if self.kind == "ethnic_group":
            return patient.ethnic_category in ETHNIC_CATEGORIES and high_level_group(patient.ethnic_category) == self.value
        if self.kind == "flag":
            return self.value in patient.flags
        return True

    def has_member(self, member: dict[str, Any], on: date) -> bool:
        """The same test for a PRG member (birth year -> age assuming a 1 July birthday, as elsewhere)."""
        if self.sex is not None and member.get("sex") != self.sex:
            return False
        if self.band is not None:
            if member.get("birth_year") is None:
                return False
            try:
                age = age_at(int(member["birth_year"]), on)
            except ValueError:
                return False
            if not _in_band(age, self.band):
                return False
        code = member.get("ethnic_category") or ""
        if self.kind == "ethnicity":
            return code == self.value
        if self.kind == "ethnic_group":
            return code in ETHNIC_CATEGORIES and high_level_group(code) == self.value
        if self.kind == "flag":
            return str((member.get("characteristics") or {}).get(self.value, "")).strip().casefold() in YES
        return True


def parse_group(key: str, label: str | None = None) -> TargetGroup:
    """A TargetGroup from its key (see the module docstring); ValueError saying what is wrong."""
    kind, _, rest = key.partition(":")
    if kind == "age_x_sex":
        sex, _, band = rest.partition(":")
        if sex not in ("female", "male"):
            raise ValueError(f"'{key}': the sex must be female or male")
        name = "Women" if sex == "female" else "Men"
        return TargetGroup(key, label or f"{name} aged {band}", kind, sex=sex, band=band_range(band))
    if kind == "age":
        return TargetGroup(key, label or f"People aged {rest}", kind, band=band_range(rest))
    if kind == "sex":
        if rest not in ("female", "male"):
            raise ValueError(f"'{key}': the sex must be female or male")
        return TargetGroup(key, label or rest.capitalize(), kind, sex=rest)
    if kind == "ethnicity":
        if rest not in ETHNIC_CATEGORIES or rest in ("Z", "99"):
            raise ValueError(f"'{key}': give an NHS ethnic category code A-S")
        return TargetGroup(key, label or ETHNIC_CATEGORIES[rest], kind, value=rest)
    if kind == "ethnic_group":
        if rest not in HIGH_LEVEL_GROUPS:
            raise ValueError(f"'{key}': use one of {', '.join(HIGH_LEVEL_GROUPS)}")
        return TargetGroup(key, label or HIGH_LEVEL_GROUPS[rest], kind, value=rest)
    if kind == "flag":
        if not re.fullmatch(r"[a-z0-9_]{1,50}", rest):
            raise ValueError(f"'{key}': a flag is the list column's name in lower case, e.g. flag:carer")
        return TargetGroup(key, label or f"Flagged '{rest}' in the patient list", kind, value=rest)
    raise ValueError(f"'{key}' is not a target group: use age_x_sex:, age:, sex:, ethnicity:, ethnic_group: or flag:")


def member_key(first_name: str, last_name: str, postcode: str) -> tuple[str, str, str]:
    return (first_name.strip().casefold(), last_name.strip().casefold(), postcode.replace(" ", "").upper())


def member_index(members: list[dict[str, Any]]) -> dict[tuple[str, str, str], set[int | None]]:
    """Name-and-postcode key -> the birth years recorded for members with it (None: not recorded)."""
    index: dict[tuple[str, str, str], set[int | None]] = {}
    for m in members:
        index.setdefault(member_key(m["first_name"], m["last_name"], m["postcode"] or ""), set()).add(m["birth_year"])
    return index


def is_member(patient: Patient, index: dict[tuple[str, str, str], set[int | None]]) -> bool:
    years = index.get(member_key(patient.first_name, patient.last_name, patient.postcode))
    return bool(years) and (None in years or patient.date_of_birth.year in years)


@dataclass
class Selection:
    chosen: list[Patient]  # in list order
    groups_of: dict[int, list[str]]  # patient row -> keys of the target groups they are in
    eligible: Counter  # group key -> eligible patients
    sent: Counter  # group key -> chosen patients
    excluded: Counter  # reason -> patients excluded (only those in a target group)
    seed: str = ""
    notes: list[str] = field(default_factory=list)


def choose(patients: list[Patient], groups: list[TargetGroup], *, on: date, channel: str, min_age: int,
           members: list[dict[str, Any]], sample_per_group: int | None = None, seed: str = "") -> Selection:
    index = member_index(members)
    excluded: Counter = Counter()
    eligible_by_group: dict[str, list[Patient]] = {g.key: [] for g in groups}
    groups_of: dict[int, list[str]] = {}
    for patient in patients:
        keys = [g.key for g in groups if g.has_patient(patient, on)]
        if not keys:
            continue
        reason = None
        if patient.do_not_contact:
            reason = "do_not_contact"
        elif patient.age_on(on) < min_age:
            reason = "under_min_age"
        elif channel == "letter" and not (patient.address_lines and patient.postcode):
            reason = "no_address"
        elif channel == "email" and not patient.email:
            reason = "no_email"
        elif channel == "sms" and not patient.mobile:
            reason = "no_mobile"
        elif is_member(patient, index):
            reason = "member"
        if reason:
            excluded[reason] += 1
            continue
        groups_of[patient.row] = keys
        for key in keys:
            eligible_by_group[key].append(patient)
    if sample_per_group is None:
        chosen_rows = set(groups_of)
    else:
        chosen_rows = set()
        for group in groups:
            candidates = eligible_by_group[group.key]
            rng = random.Random(f"{seed}:{group.key}")  # one stream per group: adding a group changes no other
            chosen_rows.update(p.row for p in rng.sample(candidates, min(sample_per_group, len(candidates))))
    chosen = [p for p in patients if p.row in chosen_rows]
    sent: Counter = Counter()
    for patient in chosen:
        for key in groups_of[patient.row]:
            sent[key] += 1
    return Selection(chosen=chosen, groups_of={p.row: groups_of[p.row] for p in chosen},
                     eligible=Counter({k: len(v) for k, v in eligible_by_group.items()}), sent=sent,
                     excluded=excluded, seed=seed)
