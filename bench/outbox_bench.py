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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
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
            "INVITATION_CSV_MAX_ROWS": args.rows,
            "PASSWORD_HASH_METHOD": "pbkdf2",
        }
        inline = create_app({**base, "MAIL_DIR": str(tmp / "mail")})
        with inline.app_context():
            flask_migrate.upgrade()
        token = seed(inline, args.rows)
        data = build_csv(args.rows)
        inline_seconds = apply(inline, token, data)
        inline_mails = len(list((tmp / "mail").glob("*.eml")))
        with inline.app_context():
            db.engine.dispose()

        queued = create_app(
            {**base, "CELERY_BROKER_URL": broker, "MAIL_BACKEND": "smtp",
             "MAIL_SMTP_HOST": "127.0.0.1", "MAIL_SMTP_PORT": sink.port}
        )  # fmt: skip
        second = data.replace(b"researcher", b"second")
        queued_seconds = apply(queued, token, second)
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
            delivered = sink.wait_for(args.rows, timeout=300)
            delivery_seconds = time.perf_counter() - start
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            sink.stop()
            redis.terminate()

    print(f"{args.rows} rows, PostgreSQL, 2 cores shared by PostgreSQL, Redis, the app and workers")
    print(f"{'path':<52} {'answer (s)':>10} {'target':>7}")
    print(f"{'no broker: drained in the web process (file backend)':<52} {inline_seconds:>10.2f}")
    print(f"{'broker: the answer only enqueues':<52} {queued_seconds:>10.2f} {'< 3':>7}")
    print(
        f"two worker processes delivered {delivered} mails by SMTP in {delivery_seconds:.1f} s "
        f"(target < 60 s, worker start included); in-process path wrote {inline_mails} files"
    )


if __name__ == "__main__":
    main()
