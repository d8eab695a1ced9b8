"""Background work with real parts: Redis as broker, `celery worker` processes, the app served by
gunicorn, and an SMTP server (aiosmtpd), all on 127.0.0.1, on SQLite and PostgreSQL.

A CSV enrollment is applied over HTTP; the answer does not wait for mail; the workers deliver
every message; an SMTP outage and a worker killed with SIGKILL delay mail but lose none.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import free_port
from tests.support.cli import flask_cli
from tests.support.smtp import SmtpSink
from tests.test_gunicorn import wait_for

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A private redis-server (Debian's package) on a free port, keeping nothing on disk."""
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    import redis

    client = redis.Redis(port=port)
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


class Stack:
    """gunicorn and Celery workers sharing one database, broker and SMTP server."""

    def __init__(self, url: str, redis_url: str, smtp: SmtpSink, folder: Path):
        self.url, self.folder = url, folder
        self.env = {
            **os.environ,
            "LMS_ENV": "production",
            "LMS_SECRET_KEY": "background-test-secret-" + "x" * 20,
            "LMS_SQLALCHEMY_DATABASE_URI": url,
            "LMS_BASE_URL": "https://learn.example.org",
            "LMS_INSTANCE_PATH": str(folder / "instance"),
            "LMS_CELERY_BROKER_URL": redis_url,
            "LMS_MAIL_BACKEND": "smtp",
            "LMS_MAIL_SMTP_HOST": "127.0.0.1",
            "LMS_MAIL_SMTP_PORT": str(smtp.port),  # the workers get the test's own server
            "LMS_MAIL_SMTP_TIMEOUT": "2",
            # Fast clocks, so that retries, lapsed claims and the sweep happen within a test.
            "LMS_OUTBOX_RETRY_BASE": "0.2",
            "LMS_OUTBOX_LEASE": "3",
            "LMS_OUTBOX_SWEEP_SECONDS": "1",
            "LMS_OUTBOX_BATCH": "50",
        }
        self.workers: list[subprocess.Popen] = []
        self.logs = []

    def run(self, *args) -> subprocess.CompletedProcess:
        return flask_cli(self.env, *args)

    def _spawn(self, name: str, argv: list) -> subprocess.Popen:
        log = (self.folder / f"{name}-{len(self.logs)}.log").open("w")
        self.logs.append(log)
        # A process group of its own: a worker started with -B runs beat in a child process,
        # which outlived a SIGKILL of the worker alone and kept running after the suite.
        return subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    @staticmethod
    def _end(process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever it left behind

    def start_web(self):
        self.port = free_port()
        self.web = self._spawn(
            "gunicorn",
            [BIN / "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
        )
        wait_for(f"http://127.0.0.1:{self.port}/healthz", timeout=60)

    def use_smtp(self, smtp: SmtpSink) -> None:
        """Workers started from now on send to ``smtp`` (gunicorn only enqueues)."""
        self.smtp = smtp
        self.env["LMS_MAIL_SMTP_PORT"] = str(smtp.port)

    def stop_workers(self):
        for worker in self.workers:
            self._end(worker)
        self.workers = []

    def start_worker(self) -> subprocess.Popen:
        # One process (solo pool) with beat embedded: SIGKILL takes all of it down at once.
        worker = self._spawn(
            "celery",
            [BIN / "celery", "-A", "wsgi.celery", "worker", "--pool", "solo", "-B",
             "-s", str(self.folder / f"beat-{uuid.uuid4().hex}"), "--loglevel", "INFO",
             "-n", f"w{len(self.workers)}@%h"],
        )  # fmt: skip
        self.workers.append(worker)
        return worker

    def stop(self):
        for process in [*self.workers, getattr(self, "web", None)]:
            if process is not None:
                self._end(process)
        for log in self.logs:
            log.close()

    def dump_logs(self):
        for log in self.logs:
            print(f"--- {log.name}\n{Path(log.name).read_text()[-4000:]}")

    def import_csv(self, token: str, slug: str, emails: list[str]) -> tuple[dict, float]:
        body_csv = "email,name\n" + "".join(f"{e},Researcher {i}\n" for i, e in enumerate(emails))
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n{body_csv}\r\n--{boundary}--\r\n"
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/organizations/{slug}/invitations/import",
            data=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Authorization": f"Bearer {token}",
            },
            method="POST",
        )
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            return json.loads(response.read()), time.monotonic() - started


def seed_organization(url: str, slug: str, seats: int) -> str:
    """An organization with ``seats`` seats; returns a platform admin's API token."""
    from lms import create_app
    from lms.accounts import services as accounts
    from lms.core.db import utcnow
    from lms.core.extensions import db
    from lms.memberships import services as memberships

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "seed", "PASSWORD_HASH_METHOD": "pbkdf2"}
    )
    with app.app_context():
        org = memberships.create_organization(None, {"slug": slug, "name": f"{slug} OSPO"})
        memberships.record_grant(
            org, None, seats=seats, starts_at=utcnow() - timedelta(days=1),
            ends_at=utcnow() + timedelta(days=365),
        )  # fmt: skip
        admin, _ = accounts.ensure_platform_admin(
            f"admin@{slug}.example", "correct horse battery staple 2026", "Admin"
        )
        _, raw = accounts.create_api_token(admin, "bg", None)
        db.session.commit()
        db.engine.dispose()
    return raw


