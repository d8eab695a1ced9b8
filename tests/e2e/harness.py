"""What the browser tests and the screenshot script share: starting gunicorn over an instance
folder, an app in this process on the same database (to set up data through the services),
launching Chromium, logging in, and the axe-core audit."""

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from tests.conftest import free_port
from tests.support.cli import flask_cli
from tests.test_gunicorn import ROOT, wait_for

BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (the published demo login, lms.demo)
ROLES = {
    "learner": "learner@example.org",
    "ospo-admin": "ospo@example.org",
    "sponsor-admin": "sponsor@example.org",
    "platform-admin": "admin@example.org",
}


def server_env(instance: Path, *, base_url: str, smtp_port: int) -> dict:
    return {
        **os.environ,
        "LMS_INSTANCE_PATH": str(instance),
        "LMS_SECRET_KEY": "e2e-secret",
        "LMS_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "LMS_BASE_URL": base_url,
        "LMS_MAIL_BACKEND": "smtp",
        "LMS_MAIL_SMTP_HOST": "127.0.0.1",
        "LMS_MAIL_SMTP_PORT": str(smtp_port),
        # One browser logs in many times a minute from 127.0.0.1; the limits have their tests.
        "LMS_RATELIMIT_ENABLED": "false",
    }


def flask(command: list[str], env: dict) -> str:
    return flask_cli(env, *command, timeout=300).stdout


@dataclass
class Served:
    url: str
    env: dict
    instance: Path
    _app: object = field(default=None, repr=False)

    @property
    def app(self):
        """This process's app on the server's database and settings (mail goes to the same
        SMTP sink), for setting up data through the services and counting rows."""
        if self._app is None:
            from lms import create_app

            with mock.patch.dict(os.environ, self.env):
                self._app = create_app()
        return self._app


@contextmanager
def serve(instance: Path, smtp_port: int, workers: int = 2):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = server_env(instance, base_url=url, smtp_port=smtp_port)
    log_path = instance / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [BIN / "gunicorn", "-w", str(workers), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        served = Served(url, env, instance)
        try:
            wait_for(f"{url}/healthz")
            yield served
        finally:
            server.terminate()
            server.wait(timeout=30)
            if served._app is not None:
                from lms.core.extensions import db
                from lms.core.mail import close_smtp_connection

                with served._app.app_context():
                    close_smtp_connection()  # the one this process kept open to the sink
                    db.engine.dispose()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def new_context(browser, **options):
    # The app's Content-Security-Policy allows no inline script: axe-core is injected as one.
    options.setdefault("bypass_csp", True)
    options.setdefault("viewport", {"width": 1280, "height": 800})
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)  # a missing element fails in 10 s, not Playwright's 30
    return context


def watch(page, base_url: str):
    """Collects, on the page itself, requests that leave the server and errors: console errors
    and failed subresources (a page answering 4xx on purpose, such as a form with errors, is
    no error; Chromium's console line about it is left out)."""
    page.outside, page.errors = [], []

    def console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            page.errors.append(message.text)

    def response(answer):
        if answer.status >= 400 and answer.request.resource_type != "document":
            page.errors.append(f"{answer.status} {answer.url}")

    page.on("request", lambda r: None if r.url.startswith(base_url) else page.outside.append(r.url))
    page.on("console", console)
    page.on("response", response)
    return page


def log_in(page, base_url: str, email: str, password: str = DEMO_PASSWORD, next_path=None):
    page.goto(f"{base_url}/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                targets: v.nodes.map(n => n.target.join(" "))}));
}"""


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN)


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['targets'][:5])}"
        for v in violations
    )


DUPLICATE_IDS = """() => {
  const seen = new Set(), twice = new Set();
  // Hidden inputs (each form's csrf_token) are in no label's or aria attribute's way.
  for (const e of document.querySelectorAll("[id]:not([type=hidden])")) {
    (seen.has(e.id) ? twice : seen).add(e.id);
  }
  return [...twice];
}"""


def audit(page) -> None:
    """Fails on any serious or critical axe-core violation of the page being shown, and on an
    id used twice (axe no longer checks it: a label or aria-describedby then names the wrong
    element)."""
    violations = axe_violations(page)
    assert not violations, f"axe-core on {page.url}:\n{describe(violations)}"
    duplicates = page.evaluate(DUPLICATE_IDS)
    assert not duplicates, f"ids used more than once on {page.url}: {duplicates}"
