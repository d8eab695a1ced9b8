"""Screenshots of each demo role's main page, on a laptop (1280 x 800) and a phone (375 x 812),
from the `seed-demo` data served by gunicorn in Chromium:

    python -m tests.e2e.screenshots [FOLDER]      (default: docs/screenshots)

writes ``<role>-desktop.png`` and ``<role>-phone.png``. ``LMS_SCREENSHOTS=1 pytest
tests/e2e/test_screenshots.py`` does the same as a test.
"""

import sys
import tempfile
from pathlib import Path

from tests.conftest import free_port
from tests.e2e import harness
from tests.support.smtp import SmtpSink

FOLDER = harness.ROOT / "docs" / "screenshots"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}


def _sponsor_impact(page, url):
    page.goto(f"{url}/sponsors")
    page.get_by_role("link", name="Open Research Foundation").first.click()
    page.get_by_role("link", name="Impact report").click()


# Each role's main page (where the role navigation lands them).
MAIN_PAGES = {
    "learner": lambda page, url: page.goto(f"{url}/dashboard"),
    "ospo-admin": lambda page, url: page.goto(f"{url}/organizations/demo-university"),
    "sponsor-admin": _sponsor_impact,
    "platform-admin": lambda page, url: page.goto(f"{url}/organizations"),
}


def take(browser, url: str, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for role, open_main_page in MAIN_PAGES.items():
        for name, options in VIEWPORTS.items():
            context = harness.new_context(browser, **options)
            try:
                page = context.new_page()
                harness.log_in(page, url, harness.ROLES[role])
                open_main_page(page, url)
                page.wait_for_load_state("networkidle")
                path = folder / f"{role}-{name}.png"
                page.screenshot(path=str(path))
                saved.append(path)
            finally:
                context.close()
    return saved


def main(folder: Path = FOLDER) -> list[Path]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="lms-screenshots-") as tmp:
        instance = Path(tmp)
        env = harness.server_env(instance, base_url="http://127.0.0.1:1", smtp_port=1)
        for command in (["db", "upgrade"], ["lms", "seed-demo"]):
            harness.flask(command, env)
        sink = SmtpSink(free_port()).start()
        try:
            with harness.serve(instance, sink.port) as served, sync_playwright() as playwright:
                browser = harness.launch(playwright)
                try:
                    return take(browser, served.url, folder)
                finally:
                    browser.close()
        finally:
            sink.stop()


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER):
        print(path)
