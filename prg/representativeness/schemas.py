"""API types for the representativeness check and recruitment targets."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

PValueMethod = Literal["exact", "monte_carlo"]


class ProfileUsed(msgspec.Struct):
    """The population profile the members were compared with."""

    id: int
    dimension: str
    label: str
    age_detail: str | None
    extract_date: date
    source_filename: str
    publication: str
    total: int


class GroupResult(msgspec.Struct):
    """One group. Shares are fractions (0..1); `difference_pp` is in percentage points; `ratio` is member
    share / population share (None when no patients are in the group); `ci_low`/`ci_high` is the Wilson
    interval for the member share; `suppressed` marks a member count from 1 to the suppression threshold
    minus one, which published output must not show."""

    group: str
    label: str
    population: int
    members: int
    expected: float
    population_share: float
    member_share: float
    difference_pp: float
    ratio: float | None
    ci_low: float
    ci_high: float
    suppressed: bool


class NotCompared(msgspec.Struct):
    """Patients or members outside the compared groups (no value recorded, not stated, a value that fits no
    group), reported so nobody is silently dropped. `population` is None where the profile does not count
    them (NHS Digital has no 'other' sex)."""

    group: str
    label: str
    population: int | None
    members: int
    suppressed: bool


class Representativeness(msgspec.Struct):
    practice: str
    dimension: str
    bands: str | None
    cuts: list[int] | None
    level: str | None
    profile: ProfileUsed
    members_counted: str  # which members: "active", or "in the group on YYYY-MM-DD" with as_at
    groups: list[GroupResult]
    population_total: int
    members_total: int
    chi_square: float | None
    df: int | None
    p_value: float | None
    p_value_method: PValueMethod | None
    p_value_draws: int | None  # Monte Carlo draws; None for the exact test
    dissimilarity_index: float | None
    misplaced_members: float | None  # dissimilarity_index x members_total
    cohens_w: float | None
    confidence: float
    suppression_threshold: int
    secondary_suppression: list[str]  # groups to withhold as well, so a suppressed count cannot be worked out
    excluded_from_test: list[str]
    not_compared: list[NotCompared]
    members_under_16: int  # members under 16 on the profile's extract date (counted in their groups)
    findings: list[str]
    notes: list[str]


class GroupTargetOut(msgspec.Struct):
    group: str
    label: str
    population: int
    population_share: float
    members: int
    ratio: float | None
    additional_needed: int
    members_after: int
    ratio_after: float | None
    acceptance_rate: float | None
    invitations: int | None
    over_represented: bool


class RecruitmentTargets(msgspec.Struct):
    practice: str
    dimension: str
    bands: str | None
    cuts: list[int] | None
    level: str | None
    profile: ProfileUsed
    members_counted: str
    min_ratio: float
    max_ratio: float | None
    groups: list[GroupTargetOut]
    members_total: int
    total_additional: int
    members_total_after: int
    total_invitations: int | None
    over_represented: list[str]
    not_compared: list[NotCompared]
    summary: list[str]
    notes: list[str]
