"""What every browser test shares: Debian's Chromium (test tools cannot download browsers here), launched
headless as root with nothing reaching out to the network; axe-core's serious and critical findings; moving
the focus with the Tab key as a keyboard user would; signing in to `prg demo` as its manager. Screenshots
land in tests/artifacts/ (ignored by git) for a person to look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
# Skipped on a machine without Chromium, but never on CI (.ci/run installs it; CI=true is set there).
needs_chromium = pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"),
                                    reason="needs Debian's chromium (apt-get install chromium)")


def artifact(name: str) -> Path:
    """Where a screenshot called `name` is kept."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


async def serious_violations(page) -> list[str]:
    results = await Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


async def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has the focus, as a keyboard user would."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"could not reach {selector} with the Tab key")


def sign_in(http: httpx.Client, password: str) -> dict[str, str]:
    """Sign in as the demo practice's manager; the headers an unsafe request then needs."""
    csrf = http.post("/api/auth/login", json={"email": "manager@y90001.example.org",
                                               "password": password}).json()["csrf_token"]
    return {"X-CSRF-Token": csrf}
