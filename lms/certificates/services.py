"""Certificates: issuing, lookup and verification, the PDF, revocation and reissue. No HTTP.

Issuing happens in the transaction that completed the enrollment (``issue_certificate``, called
through progress's ``enrollment_completed`` signal); the PDF is rendered after the commit by the
outbox (``certificate.render``), or on the spot when someone downloads it first.
"""

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app

from lms.accounts.models import User
from lms.certificates import codes
from lms.certificates.models import (
    Certificate,
    CertificateAction,
    CertificateCounter,
    CertificateEvent,
)
from lms.core import outbox
from lms.core.db import utcnow
from lms.core.errors import NotFound, RuleViolation
from lms.core.extensions import db
from lms.core.paging import page_of
from lms.courses.models import Course, CourseVersion
from lms.memberships.models import MemberRole, MemberStatus, Organization, OrganizationMember
from lms.progress.models import Enrollment, EnrollmentStatus

log = logging.getLogger(__name__)

STATUS_INDEX = "status_index"
RENDER_JOB = "certificate.render"  # carried out by lms.certificates.pdfs
NOT_FOUND = "No certificate has this code."
LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


# -- codes and URLs ---------------------------------------------------------------------


def base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def verification_url(code: str) -> str:
    """The public page a certificate's QR code opens (its credential's id too)."""
    return f"{base_url()}/verify/{codes.display(code)}"


def pdf_url(code: str) -> str:
    return f"{base_url()}/api/v1/certificates/{codes.display(code)}.pdf"


# -- issuing ----------------------------------------------------------------------------


@functools.cache
def _next_counter() -> sa.Update:
    table = CertificateCounter.__table__
    return (
        sa.update(table)
        .where(table.c.name == sa.bindparam("b_name"))
        .values(value=table.c.value + 1)
        .returning(table.c.value)
    )


def allocate_counter(name: str) -> int:
    """The next value of a counter. The UPDATE holds the counter row until the transaction
    ends, so concurrent issues take turns instead of colliding on max()+1."""
    value = db.session.execute(_next_counter(), {"b_name": name}).scalar()
    if value is None:  # the migration seeds the row; a hand-made database may lack it
        db.session.add(CertificateCounter(name=name, value=1))
        db.session.flush()
        value = 1
    return value


def _current_for_enrollment(enrollment_id: int) -> Certificate | None:
    return db.session.scalar(
        sa.select(Certificate).where(
            Certificate.enrollment_id == enrollment_id, Certificate.replaced_at.is_(None)
        )
    )


def log_change(
    certificate: Certificate, action: str, actor: User | None, reason: str = "", **details
):
    db.session.add(
        CertificateEvent(
            certificate_id=certificate.id,
            action=action,
            actor_id=actor.id if actor else None,
            reason=reason,
            details=details,
        )
    )


# Set by the app factory to the sponsorships package's lookup: (organization id, moment) ->
# (sponsor name, logo URL) of the sponsor named on certificates issued then, or None.
# (certificates must not import sponsorships: both build on memberships, side by side.)
def _no_sponsor(organization_id: int, at: datetime) -> tuple[str, str | None] | None:
    return None


sponsor_for: Callable[[int, datetime], tuple[str, str | None] | None] = _no_sponsor


def copy_code_to_enrollment(certificate: Certificate) -> None:
    """Keep ``enrollments.certificate_code`` naming the enrollment's CURRENT certificate, in
    the form people read: the dashboard, the course page and the report read it there, with
    no join (progress may not import this package)."""
    db.session.execute(
        sa.update(Enrollment)
        .where(Enrollment.id == certificate.enrollment_id)
        .values(certificate_code=codes.display(certificate.code))
    )


def issue_certificate(enrollment_id: int) -> Certificate:
    """Issue the certificate of a completed enrollment (idempotent: the current one if it
    exists). Runs in the completing transaction; the PDF is rendered after the commit."""
    row = db.session.execute(
        sa.select(Enrollment, User, Organization, CourseVersion, Course)
        .join(User, User.id == Enrollment.user_id)
        .join(Organization, Organization.id == Enrollment.organization_id)
        .join(CourseVersion, CourseVersion.id == Enrollment.version_id)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.id == enrollment_id)
        # The completion was written by a Core UPDATE: read the row as it is now.
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotFound("No such enrollment.")
    enrollment, user, organization, version, course = row
    if enrollment.status != EnrollmentStatus.COMPLETED or enrollment.completed_at is None:
        raise RuleViolation("Only a completed enrollment earns a certificate.")
    existing = _current_for_enrollment(enrollment.id)
    if existing is not None:
        return existing
    sponsor = sponsor_for(organization.id, utcnow())
    certificate = Certificate(
        code=codes.new_code(),
        enrollment_id=enrollment.id,
        user_id=user.id,
        organization_id=organization.id,
        course_id=course.id,
        version_id=version.id,
        learner_name=enrollment.learner_name or user.name,
        learner_email=user.email,
        course_slug=course.slug,
        course_title=version.title,
        version_label=version.label,
        content_hash=version.content_hash,
        organization_name=organization.name,
        # A sponsor that funds the organization now, on a plan that names sponsors; the name
        # stays on this certificate after the sponsorship ends.
        sponsor_name=(sponsor or (None,))[0],
        completed_at=enrollment.completed_at,
        status_index=allocate_counter(STATUS_INDEX),
    )
    db.session.add(certificate)
    db.session.flush()
    log_change(certificate, CertificateAction.ISSUED, None)
    copy_code_to_enrollment(certificate)
    outbox.add(RENDER_JOB, {"certificate_id": certificate.id})
    return certificate


