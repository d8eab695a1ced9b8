"""Faults, nothing lost: PostgreSQL restarted under traffic, a certificate render killed, a
Stripe webhook while the database is down, SMTP down during a CSV enrollment, and instance/
read-only or full. Real parts on 127.0.0.1: a private PostgreSQL cluster that the tests stop
and start (pg_ctl), gunicorn, an SMTP server; rows, files and mails are counted before and
after each fault.
"""

import io
import json
import os
import pwd
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import free_port
from tests.sponsorships.conftest import event, signed
from tests.support.cli import flask_cli
from tests.test_background import emails, outbox_counts, seed_organization
from tests.test_gunicorn import wait_for

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent
PG_CTL = ROOT / "tests" / "support" / "pg_ctl"
WEBHOOK_SECRET = "whsec_test_secret_for_lms"

pytestmark = pytest.mark.slow


class Cluster:
    """A private PostgreSQL cluster that a test may stop and start."""

    def __init__(self, base: Path):
        self.base, self.data, self.port = base, base / "data", free_port()
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(base, user.pw_uid, user.pw_gid)
        self._pg_ctl("initdb", "-D", str(self.data), "-o", "--auth=trust --username=postgres")

    def _pg_ctl(self, *args):
        subprocess.run([str(PG_CTL), *args], check=True, capture_output=True, timeout=60)

    def start(self):
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.base}"
            " -c fsync=off -c max_connections=100"
        )
        self._pg_ctl(
            "start", "-w", "-D", str(self.data), "-l", str(self.base / "log"), "-o", options
        )

    def stop(self):
        self._pg_ctl("stop", "-w", "-D", str(self.data), "-m", "fast")

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        engine = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)


def scalar(url: str, sql: str, **params):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


