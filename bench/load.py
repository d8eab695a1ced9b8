"""Load: a bounded run of mixed, realistic traffic against gunicorn on PostgreSQL with the
10,000-learner data set (``bench.progress_bench.build``), on loopback. Zero errors expected.

The mix (weights per request): learners read lessons, mark them complete and submit quizzes,
and look at their dashboard; organization admins page through the report, read the summary and
now and then export the whole CSV; anyone verifies certificates; Stripe delivers webhooks
(signed with the test webhook secret; each a new event, recorded once). Client threads with
keep-alive connections (the client shares the 2 cores with gunicorn and PostgreSQL: the
numbers are a floor of what the app does, not its ceiling). Prints requests/s, p50, p95 and
p99 per route and fails (exit status 1) on any error answer.

    .venv/bin/python -m bench.load                       # 60 s of traffic (about 3 minutes)
    .venv/bin/python -m bench.load --seconds 20 --learners 2000
"""

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from bench.progress_bench import build, free_port, serve

WEBHOOK_SECRET = "whsec_test_secret_for_lms"  # noqa: S105 (the test suite's, tests/sponsorships)
QUIZ_ANSWERS = {f"q{n}": ["a"] for n in range(1, 6)}  # bench.course_import's quizzes

# (route label, weight)
MIX = (
    ("GET lesson", 30),
    ("PUT lesson progress", 20),
    ("POST quiz attempt", 5),
    ("GET dashboard", 10),
    ("GET report page", 10),
    ("GET report summary", 4),
    ("GET report CSV", 1),
    ("GET verify", 15),
    ("POST stripe webhook", 5),
)


def add_certificates(url: str, count: int) -> list[str]:
    """Certificates for ``count`` enrollments (as issuing would leave them); their codes."""
    import sqlalchemy as sa

    from lms import create_app
    from lms.certificates import codes
    from lms.certificates.models import Certificate
    from lms.core.db import utcnow
    from lms.core.extensions import db
    from lms.courses.models import CourseVersion
    from lms.memberships.models import Organization
    from lms.progress.models import Enrollment

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    made = []
    with app.app_context():
        rows = db.session.execute(
            sa.select(Enrollment, CourseVersion, Organization)
            .join(CourseVersion, CourseVersion.id == Enrollment.version_id)
            .join(Organization, Organization.id == Enrollment.organization_id)
            .order_by(Enrollment.id)
            .limit(count)
        ).all()
        now = utcnow()
        for n, (enrollment, version, org) in enumerate(rows, start=1):
            code = codes.new_code()
            made.append(codes.display(code))
            db.session.add(
                Certificate(
                    code=code, enrollment_id=enrollment.id, user_id=enrollment.user_id,
                    organization_id=org.id, course_id=version.course_id, version_id=version.id,
                    learner_name=enrollment.learner_name, learner_email=enrollment.learner_email,
                    course_slug=enrollment.course_slug, course_title=version.title,
                    version_label=version.label, content_hash=version.content_hash,
                    organization_name=org.name, completed_at=now, status_index=n,
                )
            )  # fmt: skip
        db.session.commit()
        db.engine.dispose()
    return made


def course_slugs(url: str) -> dict[int, str]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT v.id, c.slug FROM course_versions v JOIN courses c ON c.id = v.course_id"
            )
        ).all()
    engine.dispose()
    return dict(rows)