def outbox_counts(url: str, after_id: int = 0) -> dict:
    """Done, pending and failed-at-least-once outbox rows with an id above ``after_id``."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT count(*) FILTER (WHERE done_at IS NOT NULL), "
                    "count(*) FILTER (WHERE done_at IS NULL AND failed_at IS NULL), "
                    "count(*) FILTER (WHERE last_error IS NOT NULL), "
                    "coalesce(max(id), 0) FROM outbox WHERE id > :after"
                ),
                {"after": after_id},
            ).one()
    finally:
        engine.dispose()
    return {"done": rows[0], "pending": rows[1], "with_error": rows[2], "last_id": rows[3]}


@pytest.fixture(scope="module")
def web(backend, fresh_database_url, redis_url, tmp_path_factory):
    """One database, migrated, and gunicorn serving it, for the module's tests (each test has
    its own organization, SMTP server and workers)."""
    folder = tmp_path_factory.mktemp(f"background-{backend}")
    placeholder = SmtpSink(free_port())
    with fresh_database_url(f"lms_bg_{uuid.uuid4().hex[:8]}") as url:
        stack = Stack(url, redis_url, placeholder, folder)
        stack.run("db", "upgrade")
        try:
            stack.start_web()
            yield stack
        except Exception:
            stack.dump_logs()
            raise
        finally:
            stack.stop()


@pytest.fixture
def stack(web):
    smtp = SmtpSink(free_port()).start()
    web.use_smtp(smtp)
    try:
        yield web
    finally:
        web.stop_workers()
        smtp.stop()


def emails(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:03d}@uni.example" for n in range(count)]


def test_a_csv_of_200_is_answered_at_once_and_200_mails_arrive(stack):
    token = seed_organization(stack.url, "bg-one", 200)
    start = outbox_counts(stack.url)["last_id"]
    stack.start_worker()
    stack.start_worker()
    wanted = emails("r", 200)
    try:
        report, _seconds = stack.import_csv(token, "bg-one", wanted)
        assert sum(1 for row in report["rows"] if row["status"] == "created") == 200
        assert stack.smtp.wait_for(200, timeout=90) == 200
        time.sleep(1.5)  # nothing more arrives: each mail exactly once
        assert sorted(stack.smtp.recipients()) == wanted
        assert "/invitations/" in stack.smtp.messages[0].get_content()
        counts = outbox_counts(stack.url, start)
        assert (counts["done"], counts["pending"], counts["with_error"]) == (200, 0, 0)
    except Exception:
        stack.dump_logs()
        raise


def test_smtp_down_during_a_csv_delays_mail_and_loses_none(stack):
    token = seed_organization(stack.url, "bg-down", 30)
    start = outbox_counts(stack.url)["last_id"]
    stack.smtp.stop()
    stack.start_worker()
    wanted = emails("d", 30)
    try:
        report, _ = stack.import_csv(token, "bg-down", wanted)
        assert len(report["rows"]) == 30
        deadline = time.monotonic() + 30
        while outbox_counts(stack.url, start)["with_error"] < 30:  # every row tried and failed
            assert time.monotonic() < deadline, outbox_counts(stack.url, start)
            time.sleep(0.2)
        assert outbox_counts(stack.url, start)["pending"] == 30
        stack.smtp.start()
        assert stack.smtp.wait_for(30, timeout=60) == 30
        time.sleep(1.5)
        assert sorted(stack.smtp.recipients()) == wanted  # each exactly once
    except Exception:
        stack.dump_logs()
        raise


def test_a_worker_killed_mid_run_loses_no_mail(stack):
    token = seed_organization(stack.url, "bg-kill", 120)
    stack.smtp.delay = 0.03  # a slow server, so that the kill lands mid-run
    worker = stack.start_worker()
    wanted = emails("k", 120)
    try:
        stack.import_csv(token, "bg-kill", wanted)
        stack.smtp.wait_for(20, timeout=60)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its beat, as a machine dies
        worker.wait(timeout=10)
        sent_before = len(stack.smtp.recipients())
        assert sent_before < 120, "the worker finished before it could be killed"
        stack.start_worker()
        assert stack.smtp.wait_for(120, timeout=90) >= 120
        time.sleep(4)  # past the lease: a lost claim would show up as a late extra mail
        received = stack.smtp.recipients()
        assert set(received) == set(wanted)
        assert len(received) - len(wanted) <= 1  # at most the one mail in flight, sent again
    except Exception:
        stack.dump_logs()
        raise
