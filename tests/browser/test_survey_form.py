"""The public survey form in a real Chromium (Debian's, driven by Playwright): answered in Polish with
the keyboard alone, and checked with axe-core on every state a patient meets (zero serious or critical
violations). Screenshots land in tests/artifacts/ for a person to look at."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.async_api import async_playwright

from tests.browser.chromium import ARGS, CHROMIUM, artifact, needs_chromium, serious_violations, tab_to
from tests.helpers import DATA

pytestmark = needs_chromium


@pytest.fixture
def published_survey(demo_server):
    base, password, _ = demo_server
    with httpx.Client(base_url=base) as http:
        csrf = http.post("/api/auth/login", json={"email": "manager@y90001.example.org",
                                                   "password": password}).json()["csrf_token"]
        headers = {"X-CSRF-Token": csrf}
        definition = json.loads((DATA / "surveys" / "two_languages.json").read_text())
        survey = http.post("/api/practices/Y90001/surveys", json={"definition": definition}, headers=headers).json()
        http.post(f"/api/practices/Y90001/surveys/{survey['id']}/publish", headers=headers).raise_for_status()
        yield base, survey, http, headers


async def test_a_patient_answers_in_polish_by_keyboard_alone(published_survey):
    base, survey, http, headers = published_survey
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(locale="pl-PL", extra_http_headers={"Accept-Language": "pl-PL,pl;q=0.9"})
        await page.goto(base + survey["link"])
        assert await page.get_attribute("html", "lang") == "pl"
        assert await serious_violations(page) == []
        await page.screenshot(path=artifact("survey-page-1-pl.png"), full_page=True)

        # Continue without answering: the error summary appears and links to the question.
        await tab_to(page, "button[value=next]")
        await page.keyboard.press("Enter")
        await page.wait_for_selector(".error-summary")
        assert "Wybierz odpowiedź" in await page.inner_text(".error-summary")
        assert await serious_violations(page) == []
        await page.screenshot(path=artifact("survey-error-pl.png"), full_page=True)

        await tab_to(page, "#fft-very_good")
        await page.keyboard.press("Space")
        await tab_to(page, "#contact-phone")
        await page.keyboard.press("Space")
        await tab_to(page, "button[value=next]")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("text=Część 2 z 2")
        assert await serious_violations(page) == []

        await tab_to(page, "#clinician-listening-good")
        await page.keyboard.press("Space")
        await tab_to(page, "#clinician-time-good")
        await page.keyboard.press("Space")
        await tab_to(page, "#comment")
        await page.keyboard.type("Bardzo miła obsługa <b>dziękuję</b>")
        await tab_to(page, "button[value=submit]")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("text=Dziękujemy")
        assert await serious_violations(page) == []
        await page.screenshot(path=artifact("survey-thanks-pl.png"), full_page=True)
        await browser.close()

    stored = http.get(f"/api/practices/Y90001/surveys/{survey['id']}/responses", headers=headers).json()
    assert stored["total"] == 1
    answers = stored["items"][0]["answers"]
    assert answers["fft"] == "very_good" and answers["contact"] == ["phone"]
    assert answers["comment"] == "Bardzo miła obsługa <b>dziękuję</b>"  # stored as typed, shown escaped
    assert stored["items"][0]["language"] == "pl"


async def test_a_patient_answers_in_english_with_the_mouse(published_survey):
    base, survey, http, headers = published_survey
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(locale="en-GB")
        await page.goto(base + survey["link"])
        await page.get_by_label("Poor", exact=True).first.check()
        await page.get_by_label("What went wrong?").fill("Waited 40 minutes")  # shown: no JavaScript needed
        await page.get_by_role("button", name="Continue").click()
        await page.get_by_role("group", name="Listening to you").get_by_label("Good").check()
        await page.get_by_role("group", name="Giving you enough time").get_by_label("Poor").check()
        await page.get_by_label("Day").fill("2")
        await page.get_by_label("Month").fill("11")
        await page.get_by_label("Year").fill("2026")
        await page.get_by_role("button", name="Send my answers").click()
        await page.wait_for_selector("text=Your answers have been sent")
        for path in ["/s/no-such-survey", survey["link"] + "?lang=en"]:
            await page.goto(base + path)
            assert await serious_violations(page) == [], path
        await browser.close()
    stored = http.get(f"/api/practices/Y90001/surveys/{survey['id']}/responses", headers=headers).json()
    answers = stored["items"][0]["answers"]
    assert answers == {"fft": "poor", "why_poor": "Waited 40 minutes",
                       "clinician": {"listening": "good", "time": "poor"}, "visit": "2026-11-02"}
    assert stored["items"][0]["language"] == "en"
