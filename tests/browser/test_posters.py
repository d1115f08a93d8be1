"""Posters and leaflets in a real Chromium: the printable HTML (A4 poster in English, A5 leaflet in Urdu,
right to left) has no serious or critical axe-core violations, and the QR code as Chromium draws it decodes
(zxing-cpp) to the practice's sign-up address. Screenshots land in tests/artifacts/."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
import zxingcpp
from playwright.async_api import async_playwright

from tests.browser.chromium import ARGS, CHROMIUM, artifact, needs_chromium, serious_violations

pytestmark = needs_chromium


# Draw the inline SVG QR code on a canvas as the browser renders it, and hand back its grey pixels.
PIXELS_OF_QR = """async () => {
  const svg = document.querySelector('svg.qr');
  const data = new XMLSerializer().serializeToString(svg);
  const image = new Image();
  image.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(data);
  await image.decode();
  const size = 400;
  const canvas = document.createElement('canvas');
  canvas.width = size; canvas.height = size;
  const context = canvas.getContext('2d');
  context.fillStyle = '#fff'; context.fillRect(0, 0, size, size);
  context.drawImage(image, 0, 0, size, size);
  const rgba = context.getImageData(0, 0, size, size).data;
  const grey = [];
  for (let i = 0; i < rgba.length; i += 4) grey.push(Math.round((rgba[i] + rgba[i + 1] + rgba[i + 2]) / 3));
  return {size, grey};
}"""


@pytest.fixture
def signed_in(demo_server):
    base, password, _ = demo_server
    with httpx.Client(base_url=base) as http:
        csrf = http.post("/api/auth/login", json={"email": "manager@y90001.example.org",
                                                   "password": password}).json()["csrf_token"]
        yield base, http, {"X-CSRF-Token": csrf}


@pytest.mark.parametrize("kind, language", [("poster", "en"), ("leaflet", "ur")])
async def test_poster_renders_accessibly_and_its_qr_code_decodes_to_the_sign_up_page(signed_in, kind, language):
    base, http, _ = signed_in
    response = http.get(f"/api/practices/Y90001/recruitment/{kind}.html",
                        params={"language": language, "phone": "01234 567890"})
    assert response.status_code == 200, response.text
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page()
        await page.set_content(response.text)
        assert await page.get_attribute("html", "dir") == ("rtl" if language == "ur" else "ltr")
        assert await serious_violations(page) == []
        await page.screenshot(path=artifact(f"{kind}-{language}.png"), full_page=True)
        drawn = await page.evaluate(PIXELS_OF_QR)
        await browser.close()
    image = np.array(drawn["grey"], dtype=np.uint8).reshape(drawn["size"], drawn["size"])
    [result] = zxingcpp.read_barcodes(image)
    assert result.text == f"{base}/join/Y90001"
