"""Self sign-up: the public page at /join/{ods_code} where a patient asks to join the practice's PRG.

What a patient sees: one server-rendered page (autoescaped Jinja, plain HTML form, no JavaScript) that
asks how they want to take part (meetings = core, e-mail/text = virtual, or both), their name, how to
contact them, their consent to be contacted (the wording is on the page and its version is recorded),
and, optionally and under a separate consent, the characteristics the practice uses to check that the
group looks like its patients: sex, year of birth or age range (never a full date of birth), ethnic
group (NHS ETHNIC CATEGORY codes, with "prefer not to say") and whether they are a carer. Sending it
creates a member with status `invited` and recruitment channel `website` (or the allowed channel named
by `?via=`, e.g. `poster` for a poster's QR code) plus Consent rows (method `web`); staff confirm it in
the register (PATCH status `active` with `joined_on`). On any error the page comes back with the
answers kept, an error summary linking to each field and a message beside it; nothing is stored.

Protection, in the order a POST meets it:
1. Request size: the form's body is capped at `MAX_BODY_BYTES` (413 beyond), far below uploads' limit.
2. Rate limit: `PRG_JOIN_REQUESTS_PER_HOUR` sends per client address per practice per hour (every send
   counts, whatever its outcome), else a 429 "wait" page. Counted by prg/ratelimit.py: in this process,
   or across processes in Redis when `PRG_RATE_LIMIT_REDIS_URL` is set.
3. Anti-forgery (CSRF), a signed double-submit token: the GET sets a random nonce in an HttpOnly,
   SameSite=Strict cookie scoped to /join, and puts `issued-at.HMAC-SHA256(key, ods|nonce|issued-at)`
   in a hidden field. A POST must carry both, the signature must match the cookie's nonce and the
   practice, and the token must be younger than `TOKEN_LIFETIME_SECONDS`. Another site can neither read
   the token nor make the browser send the Strict cookie, and cannot forge a token without the key
   (`PRG_FORM_SECRET`, or a random key per process). A refused form comes back (403) with the
   answers kept and a fresh token, so a patient who left it open too long only sends again.
4. Honeypot: a visually hidden text box that people never fill; if it is filled the sender is thanked
   and nothing is stored.
5. Validation of every field, then the register's own rules (`services.rule_errors` and the
   `MemberIn` bounds) before one transaction writes the member, the consents and the audit entries.

Language: `?lang=pl`, else the browser's Accept-Language negotiated with babel (English and Polish).
To add a language add a dictionary with every key of `ENGLISH` to `WORDS` (a test checks the keys).
Nothing personal is logged: log lines name the practice and the new member's number only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from datetime import date
from typing import Any, get_args

import msgspec
from babel import negotiate_locale
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath
from litestar.response import Redirect

from prg.accounts.audit.services import record
from prg.accounts.tables import Practice
from prg.db import utcnow, write_transaction
from prg.errors import ErrorDetail
from prg.members import schemas
from prg.members.services import _next_references, _row_for_insert, rule_errors  # same feature
from prg.members.tables import Consent, Member
from prg.pages import environment
from prg.ratelimit import RateLimiter, app_limiter
from prg.settings import get_settings

log = logging.getLogger("prg.members.signup")

CONTACT_WORDING_VERSION = "prg-join-contact-2026-11"
MONITORING_WORDING_VERSION = "prg-join-monitoring-2026-11"
MAX_BODY_BYTES = 16_384
TOKEN_LIFETIME_SECONDS = 4 * 3600
CSRF_COOKIE = "prg_join"
CSRF_FIELD = "_csrf"
HONEYPOT = "website"
ODS_CODE = re.compile(r"^[A-Za-z0-9]{3,10}$")
CHANNELS = set(get_args(schemas.Channel))
DEFAULT_CHANNEL = "website"
LANGUAGES = ("en", "pl")

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

ENGLISH = {
    "skip": "Skip to main content",
    "title": "Join our Patient Reference Group",
    "intro": "The Patient Reference Group is a group of patients who help {practice} understand what patients "
             "think and agree how to improve its services. Any patient of the practice can join.",
    "problem": "There is a problem",
    "optional": "(optional)",
    "language": "Language",
    "participation": "How would you like to take part?",
    "participation_core": "Come to meetings at the practice",
    "participation_virtual": "By e-mail or text message only",
    "participation_both": "Both: meetings, and by e-mail or text message",
    "participation_hint": "Meetings are a few times a year. Members who join by e-mail or text are asked for their views from time to time.",
    "name": "Your name",
    "first_name": "First name",
    "last_name": "Last name",
    "contact": "How should we contact you?",
    "contact_hint": "Choose one, and give the details for it below. The other details are optional.",
    "contact_email": "E-mail",
    "contact_phone": "Phone call",
    "contact_sms": "Text message",
    "contact_post": "Letter by post",
    "email": "E-mail address",
    "phone": "Phone number",
    "phone_hint": "A mobile number if you want text messages.",
    "address": "Postal address",
    "postcode": "Postcode",
    "consent": "Your agreement",
    "consent_text": "{practice} will keep your name and contact details to contact you about the Patient "
                    "Reference Group: meetings, questions and news. They are not used for anything else or "
                    "given to anyone else. You can leave the group and ask for your details to be deleted at "
                    "any time by contacting the practice.",
    "consent_label": "I agree to be contacted about the Patient Reference Group",
    "about": "About you",
    "about_intro": "These questions help the practice check that the group includes all kinds of patients. "
                   "You do not have to answer them. We never ask for your full date of birth.",
    "sex": "Sex",
    "sex_female": "Female",
    "sex_male": "Male",
    "sex_other": "In another way",
    "sex_not_stated": "Prefer not to say",
    "birth_year": "Year of birth",
    "birth_year_hint": "For example, 1958.",
    "age_band": "Or, your age range",
    "age_band_none": "Choose an age range",
    "age_band_<16": "Under 16",
    "age_band_75+": "75 or over",
    "ethnic_category": "Ethnic group",
    "ethnic_hint": "Choose the one that describes you best.",
    "ethnic_A": "White: British",
    "ethnic_B": "White: Irish",
    "ethnic_C": "White: any other White background",
    "ethnic_D": "Mixed: White and Black Caribbean",
    "ethnic_E": "Mixed: White and Black African",
    "ethnic_F": "Mixed: White and Asian",
    "ethnic_G": "Mixed: any other mixed background",
    "ethnic_H": "Asian or Asian British: Indian",
    "ethnic_J": "Asian or Asian British: Pakistani",
    "ethnic_K": "Asian or Asian British: Bangladeshi",
    "ethnic_L": "Asian or Asian British: any other Asian background",
    "ethnic_M": "Black or Black British: Caribbean",
    "ethnic_N": "Black or Black British: African",
    "ethnic_P": "Black or Black British: any other Black background",
    "ethnic_R": "Chinese",
    "ethnic_S": "Any other ethnic group",
    "ethnic_Z": "Prefer not to say",
    "carer": "Do you look after someone who needs help because of illness, disability or age (are you a carer)?",
    "carer_yes": "Yes",
    "carer_no": "No",
    "monitoring_consent_label": "I agree that the practice may keep my answers about me, to check that the "
                                "group includes all kinds of patients",
    "submit": "Ask to join",
    "honeypot": "Leave this box empty",
    "thanks_title": "Thank you",
    "thanks_body": "We have your request to join the Patient Reference Group of {practice}. Someone from the "
                   "practice will confirm your place and contact you the way you asked.",
    "not_found_title": "We cannot find this practice",
    "not_found_body": "Check the link or the code on the poster or letter. If it still does not work, ask the practice.",
    "slow_title": "Please wait a moment",
    "slow_body": "We have had a lot of requests from this connection. Try again in {minutes} minutes.",
    "err_expired": "This form was open too long or was not sent from this page. Check your answers and send them again",
    "err_first_name": "Enter your first name",
    "err_last_name": "Enter your last name",
    "err_name_chars": "Use only letters, spaces, hyphens and apostrophes in your name",
    "err_too_long": "Enter {max} characters or fewer",
    "err_participation": "Choose how you would like to take part",
    "err_contact": "Choose how we should contact you",
    "err_email_missing": "Enter your e-mail address, or choose another way to contact you",
    "err_email": "Enter an e-mail address in the correct format, like name@example.com",
    "err_phone_missing": "Enter your phone number, or choose another way to contact you",
    "err_phone": "Enter a phone number, like 01632 960 001 or 07700 900 982",
    "err_address_missing": "Enter your postal address, or choose another way to contact you",
    "err_address": "Enter your address without special characters at the start",
    "err_postcode": "Enter a real postcode, like AB1 2CD",
    "err_consent": "Tick the box to agree to be contacted: we cannot add you to the group without it",
    "err_sex": "Choose one of the answers given",
    "err_birth_year": "Enter your year of birth as 4 numbers, like 1958",
    "err_birth_year_future": "Your year of birth must be this year or earlier",
    "err_birth_year_past": "Enter a real year of birth, like 1958",
    "err_age_band": "Choose one of the age ranges given",
    "err_age_mismatch": "Your year of birth and age range do not match: give one of them, or correct them",
    "err_ethnic": "Choose one of the ethnic groups given",
    "err_carer": "Choose yes or no",
    "err_monitoring_consent": "Tick the box to let the practice keep your answers about you, or leave those questions blank",
}

POLISH = {
    "skip": "Przejdź do treści",
    "title": "Dołącz do naszej Grupy Pacjentów",
    "intro": "Grupa Pacjentów (Patient Reference Group) to pacjenci, którzy pomagają przychodni {practice} "
             "poznać zdanie pacjentów i uzgodnić, jak poprawić jej usługi. Może dołączyć każdy pacjent przychodni.",
    "problem": "Wystąpił problem",
    "optional": "(opcjonalnie)",
    "language": "Język",
    "participation": "Jak chcesz uczestniczyć?",
    "participation_core": "Przychodząc na spotkania w przychodni",
    "participation_virtual": "Tylko przez e-mail lub SMS",
    "participation_both": "Na oba sposoby: spotkania oraz e-mail lub SMS",
    "participation_hint": "Spotkania odbywają się kilka razy w roku. Członków uczestniczących przez e-mail lub SMS od czasu do czasu pytamy o zdanie.",
    "name": "Imię i nazwisko",
    "first_name": "Imię",
    "last_name": "Nazwisko",
    "contact": "Jak mamy się z Tobą kontaktować?",
    "contact_hint": "Wybierz jeden sposób i podaj poniżej potrzebne dane. Pozostałe dane są opcjonalne.",
    "contact_email": "E-mail",
    "contact_phone": "Telefon",
    "contact_sms": "SMS",
    "contact_post": "List pocztą",
    "email": "Adres e-mail",
    "phone": "Numer telefonu",
    "phone_hint": "Numer komórkowy, jeśli chcesz otrzymywać SMS-y.",
    "address": "Adres pocztowy",
    "postcode": "Kod pocztowy",
    "consent": "Twoja zgoda",
    "consent_text": "Przychodnia {practice} zachowa Twoje imię, nazwisko i dane kontaktowe, aby kontaktować się "
                    "z Tobą w sprawach Grupy Pacjentów: spotkań, pytań i informacji. Nie będą one używane do "
                    "niczego innego ani nikomu przekazywane. W każdej chwili możesz opuścić grupę i poprosić "
                    "o usunięcie swoich danych, kontaktując się z przychodnią.",
    "consent_label": "Zgadzam się na kontakt w sprawach Grupy Pacjentów",
    "about": "O Tobie",
    "about_intro": "Te pytania pomagają przychodni sprawdzić, czy w grupie są różni pacjenci. Nie musisz na nie "
                   "odpowiadać. Nigdy nie pytamy o pełną datę urodzenia.",
    "sex": "Płeć",
    "sex_female": "Kobieta",
    "sex_male": "Mężczyzna",
    "sex_other": "Inna",
    "sex_not_stated": "Wolę nie podawać",
    "birth_year": "Rok urodzenia",
    "birth_year_hint": "Na przykład 1958.",
    "age_band": "Albo Twój przedział wieku",
    "age_band_none": "Wybierz przedział wieku",
    "age_band_<16": "Poniżej 16 lat",
    "age_band_75+": "75 lat lub więcej",
    "ethnic_category": "Pochodzenie etniczne",
    "ethnic_hint": "Wybierz odpowiedź, która najlepiej Cię opisuje.",
    "ethnic_A": "Biała: brytyjska",
    "ethnic_B": "Biała: irlandzka",
    "ethnic_C": "Biała: inne białe pochodzenie",
    "ethnic_D": "Mieszana: biała i czarna karaibska",
    "ethnic_E": "Mieszana: biała i czarna afrykańska",
    "ethnic_F": "Mieszana: biała i azjatycka",
    "ethnic_G": "Mieszana: inne mieszane pochodzenie",
    "ethnic_H": "Azjatycka lub azjatycko-brytyjska: indyjska",
    "ethnic_J": "Azjatycka lub azjatycko-brytyjska: pakistańska",
    "ethnic_K": "Azjatycka lub azjatycko-brytyjska: banglijska",
    "ethnic_L": "Azjatycka lub azjatycko-brytyjska: inne azjatyckie pochodzenie",
    "ethnic_M": "Czarna lub czarna brytyjska: karaibska",
    "ethnic_N": "Czarna lub czarna brytyjska: afrykańska",
    "ethnic_P": "Czarna lub czarna brytyjska: inne czarne pochodzenie",
    "ethnic_R": "Chińska",
    "ethnic_S": "Inna grupa etniczna",
    "ethnic_Z": "Wolę nie podawać",
    "carer": "Czy opiekujesz się kimś, kto potrzebuje pomocy z powodu choroby, niepełnosprawności lub wieku (czy jesteś opiekunem)?",
    "carer_yes": "Tak",
    "carer_no": "Nie",
    "monitoring_consent_label": "Zgadzam się, aby przychodnia zachowała moje odpowiedzi o mnie, by sprawdzić, "
                                "czy w grupie są różni pacjenci",
    "submit": "Poproś o dołączenie",
    "honeypot": "Zostaw to pole puste",
    "thanks_title": "Dziękujemy",
    "thanks_body": "Otrzymaliśmy Twoją prośbę o dołączenie do Grupy Pacjentów przychodni {practice}. Ktoś z "
                   "przychodni potwierdzi Twoje miejsce i skontaktuje się z Tobą w wybrany sposób.",
    "not_found_title": "Nie możemy znaleźć tej przychodni",
    "not_found_body": "Sprawdź link lub kod na plakacie albo w liście. Jeśli nadal nie działa, zapytaj w przychodni.",
    "slow_title": "Prosimy chwilę poczekać",
    "slow_body": "Otrzymaliśmy wiele próśb z tego połączenia. Spróbuj ponownie za {minutes} min.",
    "err_expired": "Formularz był otwarty zbyt długo lub nie został wysłany z tej strony. Sprawdź odpowiedzi i wyślij je ponownie",
    "err_first_name": "Wpisz swoje imię",
    "err_last_name": "Wpisz swoje nazwisko",
    "err_name_chars": "Używaj tylko liter, spacji, łączników i apostrofów",
    "err_too_long": "Wpisz najwyżej {max} znaków",
    "err_participation": "Wybierz, jak chcesz uczestniczyć",
    "err_contact": "Wybierz, jak mamy się z Tobą kontaktować",
    "err_email_missing": "Wpisz adres e-mail albo wybierz inny sposób kontaktu",
    "err_email": "Wpisz adres e-mail w poprawnej formie, np. imie@example.com",
    "err_phone_missing": "Wpisz numer telefonu albo wybierz inny sposób kontaktu",
    "err_phone": "Wpisz numer telefonu, np. 01632 960 001 lub 07700 900 982",
    "err_address_missing": "Wpisz adres pocztowy albo wybierz inny sposób kontaktu",
    "err_address": "Wpisz adres bez znaków specjalnych na początku",
    "err_postcode": "Wpisz prawdziwy kod pocztowy, np. AB1 2CD",
    "err_consent": "Zaznacz pole zgody na kontakt: bez niej nie możemy dodać Cię do grupy",
    "err_sex": "Wybierz jedną z podanych odpowiedzi",
    "err_birth_year": "Wpisz rok urodzenia jako 4 cyfry, np. 1958",
    "err_birth_year_future": "Rok urodzenia nie może być późniejszy niż bieżący rok",
    "err_birth_year_past": "Wpisz prawdziwy rok urodzenia, np. 1958",
    "err_age_band": "Wybierz jeden z podanych przedziałów wieku",
    "err_age_mismatch": "Rok urodzenia i przedział wieku do siebie nie pasują: podaj jedno z nich lub je popraw",
    "err_ethnic": "Wybierz jedną z podanych grup etnicznych",
    "err_carer": "Wybierz tak lub nie",
    "err_monitoring_consent": "Zaznacz pole, aby przychodnia mogła zachować Twoje odpowiedzi o Tobie, albo zostaw te pytania puste",
}

WORDS = {"en": ENGLISH, "pl": POLISH}
LANGUAGE_NAMES = {"en": "English", "pl": "Polski"}


def words(lang: str) -> dict[str, str]:
    return WORDS.get(lang, ENGLISH)


# --- the anti-forgery token -------------------------------------------------------------------------------

_PROCESS_KEY = secrets.token_bytes(32)


def _key() -> bytes:
    secret = get_settings().form_secret
    return secret.encode() if secret else _PROCESS_KEY


def _signature(ods_code: str, nonce: str, issued: int) -> str:
    mac = hmac.new(_key(), f"join|{ods_code}|{nonce}|{issued}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def form_token(ods_code: str, nonce: str, now: float | None = None) -> str:
    """The hidden field's value: when it was issued, and the HMAC binding it to the practice and nonce."""
    issued = int(time.time() if now is None else now)
    return f"{issued}.{_signature(ods_code, nonce, issued)}"


