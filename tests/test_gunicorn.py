"""The production start: `flask db upgrade`, then gunicorn with the environment variables."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support.cli import flask_cli

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent


def wait_for(url: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                return response.status, json.loads(response.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            # Refused while gunicorn binds, or no answer yet while its workers boot.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_gunicorn_serves_healthz_in_production_mode(backend, fresh_database_url, tmp_path):
    with fresh_database_url("lms_gunicorn") as url:
        env = {
            **os.environ,
            "LMS_ENV": "production",
            "LMS_SECRET_KEY": "gunicorn-test-secret-of-at-least-32-bytes",
            "LMS_SQLALCHEMY_DATABASE_URI": url,
            "LMS_BASE_URL": "https://learn.example.org",
            "LMS_INSTANCE_PATH": str(tmp_path / "instance"),
        }
        flask_cli(env, "db", "upgrade")
        port = free_port()
        log_path = tmp_path / "gunicorn.log"
        log = log_path.open("w")
        server = subprocess.Popen(
            [BIN / "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            status, body = wait_for(f"http://127.0.0.1:{port}/healthz")
            assert status == 200
            assert body == {"status": "ok"}
            ready, checks = wait_for(f"http://127.0.0.1:{port}/readyz")
            assert ready == 200 and checks == {"status": "ok", "checks": {"database": "ok"}}
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/auth/register",
                data=json.dumps(
                    {"email": "g@uni.example", "password": "served by gunicorn", "name": "G"}
                ).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (127.0.0.1)
                assert response.status == 201
                assert "Secure" in response.headers["Set-Cookie"]
                request_id = response.headers["X-Request-ID"]
            # One structured line per request, with its id, in the server's log.
            deadline = time.monotonic() + 5
            while '"status": 201, ' not in log_path.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            lines = [line for line in log_path.read_text().splitlines() if "lms.requests" in line]
            assert any(
                '"path": "/api/v1/auth/register", "status": 201' in line
                and f"request_id={request_id}" in line
                for line in lines
            ), lines
        except Exception:
            print(log_path.read_text())
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()


def test_the_served_app_keeps_what_it_built_at_start_out_of_the_collectors_way(tmp_path):
    """wsgi.py freezes the objects the app built at start (gc.freeze): a full collection
    otherwise walks them all, a pause of about 200 ms in the middle of a request."""
    env = {
        **os.environ,
        "LMS_ENV": "production",
        "LMS_SECRET_KEY": "gunicorn-test-secret-of-at-least-32-bytes",
        "LMS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'lms.sqlite3'}",
        "LMS_BASE_URL": "https://learn.example.org",
        "LMS_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    code = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    frozen, tracked = map(int, out.stdout.split())
    assert frozen > 100_000 and tracked < frozen / 10, out.stdout
