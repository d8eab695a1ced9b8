"""Outgoing mail.

Backends: ``file`` (default; every message becomes an ``.eml`` file in ``MAIL_DIR``, which is
``instance/mail/`` unless configured), ``console`` (printed to the log) and ``smtp``.
``send_mail`` renders the message in the request and writes it to the outbox
(``lms.core.outbox``) in the request's transaction: it goes out only once that transaction
committed, by a Celery worker or, without a broker, right after the commit; a failed send is
retried with backoff; a rolled-back request never sends a message about something that did not
happen.
"""

import logging
import os
import smtplib
import ssl
import tempfile
import threading
import uuid
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app

from lms.core import outbox
from lms.core.db import utcnow

log = logging.getLogger(__name__)


def render_body(template: str, **context) -> str:
    """Render ``<template>.txt`` with only the values given (and ``base_url``).

    Mail templates see no request (they are read long after it): Jinja renders them directly,
    without Flask's template context processors and signals, which cost more than the
    rendering itself in a 10,000-invitation CSV.
    """
    context.setdefault("base_url", current_app.config["BASE_URL"])
    return current_app.jinja_env.get_template(f"{template}.txt").render(context)


def build_message(to: str, subject: str, template: str, **context) -> Message:
    """Render ``<template>.txt`` into a plain-text UTF-8 message."""
    return compose(to, subject, render_body(template, **context))


def compose(to: str, subject: str, body: str) -> Message:
    """A plain-text UTF-8 message. Header values with line breaks are refused (ValueError):
    they would let whoever chose them add headers of their own.

    Built with the ``compat32`` policy and explicitly encoded headers: the modern policy parses
    every header on assignment, which made a 10,000-invitation CSV spend most of its time in
    the email package.
    """
    for name, value in (("To", to), ("Subject", subject)):
        if any(c in value for c in "\r\n\0"):
            raise ValueError(f"the {name} header contains a line break or NUL")
    config = current_app.config
    message = MIMEText(body, "plain", _UTF8_QP)
    message["From"] = _header(config["MAIL_FROM"])
    message["To"] = to
    message["Subject"] = _header(subject)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain="lms.local")
    return message


# Quoted-printable keeps the text readable in .eml files and safe on any SMTP server.
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def deliver(message: Message) -> None:
    """Hand a message to the configured backend now."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "file":
        _deliver_to_file(message)
    elif backend == "console":
        body = message.get_payload(decode=True).decode("utf-8")
        log.info("mail to %s: %s\n%s", message["To"], message["Subject"], body)
    elif backend == "smtp":
        _deliver_by_smtp(message)
    else:
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")


def send_mail(
    to: str, subject: str, template: str, *, check: tuple[str, object] | None = None, **context
) -> None:
    """Render a message now and send it once the current transaction has committed.

    ``check`` names an outbox check (``outbox.register_check``) and its argument, run just
    before sending: when it gives a reason (say, the invitation was revoked meanwhile) the
    message is not sent and the reason is noted on the row.
    """
    payload = {"to": to, "subject": subject, "body": render_body(template, **context)}
    if check is not None:
        payload["check"] = list(check)
    outbox.add("mail", payload)


@outbox.handler("mail")
def _send_outbox_mail(session, payload: dict) -> str | None:
    reason = outbox.run_check(session, payload.get("check"))
    if reason:
        return f"not sent: {reason}"
    try:
        message = compose(payload["to"], payload["subject"], payload["body"])
    except (KeyError, TypeError, ValueError) as exc:
        raise outbox.PermanentError(f"the message cannot be built: {exc}") from None
    deliver(message)
    return None


def mail_dir() -> Path:
    return Path(current_app.config["MAIL_DIR"])


def _deliver_to_file(message: Message) -> None:
    folder = mail_dir()
    folder.mkdir(parents=True, exist_ok=True)
    # Sortable by time, unique across workers.
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}.eml"
    # Written under a temporary name and renamed, so readers never see half a message.
    # A failed write (disk full, file-size limit) removes the partial temporary file.
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(message.as_bytes())
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# One SMTP connection per thread, kept open between messages: opening one costs a TCP
# handshake, a greeting and EHLO for every mail, which made a 10,000-mail CSV take minutes.
_smtp = threading.local()


def _smtp_settings() -> tuple:
    config = current_app.config
    local = config["MAIL_SMTP_LOCAL_HOSTNAME"] or urlsplit(config["BASE_URL"]).hostname
    return (
        config["MAIL_SMTP_HOST"],
        config["MAIL_SMTP_PORT"],
        config["MAIL_SMTP_SSL"],
        config["MAIL_SMTP_STARTTLS"],
        config["MAIL_SMTP_USERNAME"],
        config["MAIL_SMTP_PASSWORD"],
        config["MAIL_SMTP_TIMEOUT"],
        # Named, so smtplib does not look up this machine's name (a DNS query per connection).
        local or "localhost",
    )


def _smtp_connection() -> smtplib.SMTP:
    settings = _smtp_settings()
    if getattr(_smtp, "settings", None) == settings and _smtp.client is not None:
        return _smtp.client
    close_smtp_connection()
    host, port, use_ssl, starttls, username, password, timeout, local = settings
    if use_ssl:
        client = smtplib.SMTP_SSL(
            host, port, local_hostname=local, timeout=timeout,
            context=ssl.create_default_context(),
        )  # fmt: skip
    else:
        client = smtplib.SMTP(host, port, local_hostname=local, timeout=timeout)
    try:
        if starttls:
            client.starttls(context=ssl.create_default_context())
        if username:
            client.login(username, password)
    except Exception:
        client.close()
        raise
    _smtp.settings, _smtp.client = settings, client
    return client


def close_smtp_connection() -> None:
    client = getattr(_smtp, "client", None)
    _smtp.client = _smtp.settings = None
    if client is not None:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def _deliver_by_smtp(message: Message) -> None:
    # A kept connection may have been closed by the server meanwhile: then one new one.
    for attempt in (1, 2):
        client = _smtp_connection()
        try:
            client.send_message(message)
            return
        except smtplib.SMTPServerDisconnected:
            close_smtp_connection()
            if attempt == 2:
                raise
        except Exception:
            close_smtp_connection()  # its state is unknown: never reuse it
            raise