class Traffic:
    """Builds one request of each kind from the data set."""

    def __init__(self, info: dict, slugs: dict[int, str], codes: list[str], rng: random.Random):
        self.info, self.slugs, self.codes, self.rng = info, slugs, codes, rng
        self.users = list(info["tokens"].items())
        self.pages = max(1, info["enrollments"] // 50)
        self.labels = [label for label, _ in MIX]
        self.weights = [weight for _, weight in MIX]

    def _learner(self):
        uid, token = self.rng.choice(self.users)
        enrollment_id, version_id = self.rng.choice(self.info["by_user"][uid])
        return token, enrollment_id, version_id

    def next(self) -> tuple[str, str, str, bytes | None, dict]:
        label = self.rng.choices(self.labels, self.weights)[0]
        rng, info = self.rng, self.info
        admin = {"Authorization": f"Bearer {info['admin_token']}"}
        org = info["org_slug"]
        if label in ("GET lesson", "PUT lesson progress", "POST quiz attempt", "GET dashboard"):
            token, enrollment_id, version_id = self._learner()
            auth = {"Authorization": f"Bearer {token}"}
            items = self.info["slugs"][version_id]
            quizzes = [s for s in items if s.startswith("quiz")]
            lessons = [s for s in items if not s.startswith("quiz")]
            if label == "GET lesson":
                path = f"/api/v1/courses/{self.slugs[version_id]}/lessons/{rng.choice(items)}"
                return label, "GET", path, None, auth
            if label == "PUT lesson progress":
                body = json.dumps({"status": "completed", "time_spent_seconds": 120}).encode()
                path = f"/api/v1/enrollments/{enrollment_id}/lessons/{rng.choice(lessons)}/progress"
                return label, "PUT", path, body, auth | {"Content-Type": "application/json"}
            if label == "POST quiz attempt":
                body = json.dumps({"answers": QUIZ_ANSWERS}).encode()
                path = f"/api/v1/enrollments/{enrollment_id}/lessons/{rng.choice(quizzes)}/attempts"
                return label, "POST", path, body, auth | {"Content-Type": "application/json"}
            return label, "GET", "/api/v1/enrollments", None, auth
        if label == "GET report page":
            query = f"page={rng.randint(1, self.pages)}&page_size=50"
            return label, "GET", f"/api/v1/organizations/{org}/report?{query}", None, admin
        if label == "GET report summary":
            return label, "GET", f"/api/v1/organizations/{org}/report/summary", None, admin
        if label == "GET report CSV":
            return label, "GET", f"/api/v1/organizations/{org}/report?format=csv", None, admin
        if label == "GET verify":
            return label, "GET", f"/api/v1/verify/{rng.choice(self.codes)}", None, {}
        return (label, "POST", "/stripe/webhook", *signed_event(rng))


def signed_event(rng: random.Random) -> tuple[bytes, dict]:
    import stripe

    event = {
        "id": f"evt_load_{rng.getrandbits(64):016x}",
        "object": "event",
        "type": "charge.refunded",  # recorded once, changes nothing else
        "api_version": "2025-03-31.basil",
        "created": int(time.time()),
        "data": {"object": {"id": f"ch_{rng.getrandbits(32):08x}"}},
    }
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    return body.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


def client(port: int, traffic: Traffic, until: float, out: dict, errors: list, lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    mine: dict[str, list[float]] = defaultdict(list)
    while time.monotonic() < until:
        with lock:  # one random generator, shared
            label, method, path, body, headers = traffic.next()
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            errors.append((label, path, repr(exc)))
            continue
        mine[label].append((time.perf_counter() - started) * 1000)
        if status >= 400:
            errors.append((label, path, status))
    conn.close()
    with lock:
        for label, times in mine.items():
            out[label] += times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def table(latencies: dict[str, list[float]], seconds: float) -> str:
    head = ("route", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms")
    fmt = "{:<22} {:>9} {:>8} {:>8} {:>8} {:>8}"
    lines = [fmt.format(*head)]
    everything = []
    for label, _ in MIX:
        times = latencies.get(label, [])
        everything += times
        if times:
            lines.append(
                fmt.format(
                    label, len(times), f"{len(times) / seconds:.1f}",
                    f"{statistics.median(times):.1f}", f"{percentile(times, 0.95):.1f}",
                    f"{percentile(times, 0.99):.1f}",
                )
            )  # fmt: skip
    if everything:
        lines.append(
            fmt.format(
                "all", len(everything), f"{len(everything) / seconds:.1f}",
                f"{statistics.median(everything):.1f}", f"{percentile(everything, 0.95):.1f}",
                f"{percentile(everything, 0.99):.1f}",
            )
        )  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=60, help="traffic time (at most 120)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers")
    args = parser.parse_args(argv)
    seconds = min(args.seconds, 120)
    from bench import progress_bench
    from bench.pgserver import postgresql

    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp, postgresql("lms_load") as url:
        workdir = Path(tmp)
        started = time.perf_counter()
        info = build(url, args.learners, 300, workdir)
        codes = add_certificates(url, 500)
        slugs = course_slugs(url)
        print(
            f"data: {args.learners} learners, {info['enrollments']} enrollments, "
            f"{info['progress_rows']} progress rows, {len(codes)} certificates "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        env = {
            **os.environ,
            "LMS_ENV": "production",
            "LMS_SECRET_KEY": "load-" + "0" * 32,
            "LMS_SQLALCHEMY_DATABASE_URI": url,
            "LMS_BASE_URL": "http://load.example",
            "LMS_INSTANCE_PATH": str(workdir / "instance"),
            "LMS_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # Loopback traffic comes from one address: the per-address limits are checked on
            # every request but set out of reach, as behind a proxy each client has its own.
            "LMS_CERTIFICATE_VERIFY_PER_ADDRESS": "100000000 per minute",
        }
        progress_bench.WORKERS = str(args.workers)
        port = free_port()
        server = serve("wsgi:app", port, env, workdir / "lms.log")
        latencies: dict[str, list[float]] = defaultdict(list)
        errors: list = []
        lock = threading.Lock()
        traffic = Traffic(info, slugs, codes, rng)
        try:
            until = time.monotonic() + seconds
            began = time.monotonic()
            threads = [
                threading.Thread(
                    target=client, args=(port, traffic, until, latencies, errors, lock)
                )
                for _ in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - began
        finally:
            server.terminate()
            server.wait(timeout=30)
        server_errors = [
            line for line in (workdir / "lms.log").read_text().splitlines() if "Traceback" in line
        ]
    print(
        f"gunicorn {args.workers} sync workers, {args.clients} client connections, "
        f"{elapsed:.0f} s of mixed traffic on PostgreSQL; {os.cpu_count()} cores shared by "
        "PostgreSQL, gunicorn and the client"
    )
    print(table(latencies, elapsed))
    print(f"errors: {len(errors)}; tracebacks in the server log: {len(server_errors)}")
    for error in errors[:20]:
        print("  ", error)
    return 1 if errors or server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
