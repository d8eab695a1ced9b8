"""Seat accounting: an organization's capacity (its active grants), the seats its members
hold, its term and status, and the rule that a seat is taken only while one is free."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from lms.core.db import utcnow
from lms.core.errors import Conflict
from lms.core.extensions import db
from lms.memberships.models import MemberStatus, Organization, OrganizationMember, SeatGrant

EXPIRING_WITHIN = timedelta(days=30)


def active_grants_filter(organization_id: int, at: datetime):
    return sa.and_(
        SeatGrant.organization_id == organization_id,
        SeatGrant.starts_at <= at,
        SeatGrant.ends_at > at,
    )


def seat_capacity(organization_id: int, at: datetime | None = None) -> int:
    at = at or utcnow()
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(SeatGrant.seats), 0)).where(
            active_grants_filter(organization_id, at)
        )
    )
    return int(total or 0)


def seats_used(organization_id: int) -> int:
    """Active members holding a seat: every learner, and the admins who took one."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            OrganizationMember.organization_id == organization_id,
            OrganizationMember.status == MemberStatus.ACTIVE,
            OrganizationMember.holds_seat == sa.true(),
        )
    )


@dataclass
class SeatSummary:
    capacity: int
    used: int
    term_starts_at: datetime | None
    term_ends_at: datetime | None
    status: str  # active | expiring | lapsed
    grants: list[SeatGrant] = field(default_factory=list)

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.used)

    @property
    def over_capacity(self) -> bool:
        return self.used > self.capacity


def seat_summary(organization: Organization, now: datetime | None = None) -> SeatSummary:
    """Capacity, use and term of an organization's membership, from its grants."""
    now = now or utcnow()
    grants = db.session.scalars(
        sa.select(SeatGrant)
        .where(SeatGrant.organization_id == organization.id)
        .order_by(SeatGrant.starts_at, SeatGrant.id)
    ).all()
    active = [g for g in grants if g.is_active(now)]
    current_or_future = [g for g in grants if g.ends_at > now]
    capacity = sum(g.seats for g in active)
    term_start = min((g.starts_at for g in active), default=None)
    term_end = max((g.ends_at for g in current_or_future), default=None) if active else None
    if capacity == 0:
        status = "lapsed"
    elif term_end is not None and term_end - now <= EXPIRING_WITHIN:
        status = "expiring"
    else:
        status = "active"
    return SeatSummary(
        capacity=capacity,
        used=seats_used(organization.id),
        term_starts_at=term_start,
        term_ends_at=term_end,
        status=status,
        grants=list(grants),
    )


def seats_free(organization: Organization) -> int:
    return max(0, seat_capacity(organization.id) - seats_used(organization.id))


def ensure_free_seat(organization: Organization) -> None:
    """Call with the organization locked: 409 unless a seat is free right now."""
    if seats_free(organization) <= 0:
        raise Conflict(
            "No free seats: this organization's seats are all taken. "
            "Ask its admins to free a seat or add seats."
        )