def token_is_valid(ods_code: str, nonce: str | None, token: str | None, now: float | None = None) -> bool:
    if not nonce or not token or len(token) > 100 or len(nonce) > 100:
        return False
    issued_text, _, signature = token.partition(".")
    if not issued_text.isdigit():
        return False
    issued, now = int(issued_text), time.time() if now is None else now
    if not (now - TOKEN_LIFETIME_SECONDS <= issued <= now + 60):
        return False
    return hmac.compare_digest(signature.encode(), _signature(ods_code, nonce, issued).encode())


def _nonce_cookie(request: Request, nonce: str) -> Cookie:
    setting = get_settings().cookie_secure
    secure = request.url.scheme == "https" if setting == "auto" else setting == "true"
    return Cookie(key=CSRF_COOKIE, value=nonce, httponly=True, samesite="strict", secure=secure, path="/join",
                  max_age=TOKEN_LIFETIME_SECONDS)


# --- reading and checking the form ------------------------------------------------------------------------


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def read_form(form: Any) -> dict[str, str]:
    """The posted answers as text, as they will be shown back on the form."""
    names = ("participation", "first_name", "last_name", "preferred_contact", "email", "phone", "address",
             "postcode", "consent", "sex", "birth_year", "age_band", "ethnic_category", "carer",
             "monitoring_consent")
    answers = {name: _text(form, name) for name in names}
    answers["address"] = answers["address"].replace("\r\n", "\n").replace("\r", "\n")
    return answers


