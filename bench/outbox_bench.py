"""Benchmark: a 10,000-row CSV enrollment with the outbox, on PostgreSQL, side by side.

1. No broker, file backend: the outbox is drained in the web process right after the commit,
   which is the code path before the outbox (mail written inside the request after the commit).
2. With a broker (a private redis-server): the HTTP answer only enqueues; then two Celery worker
   processes send all 10,000 mails by SMTP to an aiosmtpd server, timed until the last arrives.

Targets (issue 10): the answer in under 3 s on PostgreSQL; all mails delivered in under 60 s.
Needs Debian's redis-server.

    .venv/bin/python -m bench.outbox_bench              # about a minute
    .venv/bin/python -m bench.outbox_bench --rows 2000
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.csv_enrollment import build_csv
from bench.table import Row, own_peak_mb, peak_of_tree_mb, reset_own_peak

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(app, rows: int) -> str:
    from datetime import timedelta

    from lms.accounts import services as accounts
    from lms.core.db import utcnow
    from lms.core.extensions import db
    from lms.memberships import services

    with app.app_context():
        admin, _ = accounts.ensure_platform_admin(
            "bench-admin@uni.example", "bench admin pass 26", "B"
        )
        organization = services.create_organization(admin, {"slug": "bench", "name": "Bench U"})
        services.record_grant(
            organization, admin, seats=2 * rows, starts_at=utcnow() - timedelta(days=1),
            ends_at=utcnow() + timedelta(days=365),
        )  # fmt: skip
        _, token = accounts.create_api_token(admin, "bench", None)
        db.session.commit()
    return token


def apply(app, token: str, data: bytes) -> float:
    import io

    client = app.test_client()
    start = time.perf_counter()
    response = client.post(
        "/api/v1/organizations/bench/invitations/import",
        data={"file": (io.BytesIO(data), "people.csv")},
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {token}"},
    )
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return elapsed


def run(rows: int = 10_000) -> dict:
    import flask_migrate

    from bench.pgserver import postgresql
    from lms import create_app
    from lms.core.extensions import db
    from tests.support.smtp import SmtpSink

    with tempfile.TemporaryDirectory() as tmp, postgresql() as url:
        tmp = Path(tmp)
        redis_port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        broker = f"redis://127.0.0.1:{redis_port}/0"
        sink = SmtpSink(free_port()).start()
        base = {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "INVITATION_CSV_MAX_ROWS": rows,
            "PASSWORD_HASH_METHOD": "pbkdf2",
        }
        inline = create_app({**base, "MAIL_DIR": str(tmp / "mail")})
        with inline.app_context():
            flask_migrate.upgrade()
        token = seed(inline, rows)
        data = build_csv(rows)
        reset_own_peak()
        inline_seconds = apply(inline, token, data)
        inline_peak = own_peak_mb()
        inline_mails = len(list((tmp / "mail").glob("*.eml")))
        with inline.app_context():
            db.engine.dispose()

        queued = create_app(
            {**base, "CELERY_BROKER_URL": broker, "MAIL_BACKEND": "smtp",
             "MAIL_SMTP_HOST": "127.0.0.1", "MAIL_SMTP_PORT": sink.port}
        )  # fmt: skip
        second = data.replace(b"researcher", b"second")
        reset_own_peak()
        queued_seconds = apply(queued, token, second)
        queued_peak = own_peak_mb()
        with queued.app_context():
            db.engine.dispose()
        env = {
            **os.environ,
            "LMS_SECRET_KEY": "bench",
            "LMS_SQLALCHEMY_DATABASE_URI": url,
            "LMS_CELERY_BROKER_URL": broker,
            "LMS_MAIL_BACKEND": "smtp",
            "LMS_MAIL_SMTP_HOST": "127.0.0.1",
            "LMS_MAIL_SMTP_PORT": str(sink.port),
            "LMS_INSTANCE_PATH": str(tmp / "instance"),
        }
        start = time.perf_counter()
        worker = subprocess.Popen(
            [BIN / "celery", "-A", "wsgi.celery", "worker", "--concurrency", "2",
             "--loglevel", "WARNING"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        try:
            delivered = sink.wait_for(rows, timeout=300)
            delivery_seconds = time.perf_counter() - start
            worker_peak = peak_of_tree_mb(worker.pid)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            sink.stop()
            redis.terminate()

    return {
        "rows": rows,
        "inline_seconds": inline_seconds,
        "inline_peak": inline_peak,
        "inline_mails": inline_mails,
        "queued_seconds": queued_seconds,
        "queued_peak": queued_peak,
        "delivered": delivered,
        "delivery_seconds": delivery_seconds,
        "worker_peak": worker_peak,
    }


def table_rows(r: dict) -> list[Row]:
    """The rows of ``python -m bench``. The floor of the answer with a broker is the answer
    without one (the path before the outbox); the delivery's floor is its target."""
    n = f"{r['rows']:,}"
    return [
        Row(f"outbox CSV {n}: answer, broker", "postgresql", r["queued_seconds"],
            r["inline_seconds"], "s", goal="<= 1", peak_mb=r["queued_peak"]),
        Row(f"outbox CSV {n}: answer, target", "postgresql", r["queued_seconds"], 3.0, "s",
            goal="<= 1", floor_kind="target", peak_mb=r["queued_peak"]),
        Row(f"outbox: {n} mails by 2 workers", "postgresql", r["delivery_seconds"], 60.0, "s",
            goal="<= 1", floor_kind="target", peak_mb=r["worker_peak"]),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    r = run(args.rows)
    rows = r["rows"]
    inline_seconds, queued_seconds = r["inline_seconds"], r["queued_seconds"]
    delivered, delivery_seconds = r["delivered"], r["delivery_seconds"]
    inline_mails = r["inline_mails"]
    print(f"{rows} rows, PostgreSQL, 2 cores shared by PostgreSQL, Redis, the app and workers")
    print(f"{'path':<52} {'answer (s)':>10} {'target':>7}")
    print(f"{'no broker: drained in the web process (file backend)':<52} {inline_seconds:>10.2f}")
    print(f"{'broker: the answer only enqueues':<52} {queued_seconds:>10.2f} {'< 3':>7}")
    print(
        f"two worker processes delivered {delivered} mails by SMTP in {delivery_seconds:.1f} s "
        f"(target < 60 s, worker start included); in-process path wrote {inline_mails} files"
    )


if __name__ == "__main__":
    main()
