"""Changes to issued certificates: revocation and reinstatement (platform admins) and reissue
under a new name (the owner), each logged with its actor and reason. No HTTP."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.certificates import codes
from lms.certificates.models import (
    Certificate,
    CertificateAction,
    CertificateEvent,
)
from lms.certificates.services import (
    NOT_FOUND,
    RENDER_JOB,
    STATUS_INDEX,
    allocate_counter,
    copy_code_to_enrollment,
    get_by_code,
    log_change,
)
from lms.core import outbox
from lms.core.db import utcnow
from lms.core.errors import Conflict, NotFound, RuleViolation
from lms.core.extensions import db

# -- revocation and reissue -------------------------------------------------------------


def revoke(actor: User, text: str, reason: str) -> Certificate:
    """Revoke (platform admins; the view checks). The record stays; verification shows it."""
    certificate = get_by_code(text)
    if certificate.revoked_at is not None:
        raise Conflict("This certificate is already revoked.")
    certificate.revoked_at = utcnow()
    certificate.revocation_reason = reason
    log_change(certificate, CertificateAction.REVOKED, actor, reason)
    db.session.flush()
    return certificate


def reinstate(actor: User, text: str, reason: str = "") -> Certificate:
    certificate = get_by_code(text)
    if certificate.revoked_at is None:
        raise Conflict("This certificate is not revoked.")
    previous = certificate.revocation_reason
    certificate.revoked_at = None
    certificate.revocation_reason = None
    log_change(certificate, CertificateAction.REINSTATED, actor, reason, revocation_reason=previous)
    db.session.flush()
    return certificate


def reissue(actor: User, text: str, new_name: str) -> Certificate:
    """A new certificate under a new name for the owner of a current, unrevoked one; the old
    code verifies as "replaced by" the new one. Anyone but the owner gets a 404.

    Automatic: names are self-declared throughout (registration, the profile), so a platform
    admin approving a new one could check nothing more than the software does; the event log
    keeps both names and platform admins can revoke."""
    old = get_by_code(text)
    if old.user_id != actor.id:
        raise NotFound(NOT_FOUND)
    if old.revoked_at is not None:
        raise Conflict("A revoked certificate cannot be reissued.")
    if old.replaced_at is not None:
        raise Conflict("This certificate was already replaced; reissue the current one.")
    if new_name == old.learner_name:
        raise RuleViolation(
            "The certificate already carries this name.", errors={"name": ["unchanged"]}
        )
    now = utcnow()
    old_name = old.learner_name
    # Mark the old row replaced first (only if nobody else just did): the partial unique index
    # allows one current certificate per enrollment, and the check constraint wants
    # ``replaced_at`` before ``replaced_by_id``.
    table = Certificate.__table__
    marked = db.session.execute(
        sa.update(table)
        .where(table.c.id == old.id, table.c.replaced_at.is_(None), table.c.revoked_at.is_(None))
        .values(replaced_at=now)
    ).rowcount
    if marked != 1:
        raise Conflict("This certificate changed meanwhile; reload and try again.")
    new = Certificate(
        code=codes.new_code(),
        enrollment_id=old.enrollment_id,
        user_id=old.user_id,
        organization_id=old.organization_id,
        course_id=old.course_id,
        version_id=old.version_id,
        learner_name=new_name,
        learner_email=old.learner_email,
        course_slug=old.course_slug,
        course_title=old.course_title,
        version_label=old.version_label,
        content_hash=old.content_hash,
        organization_name=old.organization_name,
        sponsor_name=old.sponsor_name,
        completed_at=old.completed_at,
        issued_at=now,
        status_index=allocate_counter(STATUS_INDEX),
        replaces_id=old.id,
    )
    db.session.add(new)
    db.session.flush()
    db.session.execute(sa.update(table).where(table.c.id == old.id).values(replaced_by_id=new.id))
    db.session.expire(old)  # written by Core statements above
    log_change(
        old,
        CertificateAction.REISSUED,
        actor,
        "name changed",
        old_name=old_name,
        new_name=new_name,
        new_code=new.code,
    )
    log_change(new, CertificateAction.ISSUED, actor, "reissue", replaces=old.code)
    copy_code_to_enrollment(new)
    outbox.add(RENDER_JOB, {"certificate_id": new.id})
    return new


def events(certificate: Certificate) -> list[CertificateEvent]:
    return list(
        db.session.scalars(
            sa.select(CertificateEvent)
            .where(CertificateEvent.certificate_id == certificate.id)
            .order_by(CertificateEvent.id)
        )
    )