def check_answers(answers: dict[str, str], lang: str, today: date | None = None
                  ) -> tuple[dict[str, Any], list[ErrorDetail]]:
    """(member values, errors) for the posted answers. Errors name the field and speak to the patient."""
    today = today or date.today()
    w = words(lang)
    errors: list[ErrorDetail] = []

    def fail(field: str, key: str, **extra: Any) -> None:
        if not any(e.field == field for e in errors):
            errors.append(ErrorDetail(w[key].format(**extra), field=field))

    for field, limit in FIELD_LIMITS.items():
        if len(answers[field]) > limit:
            fail(field, "err_too_long", max=limit)
    if answers["participation"] not in PARTICIPATION:
        fail("participation", "err_participation")
    for field in ("first_name", "last_name"):
        value = answers[field]
        if not value:
            fail(field, f"err_{field}")
        elif not NAME.match(value):
            fail(field, "err_name_chars")

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
    monitoring = answers["monitoring_consent"] == "yes"
    if any(telling) and not monitoring:
        fail("monitoring_consent", "err_monitoring_consent")

    values = {
        "first_name": answers["first_name"], "last_name": answers["last_name"], "email": answers["email"],
        "phone": answers["phone"], "address": answers["address"], "postcode": answers["postcode"].upper(),
        "preferred_contact": method or None, "participation": answers["participation"] or "virtual",
        "status": "invited", "sex": answers["sex"] or "not_known", "birth_year": birth_year,
        "age_band": band, "ethnic_category": answers["ethnic_category"] or "99",
        "characteristics": {"carer": answers["carer"]} if answers["carer"] else {},
    }
    if not errors:  # the register's own bounds and rules, as a last line (messages already cover them)
        try:
            msgspec.convert({k: v for k, v in values.items() if v is not None}, schemas.MemberIn)
        except msgspec.ValidationError as exc:
            field = re.search(r"\$\.(\w+)", str(exc))
            errors.append(ErrorDetail(w["err_address"] if field and field.group(1) == "address" else str(exc),
                                      field=field.group(1) if field else None))
        errors += [ErrorDetail(e.message, field=e.field) for e in rule_errors(values, today)]
    return values, errors


