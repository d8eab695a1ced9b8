"""A savepoint (``begin_nested``) is not the commit: outbox rows and after-commit work queued
before it wait for the transaction's real commit. (SQLAlchemy sends after_commit for savepoints
too; before this fix, seed-demo's first savepoint after a certificate was issued dispatched the
render while the command's own transaction held SQLite's write lock: "database is locked".)"""

import sqlalchemy as sa

from lms.core.mail import send_mail
from lms.core.outbox import OutboxItem
from lms.core.transaction import after_commit

RESET = {"template": "accounts/mail/password_reset", "link": "http://x/y", "hours": 1}


def test_outbox_rows_wait_for_the_commit_not_a_savepoint(app, db, mailbox):
    with app.test_request_context():
        send_mail("a@uni.example", "Hello", RESET["template"], user=None, link="http://x", hours=1)
        with db.session.begin_nested():
            db.session.execute(sa.text("SELECT 1"))
        assert db.session.scalars(sa.select(OutboxItem)).all() == []
        assert mailbox.messages == []
        db.session.commit()
    (row,) = db.session.scalars(sa.select(OutboxItem)).all()
    assert row.done_at is not None
    assert [m["To"] for m in mailbox.messages] == ["a@uni.example"]


def test_after_commit_work_waits_for_the_commit_not_a_savepoint(app, db):
    ran = []
    with app.test_request_context():
        after_commit(lambda: ran.append("done"))
        with db.session.begin_nested():
            db.session.execute(sa.text("SELECT 1"))
        assert ran == []
        db.session.commit()
    assert ran == ["done"]
