"""Mail backends: .eml files by default, and SMTP against a real local server (aiosmtpd)."""

import logging

import pytest
from aiosmtpd.controller import Controller

from lms.core.mail import build_message, deliver, send_mail
from tests.conftest import free_port


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


class Recorder:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, recorder
    finally:
        controller.stop()


def test_smtp_backend_delivers_to_a_real_server(app, db, monkeypatch, smtp_server):
    controller, recorder = smtp_server
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_SMTP_PORT", controller.port)
    client = app.test_client()
    from tests.factories import UserFactory

    user = UserFactory()
    response = client.post("/api/v1/auth/password-reset", json={"email": user.email})
    assert response.status_code == 202
    assert len(recorder.envelopes) == 1
    envelope = recorder.envelopes[0]
    assert envelope.rcpt_tos == [user.email]
    from email import message_from_bytes, policy

    received = message_from_bytes(envelope.content, policy=policy.default)
    assert "/password/reset/" in received.get_content()
    assert received["Subject"] == "Reset your lms password"


def test_smtp_outage_is_logged_not_raised(app, db, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_SMTP_PORT", free_port())  # nothing listens there
    from tests.factories import UserFactory

    user = UserFactory()
    with caplog.at_level(logging.ERROR):
        response = app.test_client().post("/api/v1/auth/password-reset", json={"email": user.email})
    assert response.status_code == 202
    assert "could not deliver mail" in caplog.text
