"""The certificate's Open Badges 3.0 credential: facts from the certificate's snapshot, signed
with the issuer's current key (``keys.issuer_keys``), and the public documents that let anyone
verify it: the issuer profile with every key (retired ones too) and the revocation list."""

import json

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, object_session

from lms.certificates import codes
from lms.certificates.credential import (
    CertificateFacts,
    build_credential,
    issuer_profile,
    status_list_credential,
)
from lms.certificates.keys import issuer_keys
from lms.certificates.models import Certificate
from lms.core.extensions import db
from lms.courses.models import CourseVersion, Lesson

ISSUER_NAME_SETTING = "CERTIFICATE_ISSUER_NAME"


def _base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def _issuer_name() -> str:
    return current_app.config[ISSUER_NAME_SETTING]


def criteria(version_id: int, session: Session | None = None) -> str:
    """The course version's completion rules, in words (the achievement's criteria)."""
    session = session or db.session
    pass_mark, required, quizzes = session.execute(
        sa.select(
            CourseVersion.pass_mark,
            sa.select(sa.func.count())
            .where(Lesson.version_id == version_id, Lesson.is_required)
            .scalar_subquery(),
            CourseVersion.quiz_count,
        ).where(CourseVersion.id == version_id)
    ).one()
    rule = f"Complete all {required} required lessons and quizzes of the course"
    if quizzes:
        rule += f", passing each required quiz with a score of at least {pass_mark}%"
    return rule + "."


def facts_for(certificate: Certificate) -> CertificateFacts:
    return CertificateFacts(
        code=codes.display(certificate.code),  # as the QR code and the verification page show it
        learner_name=certificate.learner_name,
        learner_email=certificate.learner_email,
        course_slug=certificate.course_slug,
        course_title=certificate.course_title,
        version_label=certificate.version_label,
        content_hash=certificate.content_hash,
        # The certificate's own session: renders run in the outbox's, after the request's commit.
        criteria=criteria(certificate.version_id, object_session(certificate)),
        organization_name=certificate.organization_name,
        sponsor_name=certificate.sponsor_name,
        completed_at=certificate.completed_at,
        issued_at=certificate.issued_at,
        status_index=certificate.status_index,
    )


def credential_for(certificate: Certificate) -> dict:
    """The signed ``OpenBadgeCredential`` (deterministic for a given key: the PDF's attachment
    and the API answer are the same document)."""
    keys = issuer_keys(current_app)
    return build_credential(
        facts_for(certificate), base_url=_base_url(), key=keys.signing, issuer_name=_issuer_name()
    )


def credential_json(certificate: Certificate) -> bytes:
    return json.dumps(credential_for(certificate), ensure_ascii=False, indent=2).encode()


def issuer_document() -> dict:
    return issuer_profile(_base_url(), issuer_keys(current_app), name=_issuer_name())


def revocation_list() -> dict:
    """The signed Bitstring Status List: bit ``status_index`` is set for each revoked
    certificate."""
    revoked = db.session.scalars(
        sa.select(Certificate.status_index).where(Certificate.revoked_at.is_not(None))
    ).all()
    return status_list_credential(_base_url(), revoked, issuer_keys(current_app).signing)
