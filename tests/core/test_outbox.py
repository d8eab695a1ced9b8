"""The transactional outbox: rows written with the change, drained after the commit, retried
with backoff, never lost and never sent when they no longer make sense."""

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.core import outbox
from lms.core.db import utcnow
from lms.core.mail import send_mail
from lms.core.outbox import OutboxItem
from tests.conftest import free_port, log_in
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory

RESET = {"template": "accounts/mail/password_reset", "link": "http://x/y", "hours": 1}


def queue(to, subject="Hello"):
    send_mail(to, subject, RESET["template"], user=None, link=RESET["link"], hours=1)


def rows(db):
    return db.session.scalars(sa.select(OutboxItem).order_by(OutboxItem.id)).all()


def test_rows_exist_exactly_when_the_change_committed(app, db, mailbox):
    with app.test_request_context():
        queue("a@uni.example")
        db.session.rollback()
        assert rows(db) == [] and mailbox.messages == []
        queue("b@uni.example")
        assert rows(db) == []  # written just before the commit, in its transaction
        db.session.commit()
    (row,) = rows(db)
    assert (row.kind, row.payload["to"], row.attempts) == ("mail", "b@uni.example", 1)
    assert row.done_at is not None and row.last_error is None
    assert [m["To"] for m in mailbox.messages] == ["b@uni.example"]


def test_one_message_that_cannot_be_built_never_stops_the_others(app, db, mailbox, caplog):
    with app.test_request_context(), caplog.at_level(logging.ERROR):
        queue("a@uni.example")
        queue("b@uni.example", subject="Hi\r\nBcc: everyone@uni.example")
        queue("c@uni.example")
        db.session.commit()
    assert [m["To"] for m in mailbox.messages] == ["a@uni.example", "c@uni.example"]
    bad = rows(db)[1]
    assert bad.failed_at is not None and bad.done_at is None
    assert "cannot be built" in bad.last_error
    assert "failed for good" in caplog.text


def test_failures_back_off_exponentially_then_fail_and_show_in_the_cli(
    app, db, smtp_mail, monkeypatch, runner
):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    monkeypatch.setitem(app.config, "OUTBOX_RETRY_BASE", timedelta(seconds=10))
    smtp_mail.stop()
    with app.test_request_context():
        queue("a@uni.example")
        db.session.commit()
    (row,) = rows(db)
    delays = []
    for _ in range(2):
        db.session.refresh(row)
        delays.append(round((row.next_attempt_at - utcnow()).total_seconds()))
        row.next_attempt_at = utcnow() - timedelta(seconds=1)  # as if the wait had passed
        db.session.commit()
        outbox.drain()
    assert delays == [10, 20]
    db.session.refresh(row)
    assert row.attempts == 3 and row.failed_at is not None and row.done_at is None
    result = runner.invoke(args=["lms", "outbox"])
    assert "failed: 1" in result.output and "ConnectionRefusedError" in result.output
    smtp_mail.start()
    result = runner.invoke(args=["lms", "outbox", "retry"])
    assert "processed 1" in result.output, result.output
    assert smtp_mail.recipients() == ["a@uni.example"]
    db.session.refresh(row)
    assert row.done_at is not None and row.failed_at is None


def test_without_a_broker_a_later_commit_sends_a_few_rows_due_again(
    app, db, smtp_mail, monkeypatch
):
    """No sweep runs without a broker: a failed send goes out with a later commit's work once
    its retry time has come, after that commit's own rows and a few at a time."""
    monkeypatch.setitem(app.config, "OUTBOX_CATCH_UP", 2)
    smtp_mail.stop()
    with app.test_request_context():
        for to in ("a", "b", "c"):
            queue(f"{to}@uni.example")
        db.session.commit()
    assert all(row.last_error and row.next_attempt_at > utcnow() for row in rows(db))
    smtp_mail.start()
    with app.test_request_context():
        queue("d@uni.example")
        db.session.commit()
    assert smtp_mail.recipients() == ["d@uni.example"]  # the failed ones wait for their time
    for row in rows(db)[:3]:
        row.next_attempt_at = utcnow() - timedelta(seconds=1)  # as if the wait had passed
    db.session.commit()
    with app.test_request_context():
        queue("e@uni.example")
        db.session.commit()
    assert smtp_mail.recipients() == [f"{to}@uni.example" for to in "deab"]
    waiting = rows(db)[2]
    db.session.refresh(waiting)
    assert (waiting.payload["to"], waiting.done_at, waiting.attempts) == ("c@uni.example", None, 1)


