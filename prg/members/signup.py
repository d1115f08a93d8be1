"""Self sign-up, the use case: a patient asks to join their practice's PRG (the page is public_pages.py).

The patient says how they want to take part (meetings = core, e-mail/text = virtual, or both), their name,
how to contact them, their consent to be contacted (the page shows the wording; its version is recorded),
and, optionally and under a separate consent, the characteristics the practice uses to check that the
group looks like its patients: sex, year of birth or age range (never a full date of birth), ethnic group
(NHS ETHNIC CATEGORY codes, with "prefer not to say") and whether they are a carer.

`sign_up` checks every answer, then the register's own rules (`services.rule_errors` and the `MemberIn`
bounds), and in one transaction creates a member with status `invited` and the recruitment channel the
link named, the Consent rows (method `web`) and the audit entry; staff then confirm the member in the
register. Refused answers raise `SignUpRefused`, whose problems name the field and the message's key in
the word catalogue (prg/locales), so that the page words them in the patient's language.

The consent wording lives in the catalogue (join.consent_text, join.consent_label,
join.monitoring_consent_label): change it there together with the version strings below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, get_args

import msgspec

from prg.accounts.audit.services import record
from prg.accounts.tables import Practice
from prg.db import utcnow, write_transaction
from prg.errors import ErrorDetail, InvalidInput, NotFound
from prg.members import schemas
from prg.members.services import _next_references, _row_for_insert, rule_errors  # same feature
from prg.members.tables import Consent, Member
from prg.pages import words

CONTACT_WORDING_VERSION = "prg-join-contact-2026-11"
MONITORING_WORDING_VERSION = "prg-join-monitoring-2026-11"
ODS_CODE = re.compile(r"^[A-Za-z0-9]{3,10}$")
CHANNELS = set(get_args(schemas.Channel))
DEFAULT_CHANNEL = "website"

# The answers the form asks for (its field names), and the choices each closed question offers.
ANSWERS = ("participation", "first_name", "last_name", "preferred_contact", "email", "phone", "address",
           "postcode", "consent", "sex", "birth_year", "age_band", "ethnic_category", "carer", "monitoring_consent")
PARTICIPATION = ("core", "virtual", "both")
CONTACT_METHODS = ("email", "phone", "sms", "post")
SEXES = ("female", "male", "other", "not_stated")
AGE_BANDS = ("<16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
ETHNIC_CODES = ("A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z")
CARER = ("yes", "no")
FIELD_LIMITS = {"first_name": 100, "last_name": 100, "email": 254, "phone": 30, "address": 500, "postcode": 10,
                "birth_year": 4}

# A person's name: letters of any alphabet, with spaces, hyphens, apostrophes and full stops between them.
NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ '’.\-])*$")
EMAIL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{6,30}$")
POSTCODE = re.compile(r"^[A-Za-z]{1,2}[0-9][0-9A-Za-z]? ?[0-9][A-Za-z]{2}$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Problem:
    """One answer that cannot be taken: its field, and the key of the message that says why."""

    field: str
    key: str
    values: Mapping[str, object] = field(default_factory=dict)


class SignUpRefused(InvalidInput):
    """The answers break a rule; nothing was stored. `problems` are for the page to word."""

    def __init__(self, problems: list[Problem]) -> None:
        english = words("en")
        super().__init__("Some answers need correcting.",
                         [ErrorDetail(english(p.key, **p.values), field=p.field) for p in problems])
        self.problems = problems


async def practice_for_signup(ods_code: str) -> dict[str, Any]:
    """The practice (id, ods_code, name) a sign-up link names; NotFound also for what cannot be an ODS code."""
    found = None
    if ODS_CODE.match(ods_code):
        found = await Practice.select(Practice.id, Practice.ods_code, Practice.name).where(
            Practice.ods_code == ods_code.upper()).first()
    if found is None:
        raise NotFound("No practice has this sign-up link.")
    return found


def channel_of(via: object) -> str:
    """The recruitment channel a link's `?via=` names, if it is one of the register's, else `website`."""
    return str(via) if via in CHANNELS else DEFAULT_CHANNEL


def check_answers(answers: Mapping[str, str], today: date | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """(member values, problems) for the answers as typed (text, stripped)."""
    today = today or date.today()
    problems: list[Problem] = []

    def fail(field: str, key: str, **values: object) -> None:
        if not any(p.field == field for p in problems):
            problems.append(Problem(field, f"join.{key}", values))

    for name, limit in FIELD_LIMITS.items():
        if len(answers[name]) > limit:
            fail(name, "err_too_long", max=limit)
    if answers["participation"] not in PARTICIPATION:
        fail("participation", "err_participation")
    for name in ("first_name", "last_name"):
        if not answers[name]:
            fail(name, f"err_{name}")
        elif not NAME.match(answers[name]):
            fail(name, "err_name_chars")

    method = answers["preferred_contact"]
    if method not in CONTACT_METHODS:
        fail("preferred_contact", "err_contact")
    needed = {"email": "email", "phone": "phone", "sms": "phone", "post": "address"}.get(method)
    if needed and not answers[needed]:
        fail(needed, f"err_{needed}_missing")
    if answers["email"] and not EMAIL.match(answers["email"]):
        fail("email", "err_email")
    if answers["phone"] and (not PHONE.match(answers["phone"])
                             or not 10 <= sum(c.isdigit() for c in answers["phone"]) <= 15):
        fail("phone", "err_phone")
    if answers["address"] and (CONTROL.search(answers["address"]) or answers["address"][0] in "=@+-"):
        fail("address", "err_address")
    if answers["postcode"] and not POSTCODE.match(answers["postcode"]):
        fail("postcode", "err_postcode")
    if answers["consent"] != "yes":
        fail("consent", "err_consent")

    if answers["sex"] and answers["sex"] not in SEXES:
        fail("sex", "err_sex")
    birth_year = None
    if answers["birth_year"]:
        if not re.fullmatch(r"[0-9]{4}", answers["birth_year"]):
            fail("birth_year", "err_birth_year")
        elif int(answers["birth_year"]) > today.year:
            fail("birth_year", "err_birth_year_future")
        elif int(answers["birth_year"]) < today.year - 115:
            fail("birth_year", "err_birth_year_past")
        else:
            birth_year = int(answers["birth_year"])
    band = answers["age_band"]
    if band and band not in AGE_BANDS:
        fail("age_band", "err_age_band")
    elif band and birth_year is not None and not _band_fits(band, today.year - birth_year):
        fail("age_band", "err_age_mismatch")
    if answers["ethnic_category"] and answers["ethnic_category"] not in ETHNIC_CODES:
        fail("ethnic_category", "err_ethnic")
    if answers["carer"] and answers["carer"] not in CARER:
        fail("carer", "err_carer")
    # "Prefer not to say" tells nothing about the person, so it needs no consent to keep.
    telling = [answers["sex"] not in ("", "not_stated"), bool(answers["birth_year"]), bool(band),
               answers["ethnic_category"] not in ("", "Z"), bool(answers["carer"])]
    if any(telling) and answers["monitoring_consent"] != "yes":
        fail("monitoring_consent", "err_monitoring_consent")

    values = {
        "first_name": answers["first_name"], "last_name": answers["last_name"], "email": answers["email"],
        "phone": answers["phone"], "address": answers["address"], "postcode": answers["postcode"].upper(),
        "preferred_contact": method or None, "participation": answers["participation"] or "virtual",
        "status": "invited", "sex": answers["sex"] or "not_known", "birth_year": birth_year,
        "age_band": band, "ethnic_category": answers["ethnic_category"] or "99",
        "characteristics": {"carer": answers["carer"]} if answers["carer"] else {},
    }
    if not problems:  # the register's own bounds and rules, as a last line (the checks above cover them)
        try:
            msgspec.convert({k: v for k, v in values.items() if v is not None}, schemas.MemberIn)
        except msgspec.ValidationError as exc:
            found = re.search(r"\$\.(\w+)", str(exc))
            name = found.group(1) if found else "send"
            problems.append(Problem(name, "join.err_address" if name == "address" else "join.err_invalid"))
        problems += [Problem(e.field or "send", "join.err_invalid") for e in rule_errors(values, today)]
    return values, problems


def _band_fits(band: str, age_at_birthday: int) -> bool:
    """Whether someone born in a year, aged `age_at_birthday` or one less this year, can be in the band."""
    ages = {age_at_birthday - 1, age_at_birthday}
    if band.startswith("<"):
        return min(ages) < int(band[1:])
    if band.endswith("+"):
        return max(ages) >= int(band[:-1])
    low, high = (int(x) for x in band.split("-"))
    return any(low <= a <= high for a in ages)


async def sign_up(practice_id: int, answers: Mapping[str, str], channel: str, today: date | None = None) -> int:
    """Add an `invited` member with their consent(s), audited, in one transaction; returns the member's id.
    Raises SignUpRefused, storing nothing, when an answer breaks a rule."""
    values, problems = check_answers(answers, today)
    if problems:
        raise SignUpRefused(problems)
    data = msgspec.convert({**values, "recruitment_channel": channel_of(channel)}, schemas.MemberIn)
    consents = [("prg_contact", CONTACT_WORDING_VERSION)]
    if answers["monitoring_consent"] == "yes":
        consents.append(("monitoring", MONITORING_WORDING_VERSION))
    for attempt in range(5):
        try:
            async with write_transaction():
                [reference] = await _next_references(practice_id, 1)
                member = _row_for_insert(practice_id, data, reference)
                await Member.insert(member)
                now = utcnow()
                for purpose, version in consents:
                    await Consent.insert(Consent(member=member.id, practice=practice_id, purpose=purpose,
                                                 given_at=now, method="web", wording_version=version))
                await record("member.self_signup", None, practice_id=practice_id, entity="member",
                             entity_id=member.id, details={"channel": data.recruitment_channel,
                                                           "participation": data.participation,
                                                           "consents": [p for p, _ in consents]})
            return member.id
        except Exception as exc:
            # Two sign-ups at once can pick the same next reference (PostgreSQL reads committed data):
            # the unique index refuses the second, which tries again with the next number.
            if attempt == 4 or not any(word in type(exc).__name__ for word in ("Unique", "Integrity")):
                raise
    raise AssertionError("unreachable")
