"""The pages in a real browser: Debian's Chromium, driven by Playwright, against gunicorn.

A learner logs in, resumes a course from the dashboard, marks the lesson complete and sees the
progress move; the page loads nothing from outside 127.0.0.1 and shows no console errors.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.test_gunicorn import ROOT, wait_for

BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def served_demo(tmp_path_factory):
    """gunicorn serving the demo data on a fresh SQLite database."""
    instance = tmp_path_factory.mktemp("browser-instance")
    env = {
        **os.environ,
        "LMS_INSTANCE_PATH": str(instance),
        "LMS_SECRET_KEY": "browser-test",
        "LMS_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    for command in (["db", "upgrade"], ["lms", "seed-demo"]):
        done = subprocess.run(
            [BIN / "flask", "--app", "wsgi", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    port = free_port()
    log = (instance / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [BIN / "gunicorn", "-w", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.mark.slow
@pytest.mark.browser
def test_a_learner_resumes_and_completes_a_lesson_in_chromium(served_demo):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: scripts/install-system-deps.sh test installs it")
    outside, errors = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.on(
            "request", lambda r: None if r.url.startswith(served_demo) else outside.append(r.url)
        )
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        page.goto(f"{served_demo}/login")
        page.get_by_label("Email").fill("chen.data@example.org")  # resumes at a lesson
        page.get_by_label("Password").fill("demo-password-2026")
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{served_demo}/dashboard")
        meter = page.locator("meter").first
        before = int(meter.get_attribute("value"))

        page.get_by_role("link", name="Resume:").first.click()
        assert page.locator("h1").inner_text()
        page.get_by_role("button", name="Mark as complete").click()
        page.goto(f"{served_demo}/dashboard")
        after = int(page.locator("meter").first.get_attribute("value"))
        browser.close()
    assert after > before
    assert outside == [], outside
    assert errors == [], errors
