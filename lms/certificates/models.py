"""Certificates: what was certified (a snapshot), their status, their PDF and their history.

A certificate copies what it certifies when it is issued (the learner's name, the course title,
version and content hash, the organization, the dates), so that later changes to any of those
never change a certificate someone already holds. Rows are never deleted: a revoked
certificate stays revoked, a replaced one keeps verifying as "replaced by" its successor.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import utcnow
from lms.core.extensions import db


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        # One CURRENT certificate per enrollment. A reissue marks the old row replaced
        # (``replaced_at``) before it inserts the new one, so both rows live on the same
        # enrollment and the rule still holds; a second issue for the same enrollment (a race
        # of completions) fails here.
        sa.Index(
            "uq_certificates_current_enrollment",
            "enrollment_id",
            unique=True,
            sqlite_where=sa.text("replaced_at IS NULL"),
            postgresql_where=sa.text("replaced_at IS NULL"),
        ),
        # A successor is only named once the row is marked replaced (the order reissue uses).
        sa.CheckConstraint(
            "replaced_by_id IS NULL OR replaced_at IS NOT NULL", name="replaced_by_needs_replaced"
        ),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revocation_reason IS NOT NULL", name="revocation_has_reason"
        ),
        # "My certificates" and an organization's list, newest first.
        sa.Index("ix_certificates_user_issued", "user_id", "issued_at"),
        sa.Index("ix_certificates_organization_issued", "organization_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # 16 Crockford base32 characters (the last one a check character), stored without the
    # dashes; shown as ABCD-EFGH-JKMN-PQRS. Never reused: rows are never deleted.
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("course_versions.id"), index=True)

    # The snapshot.
    learner_name: Mapped[str] = mapped_column(sa.String(200))
    learner_email: Mapped[str] = mapped_column(sa.String(254))  # only ever shown hashed
    course_slug: Mapped[str] = mapped_column(sa.String(100))
    course_title: Mapped[str] = mapped_column(sa.String(200))
    version_label: Mapped[str] = mapped_column(sa.String(50))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    organization_name: Mapped[str] = mapped_column(sa.String(200))
    sponsor_name: Mapped[str | None] = mapped_column(sa.String(200))
    completed_at: Mapped[datetime]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The bit of this certificate in the published revocation status list.
    status_index: Mapped[int] = mapped_column(unique=True)

    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(sa.Text)
    replaced_at: Mapped[datetime | None]
    replaced_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"))
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"), unique=True)

    # The PDF (about 25 KB), kept in the database so that every app server and worker reads
    # the same file; deferred, so lists and verification never load it.
    pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    pdf_rendered_at: Mapped[datetime | None]

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_replaced(self) -> bool:
        return self.replaced_at is not None


class CertificateAction(StrEnum):
    ISSUED = "issued"
    REVOKED = "revoked"
    REINSTATED = "reinstated"
    REISSUED = "reissued"  # on the old certificate; the new one gets ISSUED


class CertificateEvent(db.Model):
    """Every change to a certificate, with who did it and why."""

    __tablename__ = "certificate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    # Details of the change (a reissue's old and new names and the new code).
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CertificateCounter(db.Model):
    """Counters handed out one at a time (``status_index``): an UPDATE ... RETURNING on one
    row, so concurrent issues queue on its row lock instead of colliding on max()+1."""

    __tablename__ = "certificate_counters"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