def test_a_claimed_row_is_not_taken_again_until_its_claim_lapses(app, db, mailbox):
    """A worker killed mid-send leaves its row claimed; another takes it once the lease ends."""
    with app.test_request_context():
        outbox.add("mail", {"to": "a@uni.example", "subject": "S", "body": "B"})
        db.session.commit()  # sent in-process: make it pending again, as if claimed and killed
    (row,) = rows(db)
    row.done_at, row.locked_until = None, utcnow() + timedelta(minutes=5)
    row.payload = {"to": "a@uni.example", "subject": "S", "body": "B"}
    db.session.commit()
    assert outbox.drain() == 0
    row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert outbox.drain() == 1
    assert len(mailbox.messages) == 2  # the one in-flight message, sent again once


@pytest.fixture
def unreachable_broker(app, monkeypatch):
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", url)
    monkeypatch.setattr(app.extensions["celery"].conf, "broker_url", url)
    return url


def test_a_worker_claims_only_its_batch_so_others_share_the_work(
    app, db, mailbox, unreachable_broker
):
    """On PostgreSQL the claim's ``LIMIT ... FOR UPDATE SKIP LOCKED`` pick used to be run again
    while the UPDATE locked rows, so the first worker claimed every due row and a second one
    found nothing to do (two workers were no faster than one)."""
    with app.test_request_context():
        for n in range(45):
            outbox.add("mail", {"to": f"r{n}@uni.example", "subject": "S", "body": "B"})
        db.session.commit()  # queued for the (unreachable) broker: nothing drained yet
    assert outbox.drain(limit=5) == 5
    db.session.expire_all()
    claimed = [row for row in rows(db) if row.locked_until is not None or row.done_at]
    assert len(claimed) == 5 and len(mailbox.messages) == 5
    assert outbox.count_due() == 40  # free for any other worker


@pytest.fixture
def ospo(db):
    organization = OrganizationFactory(slug="ospo", name="Uni OSPO")
    SeatGrantFactory(organization=organization, seats=5)
    return organization, MemberFactory(organization=organization, role="admin").user


def test_an_unreachable_broker_is_logged_and_the_request_still_commits(
    app, client, ospo, mailbox, unreachable_broker, caplog
):
    _, admin = ospo
    log_in(client, admin)
    with caplog.at_level(logging.ERROR):
        response = client.post(
            "/api/v1/organizations/ospo/invitations", json={"email": "r@uni.example"}
        )
    assert response.status_code == 201
    assert "could not reach the Celery broker" in caplog.text
    assert mailbox.messages == []
    assert outbox.count_due() == 1  # the sweep (or `flask lms outbox retry`) sends it later


def test_a_mail_for_an_invitation_revoked_before_the_send_is_not_sent(
    app, db, client, ospo, mailbox, unreachable_broker
):
    _, admin = ospo
    log_in(client, admin)
    code = client.post(
        "/api/v1/organizations/ospo/invitations", json={"email": "r@uni.example"}
    ).json["id"]
    assert client.delete(f"/api/v1/organizations/ospo/invitations/{code}").status_code == 204
    assert outbox.drain() == 1
    assert mailbox.messages == []
    (row,) = rows(db)
    assert row.done_at is not None and row.note == "not sent: the invitation was revoked"


def test_losing_the_database_between_the_commit_and_the_drain_keeps_the_answer(
    app, client, ospo, mailbox, db, caplog
):
    """Without a broker the rows are drained right after the commit; if the database drops
    in between (a restart), the request's data is committed: its answer stays a success and
    the rows stay due for the sweep. (It was a 503, then a 500 from the error handler's
    rollback of a committed session.)"""
    _, admin = ospo
    log_in(client, admin)
    connection = db.engines[None]

    def database_gone(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
            raise sa.exc.OperationalError(statement, {}, Exception("server closed the connection"))

    sa.event.listen(connection, "before_cursor_execute", database_gone)
    try:
        with caplog.at_level(logging.ERROR, logger="lms.core.outbox"):
            response = client.post(
                "/api/v1/organizations/ospo/invitations", json={"email": "late@uni.example"}
            )
    finally:
        sa.event.remove(connection, "before_cursor_execute", database_gone)
    assert response.status_code == 201, response.json
    assert "not handed on (OperationalError); they stay due" in caplog.text
    assert mailbox.messages == []
    assert outbox.count_due() == 1
    with app.app_context():
        assert outbox.drain() == 1
    assert [m["To"] for m in mailbox.messages] == ["late@uni.example"]