# -- lookup -----------------------------------------------------------------------------


def find_by_code(text: str) -> Certificate | None:
    """The certificate a typed code names (any case, dashes or not), or None."""
    code = codes.normalize(text)
    if code is None:
        return None
    return db.session.scalar(sa.select(Certificate).where(Certificate.code == code))


def get_by_code(text: str) -> Certificate:
    certificate = find_by_code(text)
    if certificate is None:
        raise NotFound(NOT_FOUND)
    return certificate


def _is_admin_of(user: User, organization_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(OrganizationMember.id).where(
                OrganizationMember.organization_id == organization_id,
                OrganizationMember.user_id == user.id,
                OrganizationMember.status == MemberStatus.ACTIVE,
                OrganizationMember.role == MemberRole.ADMIN,
            )
        )
        is not None
    )


def get_for_reader(user: User, text: str) -> Certificate:
    """A certificate its owner, the organization's admins or a platform admin may read; a
    404 for anyone else (nobody learns that the code exists)."""
    certificate = get_by_code(text)
    if (
        certificate.user_id == user.id
        or user.is_platform_admin
        or _is_admin_of(user, certificate.organization_id)
    ):
        return certificate
    raise NotFound(NOT_FOUND)


def my_certificates(user: User) -> sa.Select:
    return (
        sa.select(Certificate)
        .where(Certificate.user_id == user.id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )


def organization_certificates(organization: Organization) -> sa.Select:
    """An organization's certificates (reach the organization through ``get_organization``)."""
    return (
        sa.select(Certificate)
        .where(Certificate.organization_id == organization.id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )


def codes_by_id(ids: set[int]) -> dict[int, str]:
    """Codes of the certificates with these ids (successors and predecessors in lists)."""
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Certificate.id, Certificate.code).where(Certificate.id.in_(ids))
    )
    return {row.id: row.code for row in rows}


@dataclass
class CertificateRow:
    """A certificate as its owner and the organization's admins see it, with its links."""

    certificate: Certificate
    replaced_by: str | None

    def __getattr__(self, name):
        return getattr(self.certificate, name)

    @property
    def code(self) -> str:
        return codes.display(self.certificate.code)

    @property
    def status(self) -> str:
        return status_of(self.certificate)

    @property
    def pdf_url(self) -> str:
        return pdf_url(self.certificate.code)

    @property
    def verification_url(self) -> str:
        return verification_url(self.certificate.code)

    @property
    def linkedin_url(self) -> str:
        return linkedin_url(self.certificate)


def linkedin_url(certificate: Certificate) -> str:
    """LinkedIn's "Add to profile" link for a certification, filled in."""
    query = urlencode(
        {
            "startTask": "CERTIFICATION_NAME",
            "name": f"{certificate.course_title} ({certificate.version_label})",
            "organizationName": certificate.organization_name,
            "issueYear": certificate.issued_at.year,
            "issueMonth": certificate.issued_at.month,
            "certUrl": verification_url(certificate.code),
            "certId": codes.display(certificate.code),
        }
    )
    return f"{LINKEDIN_ADD_TO_PROFILE}?{query}"


def certificates_page(
    statement: sa.Select, number: int, size: int
) -> tuple[list[CertificateRow], int]:
    """One page of ``statement``'s certificates as rows, and how many there are in all (the
    one pager: a COUNT and the page, then one query for the successors' codes)."""
    page = page_of(statement, number, size)
    return rows(page.items), page.info.total


def rows(certificates: list[Certificate]) -> list[CertificateRow]:
    """Rows for a page of certificates: one more query for the successors' codes."""
    successors = codes_by_id({c.replaced_by_id for c in certificates if c.replaced_by_id})
    return [
        CertificateRow(c, codes.display(successors[c.replaced_by_id]) if c.replaced_by_id else None)
        for c in certificates
    ]


# -- verification status ------------------------------------------------------------


class VerificationStatus:
    VALID = "valid"
    REVOKED = "revoked"
    REPLACED = "replaced"


def status_of(certificate) -> str:
    """valid, revoked or replaced, for a certificate or a row with its columns."""
    if certificate.revoked_at is not None:
        return VerificationStatus.REVOKED
    if certificate.replaced_at is not None:
        return VerificationStatus.REPLACED
    return VerificationStatus.VALID


def count_issued(organization_id: int, course_slug: str, since: datetime, until: datetime) -> int:
    """Certificates first issued in [since, until) to learners of the organization for the
    course and not revoked (a reissue replaces one; it is not another): the sponsors' impact
    report counts these."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Certificate.organization_id == organization_id,
            Certificate.course_slug == course_slug,
            Certificate.replaces_id.is_(None),
            Certificate.revoked_at.is_(None),
            Certificate.issued_at >= since,
            Certificate.issued_at < until,
        )
    )
