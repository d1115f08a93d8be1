"""The Local Patient Participation Report in a real Chromium: opened from the file a practice would put on
its website, with every network request refused (it must need none), checked with axe-core (zero serious
or critical violations) and kept as a screenshot in tests/artifacts/."""

from __future__ import annotations

from playwright.async_api import async_playwright

from tests.browser.chromium import ARGS, CHROMIUM, artifact, needs_chromium, serious_violations
from tests.integration.test_exports_report import BASE, full_year

pytestmark = needs_chromium


async def test_the_report_is_self_contained_and_accessible(client, manager, tmp_path):
    await full_year(client, manager)
    empty = await client.get(f"{BASE}/exports/participation-report.html", headers=manager.headers, params={"year": "2011-12"})
    full = await client.get(f"{BASE}/exports/participation-report.html", headers=manager.headers, params={"year": "2012-13"})
    assert full.status_code == empty.status_code == 200
    requested: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page()

        async def refuse(route) -> None:
            if not route.request.url.startswith("file://"):
                requested.append(route.request.url)
                await route.abort()
            else:
                await route.continue_()

        await page.route("**/*", refuse)
        for name, response in (("report-2012-13", full), ("report-2011-12-missing", empty)):
            path = tmp_path / f"{name}.html"
            path.write_bytes(response.content)
            await page.goto(path.as_uri())
            assert await page.get_attribute("html", "lang") == "en-GB"
            if name == "report-2012-13":
                assert await page.locator("svg[role=img]").count() == 2
            else:
                assert await page.locator("p.missing").count() >= 5
            assert await page.locator("h2").count() >= 11
            assert await serious_violations(page) == [], name
            screenshot = artifact(f"{name}.png")
            await page.screenshot(path=screenshot, full_page=True)
            assert screenshot.stat().st_size > 10_000
        await browser.close()
    assert requested == []  # nothing outside the file was fetched: no fonts, scripts, images or styles
