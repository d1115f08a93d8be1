"""The live guide to a scheme year: the evidence every other part of the product has left, read back.

The chain, per scheme year (1 April to 31 March), in the DES's order: a group (members during the year, a
population profile and a representativeness check, recruitment steps), priorities agreed with it, a survey
with responses in the year (the Friends and Family Test in 2014/15), a discussion of the findings after the
survey, an action plan the group agreed, and the report published by 31 March. Each component is `done`,
`in_progress` or `missing`, with the evidence found and the next step in plain English; then the days to
each deadline and the payment to expect. It reads the features below it through their public read
functions, and surveys (above it) through `SurveyEvidence`.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from prg.accounts.services import PracticeAccess, get_practice
from prg.des import schemas
from prg.des.records import get_report, list_action_items, list_meetings, list_priorities, override_row
from prg.des.scheme_years import deadline_statuses, scheme_year
from prg.des.schemas import SchemeYear
from prg.des.survey_evidence import SurveyEvidence, SurveyInYear
from prg.errors import DomainError, NotFound
from prg.members.services import members_in_year
from prg.population.services import profile_nearest
from prg.recruitment.services import list_campaigns
from prg.representativeness import services as representativeness

CHAIN = ("prg", "priorities", "survey", "discussion", "action_plan", "report")


def _base(access: PracticeAccess) -> str:
    return f"/api/practices/{access.ods_code}"


async def _recruitment_evidence(access: PracticeAccess, year: SchemeYear,
                                members: list[dict[str, Any]]) -> list[schemas.Evidence]:
    """Recruitment steps: the recruitment feature's campaigns sent during the year, and the members who
    joined during the year by recruitment channel (from the register)."""
    evidence = [schemas.Evidence(
        "recruitment", c.sent_on, f"Recruitment by {c.channel.replace('_', ' ')}: {c.name} "
        f"({c.total_sent} sent, {c.joined} joined)", f"{_base(access)}/recruitment/campaigns/{c.id}")
        for c in await list_campaigns(access, year.starts_on, year.ends_on)]
    joined = [m for m in members if m["joined_on"] and year.contains(m["joined_on"])]
    by_channel: dict[str, list[date]] = {}
    for m in joined:
        by_channel.setdefault(m["recruitment_channel"], []).append(m["joined_on"])
    evidence += [schemas.Evidence("recruitment", max(days),
                                  f"{len(days)} member(s) joined through {channel.replace('_', ' ')}",
                                  f"{_base(access)}/members?channel={channel}")
                 for channel, days in sorted(by_channel.items())]
    return evidence


async def _prg_component(access: PracticeAccess, year: SchemeYear) -> tuple[str, list[schemas.Evidence], str | None]:
    members = await members_in_year(access.practice_id, year.starts_on, year.ends_on)
    evidence: list[schemas.Evidence] = []
    if members:
        virtual = sum(m["participation"] in ("virtual", "both") for m in members)
        evidence.append(schemas.Evidence(
            "members", None, f"{len(members)} member(s) in the group during the year ({virtual} taking part virtually)",
            f"{_base(access)}/members"))
    profile = await profile_nearest(access.practice_id, year.ends_on)
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


async def _survey_component(access: PracticeAccess, year: SchemeYear,
                            surveys: list[SurveyInYear]) -> tuple[str, list[schemas.Evidence], str | None]:
    wanted = [s for s in surveys if s.fft] if year.survey_kind == "fft" else surveys
    evidence = [schemas.Evidence(
        "survey", s.first or s.published_on,
        f"{'Friends and Family Test' if s.fft else 'Survey'} \u201c{s.title}\u201d: {s.responses} response(s) "
        f"in the year" + (f", {s.first} to {s.last}" if s.first else ""),
        f"{_base(access)}/surveys/{s.id}/results") for s in wanted]
    if any(s.responses > 0 for s in wanted):
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
    override = await override_row(access, year.code)
    rate_text = override["rate_per_patient"] if override and override["rate_per_patient"] is not None else None
    if year.rate_per_patient is None:
        return schemas.Payment(False, None, True, "none", None, "", None, None, None, True, [],
                               "There is no payment in this year: the duty is contractual.")
    rate = Decimal(rate_text) if rate_text is not None else Decimal(str(year.rate_per_patient))
    rate_source = "practice override" if rate_text is not None else "scheme"
    weights = {c.key: (c.weight or 0.0, c.weight_confirmed) for c in year.components}
    for key, weight in ((override or {}).get("weights") or {}).items():
        weights[key] = (float(weight), True)
    profile = await profile_nearest(access.practice_id, year.list_size_reference_date)
    if profile:
        list_size, list_date = profile["total"], profile["extract_date"]
        source = f"NHS Digital registered patients extract of {list_date:%-d %B %Y}" + (
            " (the nearest to 1 April)" if list_date != year.list_size_reference_date else "")
    else:
        list_size, list_date = (await get_practice(access)).list_size, None
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


async def year_guide(access: PracticeAccess, year_code: str, survey_evidence: SurveyEvidence,
                     today: date | None = None) -> schemas.YearGuide:
    """The live step-by-step guide to a scheme year: each component with its status, evidence and next step;
    days to each deadline (from `today`, default the real date); the payment expected on current evidence."""
    today = today or date.today()
    year = scheme_year(year_code)
    surveys = await survey_evidence.surveys_in_year(access.practice_id, year.starts_on, year.ends_on)
    fitting = [s for s in surveys if s.fft] if year.survey_kind == "fft" else surveys
    survey_from = min((s.first for s in fitting if s.first), default=None)
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
