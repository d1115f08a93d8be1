"""The vocabulary of a population profile: ethnic category, age bands, sex. Pure: no I/O, no database.

Everything a source may disagree about (labels, which census grouping, which age bands a template used)
is kept as data in this module so that a later decision changes a table, not a code path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

# ---------------------------------------------------------------------------------------------------------
# Ethnic category
# ---------------------------------------------------------------------------------------------------------

#: NHS Data Dictionary ETHNIC CATEGORY (the 2001-census based national codes), with the Data Dictionary's
#: own labels. ``Z`` means the patient was asked and declined; "not known / not recorded" is a different
#: thing (nobody asked, or the answer was not recorded): code ``"99"``, and a blank cell means the same.
ETHNIC_CATEGORIES: dict[str, str] = {
    "A": "White - British",
    "B": "White - Irish",
    "C": "White - Any other White background",
    "D": "Mixed - White and Black Caribbean",
    "E": "Mixed - White and Black African",
    "F": "Mixed - White and Asian",
    "G": "Mixed - Any other mixed background",
    "H": "Asian or Asian British - Indian",
    "J": "Asian or Asian British - Pakistani",
    "K": "Asian or Asian British - Bangladeshi",
    "L": "Asian or Asian British - Any other Asian background",
    "M": "Black or Black British - Caribbean",
    "N": "Black or Black British - African",
    "P": "Black or Black British - Any other Black background",
    "R": "Other Ethnic Groups - Chinese",
    "S": "Other Ethnic Groups - Any other ethnic group",
    "Z": "Not stated",
    "99": "Not known / not recorded",
}
NOT_STATED = "Z"
NOT_RECORDED = "99"
#: The codes that say something about a person's ethnicity (everything but Z and 99).
STATED_CODES: tuple[str, ...] = tuple(c for c in ETHNIC_CATEGORIES if c not in (NOT_STATED, NOT_RECORDED))

#: The five high-level groups, keyed by a stable identifier.
HIGH_LEVEL_GROUPS: dict[str, str] = {
    "white": "White",
    "mixed": "Mixed",
    "asian": "Asian or Asian British",
    "black": "Black or Black British",
    "other": "Other ethnic groups",
}

# Which high-level group a code belongs to. Sources differ about one code, R (Chinese):
# - the 2001 census and the NHS Data Dictionary ETHNIC CATEGORY list (whose letters these are) put
#   Chinese under "Other Ethnic Groups";
# - the 2011 and 2021 censuses put Chinese under "Asian / Asian British".
# We default to the 2001 / Data Dictionary grouping because the codes and their labels come from it (the
# label of R is literally "Other Ethnic Groups - Chinese", and practice reports print it that way), so a
# practice manager sees R counted where its own label says it belongs. The census-2011/2021 grouping is kept
# beside it as data so a caller comparing with census tables can pass it instead.
GROUPING_2001: dict[str, str] = {
    "A": "white", "B": "white", "C": "white",
    "D": "mixed", "E": "mixed", "F": "mixed", "G": "mixed",
    "H": "asian", "J": "asian", "K": "asian", "L": "asian",
    "M": "black", "N": "black", "P": "black",
    "R": "other", "S": "other",
}  # fmt: skip
GROUPING_2011: dict[str, str] = {**GROUPING_2001, "R": "asian"}
DEFAULT_GROUPING = GROUPING_2001


def high_level_group(code: str, grouping: Mapping[str, str] = DEFAULT_GROUPING) -> str | None:
    """The high-level group key ('white', 'mixed', 'asian', 'black', 'other') of a code; None for Z and 99."""
    if code in (NOT_STATED, NOT_RECORDED):
        return None
    if code not in grouping:
        raise ValueError(f"unknown ethnic category code {code!r}")
    return grouping[code]


def regroup_ethnicity(
    counts: Mapping[str, int], grouping: Mapping[str, str] = DEFAULT_GROUPING
) -> dict[str, int]:
    """Sum counts per code into the five high-level groups, plus 'not_stated' (Z) and 'not_recorded' (99).

    Every key is present (zero when empty), in a stable order, so two profiles line up.
    """
    out = {key: 0 for key in HIGH_LEVEL_GROUPS} | {"not_stated": 0, "not_recorded": 0}
    for code, n in counts.items():
        if code == NOT_STATED:
            out["not_stated"] += n
        elif code == NOT_RECORDED:
            out["not_recorded"] += n
        else:
            group = high_level_group(code, grouping)
            assert group is not None
            out[group] += n
    return out


# Parsing labels. Both the aliases and the input go through `_norm`, which lowercases, turns '&' into 'and',
# drops punctuation and a few filler words ("any", "background", "group(s)"), so "White - Any other White
# background", "white: other white" and "Any other White background" meet. Aliases are data: the Data
# Dictionary label, the part after its " - ", that part behind each way a source writes the group (2001,
# 2011 and 2021 census wording), and a few words practices type. Census 2021 added categories without an
# NHS code; we map them the way NHS England's guidance does (Gypsy or Irish Traveller and Roma to C, Arab to
# S). An alias that would point at two codes is dropped unless pinned in `_PINNED`.
_FILLER = frozenset({"any", "background", "group", "groups"})


def _norm(text: str) -> str:
    text = text.lower().replace("&", " and ")
    tokens = re.sub(r"[^a-z0-9]+", " ", text).split()
    return " ".join(t for t in tokens if t not in _FILLER)


_GROUP_PREFIXES: dict[str, tuple[str, ...]] = {
    "white": ("white",),
    "mixed": ("mixed", "mixed or multiple", "mixed or multiple ethnic groups", "mixed multiple ethnic groups"),
    "asian": ("asian or asian british", "asian", "asian british", "asian asian british"),
    "black": (
        "black or black british",
        "black",
        "black british",
        "black black british caribbean or african",
        "black african caribbean or black british",
    ),
    "other": ("other ethnic groups", "other ethnic group", "other"),
}
_SPECIFIC: dict[str, tuple[str, ...]] = {
    "A": ("british", "english welsh scottish northern irish or british", "english", "welsh", "scottish",
          "northern irish"),
    "B": ("irish",),
    "C": ("any other white background", "other white", "white other", "gypsy or irish traveller",
          "gypsy", "irish traveller", "roma"),
    "D": ("white and black caribbean",),
    "E": ("white and black african",),
    "F": ("white and asian",),
    "G": ("any other mixed background", "other mixed", "mixed other",
          "any other mixed or multiple ethnic background"),
    "H": ("indian", "indian or british indian"),
    "J": ("pakistani", "pakistani or british pakistani"),
    "K": ("bangladeshi", "bangladeshi or british bangladeshi"),
    "L": ("any other asian background", "other asian", "asian other"),
    "M": ("caribbean",),
    "N": ("african", "african background"),
    "P": ("any other black background", "other black", "black other",
          "any other black black british or caribbean background", "other black african or caribbean"),
    "R": ("chinese",),
    "S": ("any other ethnic group", "other ethnic group", "other ethnic", "arab"),
}  # fmt: skip
_PINNED: dict[str, str] = {
    "other": "S",
    "not stated": NOT_STATED,
    "declined": NOT_STATED,
    "declined to state": NOT_STATED,
    "patient declined": NOT_STATED,
    "refused": NOT_STATED,
    "prefer not to say": NOT_STATED,
    "not known": NOT_RECORDED,
    "unknown": NOT_RECORDED,
    "not recorded": NOT_RECORDED,
    "not known not recorded": NOT_RECORDED,
    "none recorded": NOT_RECORDED,
    "no ethnicity recorded": NOT_RECORDED,
    "blank": NOT_RECORDED,
    "99": NOT_RECORDED,
}


def _build_aliases() -> dict[str, str]:
    seen: dict[str, set[str]] = {}

    def add(alias: str, code: str) -> None:
        seen.setdefault(_norm(alias), set()).add(code)

    for code in STATED_CODES:
        label = ETHNIC_CATEGORIES[code]
        add(label, code)
        prefix, _, specific = label.partition(" - ")
        group = GROUPING_2001[code]
        prefixes = _GROUP_PREFIXES[group] + (("asian or asian british", "asian") if code == "R" else ())
        for rest in (specific, *_SPECIFIC[code]):
            add(rest, code)
            for p in (prefix, *prefixes):
                add(f"{p} {rest}", code)
    aliases = {alias: next(iter(codes)) for alias, codes in seen.items() if len(codes) == 1}
    aliases.update({_norm(k): v for k, v in _PINNED.items()})
    aliases.pop("", None)
    return aliases


_ALIASES = _build_aliases()
_CODE_THEN_LABEL = re.compile(r"^\(?([A-Za-z]|99)\)?\s*[-:.)]\s*(.+)$")
_LABEL_THEN_CODE = re.compile(r"^(.+?)\s*[\(\[]([A-Za-z]|99)[\)\]]$")
_LEADING_WORDS = ("ethnic category", "ethnic origin", "ethnicity", "ethnic")


def _code_from_text(text: str) -> str | None:
    upper = text.upper()
    if upper in ETHNIC_CATEGORIES:
        return upper
    key = _norm(text)
    if key in _ALIASES:
        return _ALIASES[key]
    for word in _LEADING_WORDS:  # "Ethnic category not stated", "Ethnicity: Indian"
        if key.startswith(word + " ") and key[len(word) + 1 :] in _ALIASES:
            return _ALIASES[key[len(word) + 1 :]]
    return None


def parse_ethnic_category(value: object) -> str:
    """The ETHNIC CATEGORY code ('A'..'S', 'Z' or '99') for a code or a label, tolerantly.

    Accepts a code letter in any case; a Data Dictionary label or a common variant of it ("White British",
    "British", "Any other White background", "Mixed: White & Asian", census 2021 wording); a code with its
    label ("A - White British", "White - British (A)"); "Not stated" (Z); and "99", "not known",
    "not recorded", None or a blank for not known / not recorded (99). Raises ValueError otherwise.
    """
    if value is None:
        return NOT_RECORDED
    if isinstance(value, bool):
        raise ValueError(f"not an ethnic category: {value!r}")
    if isinstance(value, float):
        if math.isnan(value):
            return NOT_RECORDED
        if value.is_integer():
            value = int(value)
    text = str(value).strip()
    if not text:
        return NOT_RECORDED
    code = _code_from_text(text)
    if code is not None:
        return code
    for pattern, code_group, label_group in ((_CODE_THEN_LABEL, 1, 2), (_LABEL_THEN_CODE, 2, 1)):
        m = pattern.match(text)
        if m and m.group(code_group).upper() in ETHNIC_CATEGORIES:
            code = m.group(code_group).upper()
            from_label = _code_from_text(m.group(label_group))
            if from_label == code:
                return code
            if from_label is not None:
                raise ValueError(
                    f"ethnic category {text!r} gives code {code} but its label means {from_label} "
                    f"({ETHNIC_CATEGORIES[from_label]}); correct one of them"
                )
    raise ValueError(
        f"unrecognised ethnic category {text!r}: give an NHS code (A-H, J-N, P, R, S; Z for not stated; "
        f"99 or blank for not known) or a label such as 'White - British' or 'Asian or Asian British - Indian'"
    )


# ---------------------------------------------------------------------------------------------------------
# Sex
# ---------------------------------------------------------------------------------------------------------

FEMALE = "female"
MALE = "male"
SEXES: tuple[str, ...] = (FEMALE, MALE)
SEX_LABELS: dict[str, str] = {FEMALE: "Female", MALE: "Male"}
#: NHS Digital's SEX column; "ALL" rows are totals over both sexes.
NHS_SEX_VALUES: dict[str, str] = {"FEMALE": FEMALE, "MALE": MALE, "ALL": "all"}


def parse_sex(value: object) -> str:
    """'female' or 'male' from F/FEMALE/Female/M/MALE/Male (any case); ValueError otherwise."""
    text = str(value).strip().lower() if value is not None else ""
    if text in ("f", "female"):
        return FEMALE
    if text in ("m", "male"):
        return MALE
    raise ValueError(f"unrecognised sex {value!r}: use Female or Male")


# ---------------------------------------------------------------------------------------------------------
# Age
# ---------------------------------------------------------------------------------------------------------

#: NHS Digital's single-year files stop at 94 and top-code everyone older as "95+".
TOP_CODED_AGE = 95
TOP_CODED_KEY = "95+"


@dataclass(frozen=True)
class AgeBand:
    """Ages `lower`..`upper` inclusive; `upper` None means "and over".

    `published_label` is the label the source template printed when ours differs from it (see DES_TEMPLATE).
    """

    label: str
    lower: int
    upper: int | None
    published_label: str | None = None

    def contains(self, age: int) -> bool:
        return age >= self.lower and (self.upper is None or age <= self.upper)


@dataclass(frozen=True)
class AgeBands:
    """An ordered, gap-free set of age bands starting at 0 and ending with an open band."""

    name: str
    bands: tuple[AgeBand, ...]

    FIVE_YEAR: ClassVar[AgeBands]
    DES_TEMPLATE: ClassVar[AgeBands]
    TEMPLATE_2014: ClassVar[AgeBands]

    def __post_init__(self) -> None:
        if not self.bands:
            raise ValueError("an age band set needs at least one band")
        if self.bands[0].lower != 0:
            raise ValueError("the first age band must start at 0")
        for before, after in zip(self.bands, self.bands[1:]):
            if before.upper is None or after.lower != before.upper + 1:
                raise ValueError(f"age bands {before.label!r} and {after.label!r} are not contiguous")
        if self.bands[-1].upper is not None:
            raise ValueError("the last age band must be open-ended")
        labels = [b.label for b in self.bands]
        if len(set(labels)) != len(labels):
            raise ValueError("age band labels must be unique")

    def __iter__(self) -> Iterator[AgeBand]:
        return iter(self.bands)

    def __len__(self) -> int:
        return len(self.bands)

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.bands]

    @property
    def cut_points(self) -> list[int]:
        """The lower bound of every band but the first: custom_bands(b.cut_points) rebuilds the bounds."""
        return [b.lower for b in self.bands[1:]]


def _bands_from_cuts(name: str, cut_points: list[int], labels: list[str] | None = None,
                     published: list[str] | None = None) -> AgeBands:  # fmt: skip
    lowers = [0, *cut_points]
    bands = []
    for i, lower in enumerate(lowers):
        upper = lowers[i + 1] - 1 if i + 1 < len(lowers) else None
        label = labels[i] if labels else (f"{lower}+" if upper is None else f"{lower}-{upper}")
        pub = published[i] if published and published[i] != label else None
        bands.append(AgeBand(label, lower, upper, pub))
    return AgeBands(name, tuple(bands))


#: NHS Digital's AGE_GROUP_5 bands: 0-4 ... 90-94, 95+ (the file writes them 0_4 ... 90_94, 95+).
FIVE_YEAR = _bands_from_cuts("five_year", list(range(5, 96, 5)))

# The representativeness templates of the DES years (2011/12 to 2013/14) and the 2014/15 reporting template
# printed "Under 16 / <16", "17-24", "25-34" ... "65-74", "75+": 16-year-olds fall in no band. We close the
# gap by putting age 16 with 17-24 and label that band "16-24", so the label tells the truth and the bands
# add up to the whole list. The published text is kept as `published_label` ("17-24") for a report that
# wants to echo the template, with a footnote. Both templates share the same cut points; they differ only
# in how the first band was written.
_TEMPLATE_CUTS = [16, 25, 35, 45, 55, 65, 75]
DES_TEMPLATE = _bands_from_cuts(
    "des_template",
    _TEMPLATE_CUTS,
    labels=["Under 16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"],
    published=["Under 16", "17-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"],
)
TEMPLATE_2014 = _bands_from_cuts(
    "template_2014",
    _TEMPLATE_CUTS,
    labels=["<16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"],
    published=["<16", "17-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"],
)
AgeBands.FIVE_YEAR = FIVE_YEAR
AgeBands.DES_TEMPLATE = DES_TEMPLATE
AgeBands.TEMPLATE_2014 = TEMPLATE_2014

MAX_CUT_POINT = 120


def custom_bands(cut_points: list[int]) -> AgeBands:
    """Bands split at the given ages: [16, 35, 65] gives 0-15, 16-34, 35-64, 65+.

    Cut points must be whole numbers, strictly increasing, from 1 to 120 (a cut at 0 would make an empty
    band; "non-negative" in practice means positive here).
    """
    if not cut_points:
        raise ValueError("give at least one cut point, e.g. [16, 35, 65]")
    for cut in cut_points:
        if isinstance(cut, bool) or not isinstance(cut, int):
            raise ValueError(f"cut point {cut!r} is not a whole number of years")
        if cut < 1 or cut > MAX_CUT_POINT:
            raise ValueError(f"cut point {cut} is out of range: use ages from 1 to {MAX_CUT_POINT}")
    for before, after in zip(cut_points, cut_points[1:]):
        if after <= before:
            raise ValueError(f"cut points must increase: {after} follows {before}")
    return _bands_from_cuts("custom", list(cut_points))


def band_for_age(bands: AgeBands, age: int) -> str:
    """The label of the band holding `age` (whole years, >= 0)."""
    if isinstance(age, bool) or not isinstance(age, int):
        raise ValueError(f"age {age!r} is not a whole number of years")
    if age < 0:
        raise ValueError(f"age {age} is negative")
    for band in bands:
        if band.contains(age):
            return band.label
    raise AssertionError("unreachable: the last band is open")  # pragma: no cover


#: The birthday assumed for someone of whom only the birth year is known.
ASSUMED_BIRTHDAY = (7, 1)


def age_at(birth_year: int, on: date) -> int:
    """Age on `on` of someone born in `birth_year`, assuming a birthday of 1 July.

    A PRG member gives only a birth year. Assuming mid-year birthdays gives the age most of that birth
    cohort has on the date (ONS mid-year estimates reason the same way), so the error is at most one year
    either way and unbiased over a group; "the age reached this year" would make everyone up to a year
    older until December. The NHS Digital snapshot date (EXTRACT_DATE, the 1st of a month) is the natural
    `on` when comparing members with the registered list. Someone born in `on`'s year before 1 July is 0.
    """
    if isinstance(birth_year, bool) or not isinstance(birth_year, int):
        raise ValueError(f"birth year {birth_year!r} is not a whole number")
    if birth_year > on.year:
        raise ValueError(f"birth year {birth_year} is after {on.isoformat()}")
    had_birthday = (on.month, on.day) >= ASSUMED_BIRTHDAY
    return max(0, on.year - birth_year - (0 if had_birthday else 1))


def _age_key(key: object) -> int:
    """An int age from 37, '37' or the top-coded '95+' (which counts as 95)."""
    if isinstance(key, bool):
        raise ValueError(f"not an age: {key!r}")
    if isinstance(key, int):
        age = key
    elif isinstance(key, str) and key.strip() == TOP_CODED_KEY:
        return TOP_CODED_AGE
    elif isinstance(key, str) and key.strip().isdigit():
        age = int(key.strip())
    else:
        raise ValueError(f"not an age: {key!r} (use whole years or '95+')")
    if age < 0:
        raise ValueError(f"age {age} is negative")
    return age


def _check_count(key: object, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"count for {key!r} must be a whole number >= 0, got {n!r}")
    return n


def regroup_single_year(counts_by_age: Mapping[int | str, int], bands: AgeBands) -> dict[str, int]:
    """Counts per band (every band present, in order) from counts per single year of age.

    Keys are ages (int or digit strings) and '95+', NHS Digital's top-coded group: '95+' can only go into
    a band that holds everyone aged 95 and over, so bands that cut above 95 are refused.
    """
    out = {label: 0 for label in bands.labels}
    for key, n in counts_by_age.items():
        n = _check_count(key, n)
        age = _age_key(key)
        if isinstance(key, str) and key.strip() == TOP_CODED_KEY:
            band = next(b for b in bands if b.contains(TOP_CODED_AGE))
            if band.upper is not None:
                raise ValueError(
                    f"ages '95+' cannot be split by band {band.label!r}: use bands whose last cut point is 95 or lower"
                )
        out[band_for_age(bands, age)] += n
    return out


_FIVE_YEAR_LABEL = re.compile(r"^\s*(\d+)\s*[-_]\s*(\d+)\s*$|^\s*(\d+)\s*\+\s*$")


def parse_five_year_label(label: str) -> tuple[int, int | None]:
    """(lower, upper) of a 5-year label: '0_4' or '0-4' -> (0, 4); '95+' -> (95, None)."""
    m = _FIVE_YEAR_LABEL.match(str(label))
    if not m:
        raise ValueError(f"not a 5-year age group: {label!r} (expected e.g. '0_4', '0-4' or '95+')")
    if m.group(3) is not None:
        return int(m.group(3)), None
    lower, upper = int(m.group(1)), int(m.group(2))
    if lower % 5 or upper != lower + 4:
        raise ValueError(f"not a 5-year age group: {label!r}")
    return lower, upper


def regroup_five_year(counts_by_5yr_label: Mapping[str, int], bands: AgeBands) -> dict[str, int]:
    """Counts per band from NHS Digital 5-year counts ('0_4'/'0-4' ... '95+').

    Only possible when every band boundary falls on a 5-year boundary (at most 95); otherwise a ValueError
    tells the user to import the single-year-of-age files. The DES and 2014 templates, which cut at 16,
    always need single-year data.
    """
    for band in bands.bands[1:]:
        if band.lower % 5 or band.lower > TOP_CODED_AGE:
            raise ValueError(
                f"age band {band.label!r} starts at {band.lower}, which is not a 5-year boundary of the "
                f"NHS Digital 5-year file: import the single-year-of-age files "
                f"(gp-reg-pat-prac-sing-age-male.csv and -female.csv) to build these bands"
            )
    out = {label: 0 for label in bands.labels}
    for label, n in counts_by_5yr_label.items():
        n = _check_count(label, n)
        lower, upper = parse_five_year_label(label)
        band = next(b for b in bands if b.contains(lower))
        # `band` starts on a 5-year boundary and so does the next one: the source group fits inside.
        assert upper is None or band.contains(upper)
        if upper is None and band.upper is not None:  # pragma: no cover - excluded by the check above
            raise ValueError(f"'{label}' cannot be split by band {band.label!r}")
        out[band.label] += n
    return out
