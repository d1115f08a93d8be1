"""API types for population profiles. The bounds here are the real rules (OpenAPI shows them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

# One line of text: no control characters, no leading character a spreadsheet would run as a formula.
_LINE = r"^(?![=+\-@])[^\x00-\x1f\x7f]*$"


def Line(max_length: int, min_length: int = 0):  # noqa: N802 - reads like a type
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=max_length, pattern=_LINE)]


Kind = Literal["age_sex", "ethnicity", "custom"]
AgeDetail = Literal["single_year", "five_year"]
#: The member characteristic a custom dimension is matched against (as the register import names them).
CustomKey = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")]
#: 'age_sex', 'ethnicity' or 'custom:<key>'.
DimensionName = Annotated[str, msgspec.Meta(max_length=60, pattern=r"^(age_sex|ethnicity|custom:[a-z][a-z0-9_]{0,49})$")]
Patients = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
#: A single year of age (0-94), NHS Digital's top-coded '95+', or a 5-year group ('0-4', '0_4' ... '95+').
AgeText = Annotated[str, msgspec.Meta(max_length=6, pattern=r"^(\d{1,2}|95\+|\d{1,2}[-_]\d{1,2})$")]
AgeYears = Annotated[int, msgspec.Meta(ge=0, le=94)]
ProfileId = Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]


class CountIn(msgspec.Struct, forbid_unknown_fields=True):
    """One group's registered patients. Age rows give `sex` and `age`; ethnicity rows give `group` as an
    NHS ETHNIC CATEGORY code or label (`Z` not stated, `99` or "Not recorded" for not known); custom rows
    give `group` as the group's name."""

    patients: Patients
    sex: Literal["female", "male"] | None = None
    age: AgeYears | AgeText | None = None
    group: Line(100, 1) | None = None


class ProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    """A population profile given as counts (the JSON alternative to importing a file)."""

    dimension: Kind
    extract_date: date
    counts: Annotated[list[CountIn], msgspec.Meta(min_length=1, max_length=1000)]
    key: CustomKey | None = None  # custom only: the member characteristic to match (e.g. `carer`)
    label: Line(100) = ""  # custom only: the dimension's name as the practice writes it
    age_detail: AgeDetail | None = None  # age_sex only: single years (0..94, 95+) or 5-year groups
    source_filename: Line(300) = ""
    publication: Line(100) = ""


class CountOut(msgspec.Struct):
    patients: int
    sex: str | None = None
    age: str | None = None  # '37', '95+' or '0-4'
    group: str | None = None
    label: str | None = None  # the ethnic category's Data Dictionary label


class ProfileSummary(msgspec.Struct):
    id: int
    dimension: str
    label: str
    age_detail: AgeDetail | None
    extract_date: date
    source_filename: str
    publication: str
    total: int
    created_at: datetime
    created_by: str | None  # the e-mail of whoever imported it, while their account exists


class ProfileOut(ProfileSummary):
    """A profile with its counts."""

    counts: list[CountOut]


class ProfileList(msgspec.Struct):
    items: list[ProfileSummary]
