"""HTTP for the representativeness check and recruitment targets, under /api/practices/{ods_code}/."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import QueryParameter

from prg.representativeness import schemas, services
from prg.web import CurrentPractice

Dimension = Annotated[str, QueryParameter(
    max_length=60, pattern=services.DIMENSION_PATTERN,
    description="sex, age, age_x_sex, ethnicity, or custom:<key> (a custom dimension's member characteristic)",
)]
Bands = Annotated[Literal["five_year", "des", "template_2014", "custom"] | None, QueryParameter(
    description="Age bands for age and age_x_sex: five_year (0-4 ... 95+), des (Under 16, 16-24 ... 75+), "
    "template_2014 (<16, 16-24 ... 75+) or custom (with cuts). Default: des from single-year data, else five_year.",
)]
Cuts = Annotated[str | None, QueryParameter(
    max_length=120, pattern=r"^\d{1,3}(,\d{1,3}){0,29}$",
    description="Cut points for bands=custom: 16,35,65 gives 0-15, 16-34, 35-64, 65+",
)]
Level = Annotated[Literal["category", "high_level"] | None, QueryParameter(
    description="For ethnicity: the 16 ETHNIC CATEGORY codes (category, the default) or the 5 high-level groups",
)]
ProfileChoice = Annotated[int | None, QueryParameter(
    ge=1, le=2_147_483_647, description="The population profile to compare with; the latest of the dimension if left out",
)]

AsAt = Annotated[date | None, QueryParameter(
    description="Compare the group as it was on this day (members who had joined and not yet left) with the "
    "population extract nearest it, e.g. a scheme year's last day for its report; today's group if left out",
)]


class RepresentativenessController(Controller):
    path = "/representativeness"
    tags = ["representativeness"]

    @get("/")
    async def check(self, practice: CurrentPractice, dimension: Dimension, bands: Bands = None, cuts: Cuts = None,
                    level: Level = None, profile: ProfileChoice = None,
                    as_at: AsAt = None) -> schemas.Representativeness:
        """Compare the PRG's active members (or, with `as_at`, the group on a past day) with the registered
        population along one dimension: per group the population and member counts, expected members, shares,
        difference in percentage points, ratio and a Wilson 95% interval, `suppressed` below the disclosure
        threshold (`PRG_SUPPRESSION_THRESHOLD`); overall chi-square, an exact or Monte Carlo p-value, the index
        of dissimilarity and Cohen's w; members and patients outside the groups in `not_compared`; and `findings`
        in plain English."""
        spec = services.parse_spec(dimension, bands=bands, cuts=cuts, level=level, profile=profile, as_at=as_at)
        return await services.check(practice, spec)


class RecruitmentTargetsController(Controller):
    path = "/recruitment/targets"
    tags = ["representativeness"]

    @get("/")
    async def targets(
        self, practice: CurrentPractice, dimension: Dimension, bands: Bands = None, cuts: Cuts = None,
        level: Level = None, profile: ProfileChoice = None,
        min_ratio: Annotated[float, QueryParameter(
            ge=0, le=1, description="Every group's ratio (member share / population share) must reach this")] = 0.8,
        max_ratio: Annotated[float | None, QueryParameter(
            gt=0, le=1000, description="Flag groups above this ratio after recruiting (nobody is removed)")] = None,
        acceptance_rate: Annotated[float | None, QueryParameter(
            gt=0, le=1, description="Expected share of invited patients who join, for every group")] = None,
        acceptance: Annotated[list[str] | None, QueryParameter(
            max_items=100, description="Per-group acceptance rates as group=rate (repeat the parameter), "
            "overriding acceptance_rate, e.g. acceptance=male:16-24=0.05")] = None,
    ) -> schemas.RecruitmentTargets:
        """The fewest additional members, by group, so that every group's ratio reaches `min_ratio`, and the
        group size that results; with acceptance rates, the invitations to send."""
        spec = services.parse_spec(dimension, bands=bands, cuts=cuts, level=level, profile=profile)
        return await services.targets(practice, spec, min_ratio=min_ratio, max_ratio=max_ratio,
                                      acceptance_rate=acceptance_rate, acceptance=acceptance)
