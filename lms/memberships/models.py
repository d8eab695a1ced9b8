"""An organization (a university OSPO) holds seats from seat grants; members take them.

Seat capacity at a moment is the sum of the grants active then. An active member holding a
seat (``holds_seat``) takes one: learners always do, admins only when they take one to learn.
Members are never deleted (removing one marks the row ``removed`` and frees its seat), so
progress and certificates always keep their owner and organization.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.core.db import TimestampMixin, utcnow
from lms.core.extensions import db


class OrganizationKind(StrEnum):
    UNIVERSITY_OSPO = "university_ospo"
    RESEARCH_INSTITUTE = "research_institute"
    OTHER = "other"


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(30), default=OrganizationKind.UNIVERSITY_OSPO)
    country: Mapped[str | None] = mapped_column(sa.String(2))  # ISO 3166-1 alpha-2
    website: Mapped[str | None] = mapped_column(sa.String(300))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))


class OrganizationLogo(db.Model):
    """The organization's logo, as re-encoded on upload (``lms.memberships.logos``): a PNG that
    fits the logo box, without metadata. A table of its own, so that reading an organization
    never loads the image; one row per organization at most."""

    __tablename__ = "organization_logos"
    __table_args__ = (sa.CheckConstraint("width > 0 AND height > 0", name="size_positive"),)

    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id"), primary_key=True
    )
    png: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))  # of ``png``: the served ETag
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()


class GrantSource(StrEnum):
    MANUAL = "manual"  # an invoice or purchase order, recorded by a platform admin
    SPONSORSHIP = "sponsorship"  # paid by a sponsor through Stripe


class SeatGrant(db.Model):
    __tablename__ = "seat_grants"
    __table_args__ = (
        sa.CheckConstraint("seats > 0", name="seats_positive"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_seat_grants_org_period", "organization_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    seats: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(sa.String(20), default=GrantSource.MANUAL)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()

    def is_active(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


class GrantAction(StrEnum):
    CREATED = "created"
    CHANGED = "changed"
    ENDED = "ended"


class SeatGrantEvent(db.Model):
    """The append-only ledger of every change to seat grants: what, who and why.

    Rows are only ever inserted; nothing in the code updates or deletes them.
    """

    __tablename__ = "seat_grant_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    grant_id: Mapped[int] = mapped_column(sa.ForeignKey("seat_grants.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(20))
    seats: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


class MemberRole(StrEnum):
    ADMIN = "admin"  # the OSPO's staff; holds a seat only when they take one to learn
    LEARNER = "learner"  # a researcher; always holds a seat while active


class MemberStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


class OrganizationMember(TimestampMixin, db.Model):
    """A person in an organization. ``holds_seat`` is what gates learning (progress writes and
    enrolling) and what seats used counts: active learners always hold a seat, active admins
    when they take one, removed members never."""

    __tablename__ = "organization_members"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "user_id"),
        sa.CheckConstraint(
            "(status = 'active' OR NOT holds_seat)"
            " AND (status != 'active' OR role != 'learner' OR holds_seat)",
            name="seat_matches_role_and_status",
        ),
        sa.Index("ix_organization_members_seats", "organization_id", "status", "holds_seat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(10), default=MemberStatus.ACTIVE)
    holds_seat: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    organization: Mapped[Organization] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status == MemberStatus.ACTIVE


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"


class Invitation(db.Model):
    """An emailed, single-use, expiring invitation. The token is stored hashed; ``code`` is
    the public identifier admins use to list and revoke it."""

    __tablename__ = "invitations"
    __table_args__ = (
        # One pending invitation per person and organization.
        sa.Index(
            "uq_invitations_pending_email",
            "organization_id",
            "email",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(24), unique=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(10))
    courses: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=InvitationStatus.PENDING)
    expires_at: Mapped[datetime]
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)

    def state(self, now: datetime) -> str:
        if self.status == InvitationStatus.PENDING and self.expires_at <= now:
            return "expired"
        return self.status
