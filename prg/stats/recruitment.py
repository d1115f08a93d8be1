"""Recruitment targets: the fewest additional members, by group, that bring every group of a PRG up to a
minimum representation ratio, by a small exact integer search whose minimality is argued in the docstring
of `recruitment_targets`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from prg.stats.inputs import as_counts, check_groups

__all__ = ["GroupTarget", "RecruitmentTargets", "recruitment_targets"]

#: Recruitment targets above this many members are refused rather than searched for (a min_ratio so
#: close to 1 that the answer is meaningless and the search long).
MAX_TARGET_TOTAL = 1_000_000


def _as_fraction(name: str, value: object) -> Fraction:
    """Read a ratio as the decimal it was written as: 0.8 means 4/5, not the binary double near 0.8.

    Without this, 0.8 * 0.8 * 25 evaluates to 16.000000000000004 and a ceiling asks for a 17th member.
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number")
    if isinstance(value, (Integral, Fraction, Decimal)):
        frac = Fraction(value)  # type: ignore[arg-type]
    elif isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite")
        frac = Fraction(repr(float(value)))  # shortest round-trip decimal, i.e. what was written
    else:
        raise ValueError(f"{name} must be a number")
    return frac


@dataclass(frozen=True)
class GroupTarget:
    """One group's recruitment target. Ratios are (member share) / (population share)."""

    group: str
    population: int
    population_share: float
    members: int
    ratio: float | None  # now; None with no members or a zero population share
    additional_needed: int
    members_after: int
    ratio_after: float | None  # None for a zero population share
    invitations: int | None  # ceil(additional_needed / acceptance rate), if a rate was given
    over_represented: bool  # ratio_after > max_ratio (only when max_ratio is given)