def _band_fits(band: str, age_at_birthday: int) -> bool:
    """Whether someone born in a year, aged `age_at_birthday` or one less this year, can be in the band."""
    ages = {age_at_birthday - 1, age_at_birthday}
    if band.startswith("<"):
        return min(ages) < int(band[1:])
    if band.endswith("+"):
        return max(ages) >= int(band[:-1])
    low, high = (int(x) for x in band.split("-"))
    return any(low <= a <= high for a in ages)


# --- the use case ------------------------------------------------------------------------------------------


async def practice_for_signup(ods_code: str) -> dict[str, Any] | None:
    """The practice a sign-up link names, or None (also for codes that cannot be ODS codes)."""
    if not ODS_CODE.match(ods_code):
        return None
    return await Practice.select(Practice.id, Practice.ods_code, Practice.name).where(
        Practice.ods_code == ods_code.upper()).first()


async def sign_up(practice_id: int, values: dict[str, Any], channel: str, *, monitoring_consent: bool) -> int:
    """Add an `invited` member with their consent(s), audited, in one transaction; returns the member's id."""
    data = msgspec.convert({**values, "recruitment_channel": channel}, schemas.MemberIn)
    for attempt in range(5):
        try:
            async with write_transaction():
                [reference] = await _next_references(practice_id, 1)
                member = _row_for_insert(practice_id, data, reference)
                await Member.insert(member)
                now = utcnow()
                consents = [("prg_contact", CONTACT_WORDING_VERSION)]
                if monitoring_consent:
                    consents.append(("monitoring", MONITORING_WORDING_VERSION))
                for purpose, version in consents:
                    await Consent.insert(Consent(member=member.id, practice=practice_id, purpose=purpose,
                                                 given_at=now, method="web", wording_version=version))
                await record("member.self_signup", None, practice_id=practice_id, entity="member",
                             entity_id=member.id, details={"channel": channel, "participation": data.participation,
                                                           "consents": [p for p, _ in consents]})
            return member.id
        except Exception as exc:
            # Two sign-ups at once can pick the same next reference (PostgreSQL reads committed data):
            # the unique index refuses the second, which tries again with the next number.
            if attempt == 4 or not any(word in type(exc).__name__ for word in ("Unique", "Integrity")):
                raise
    raise AssertionError("unreachable")


