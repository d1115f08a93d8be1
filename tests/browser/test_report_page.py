"""The Local Patient Participation Report in a real Chromium: opened from the file a practice would put on
its website, with every network request refused (it must need none), checked with axe-core (zero serious
or critical violations) and kept as a screenshot beside the test's files."""

from __future__ import annotations

import os
import shutil

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import async_playwright

from tests.integration.test_exports_report import BASE, full_year

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"),
                                reason="needs Debian's chromium (apt-get install chromium)")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


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
            results = await Axe().run(page)
            serious = [f"{v['id']}: {v['help']}" for v in results.response["violations"]
                       if v.get("impact") in ("serious", "critical")]
            assert serious == [], name
            await page.screenshot(path=tmp_path / f"{name}.png", full_page=True)
            assert (tmp_path / f"{name}.png").stat().st_size > 10_000
        await browser.close()
    assert requested == []  # nothing outside the file was fetched: no fonts, scripts, images or styles