class Web:
    """gunicorn (no broker: the outbox is drained in the web process after each commit)."""

    def __init__(self, url: str, folder: Path, smtp_port: int):
        self.url, self.folder = url, folder
        self.env = {
            **os.environ,
            "LMS_ENV": "production",
            "LMS_SECRET_KEY": "faults-test-secret-" + "x" * 20,
            "LMS_SQLALCHEMY_DATABASE_URI": url,
            "LMS_BASE_URL": "https://learn.example.org",
            "LMS_INSTANCE_PATH": str(folder / "instance"),
            "LMS_MAIL_BACKEND": "smtp",
            "LMS_MAIL_SMTP_HOST": "127.0.0.1",
            "LMS_MAIL_SMTP_PORT": str(smtp_port),
            "LMS_MAIL_SMTP_TIMEOUT": "2",
            "LMS_OUTBOX_RETRY_BASE": "0.2",
            "LMS_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "LMS_RATELIMIT_ENABLED": "false",
        }
        self.log = (folder / "gunicorn.log").open("w")

    def flask(self, *args) -> subprocess.CompletedProcess:
        return flask_cli(self.env, *args)

    def start(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            [BIN / "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for(f"http://127.0.0.1:{self.port}/healthz", timeout=60)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def logs(self) -> str:
        self.log.flush()
        return (self.folder / "gunicorn.log").read_text()

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        """(status, parsed JSON or text) of one request; never raises for an HTTP status."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=body, headers=headers or {}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=90) as response:  # noqa: S310 (loopback)
                status, raw, kind = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, kind = error.code, error.read(), error.headers
        text = raw.decode("utf-8", "replace")
        if kind.get("Content-Type", "").startswith("application/json"):
            return status, json.loads(text)
        return status, text

    def session_cookie(self, slug: str) -> str:
        """Log in through the API as ``seed_organization``'s admin; the session cookie."""
        body = json.dumps(
            {"email": f"admin@{slug}.example", "password": "correct horse battery staple 2026"}
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/auth/login",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=90) as response:  # noqa: S310 (loopback)
            return response.headers["Set-Cookie"].split(";", 1)[0]

    def import_csv(self, token: str, slug: str, addresses: list[str]):
        rows = "email,name\n" + "".join(f"{e},Researcher\n" for e in addresses)
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n{rows}\r\n--{boundary}--\r\n"
        ).encode()
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Bearer {token}",
        }
        return self.request(
            "POST", f"/api/v1/organizations/{slug}/invitations/import", body, headers
        )


@pytest.fixture(scope="module")
def cluster():
    base = Path(tempfile.mkdtemp(prefix="lms-faults-pg-"))
    server = Cluster(base)
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass  # a test left it stopped
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def web(cluster, smtp, tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    stack = Web(cluster.create_database("lms_faults"), folder, smtp.port)
    stack.flask("db", "upgrade")
    stack.start()
    try:
        yield stack
    except Exception:
        print(stack.logs()[-6000:])
        raise
    finally:
        stack.stop()


@pytest.fixture
def running(cluster, web):
    """Every test starts and ends with the database up."""
    yield web
    if scalar_or_none(cluster.url("postgres"), "SELECT 1") is None:
        cluster.start()


def scalar_or_none(url: str, sql: str):
    try:
        return scalar(url, sql)
    except sa.exc.OperationalError:
        return None


def assert_clean_503(status, body):
    assert status == 503, body
    assert isinstance(body, dict), body  # JSON, not an HTML page or a stack trace
    assert body["code"] == 503 and body["status"] == "Service Unavailable"
    assert "database" in body["message"].lower()
    assert "Traceback" not in json.dumps(body)


# -- PostgreSQL restarted in the middle of traffic ---------------------------------------


def test_postgresql_restart_mid_traffic_fails_cleanly_and_loses_nothing(cluster, running):
    web = running
    token = seed_organization(web.url, "pg-restart", 5000)
    auth = {"Authorization": f"Bearer {token}"}
    results: list[tuple[str, int, int, object, float]] = []
    stop = threading.Event()

    def writer():
        n = 0
        while not stop.is_set():
            n += 1
            started = time.monotonic()
            status, body = web.import_csv(token, "pg-restart", emails(f"w{n:03d}-", 3))
            results.append(("write", n, status, body, started))

    def reader():
        while not stop.is_set():
            started = time.monotonic()
            status, body = web.request("GET", "/api/v1/organizations/pg-restart", headers=auth)
            results.append(("read", 0, status, body, started))
            time.sleep(0.01)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        cluster.stop()
        time.sleep(2)
        cluster.start()
        back = time.monotonic()
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    statuses = {status for _, _, status, _, _ in results}
    assert statuses <= {200, 503}, statuses
    failed = [(status, body) for _, _, status, body, _ in results if status == 503]
    assert failed, "no request ran into the outage"
    for status, body in failed:
        assert_clean_503(status, body)
    # Recovered without a restart of the app: everything sent once PostgreSQL was back worked.
    later = [status for _, _, status, _, started in results if started > back + 0.5]
    assert later and set(later) == {200}, later
    # No half-written import: each request's three invitations are all there or none.
    written = {n: status for kind, n, status, _, _ in results if kind == "write"}
    for n, status in written.items():
        stored = scalar(
            web.url,
            "SELECT count(*) FROM invitations WHERE email LIKE :prefix",
            prefix=f"w{n:03d}-%",
        )
        assert stored in (0, 3), (n, status, stored)
        if status == 200:
            assert stored == 3, n
    log = web.logs()
    assert "database unavailable (503)" in log
    assert "unhandled error" not in log


def test_the_first_requests_after_a_quiet_restart_succeed(cluster, running):
    """The pooled connections died with the server; the idle ping replaces them unseen."""
    web = running
    token = seed_organization(web.url, "pg-quiet", 5)
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(20):  # both workers hold a pooled connection
        assert web.request("GET", "/api/v1/me", headers=auth)[0] == 200
    cluster.stop()
    cluster.start()
    statuses = [web.request("GET", "/api/v1/me", headers=auth)[0] for _ in range(20)]
    assert set(statuses) == {200}, statuses


# -- a Stripe webhook while the database is down ---------------------------------------


def test_a_webhook_while_the_database_is_down_is_503_and_the_redelivery_applies_once(
    cluster, running
):
    web = running
    evt = event("charge.refunded", {"id": "ch_fault"}, event_id=f"evt_fault_{uuid.uuid4().hex}")
    body, headers = signed(evt, secret=WEBHOOK_SECRET)
    count = "SELECT count(*) FROM stripe_events WHERE event_id = :id"
    before = scalar(web.url, "SELECT count(*) FROM stripe_events")
    seed_organization(web.url, "hook-down", 1)
    cookie = web.session_cookie("hook-down")
    cluster.stop()
    try:
        assert_clean_503(*web.request("POST", "/stripe/webhook", body.encode(), headers))
        # A signed-in person's page during the outage: a 503 page, not a bare 500.
        status, page = web.request("GET", "/account", headers={"Cookie": cookie})
        assert status == 503 and "database is not available" in page, (status, page[:300])
    finally:
        cluster.start()
    assert scalar(web.url, count, id=evt["id"]) == 0
    # Stripe redelivers the same signed body: applied now, and only once.
    status, answer = web.request("POST", "/stripe/webhook", body.encode(), headers)
    assert status == 200 and answer["result"] == "ignored", answer
    status, answer = web.request("POST", "/stripe/webhook", body.encode(), headers)
    assert status == 200 and answer["result"] == "duplicate", answer
    assert scalar(web.url, count, id=evt["id"]) == 1
    assert scalar(web.url, "SELECT count(*) FROM stripe_events") == before + 1


# -- SMTP down during a CSV enrollment --------------------------------------------------


def test_smtp_down_during_a_csv_enrollment_delivers_every_mail_later_once(running, smtp):
    web = running
    token = seed_organization(web.url, "smtp-down", 25)
    start = outbox_counts(web.url)["last_id"]
    received_before = len(smtp.recipients())
    wanted = emails("s", 25)
    smtp.stop()
    try:
        status, report = web.import_csv(token, "smtp-down", wanted)
        assert status == 200, report
        assert sum(1 for row in report["rows"] if row["status"] == "created") == 25
        counts = outbox_counts(web.url, start)
        assert (counts["done"], counts["pending"], counts["with_error"]) == (0, 25, 25)
    finally:
        smtp.start()
    time.sleep(0.5)  # past the retry delay
    swept = web.flask("lms", "outbox", "retry").stdout
    # The module's earlier faults (a database restart mid-drain) may leave rows of their own
    # due; the sweep takes those too. Which rows were delivered is checked exactly below.
    made_due, processed = map(
        int, re.search(r"(\d+) row\(s\) due now; processed (\d+)", swept).groups()
    )
    assert made_due >= 25 and processed >= 25, swept

    def delivered() -> list[str]:  # this test's mails; an earlier test's stranded ones aside
        return sorted(to for to in smtp.recipients()[received_before:] if to.startswith("s"))

    deadline = time.monotonic() + 30
    while len(delivered()) < 25 and time.monotonic() < deadline:
        time.sleep(0.05)
    web.flask("lms", "outbox", "retry")  # a second sweep sends nothing again
    time.sleep(0.5)
    assert delivered() == wanted
    counts = outbox_counts(web.url, start)
    assert (counts["done"], counts["pending"]) == (25, 0)
    assert scalar(web.url, "SELECT count(*) FROM invitations WHERE email LIKE 's%'") == 25


# -- a certificate render killed mid-run ---------------------------------------------------


def test_a_render_process_killed_mid_render_leaves_no_partial_pdf(cluster, tmp_path):
    import pikepdf

    from bench.certificate_bench import seed

    url = cluster.create_database("lms_faults_certs")
    total = 40
    seed(url, total, tmp_path)
    env = {
        **os.environ,
        "LMS_SQLALCHEMY_DATABASE_URI": url,
        "LMS_SECRET_KEY": "faults-" * 6,
        "LMS_BASE_URL": "https://learn.example.org",
        "LMS_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    render = [BIN / "flask", "--app", "wsgi", "lms", "certificates", "render", "--missing"]
    rendered = "SELECT count(*) FROM certificates WHERE pdf_rendered_at IS NOT NULL"
    process = subprocess.Popen(
        render, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 90
    while scalar(url, rendered) < 3:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, pdf, pdf_rendered_at FROM certificates ORDER BY id")
        ).all()
    assert len(rows) == total
    done = {row.id: row.pdf_rendered_at for row in rows if row.pdf is not None}
    assert 3 <= len(done) < total, "the render finished before it could be killed"
    for row in rows:
        assert (row.pdf is None) == (row.pdf_rendered_at is None), row.id
        if row.pdf is not None:
            assert bytes(row.pdf).startswith(b"%PDF-")
            with pikepdf.open(io.BytesIO(bytes(row.pdf))) as pdf:
                assert len(pdf.pages) == 1

    # The sweep renders the rest, and only the rest.
    subprocess.run(render, cwd=ROOT, env=env, check=True, capture_output=True, timeout=180)
    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT id, pdf, pdf_rendered_at FROM certificates")).all()
    engine.dispose()
    assert len(after) == total
    assert all(row.pdf is not None for row in after)
    assert all(done[row.id] == row.pdf_rendered_at for row in after if row.id in done)


# -- instance/ read-only or full -------------------------------------------------------------

PROBE = """
import json, sys
from lms import create_app
from lms.core.extensions import db
app = create_app(json.loads(sys.argv[1]))
client = app.test_client()
issuer = client.get("/api/v1/issuer")
reset = client.post("/api/v1/auth/password-reset", json={"email": sys.argv[2]})
with app.app_context():
    db.engine.dispose()
print(json.dumps({"issuer": [issuer.status_code, issuer.get_json()],
                  "reset": [reset.status_code, reset.get_json()]}))
"""


# Root writes anywhere: as root, the probe runs without the capabilities that override file
# permissions, as the app would under a user of its own.
NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def probe(
    instance: Path, config: dict, email: str, *, read_only=False, limit=None
) -> tuple[dict, str]:
    """Requests in a process of their own: unable to override file permissions, or under a
    file-size limit."""

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [
            *(NO_OVERRIDE if read_only and os.geteuid() == 0 else []),
            sys.executable,
            "-c",
            PROBE,
            json.dumps(config),
            email,
        ],  # fmt: skip
        cwd=ROOT,
        env={**os.environ, "LMS_INSTANCE_PATH": str(instance)},
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_file_size if limit else None,  # noqa: PLW1509 (no threads started)
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def assert_storage_503(answer):
    status, body = answer
    assert status == 503, body
    assert body["code"] == 503 and body["status"] == "Service Unavailable"
    assert "storage" in body["message"].lower()


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_instance_read_only_or_full_is_a_clear_503_and_no_partial_file(
    fault, cluster, running, tmp_path
):
    web = running
    email = f"{fault}@uni.example"
    from lms import create_app
    from lms.accounts import services as accounts
    from lms.core.extensions import db

    maker = create_app(
        {"SQLALCHEMY_DATABASE_URI": web.url, "SECRET_KEY": "x", "PASSWORD_HASH_METHOD": "pbkdf2"}
    )
    with maker.app_context():
        accounts.ensure_platform_admin(email, "correct horse battery staple 9", "Reader")
        db.session.commit()
        db.engine.dispose()

    instance = Path(tempfile.mkdtemp(prefix="lms-instance-"))
    config = {
        "ENV": "production",
        "SECRET_KEY": "faults-" * 6,
        "SQLALCHEMY_DATABASE_URI": web.url,
        "BASE_URL": "https://learn.example.org",
        "MAIL_BACKEND": "file",
        "MAIL_DIR": str(instance / "mail"),
        "RATELIMIT_ENABLED": False,
    }
    (instance / "mail").mkdir()
    mail_before = outbox_counts(web.url)["last_id"]
    try:
        if fault == "read-only":
            instance.chmod(0o555)
            (instance / "mail").chmod(0o555)
            answers, log = probe(instance, config, email, read_only=True)
        else:
            instance.chmod(0o777)
            (instance / "mail").chmod(0o777)
            answers, log = probe(
                instance, config, email, limit=64
            )  # any file over 64 bytes is "full"
        assert_storage_503(answers["issuer"])
        assert "storage unavailable (503)" in log
        # A mail that cannot be written waits in the outbox; the request itself succeeded.
        assert answers["reset"][0] == 202, answers["reset"]
        # No partial file anywhere: no key, no half-written mail, no temporary file.
        assert [p.name for p in instance.rglob("*") if p.is_file()] == []
        assert outbox_counts(web.url, mail_before)["pending"] == 1

        # Room again: the key is made whole and the mail goes out, once.
        instance.chmod(0o755)
        (instance / "mail").chmod(0o755)
        answers, _ = probe(instance, config, "nobody@else.example")
        assert answers["issuer"][0] == 200
        keys = list((instance / "issuer-keys").iterdir())
        assert [k.name for k in keys] == ["key-1.pem"]
        assert keys[0].read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
        # The sweep delivers the waiting mail, whole and once.
        settings = {
            f"LMS_{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in config.items()
        }
        subprocess.run(
            [BIN / "flask", "--app", "wsgi", "lms", "outbox", "retry"],
            cwd=ROOT,
            env={**os.environ, **settings, "LMS_INSTANCE_PATH": str(instance)},
            check=True,
            capture_output=True,
            timeout=120,
        )
        mails = [p.read_text() for p in (instance / "mail").glob("*.eml")]
        assert sum(1 for text in mails if f"To: {email}" in text) == 1
        assert not list((instance / "mail").glob("*.tmp"))
    finally:
        instance.chmod(0o755)
        shutil.rmtree(instance, ignore_errors=True)
