"""Writers wait their turn instead of failing: on SQLite a write request takes the write lock
when its transaction begins (``BEGIN IMMEDIATE``), so a racing writer waits for the busy
timeout rather than failing halfway with "database is locked"; reads keep a plain ``BEGIN``.

These tests commit for real (the race happens between transactions), so each runs on a
database of its own rather than inside the rolled-back test transaction.
"""

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import flask_migrate
import pytest
import sqlalchemy as sa

from lms import create_app
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.memberships import invitations, services
from lms.memberships.models import Invitation, Organization, OrganizationMember
from tests.conftest import make_test_config

RACERS = 10
SEATS = 2


@contextmanager
def app_on_own_database(fresh_database_url, tmp_path, name: str):
    with fresh_database_url(name) as url:
        config = make_test_config(url, tmp_path)
        if url.startswith("postgresql"):
            config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": RACERS + 5, "max_overflow": 0}
        app = create_app(config)
        with app.app_context():
            flask_migrate.upgrade()
            db.session.remove()
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _invite_racers(app) -> list[str]:
    with app.app_context():
        organization = Organization(slug="race", name="Race University")
        db.session.add(organization)
        db.session.flush()
        services.record_grant(
            organization,
            None,
            seats=SEATS,
            starts_at=utcnow() - timedelta(days=1),
            ends_at=utcnow() + timedelta(days=30),
        )
        tokens = []
        for n in range(RACERS):
            invitation, raw = invitations.new_invitation(
                organization, None, f"racer{n}@uni.example", "learner", [], ""
            )
            db.session.add(invitation)
            tokens.append(raw)
        db.session.commit()
        db.session.remove()
    return tokens


def test_ten_concurrent_acceptances_for_two_seats(backend, fresh_database_url, tmp_path):
    """Every racer gets an answer about seats, never 503; no seat is left unused."""
    with app_on_own_database(fresh_database_url, tmp_path, "lms_write_race") as app:
        tokens = _invite_racers(app)
        barrier = threading.Barrier(RACERS)

        def accept(token: str) -> int:
            client = app.test_client()
            barrier.wait()  # everyone fires at once
            response = client.post(
                f"/api/v1/invitations/{token}/accept",
                json={"name": "Racer", "password": "a racing passphrase"},
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            statuses = list(pool.map(accept, tokens))

        assert sorted(statuses) == [200] * SEATS + [409] * (RACERS - SEATS), statuses
        with app.app_context():
            active = db.session.scalar(
                sa.select(sa.func.count()).where(
                    OrganizationMember.status == "active", OrganizationMember.role == "learner"
                )
            )
            accepted = db.session.scalar(
                sa.select(sa.func.count()).where(Invitation.status == "accepted")
            )
            assert active == accepted == SEATS


def test_sqlite_reads_do_not_wait_for_a_writer_and_writes_wait_their_turn(
    backend, fresh_database_url, tmp_path
):
    if backend != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    with app_on_own_database(fresh_database_url, tmp_path, "lms_write_lock") as app:
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        tokens = _invite_racers(app)
        client = app.test_client()
        locked, reads_done = threading.Event(), threading.Event()

        def other_writer():
            """Another process's writer: holds the write lock, changes data, commits."""
            connection = sqlite3.connect(path, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                locked.set()
                reads_done.wait(10)
                time.sleep(0.5)  # the write request below is waiting meanwhile
                connection.execute("UPDATE organizations SET name = 'Renamed University'")
                connection.execute("COMMIT")
            finally:
                connection.close()

        writer = threading.Thread(target=other_writer)
        writer.start()
        try:
            assert locked.wait(10)
            started = time.monotonic()
            assert client.get("/api/v1/courses").status_code == 200
            assert client.get("/readyz").status_code == 200
            # A read that began IMMEDIATE would have waited out the 5 s busy timeout.
            assert time.monotonic() - started < 2
        finally:
            reads_done.set()
        # The write request waits for the lock, then works on the committed data (a plain
        # BEGIN would read first and then fail to write from a stale snapshot: 503).
        response = client.post(
            f"/api/v1/invitations/{tokens[0]}/accept",
            json={"name": "Patient", "password": "a patient passphrase"},
        )
        writer.join()
        assert response.status_code == 200, response.json


def test_sqlite_begins_immediate_for_writes_and_the_cli_only(backend, fresh_database_url, tmp_path):
    if backend != "sqlite":
        pytest.skip("SQLite's BEGIN variants")
    with app_on_own_database(fresh_database_url, tmp_path, "lms_begin") as app:
        begins: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith("BEGIN"):
                begins.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            client = app.test_client()
            assert client.get("/api/v1/courses").status_code == 200
            assert client.head("/api/v1/courses").status_code == 200
            assert begins == ["BEGIN", "BEGIN"]
            begins.clear()
            response = client.post(
                "/api/v1/auth/login", json={"email": "nobody@uni.example", "password": "x" * 12}
            )
            assert response.status_code == 401
            assert begins == ["BEGIN IMMEDIATE"]
            begins.clear()
            result = app.test_cli_runner().invoke(args=["lms", "courses", "publish", "nothing"])
            assert result.exit_code == 1 and "No such course" in result.output
            assert begins == ["BEGIN IMMEDIATE"]
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