# --- the pages -----------------------------------------------------------------------------------------------


def choose_language(request: Request, asked: object) -> str:
    if asked in LANGUAGES:
        return str(asked)
    header = request.headers.get("accept-language", "")
    tags = [part.split(";")[0].strip() for part in header.split(",")[:20] if part.strip()]
    found = negotiate_locale([t for t in tags if t != "*"], list(LANGUAGES), sep="-")
    return found.lower() if found else "en"


def channel_of(via: object) -> str:
    return str(via) if via in CHANNELS else DEFAULT_CHANNEL


def page(template: str, lang: str, status: int = 200, cookies: list[Cookie] | None = None,
         **context: Any) -> Response[str]:
    html = environment().get_template(template).render(lang=lang, t=words(lang), **context)
    return Response(html, media_type="text/html", status_code=status, cookies=cookies or [],
                    headers={"cache-control": "no-store"})


def message(kind: str, lang: str, status: int, practice: str = "", **extra: Any) -> Response[str]:
    w = words(lang)
    return page("join_message.html", lang, status, title=w[f"{kind}_title"],
                body=w[f"{kind}_body"].format(practice=practice, **extra), practice=practice)


def _client_key(request: Request, ods_code: str) -> str:
    return f"{ods_code}|{request.client.host if request.client else ''}"


