"""Mail backends: .eml files by default, and SMTP against a real local server (aiosmtpd)."""

import logging

import sqlalchemy as sa

from lms.core.db import utcnow
from lms.core.mail import build_message, deliver, send_mail


def test_file_backend_writes_a_complete_eml_file(app, mailbox):
    with app.test_request_context():
        deliver(
            build_message(
                "r@uni.example",
                "Hello",
                "accounts/mail/password_reset",
                user=type("U", (), {"name": "R"})(),
                link="http://x/y",
                hours=1,
            )
        )
    files = list(mailbox.folder.iterdir())
    assert [f.suffix for f in files] == [".eml"]  # no temporary file left behind
    message = mailbox.messages[0]
    assert message["To"] == "r@uni.example"
    assert message["Subject"] == "Hello"
    assert "http://x/y" in message.get_content()


def test_send_mail_waits_for_the_commit(app, db, mailbox):
    with app.test_request_context():
        send_mail(
            "r@uni.example",
            "Later",
            "accounts/mail/password_reset",
            user=type("U", (), {"name": "R"})(),
            link="http://x/y",
            hours=1,
        )
        assert mailbox.messages == []
        db.session.commit()
    assert [m["Subject"] for m in mailbox.messages] == ["Later"]


def test_smtp_backend_delivers_to_a_real_server(app, db, smtp_mail):
    from tests.factories import UserFactory

    user = UserFactory()
    response = app.test_client().post("/api/v1/auth/password-reset", json={"email": user.email})
    assert response.status_code == 202
    assert smtp_mail.recipients() == [user.email]
    received = smtp_mail.messages[0]
    assert "/password/reset/" in received.get_content()
    assert received["Subject"] == "Reset your lms password"


def test_smtp_outage_is_recorded_and_retried_not_raised(app, db, smtp_mail, caplog, runner):
    """The request commits and answers; the mail waits in the outbox with the error, and goes
    out once the server is back (here: `flask lms outbox retry`)."""
    from lms.core.outbox import OutboxItem
    from tests.factories import UserFactory

    user = UserFactory()
    smtp_mail.stop()
    with caplog.at_level(logging.WARNING):
        response = app.test_client().post("/api/v1/auth/password-reset", json={"email": user.email})
    assert response.status_code == 202
    assert "attempt 1 failed" in caplog.text
    (row,) = db.session.scalars(sa.select(OutboxItem)).all()
    assert (row.kind, row.attempts, row.done_at, row.failed_at) == ("mail", 1, None, None)
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at > utcnow()
    smtp_mail.start()
    result = runner.invoke(args=["lms", "outbox", "retry"])
    assert result.exit_code == 0, result.output
    assert smtp_mail.recipients() == [user.email]
    db.session.refresh(row)
    assert row.done_at is not None and "body" not in row.payload  # the link is not kept
