"""Self sign-up at /join/{ods_code} (issue 7, item 5), through HTTP as a patient's browser sends it:
the form, the invited member staff then see and confirm, bad input shown back beside each field with
nothing stored, the anti-forgery token, the honeypot, the rate limit, tenancy and quiet logs."""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import re
import time
from datetime import date

import pytest
from markupsafe import escape

from prg.accounts.audit.tables import AuditEvent
from prg.members import signup
from prg.members.public_pages import GUARD, MAX_BODY_BYTES
from prg.members.tables import Consent, Member
from prg.pages import catalogue

BASE = "/api/practices/Y90001/members"
ZOFIA = {
    "participation": "virtual", "first_name": "Zofia", "last_name": "Nowak-O'Brien", "preferred_contact": "email",
    "email": "zofia.nowak@example.org", "phone": "07700 900 982", "address": "3 Rowan Court\r\nExampleton",
    "postcode": "rv1 2ab", "consent": "yes", "sex": "female", "birth_year": "1961", "age_band": "",
    "ethnic_category": "C", "carer": "yes", "monitoring_consent": "yes",
}


async def open_form(client, path: str = "/join/Y90001") -> tuple[object, dict[str, str]]:
    """GET the form as a browser does; returns the page and its hidden fields."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    return page, {k: html.unescape(v) for k, v in hidden.items()}


async def send(client, answers: dict[str, str], path: str = "/join/Y90001", **overrides: str):
    _, hidden = await open_form(client, path)
    return await client.post(path, data={**hidden, **answers, **overrides})


async def stored() -> tuple[int, int, int]:
    return await Member.count(), await Consent.count(), await AuditEvent.count()


def error_beside(page: str, field: str) -> str:
    found = re.search(rf'<span class="error-message" id="{field}-error">(.*?)</span>\s*</span>|'
                      rf'<span class="error-message" id="{field}-error"><span class="visually-hidden">[^<]*</span>([^<]*)</span>',
                      page)
    assert found, f"no error beside {field}"
    return html.unescape(found.group(2) or found.group(1)).strip()


async def test_a_patient_joins_and_staff_confirm_them(client, manager):
    page, hidden = await open_form(client)
    text = page.text
    assert "Join our Patient Reference Group" in text and "Test Surgery" in text
    assert 'autocomplete="given-name"' in text and 'autocomplete="email"' in text and 'autocomplete="postal-code"' in text
    assert "<legend>Ethnic group (optional)</legend>" in text and "Prefer not to say" in text
    assert "will keep your name and contact details" in text  # the consent wording is on the page
    assert "<script" not in text  # works without JavaScript: there is none
    assert set(hidden) == {"_csrf", "_lang", "_via"} and hidden["_via"] == "website"
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("prg_join=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" in cookie and "Path=/join" in cookie

    sent = await client.post("/join/Y90001", data={**hidden, **ZOFIA})
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == "/join/Y90001/thanks?lang=en"
    thanks = await client.get(sent.headers["location"])
    assert thanks.status_code == 200 and "Thank you" in thanks.text and "Test Surgery" in thanks.text

    invited = (await client.get(BASE, headers=manager.headers, params={"status": "invited"})).json()
    assert invited["total"] == 1
    member = (await client.get(f"{BASE}/{invited['items'][0]['id']}", headers=manager.headers)).json()
    assert {k: member[k] for k in ("reference", "first_name", "last_name", "email", "phone", "address", "postcode",
                                   "preferred_contact", "participation", "status", "recruitment_channel", "sex",
                                   "birth_year", "age_band", "ethnic_category", "characteristics", "joined_on")} == {
        "reference": "PRG-0001", "first_name": "Zofia", "last_name": "Nowak-O'Brien",
        "email": "zofia.nowak@example.org", "phone": "07700 900 982", "address": "3 Rowan Court\nExampleton",
        "postcode": "RV1 2AB", "preferred_contact": "email", "participation": "virtual", "status": "invited",
        "recruitment_channel": "website", "sex": "female", "birth_year": 1961, "age_band": "",
        "ethnic_category": "C", "characteristics": {"carer": "yes"}, "joined_on": None,
    }
    consents = {c["purpose"]: c for c in member["consents"]}
    assert set(consents) == {"prg_contact", "monitoring"}
    assert consents["prg_contact"]["method"] == "web" and consents["prg_contact"]["active"]
    assert consents["prg_contact"]["wording_version"] == signup.CONTACT_WORDING_VERSION
    assert consents["monitoring"]["wording_version"] == signup.MONITORING_WORDING_VERSION
    audit = (await client.get("/api/practices/Y90001/audit", headers=manager.headers)).json()
    assert "member.self_signup" in {e["action"] for e in audit["items"]}

    today = date.today().isoformat()
    confirmed = await client.patch(f"{BASE}/{member['id']}", headers=manager.headers,
                                   json={"status": "active", "joined_on": today})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "active" and confirmed.json()["joined_on"] == today
    assert (await client.get(BASE, headers=manager.headers, params={"status": "invited"})).json()["total"] == 0
    active = (await client.get(BASE, headers=manager.headers, params={"status": "active", "channel": "website"})).json()
    assert [m["first_name"] for m in active["items"]] == ["Zofia"]


async def test_patients_joining_at_the_same_moment_each_get_their_own_reference(client, manager):
    _, hidden = await open_form(client)
    names = ["Ada", "Bea", "Cy", "Dot", "Eve", "Fay"]
    sent = await asyncio.gather(*[client.post("/join/Y90001", data={**hidden, **ZOFIA, "first_name": name})
                                  for name in names])
    assert [r.status_code for r in sent] == [303] * len(names)
    members = (await client.get(BASE, headers=manager.headers, params={"limit": 50})).json()["items"]
    assert sorted(m["first_name"] for m in members) == names
    assert sorted(m["reference"] for m in members) == [f"PRG-{n:04d}" for n in range(1, len(names) + 1)]
    assert await Consent.count() == 2 * len(names)


async def test_the_pages_carry_the_security_headers(client, manager):
    for response in [await client.get("/join/Y90001"), await send(client, ZOFIA, consent=""),
                     await client.get("/join/Y90001/thanks"), await client.get("/join/Y99999")]:
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"  # personal answers are not cached


async def test_only_contact_details_and_consent_are_needed(client, manager):
    minimal = {"participation": "core", "first_name": "Tomasz", "last_name": "Lee", "preferred_contact": "post",
               "address": "9 Elm Row, Exampleton", "consent": "yes"}
    assert (await send(client, minimal)).status_code == 303
    [member] = (await client.get(BASE, headers=manager.headers)).json()["items"]
    assert member["participation"] == "core" and member["preferred_contact"] == "post"
    assert (member["sex"], member["birth_year"], member["ethnic_category"], member["characteristics"]) == (
        "not_known", None, "99", {})
    full = (await client.get(f"{BASE}/{member['id']}", headers=manager.headers)).json()
    assert [c["purpose"] for c in full["consents"]] == ["prg_contact"]  # no monitoring consent was given


@pytest.mark.parametrize("via, channel", [("poster", "poster"), ("leaflet", "leaflet"), ("letter", "letter"),
                                          ("nonsense", "website"), ("<b>", "website")])
async def test_the_link_a_patient_followed_sets_the_recruitment_channel(client, manager, via, channel):
    page, hidden = await open_form(client, f"/join/Y90001?via={via}")
    assert hidden["_via"] == channel
    assert (await client.post("/join/Y90001", data={**hidden, **ZOFIA})).status_code == 303
    [member] = (await client.get(BASE, headers=manager.headers)).json()["items"]
    assert member["recruitment_channel"] == channel


BAD = [
    ("missing consent", {"consent": ""}, "consent", "Tick the box to agree to be contacted"),
    ("no contact method", {"preferred_contact": ""}, "preferred_contact", "Choose how we should contact you"),
    ("no e-mail for e-mail contact", {"email": ""}, "email", "Enter your e-mail address, or choose another way"),
    ("bad e-mail", {"email": "zofia at example"}, "email", "Enter an e-mail address in the correct format"),
    ("no address for post", {"preferred_contact": "post", "address": ""}, "address", "Enter your postal address"),
    ("bad phone", {"phone": "call me"}, "phone", "Enter a phone number"),
    ("bad postcode", {"postcode": "XYZ"}, "postcode", "Enter a real postcode"),
    ("birth year in the future", {"birth_year": str(date.today().year + 1)}, "birth_year",
     "must be this year or earlier"),
    ("birth year not a year", {"birth_year": "61"}, "birth_year", "Enter your year of birth as 4 numbers"),
    ("age band and birth year disagree", {"age_band": "16-24"}, "age_band", "do not match"),
    ("unknown ethnic code", {"ethnic_category": "X"}, "ethnic_category", "Choose one of the ethnic groups given"),
    ("not-known code is not a choice", {"ethnic_category": "99"}, "ethnic_category", "Choose one of the ethnic"),
    ("unknown sex", {"sex": "robot"}, "sex", "Choose one of the answers given"),
    ("characteristics without their consent", {"monitoring_consent": ""}, "monitoring_consent",
     "Tick the box to let the practice keep your answers"),
    ("script in first name", {"first_name": "<script>alert(1)</script>"}, "first_name", "Use only letters"),
    ("script in last name", {"last_name": '"><img src=x onerror=alert(1)>'}, "last_name", "Use only letters"),
    ("missing name", {"first_name": ""}, "first_name", "Enter your first name"),
    ("name too long", {"last_name": "A" * 101}, "last_name", "Enter 100 characters or fewer"),
    ("formula in address", {"address": "=HYPERLINK(\"http://x\")"}, "address", "without special characters"),
    ("no way to take part", {"participation": "sometimes"}, "participation", "Choose how you would like to take part"),
]


@pytest.mark.parametrize("case, change, field, message", BAD, ids=[b[0] for b in BAD])
async def test_bad_input_is_shown_beside_the_field_and_nothing_is_stored(client, manager, case, change, field,
                                                                         message):
    before = await stored()
    response = await send(client, ZOFIA, **change)
    assert response.status_code == 422, response.text
    assert message in error_beside(response.text, field)
    assert f'<a href="#{field}">' in response.text  # the summary links to the field
    assert re.search(rf'id="{field}"', response.text)  # ... which exists
    assert "There is a problem" in response.text
    assert await stored() == before
    # What the patient typed comes back, escaped: never markup.
    assert "<script>alert" not in response.text and "<img src=x" not in response.text
    if "script" in case:
        value = change.get("first_name") or change.get("last_name")
        assert f'value="{escape(value)}"' in response.text  # as Jinja escapes it
    assert 'value="zofia.nowak@example.org"' in response.text or field == "email"


async def test_a_fixed_form_is_then_accepted(client, manager):
    first = await send(client, ZOFIA, consent="")
    assert first.status_code == 422
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', first.text))
    again = await client.post("/join/Y90001", data={**hidden, **ZOFIA})
    assert again.status_code == 303
    assert await Member.count() == 1


async def test_a_missing_forged_or_expired_token_is_refused_and_nothing_stored(client, manager):
    _, hidden = await open_form(client)
    nonce = client.cookies.get("prg_join")
    assert nonce
    before = await stored()
    forged_issued = int(time.time())
    attempts = {
        "missing token": {**ZOFIA, "_lang": "en"},
        "forged token": {**ZOFIA, "_csrf": f"{forged_issued}.{'A' * 43}"},
        "expired token": {**ZOFIA, "_csrf": GUARD.token("Y90001", nonce, now=time.time() - 5 * 3600)},
        "another practice's token": {**ZOFIA, "_csrf": GUARD.token("Y90002", nonce)},
        "token from the future": {**ZOFIA, "_csrf": GUARD.token("Y90001", nonce, now=time.time() + 3600)},
    }
    for name, data in attempts.items():
        response = await client.post("/join/Y90001", data=data)
        assert response.status_code == 403, name
        assert "was open too long or was not sent from this page" in response.text, name
        assert 'value="Zofia"' in response.text  # the patient's answers are kept, to send again
    # A valid token without the browser's cookie (another site posting a copied form) is refused too.
    client.cookies.clear()
    response = await client.post("/join/Y90001", data={**hidden, **ZOFIA})
    assert response.status_code == 403
    assert await stored() == before
    # The refused page carries a fresh token (and cookie): the patient sends again, and it works.
    refreshed = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', response.text))
    assert (await client.post("/join/Y90001", data={**refreshed, **ZOFIA})).status_code == 303
    assert await Member.count() == 1


async def test_a_multipart_or_json_body_is_refused_like_a_missing_token(client, manager):
    _, hidden = await open_form(client)
    before = await stored()
    multipart = await client.post("/join/Y90001", data={**ZOFIA, "_lang": "en"},
                                  files={"_csrf": ("token.txt", hidden["_csrf"].encode())})
    assert multipart.status_code == 403
    as_json = await client.post("/join/Y90001", json={**hidden, **ZOFIA})
    assert as_json.status_code == 403
    assert await stored() == before


async def test_the_signed_token_is_checked_exactly():
    now = 1_800_000_000
    token = GUARD.token("Y90001", "nonce-abcdefghijklmnopqrstuv", now=now)
    assert GUARD.is_valid("Y90001", "nonce-abcdefghijklmnopqrstuv", token, now=now + 60)
    assert not GUARD.is_valid("Y90001", "nonce-abcdefghijklmnopqrstuvX", token, now=now + 60)
    assert not GUARD.is_valid("Y90002", "nonce-abcdefghijklmnopqrstuv", token, now=now + 60)
    assert not GUARD.is_valid("Y90001", "nonce-abcdefghijklmnopqrstuv", token, now=now + GUARD.lifetime + 1)
    assert not GUARD.is_valid("Y90001", "nonce-abcdefghijklmnopqrstuv", token[:-1] + "x", now=now)


async def test_a_configured_secret_signs_tokens(configure):
    configure(form_secret="one-secret")
    token = GUARD.token("Y90001", "n" * 24)
    assert GUARD.is_valid("Y90001", "n" * 24, token)
    configure(form_secret="another-secret")
    assert not GUARD.is_valid("Y90001", "n" * 24, token)


async def test_the_honeypot_thanks_bots_and_stores_nothing(client, manager):
    before = await stored()
    response = await send(client, ZOFIA, website="http://spam.example")
    assert response.status_code == 303 and response.headers["location"].endswith("/thanks?lang=en")
    assert await stored() == before


async def test_too_many_sends_from_one_address_get_a_wait_page(client, manager, configure, make_practice):
    configure(join_requests_per_hour=2)
    assert (await send(client, ZOFIA, consent="")).status_code == 422  # errors count too
    assert (await send(client, ZOFIA)).status_code == 303
    before = await stored()
    third = await send(client, ZOFIA)
    assert third.status_code == 429
    assert "Please wait a moment" in third.text and int(third.headers["retry-after"]) > 0
    assert await stored() == before
    # Another practice's form is counted apart.
    await make_practice("Y90002", "Other Surgery")
    assert (await send(client, ZOFIA, path="/join/Y90002")).status_code == 303


async def test_a_body_over_the_form_limit_is_refused(client, manager):
    _, hidden = await open_form(client)
    before = await stored()
    response = await client.post("/join/Y90001", data={**hidden, **ZOFIA, "address": "x" * MAX_BODY_BYTES})
    assert response.status_code == 413
    assert await stored() == before


async def test_each_practice_gets_its_own_members(client, manager, make_practice, make_staff):
    await make_practice("Y90002", "Second Street Surgery")
    other = await make_staff("Y90002", "manager")
    page, _ = await open_form(client, "/join/y90002")  # codes are case-insensitive
    assert "Second Street Surgery" in page.text and "Test Surgery" not in page.text
    assert (await send(client, ZOFIA, path="/join/Y90002")).status_code == 303
    assert (await client.get(BASE, headers=manager.headers)).json()["total"] == 0
    theirs = (await client.get("/api/practices/Y90002/members", headers=other.headers)).json()
    assert theirs["total"] == 1 and theirs["items"][0]["status"] == "invited"
    assert (await client.get("/api/practices/Y90002/members", headers=manager.headers)).status_code == 404


@pytest.mark.parametrize("path", ["/join/Y99999", "/join/NOPE!", "/join/" + "A" * 40, "/join/Y99999/thanks"])
async def test_an_unknown_practice_gets_a_polite_page(client, manager, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "We cannot find this practice" in response.text
    before = await stored()
    posted = await client.post(path.removesuffix("/thanks"), data=ZOFIA)
    assert posted.status_code in (404, 405)
    assert await stored() == before


async def test_the_form_speaks_polish(client, manager):
    page, hidden = await open_form(client, "/join/Y90001?lang=pl")
    assert '<html lang="pl" dir="ltr">' in page.text and "Dołącz do naszej Grupy Pacjentów" in page.text
    assert hidden["_lang"] == "pl"
    response = await client.post("/join/Y90001", data={**hidden, **ZOFIA, "email": "zła"})
    assert response.status_code == 422
    assert "Wpisz adres e-mail w poprawnej formie" in error_beside(response.text, "email")
    browser = await client.get("/join/Y90001", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert '<html lang="pl" dir="ltr">' in browser.text
    rather_english = await client.get("/join/Y90001", headers={"Accept-Language": "pl;q=0.3,en;q=0.9"})
    assert '<html lang="en" dir="ltr">' in rather_english.text  # the browser's q-values count
    ok = await client.post("/join/Y90001", data={**hidden, **ZOFIA})
    assert ok.headers["location"] == "/join/Y90001/thanks?lang=pl"
    assert "Dziękujemy" in (await client.get(ok.headers["location"])).text


def test_the_consent_wording_goes_with_its_version():
    """The wording a patient agrees to is recorded by its version: changing it in a language (prg/locales)
    fails here until the version strings in prg/members/signup.py change too (then update the digests).
    A new language's wording is pinned here when it is added."""
    def digest(lang: str, *keys: str) -> str:
        return hashlib.sha256("\n".join(catalogue().words(lang)(key) for key in keys).encode()).hexdigest()[:16]

    pinned = {(version, lang): digest(lang, *keys) for lang in catalogue().languages for version, keys in (
        (signup.CONTACT_WORDING_VERSION, ("join.consent_text", "join.consent_label")),
        (signup.MONITORING_WORDING_VERSION, ("join.about_intro", "join.monitoring_consent_label")))}
    assert pinned == {
        ("prg-join-contact-2026-11", "en"): "177f23e24fe6a98a",
        ("prg-join-monitoring-2026-11", "en"): "1c8dcd55970af601",
        ("prg-join-contact-2026-11", "pl"): "7186952b408a348b",
        ("prg-join-monitoring-2026-11", "pl"): "e2dc823a618dafd2",
    }


async def test_nothing_personal_reaches_the_logs(client, manager, caplog):
    # Everything the application logs, down to DEBUG, and what libraries log at the default INFO level
    # (database drivers print query parameters at their own DEBUG level, which the app never turns on).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="prg")
    await send(client, ZOFIA, consent="")
    await send(client, ZOFIA)
    await client.post("/join/Y90001", data=ZOFIA)  # no token
    assert "invited" in caplog.text  # the sign-up is logged...
    for personal in ("Zofia", "Nowak", "zofia.nowak", "07700", "Rowan", "RV1", "1961"):
        assert personal not in caplog.text  # ... without anything about the person