def _limiter(request: Request) -> RateLimiter:
    settings = get_settings()
    return app_limiter(request.app.state, "join", settings.join_requests_per_hour, 3600, settings.rate_limit_redis_url)


class JoinController(Controller):
    """GET shows the form, POST sends it, /thanks confirms. Public: no account, no JavaScript."""

    path = "/join"
    include_in_schema = False
    opt = {"exclude_from_auth": True}

    def _form(self, request: Request, practice: dict[str, Any], lang: str, channel: str, answers: dict[str, str],
              errors: list[ErrorDetail], status: int) -> Response[str]:
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{22,64}", nonce):
            nonce = secrets.token_urlsafe(24)
        error_for: dict[str, str] = {}
        for error in errors:
            error_for.setdefault(error.field or "", error.message)
        w = words(lang)
        return page(
            "join_form.html", lang, status, cookies=[_nonce_cookie(request, nonce)],
            practice=practice["name"], ods=practice["ods_code"], via=channel, answers=answers, errors=errors,
            error_for=error_for, token=form_token(practice["ods_code"], nonce), csrf_field=CSRF_FIELD,
            honeypot=HONEYPOT, languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES if code != lang],
            participation=[(p, w[f"participation_{p}"]) for p in PARTICIPATION],
            contact_methods=[(m, w[f"contact_{m}"]) for m in CONTACT_METHODS],
            sexes=[(s, w[f"sex_{s}"]) for s in SEXES],
            age_bands=[(b, w.get(f"age_band_{b}", b)) for b in AGE_BANDS],
            ethnic_groups=[(c, w[f"ethnic_{c}"]) for c in ETHNIC_CODES],
            carer=[(c, w[f"carer_{c}"]) for c in CARER],
        )

    @get("/{ods_code:str}")
    async def show(self, request: Request, ods_code: FromPath[str]) -> Response[str]:
        lang = choose_language(request, request.query_params.get("lang"))
        practice = await practice_for_signup(ods_code)
        if practice is None:
            return message("not_found", lang, 404)
        empty = dict.fromkeys(read_form({}), "")
        return self._form(request, practice, lang, channel_of(request.query_params.get("via")), empty, [], 200)

    @post("/{ods_code:str}", status_code=200, request_max_body_size=MAX_BODY_BYTES)
    async def send(self, request: Request, ods_code: FromPath[str]) -> Response:
        lang = choose_language(request, request.query_params.get("lang"))
        practice = await practice_for_signup(ods_code)
        if practice is None:
            return message("not_found", lang, 404)
        wait = await _limiter(request).acquire(_client_key(request, practice["ods_code"]))
        if wait is not None:
            response = message("slow", lang, 429, practice=practice["name"], minutes=max(1, wait // 60))
            response.headers["retry-after"] = str(wait)
            return response
        form = await request.form()
        lang = choose_language(request, form.get("_lang"))
        channel = channel_of(form.get("_via"))
        answers = read_form(form)
        if not token_is_valid(practice["ods_code"], request.cookies.get(CSRF_COOKIE), _text(form, CSRF_FIELD)):
            log.info("PRG sign-up form for %s refused: missing, forged or expired token", practice["ods_code"])
            expired = [ErrorDetail(words(lang)["err_expired"], field="send")]
            return self._form(request, practice, lang, channel, answers, expired, 403)
        thanks = Redirect(f"/join/{practice['ods_code']}/thanks?lang={lang}", status_code=303)
        if form.get(HONEYPOT):  # only bots fill the hidden box: they are thanked, and nothing is stored
            log.info("PRG sign-up form for %s: honeypot filled, nothing stored", practice["ods_code"])
            return thanks
        values, errors = check_answers(answers, lang)
        if errors:
            return self._form(request, practice, lang, channel, answers, errors, 422)
        member_id = await sign_up(practice["id"], values, channel,
                                  monitoring_consent=answers["monitoring_consent"] == "yes")
        log.info("PRG sign-up for %s: member %s invited (channel %s)", practice["ods_code"], member_id, channel)
        return thanks

    @get("/{ods_code:str}/thanks")
    async def thanks(self, request: Request, ods_code: FromPath[str]) -> Response[str]:
        lang = choose_language(request, request.query_params.get("lang"))
        practice = await practice_for_signup(ods_code)
        if practice is None:
            return message("not_found", lang, 404)
        return message("thanks", lang, 200, practice=practice["name"])
