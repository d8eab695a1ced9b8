"""The certificate's PDF: rendered after the issuing commit by the outbox
(``certificate.render``), on the spot when someone downloads it first, or in bulk by
``flask lms certificates render``; stored in the database (``certificates.pdf``, deferred).

The database, not a file store: every app server and worker reads the same bytes with no
shared folder or object store to run, the PDF commits with its row, backups hold both, and at
about 20-70 KB a certificate (more with CJK glyphs) the table stays small next to progress.
A storage backend can replace ``store_pdf`` and the read in ``pdf_for`` if that changes.
"""

import functools
import json
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from lms.accounts.models import User
from lms.certificates import codes, services
from lms.certificates.models import Certificate
from lms.certificates.rendering import CertificateData, render_certificate_pdf
from lms.core import outbox
from lms.core.db import utcnow
from lms.core.extensions import db

# -- hooks the lead wires: the signed credential and the organization's logo ------------


def _unsigned_summary(certificate: Certificate) -> bytes:
    """Stand-in for the signed Open Badges credential until it is wired in: the certificate's
    public facts as JSON (no email)."""
    return json.dumps(
        {
            "type": "lms-certificate",
            "id": services.verification_url(certificate.code),
            "name": certificate.learner_name,
            "course": certificate.course_slug,
            "courseTitle": certificate.course_title,
            "version": certificate.version_label,
            "contentHash": certificate.content_hash,
            "organization": certificate.organization_name,
            "completedAt": certificate.completed_at.isoformat(),
            "issuedAt": certificate.issued_at.isoformat(),
        },
        ensure_ascii=False,
    ).encode("utf-8")


# certificate -> the credential JSON attached to its PDF.
credential_json_for: Callable[[Certificate], bytes] = _unsigned_summary


def _no_logo(session: Session, organization_id: int) -> bytes | None:
    return None


# (session, organization id) -> its logo (PNG/JPEG bytes, validated on upload) or None. Read
# in the certificate's own session: the outbox and the bulk renderer render in sessions of
# their own, after the request's session has committed.
organization_logo: Callable[[Session, int], bytes | None] = _no_logo


# -- rendering and storing ----------------------------------------------------------


def render_data(certificate: Certificate) -> CertificateData:
    return CertificateData(
        code=codes.display(certificate.code),
        verify_url=services.verification_url(certificate.code),
        learner_name=certificate.learner_name,
        course_title=certificate.course_title,
        version_label=certificate.version_label,
        content_hash=certificate.content_hash,
        organization_name=certificate.organization_name,
        completed_at=certificate.completed_at,
        issued_at=certificate.issued_at,
        sponsor_name=certificate.sponsor_name,
        logo=organization_logo(
            object_session(certificate) or db.session, certificate.organization_id
        ),
    )


def render_pdf(certificate: Certificate) -> bytes:
    """Render the certificate's PDF (nothing stored)."""
    return render_certificate_pdf(render_data(certificate), credential_json_for(certificate))


@functools.cache
def _store_pdf() -> sa.Update:
    table = Certificate.__table__
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values(pdf=sa.bindparam("b_pdf"), pdf_rendered_at=sa.bindparam("b_at"))
    )


def store_pdf(session: Session, certificate_id: int, pdf: bytes) -> None:
    session.execute(_store_pdf(), {"b_id": certificate_id, "b_pdf": pdf, "b_at": utcnow()})


def pdf_for(user: User, text: str) -> tuple[Certificate, bytes]:
    """The PDF of a certificate ``user`` may read; rendered and stored now if the background
    render has not happened yet."""
    certificate = services.get_for_reader(user, text)
    pdf = db.session.scalar(sa.select(Certificate.pdf).where(Certificate.id == certificate.id))
    if pdf is None:
        pdf = render_pdf(certificate)
        store_pdf(db.session, certificate.id, pdf)
    return certificate, pdf


def render_missing(session: Session, certificate_id: int, *, force: bool = False) -> bool:
    """Render and store one certificate's PDF in ``session`` (the outbox's or the CLI's own),
    committing nothing. False when there was nothing to do."""
    certificate = session.get(Certificate, certificate_id)
    if certificate is None or (certificate.pdf_rendered_at is not None and not force):
        return False
    data = render_data(certificate)
    credential = credential_json_for(certificate)
    session.rollback()  # end the read: no transaction (SQLite's write lock) during the render
    pdf = render_certificate_pdf(data, credential)
    store_pdf(session, certificate_id, pdf)
    return True


@outbox.handler(services.RENDER_JOB)
def _render_job(session: Session, payload: dict) -> str | None:
    if not render_missing(session, payload["certificate_id"]):
        return "already rendered"
    return None
