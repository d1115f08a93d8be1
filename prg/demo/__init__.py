"""The demo practice: invented data in the real formats, loaded by `prg demo`.

Y90001 is an invented urban practice (see the files here); its PRG register spreadsheet was drawn
once from the invented patient list, in the shape a practice keeps it, and is imported through the
same importer a practice uses. Its population comes from the NHS Digital files and the ethnicity report
here, in the published formats, through the population imports.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from prg.accounts import schemas as account_schemas
from prg.accounts import services as accounts
from prg.accounts.tables import Practice, StaffUser
from prg.members import services as members
from prg.population import services as population

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


def _file(name: str) -> tuple[bytes, str]:
    return (DATA / name).read_bytes(), name
