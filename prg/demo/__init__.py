"""The demo practice: invented data in the real formats, loaded by `prg demo`.

Y90001 is an invented urban practice (see the files here); its PRG register spreadsheet was drawn
once from the invented patient list, in the shape a practice keeps it, and is imported through the
same importer a practice uses. Its population comes from the NHS Digital files and the ethnicity report
here, in the published formats, through the population imports. Last winter it ran a survey built from the
question bank (Friends and Family Test, GP-patient-survey core, demographics): 300 invented responses,
drawn with a fixed seed and checked by the web form's own validator, dated in January and February of the
scheme year before this one, so that results, weighting, the reports and last year's guide have something to
show while this year's guide starts with no survey. The demo belongs to the composition layer with
`prg.app` and `prg.cli`: it seeds every feature, surveys included.
"""

from __future__ import annotations

import dataclasses
import random
import secrets
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from prg.accounts import schemas as account_schemas
from prg.accounts import services as accounts
from prg.accounts.tables import Practice, StaffUser
from prg.des.scheme_years import scheme_year, year_code_for
from prg.members import services as members
from prg.population import services as population
from surveys import schemas as survey_schemas
from surveys import services as surveys
from surveys.definition import LongTextQuestion, SingleChoiceQuestion
from surveys.ingest import ResponseWriter
from surveys.tables import Survey, SurveyVersion

DATA = Path(__file__).parent
DEMO_ODS = "Y90001"
MANAGER_EMAIL = "manager@y90001.example.org"
NHS_FIVE_YEAR = "gp-reg-pat-prac-quin-age.csv"
NHS_SINGLE_YEAR = ("gp-reg-pat-prac-sing-age-female.csv", "gp-reg-pat-prac-sing-age-male.csv")


async def load_demo() -> tuple[str, str]:
    """Create (or refresh) the demo practice; returns the manager's e-mail and a new password."""
    password = secrets.token_urlsafe(12)
    if not await Practice.exists().where(Practice.ods_code == DEMO_ODS):
        await accounts.create_practice(account_schemas.PracticeIn(
            ods_code=DEMO_ODS, name="Riverside Example Surgery (demo)", address="1 Example Street\nExampleton",
            postcode="RV1 1AA", list_size=12400,
        ), actor=None)
    practice_id = await accounts.practice_id_for(DEMO_ODS)
    if await StaffUser.exists().where(StaffUser.email == MANAGER_EMAIL):
        await accounts.set_password(MANAGER_EMAIL, password, actor=None)
    else:
        await accounts.grant_role(practice_id, MANAGER_EMAIL, "manager", None, password=password,
                                  display_name="Demo Practice Manager")
    user = await StaffUser.select(StaffUser.id).where(StaffUser.email == MANAGER_EMAIL).first()
    access = await accounts.practice_access(user["id"], DEMO_ODS)
    identity = accounts.Identity(user["id"], MANAGER_EMAIL, False, "token")
    page = await members.list_members(access, limit=1)
    if page.total == 0:
        register = DATA / f"{DEMO_ODS}-prg-register.csv"
        await members.import_members(access, register.read_bytes(), register.name, identity)
    await load_demo_population(access, identity)
    await load_demo_survey(access, identity)
    return MANAGER_EMAIL, password


async def load_demo_population(access: accounts.PracticeAccess, identity: accounts.Identity) -> None:
    """The demo practice's population from the NHS Digital files as published (they hold several invented
    practices; the import keeps Y90001's rows) and its ethnicity report, once: the 5-year profile, then the
    single-year one (the two files together), then ethnicity dated as the NHS extract."""
    if not await population.has_profile(access.practice_id, population.AGE_SEX):
        await population.import_nhs_digital(access, [_file(NHS_FIVE_YEAR)], identity)
        await population.import_nhs_digital(access, [_file(name) for name in NHS_SINGLE_YEAR], identity)
    if not await population.has_profile(access.practice_id, population.ETHNICITY):
        extract_date = (await population.list_profiles(access, population.AGE_SEX)).items[0].extract_date
        report = DATA / f"{DEMO_ODS}-ethnicity.csv"
        await population.import_ethnicity(access, report.read_bytes(), report.name, extract_date, identity)


DEMO_SURVEY_RESPONSES = 300
DEMO_COMMENTS = ["Reception were kind and quick.", "Hard to get through on the phone in the morning.",
                 "The doctor listened.", "More evening appointments, please.", "Long wait in the waiting room."]


async def load_demo_survey(access: accounts.PracticeAccess, identity: accounts.Identity,
                           today: date | None = None) -> None:
    """Once: last winter's survey, published and answered 300 times (web, paper, kiosk)."""
    if await surveys.list_surveys(access):
        return
    today = today or date.today()
    this_year = scheme_year(year_code_for(today), today).starts_on
    opened = datetime.combine(this_year - timedelta(days=80), time(9), UTC)  # mid-January of the year before
    created = await surveys.create_from_bank(access, survey_schemas.FromBank(
        title={"en": "Patient survey (demo)", "pl": "Ankieta dla pacjentów (demo)"}, languages=["en", "pl"],
        sections=[survey_schemas.BankSection(id="fft", questions=["fft_2020_experience", "fft_2020_reason"]),
                  survey_schemas.BankSection(id="care", questions=[
                      "gpps_overall_experience", "gpps_phone_ease", "gpps_reception_helpful", "gpps_opening_hours"]),
                  survey_schemas.BankSection(id="about_you", questions=["demo_sex", "demo_age_band", "demo_ethnicity"])],
    ), identity)
    published = await surveys.publish(access, created.id, identity)
    await Survey.update({Survey.created_at: opened}).where(Survey.id == created.id)
    await SurveyVersion.update({SurveyVersion.published_at: opened}).where(SurveyVersion.survey == created.id)
    survey = await surveys.published_surveys.get(published.public_id)
    rng = random.Random(20111201)
    writer = ResponseWriter()  # not started: each response is written and committed on its own
    for _ in range(DEMO_SURVEY_RESPONSES):
        mode = rng.choices(["web", "paper", "kiosk"], [6, 3, 1])[0]
        submission = await surveys.prepare_submission(survey, _invented_answers(survey.definition, rng),
                                                      language="en", mode=mode, token=None)
        received = opened + timedelta(days=rng.randrange(45), hours=rng.randrange(9))
        await writer.submit(dataclasses.replace(submission, received_at=received))


def _invented_answers(definition: Any, rng: random.Random) -> dict[str, Any]:
    """One respondent: earlier options (the positive end, or the first groups) more likely, a few skips."""

    answers: dict[str, Any] = {}
    for section in definition.sections:
        for question in section.questions:
            if isinstance(question, LongTextQuestion):
                if rng.random() < 0.25:
                    answers[question.id] = rng.choice(DEMO_COMMENTS)
            elif isinstance(question, SingleChoiceQuestion) and (question.required or rng.random() > 0.05):
                codes = [option.code for option in question.options]
                answers[question.id] = rng.choices(codes, [1 / (1 + i) ** 1.3 for i in range(len(codes))])[0]
    return answers


def _file(name: str) -> tuple[bytes, str]:
    return (DATA / name).read_bytes(), name
