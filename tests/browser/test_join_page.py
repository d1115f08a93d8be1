"""The public PRG sign-up page in a real Chromium (Debian's, driven by Playwright), against `prg demo`:
a patient who followed a poster's QR code completes it with the keyboard alone, after first sending it
empty; axe-core finds no serious or critical violation on the empty form, the error state and the
thank-you page (in English and Polish). Screenshots land in tests/artifacts/ for a person to look at."""

from __future__ import annotations

import httpx
from playwright.async_api import async_playwright

from tests.browser.chromium import ARGS, CHROMIUM, artifact, needs_chromium, serious_violations, sign_in, tab_to

pytestmark = needs_chromium


async def test_a_patient_joins_from_a_poster_by_keyboard_alone(demo_server):
    base, password, _ = demo_server
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(locale="en-GB", viewport={"width": 375, "height": 740})  # a phone
        await page.goto(base + "/join/Y90001?via=poster")
        assert await page.title() == "Join our Patient Reference Group - Riverside Example Surgery (demo)"
        assert await serious_violations(page) == []
        await page.screenshot(path=artifact("join-form-en.png"), full_page=True)

        # Sent empty: the error summary lists what is missing, and each link leads to its field.
        await tab_to(page, "#send")
        await page.keyboard.press("Enter")
        await page.wait_for_selector(".error-summary")
        summary = await page.inner_text(".error-summary")
        assert "Enter your first name" in summary and "Tick the box to agree to be contacted" in summary
        assert " ".join((await page.inner_text("#first_name-error")).split()) == "There is a problem: Enter your first name"
        assert await serious_violations(page) == []
        await page.screenshot(path=artifact("join-errors-en.png"), full_page=True)
        await page.click(".error-summary a[href='#first_name']")
        assert await page.evaluate("document.activeElement.id") == "first_name"

        await tab_to(page, "#participation")  # Tab lands on a group's first radio, arrows choose within it
        await page.keyboard.press("ArrowDown")
        await page.keyboard.press("ArrowDown")
        await tab_to(page, "#first_name")
        await page.keyboard.type("Amira")
        await tab_to(page, "#last_name")
        await page.keyboard.type("Hussain-Jones <b>")  # not a name: refused below, and shown as text
        await tab_to(page, "#preferred_contact")
        await page.keyboard.press("ArrowDown")
        await page.keyboard.press("ArrowDown")
        await tab_to(page, "#phone")
        await page.keyboard.type("07700 900 982")
        await tab_to(page, "#consent")
        await page.keyboard.press("Space")
        await tab_to(page, "#birth_year")
        await page.keyboard.type("1979")
        await tab_to(page, "#ethnic_category")
        for _ in range(8):  # arrow keys move through a radio group: A B C D E F G H J -> J, Pakistani
            await page.keyboard.press("ArrowDown")
        await tab_to(page, "#carer")
        await page.keyboard.press("Space")
        await tab_to(page, "#monitoring_consent")
        await page.keyboard.press("Space")
        await tab_to(page, "#send")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#last_name-error")
        assert "Use only letters" in await page.inner_text("#last_name-error")
        assert await page.input_value("#last_name") == "Hussain-Jones <b>"
        assert await page.is_checked("#ethnic_category-J") and await page.is_checked("#preferred_contact-sms")
        assert await page.is_checked("#participation-both")

        await tab_to(page, "#last_name")
        await page.keyboard.press("End")
        for _ in range(4):
            await page.keyboard.press("Backspace")
        await tab_to(page, "#send")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("text=We have your request to join")
        assert await serious_violations(page) == []
        await page.screenshot(path=artifact("join-thanks-en.png"), full_page=True)
        await browser.close()

    with httpx.Client(base_url=base) as http:
        headers = sign_in(http, password)
        invited = http.get("/api/practices/Y90001/members", headers=headers,
                           params={"status": "invited", "q": "Amira"}).json()
        assert invited["total"] == 1
        member = http.get(f"/api/practices/Y90001/members/{invited['items'][0]['id']}", headers=headers).json()
    assert (member["first_name"], member["last_name"], member["phone"], member["preferred_contact"]) == (
        "Amira", "Hussain-Jones", "07700 900 982", "sms")
    assert (member["participation"], member["recruitment_channel"], member["birth_year"],
            member["ethnic_category"], member["characteristics"]) == ("both", "poster", 1979, "J", {"carer": "yes"})
    assert sorted(c["purpose"] for c in member["consents"]) == ["monitoring", "prg_contact"]


async def test_the_polish_page_and_unknown_practice_are_accessible(demo_server):
    base, _, _ = demo_server
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(locale="pl-PL", extra_http_headers={"Accept-Language": "pl-PL,pl;q=0.9"})
        await page.goto(base + "/join/Y90001")
        assert await page.get_attribute("html", "lang") == "pl"
        assert await serious_violations(page) == []
        await page.get_by_role("button", name="Poproś o dołączenie").click()
        await page.wait_for_selector(".error-summary")
        assert "Wpisz swoje imię" in await page.inner_text(".error-summary")
        assert await serious_violations(page) == []
        await page.screenshot(path=artifact("join-errors-pl.png"), full_page=True)
        await page.goto(base + "/join/Y99999")
        assert "Nie możemy znaleźć tej przychodni" in await page.inner_text("h1")
        assert await serious_violations(page) == []
        await browser.close()
