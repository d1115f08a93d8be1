"""The virtual PRG consultation page (/c/{token}) in a real Chromium, against `prg demo`: a member who got
the link by text message answers it with the keyboard alone; axe-core finds no serious or critical
violation on the question, the thank-you page and the page a spent link shows."""

from __future__ import annotations

import csv
import io
from datetime import date

import httpx
from playwright.async_api import async_playwright

from prg.des.scheme_years import year_code_for
from tests.browser.chromium import ARGS, CHROMIUM, artifact, needs_chromium, serious_violations, sign_in, tab_to

pytestmark = needs_chromium


API = "/api/practices/Y90001"
YEAR = year_code_for(date.today())


def consultation_link(base: str, password: str) -> tuple[str, int]:
    """A consented virtual member with a mobile number, a consultation, and the SMS tool's CSV of links."""
    api = API
    with httpx.Client(base_url=base, timeout=30) as http:
        headers = sign_in(http, password)
        member = http.post(f"{api}/members", headers=headers, json={
            "first_name": "Ada", "last_name": "Example", "phone": "07700 900456", "participation": "virtual"})
        assert member.status_code == 201, member.text
        consent = http.post(f"{api}/members/{member.json()['id']}/consents", headers=headers, json={
            "purpose": "prg_contact", "method": "phone", "wording_version": "v1"})
        assert consent.status_code == 201, consent.text
        year = YEAR
        created = http.post(f"{api}/years/{year}/consultations", headers=headers, json={
            "title": "Saturday opening", "question": "Should we open on Saturday mornings, 9 to 12?"})
        assert created.status_code == 201, created.text
        links = http.post(f"{api}/years/{year}/consultations/{created.json()['id']}/sms-links", headers=headers)
        assert links.status_code == 200, links.text
    [row] = [r for r in csv.DictReader(io.StringIO(links.text)) if r["phone"] == "447700900456"]
    return row["link"], created.json()["id"]


async def test_a_member_answers_a_consultation_by_keyboard_alone(demo_server):
    base, password, _ = demo_server
    link, consultation_id = consultation_link(base, password)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(locale="en-GB", viewport={"width": 375, "height": 740})
        await page.goto(link)
        assert "Saturday mornings" in await page.content()
        assert await serious_violations(page) == []
        await page.screenshot(path=artifact("consultation-question.png"), full_page=True)

        await tab_to(page, "#agree")
        await page.keyboard.press("Space")
        await tab_to(page, "#comment")
        await page.keyboard.type("Yes, for people who work in the week.")
        await tab_to(page, "button[type=submit]")
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        assert "thank" in (await page.content()).lower()
        assert await serious_violations(page) == []
        await page.screenshot(path=artifact("consultation-thanks.png"), full_page=True)

        await page.goto(link)  # the link was for one answer
        assert await serious_violations(page) == []
        await page.screenshot(path=artifact("consultation-spent.png"), full_page=True)
        spent = (await page.content()).lower()
        assert "already" in spent or "used" in spent
        await browser.close()
    with httpx.Client(base_url=base, timeout=30) as http:
        headers = sign_in(http, password)
        tally = http.get(f"{API}/years/{YEAR}/consultations/{consultation_id}", headers=headers).json()["tally"]
    assert (tally["answered"], tally["agree"], tally["comments"]) == (1, 1, 1)
