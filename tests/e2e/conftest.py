"""The browser harness: gunicorn on a free port over a fresh SQLite database, mail captured by
a real SMTP server (aiosmtpd), Debian's Chromium driven by Playwright, axe-core on every page.

The database is migrated (``flask db upgrade``) and seeded (``flask lms seed-demo``) once per
session into a template instance folder; each test module copies it, so every module starts
from the same fresh data. A test sets up anything else through the services (``Setup``), never
through the pages it is testing. A failing test leaves a screenshot and the HTML of each of
its pages under the artifacts folder (its path is printed with the failure).
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.e2e import harness


@pytest.fixture(scope="session")
def seeded_instance(tmp_path_factory):
    """An instance folder with a migrated, seeded SQLite database (copied by each module)."""
    instance = tmp_path_factory.mktemp("e2e-template")
    env = harness.server_env(instance, base_url="http://127.0.0.1:1", smtp_port=1)
    for command in (["db", "upgrade"], ["lms", "seed-demo"]):
        harness.flask(command, env)
    return instance


@pytest.fixture(scope="module")
def server(seeded_instance, smtp, tmp_path_factory):
    """gunicorn serving a fresh copy of the seeded database: ``server.url``, ``server.setup``."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    shutil.copytree(seeded_instance, instance, dirs_exist_ok=True)
    with harness.serve(instance, smtp.port) as served:
        yield served


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(harness.CHROMIUM).exists():
        pytest.fail("Chromium is missing: scripts/install-system-deps.sh test installs it")
    if not harness.AXE.exists():
        pytest.fail(f"{harness.AXE} is missing: run `npm ci` in tests/e2e (make install-dev)")
    with sync_api.sync_playwright() as playwright:
        chromium = harness.launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser, request):
    """Makes fresh browser contexts (separate cookies); closes them after the test."""
    contexts = []

    def make(**options):
        context = harness.new_context(browser, **options)
        contexts.append(context)
        return context

    request.node.e2e_contexts = contexts
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context, server):
    """A page in a fresh context; it fails the test on a console error or a request that
    leaves 127.0.0.1."""
    context = new_context()
    watched = harness.watch(context.new_page(), server.url)
    yield watched
    assert watched.outside == [], watched.outside
    assert watched.errors == [], watched.errors


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        contexts = getattr(item, "e2e_contexts", [])
        if contexts:
            saved = _save_artifacts(item, contexts)
            if saved:
                report.sections.append(("browser artifacts", f"saved under {saved}"))
                print(f"\nbrowser artifacts of {item.nodeid}: {saved}")
    return report


def _save_artifacts(item, contexts) -> Path | None:
    root = os.environ.get("LMS_E2E_ARTIFACTS")
    base = Path(root) if root else item.config._tmp_path_factory.getbasetemp() / "artifacts"
    folder = base / re.sub(r"[^\w.-]+", "_", item.nodeid)[-120:]
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for context in contexts:
        for page in context.pages:
            n += 1
            try:
                page.screenshot(path=str(folder / f"page{n}.png"), full_page=True)
                (folder / f"page{n}.html").write_text(
                    f"<!-- {page.url} -->\n{page.content()}", encoding="utf-8"
                )
            except Exception as exc:  # noqa: BLE001 (a closed page must not hide the failure)
                (folder / f"page{n}.error.txt").write_text(repr(exc), encoding="utf-8")
    return folder if n else None
