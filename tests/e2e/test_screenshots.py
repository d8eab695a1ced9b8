"""`LMS_SCREENSHOTS=1 pytest tests/e2e/test_screenshots.py` regenerates docs/screenshots (see
tests/e2e/screenshots.py); without the switch the test is skipped (it proves nothing the journeys
do not, and CI keeps its time)."""

import os

import pytest
from PIL import Image

from tests.e2e import screenshots

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not os.environ.get("LMS_SCREENSHOTS"), reason="set LMS_SCREENSHOTS=1"),
]


def test_each_role_main_page_on_a_laptop_and_a_phone(browser, server):
    saved = screenshots.take(browser, server.url, screenshots.FOLDER)
    assert {path.name for path in saved} == {
        f"{role}-{size}.png" for role in screenshots.MAIN_PAGES for size in screenshots.VIEWPORTS
    }
    for path in saved:
        with Image.open(path) as image:
            assert image.size == ((1280, 800) if "desktop" in path.name else (375, 812))