@dataclass(frozen=True)
class RecruitmentTargets:
    """Fewest additional members per group to reach `min_ratio` everywhere; see `recruitment_targets`."""

    rows: tuple[GroupTarget, ...]
    min_ratio: float
    max_ratio: float | None
    total_additional: int
    members_total_after: int
    total_invitations: int | None  # over the groups with a rate; None if no rates were given
    over_represented: tuple[str, ...]
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (rows as a list of dicts), ready for JSON."""
        out = asdict(self)
        for key in ("rows", "over_represented", "notes"):
            out[key] = list(out[key])
        return out


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _next_candidate(total: int, current: list[int], need_now: list[int], slopes: list[Fraction]) -> int:
    """The least integer x > total with x >= sum_g max(current_g, need_now_g, slope_g x) (min_ratio < 1).

    Any achievable total above an unachievable `total` satisfies this, because need_g is non-decreasing
    and need_g(x) >= slope_g x. The right side minus x is convex and strictly decreasing in x (its slope is
    at most min_ratio - 1 < 0), so the root is found by walking the breakpoints x = floor_g / slope_g at
    which groups switch from their floor to their linear requirement, in exact rational arithmetic.
    """
    floors = [max(c, need) for c, need in zip(current, need_now)]
    linear = sorted(
        ((Fraction(f) / b, Fraction(f), b) for f, b in zip(floors, slopes) if b > 0), key=lambda t: t[0]
    )
    constant = Fraction(sum(floors))  # sum of requirements still at their floor
    rate = Fraction(0)  # sum of slopes of requirements already linear
    root = constant
    for breakpoint, floor, slope in linear:
        root = constant / (1 - rate)
        if root <= breakpoint:
            break
        constant -= floor
        rate += slope
    else:
        root = constant / (1 - rate)
    return max(total + 1, math.ceil(root))


def recruitment_targets(
    groups: Sequence[str],
    population: ArrayLike,
    members: ArrayLike,
    *,
    min_ratio: float = 0.8,
    max_ratio: float | None = None,
    acceptance_rates: Mapping[str, float] | None = None,
) -> RecruitmentTargets:
    """The fewest additional members, by group, so that every group has ratio >= `min_ratio`.

    With p_g = population_g / population_total, current members c_g (total C) and final total N, group g
    (p_g > 0) meets the target iff m_g / N >= min_ratio x p_g, i.e. m_g >= need_g(N) = ceil(min_ratio x p_g
    x N), computed in exact rational arithmetic (`min_ratio` read as written, so 0.8 is 4/5). Nobody is
    removed, so m_g >= c_g; zero-share groups keep their members (they count in N but have no target). A
    final total N is achievable iff L(N) = sum_g max(c_g, need_g(N)) <= N, and the additions total N - C,
    so the answer is the least achievable N >= max(C, 1) (at least one member even from an empty group).

    Search and minimality: L is non-decreasing in N. Start at N_0 = max(C, 1) and, while L(N_t) > N_t,
    jump to N_{t+1} = the least integer x > N_t with x >= R_t(x) = sum_g max(c_g, need_g(N_t),
    min_ratio * p_g * x), a convex piecewise-linear bound solved exactly (`_next_candidate`). Any
    achievable N* > N_t has N* >= L(N*) >= R_t(N*) (need_g never decreases and need_g(x) >=
    min_ratio * p_g * x), so
    N_{t+1} <= N*; as N_0 <= N* too, by induction no achievable total is ever skipped, and the sequence
    strictly increases, so it stops at the least achievable N. (N_{t+1} >= L(N_t), so this is never slower
    than the plain fixed-point step N_{t+1} = L(N_t), and far faster when min_ratio is near 1.) No smaller
    total can work (any final total must be achievable), so the additions are minimal. Then m_g =
    max(c_g, need_g(N)) and the slack N - L(N) is handed out one at a time to the group with the lowest
    ratio; slack cannot break a target because N is already final and a larger m_g only raises m_g / N.
    The slack is in fact 0 except in one case: if the search ends at N > N_0, every x in [N_0, N) is
    unachievable, so L(N) >= L(N - 1) >= N, and with L(N) <= N that gives L(N) = N; if it stops at
    N_0 = C then L(C) >= sum c_g = C; so slack is only possible at N_0 = 1 > C = 0 with nobody needed at
    N = 1, i.e. min_ratio = 0 and no members.

    Feasibility: targets sum to min_ratio x N over the shares, so min_ratio > 1 is impossible; min_ratio
    < 1 is always achievable (L(N) < C + min_ratio x N + k <= N once N >= (C + k) / (1 - min_ratio));
    min_ratio = 1 needs exact proportionality (solved in closed form) and no members in zero-share
    groups. Impossible or absurd (> `MAX_TARGET_TOTAL`) targets raise ValueError with the reason.

    `max_ratio` is reported, not enforced: members are never removed, so groups whose ratio after recruiting
    exceeds it (including members in zero-share groups) are flagged `over_represented`. `acceptance_rates`
    maps group -> expected fraction of invited patients who join (0 < rate <= 1); `invitations` is then
    ceil(additional_needed / rate) for those groups.
    """
    names = check_groups(groups)
    pop = as_counts("population", population, len(names))
    cur = as_counts("members", members, len(names))
    population_total = int(pop.sum())
    if population_total == 0:
        raise ValueError("the population counts are all 0: there is nothing to be representative of")
    r = _as_fraction("min_ratio", min_ratio)
    if r < 0:
        raise ValueError("min_ratio must be 0 or more")
    if r > 1:
        raise ValueError(
            f"min_ratio {min_ratio} cannot be met by every group at once: member shares add up to 1, so "
            "the targets (min_ratio x population share) would add up to more than the whole group"
        )
    r_max: Fraction | None = None
    if max_ratio is not None:
        r_max = _as_fraction("max_ratio", max_ratio)
        if r_max <= 0 or r_max < r:
            raise ValueError("max_ratio must be positive and at least min_ratio")
    rates: dict[str, Fraction] = {}
    for name, rate in (acceptance_rates or {}).items():
        if name not in names:
            raise ValueError(f"acceptance rate given for unknown group {name!r}")
        frac = _as_fraction(f"acceptance rate for {name!r}", rate)
        if not (0 < frac <= 1):
            raise ValueError(f"acceptance rate for {name!r} must be above 0 and at most 1")
        rates[name] = frac

    pops = [int(v) for v in pop]
    curs = [int(v) for v in cur]
    positive = [v > 0 for v in pops]
    current_total = sum(curs)
    in_zero_share = sum(c for c, ok in zip(curs, positive) if not ok)
    num, den = r.numerator, r.denominator
    scale = den * population_total

    def needs(total: int) -> list[int]:
        # ceil(r * pop_g * N / P) exactly; 0 for zero-share groups
        return [_ceil_div(num * p * total, scale) if ok else 0 for p, ok in zip(pops, positive)]

    def load(total: int) -> int:
        return sum(max(c, need) for c, need in zip(curs, needs(total)))

    if r == 1:
        if in_zero_share:
            raise ValueError(
                "min_ratio 1 needs every member in a group with registered patients, but "
                f"{in_zero_share} member(s) are in groups with none"
            )
        # m_g = p_g N exactly: N a multiple of P / gcd(populations) and p_g N >= c_g for every group
        step = population_total // math.gcd(*[p for p in pops if p])
        lower = max([_ceil_div(c * population_total, p) for c, p in zip(curs, pops) if p] + [1])
        total = step * _ceil_div(lower, step)
    else:
        slopes = [r * p / population_total for p in pops]  # r p_g, exact
        total = max(current_total, 1)
        while load(total) > total:
            total = _next_candidate(total, curs, needs(total), slopes)
            if total > MAX_TARGET_TOTAL:
                break
    if total > MAX_TARGET_TOTAL:
        raise ValueError(
            f"min_ratio {min_ratio} would need more than {MAX_TARGET_TOTAL} members in total; choose a lower "
            "min_ratio"
        )

    after = [max(c, need) for c, need in zip(curs, needs(total))]
    slack = total - sum(after)
    while slack > 0:  # only min_ratio == 0 with no members (see docstring); lowest ratio first
        best = min(
            (i for i in range(len(names)) if positive[i]),
            key=lambda i: (Fraction(after[i] * population_total, pops[i]), -pops[i], i),
        )
        after[best] += 1
        slack -= 1

    notes: list[str] = []
    rows: list[GroupTarget] = []
    over: list[str] = []
    total_invitations: int | None = 0 if rates else None
    missing_rates: list[str] = []
    for i, name in enumerate(names):
        add = after[i] - curs[i]
        share = pops[i] / population_total
        ratio_now = (curs[i] / current_total) / share if positive[i] and current_total else None
        ratio_after = (after[i] / total) / share if positive[i] else None
        if r_max is None:
            is_over = False
        elif positive[i]:
            # m / N > r_max * pop / P, exactly
            is_over = after[i] * population_total * r_max.denominator > r_max.numerator * pops[i] * total
        else:
            is_over = after[i] > 0
        if is_over:
            over.append(name)
        invitations = None
        if name in rates:
            rate = rates[name]
            invitations = _ceil_div(add * rate.denominator, rate.numerator)
            total_invitations = (total_invitations or 0) + invitations
        elif rates and add:
            missing_rates.append(name)
        rows.append(
            GroupTarget(
                group=name,
                population=pops[i],
                population_share=share,
                members=curs[i],
                ratio=ratio_now,
                additional_needed=add,
                members_after=after[i],
                ratio_after=ratio_after,
                invitations=invitations,
                over_represented=is_over,
            )
        )
    if over:
        notes.append(
            "Above max_ratio after recruiting (members are never removed; recruit elsewhere to dilute): "
            + ", ".join(over)
        )
    if missing_rates:
        notes.append("No acceptance rate given, so no invitation count, for: " + ", ".join(missing_rates))
    beyond = [names[i] for i in range(len(names)) if after[i] > pops[i]]
    if beyond:
        notes.append("The target exceeds the registered patients in: " + ", ".join(beyond))
    return RecruitmentTargets(
        rows=tuple(rows),
        min_ratio=float(min_ratio),
        max_ratio=None if max_ratio is None else float(max_ratio),
        total_additional=total - current_total,
        members_total_after=total,
        total_invitations=total_invitations,
        over_represented=tuple(over),
        notes=tuple(notes),
    )
