"""Organizations, seat accounting, seat grants and members. No HTTP here.

Tenant scoping: everything owned by an organization is reached through ``get_organization``,
which answers 404 to anyone who is neither a platform admin nor a member, so another
organization's objects are never even confirmed to exist.
"""

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.db import text_search, utcnow
from lms.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from lms.core.extensions import db
from lms.memberships.models import (
    GrantAction,
    GrantSource,
    MemberRole,
    MemberStatus,
    Organization,
    OrganizationMember,
    SeatGrant,
    SeatGrantEvent,
)

EXPIRING_WITHIN = timedelta(days=30)


# -- organizations ----------------------------------------------------------------------


def create_organization(actor: User, data: dict) -> Organization:
    if db.session.scalar(sa.select(Organization.id).where(Organization.slug == data["slug"])):
        raise Conflict("An organization with this slug exists.", errors={"slug": ["taken"]})
    organization = Organization(**data)
    db.session.add(organization)
    db.session.flush()
    return organization


def update_organization(organization: Organization, data: dict) -> Organization:
    for key, value in data.items():
        setattr(organization, key, value)
    db.session.flush()
    return organization


def organizations_for(actor: User) -> sa.Select:
    """All organizations for platform admins; one's own for everyone else."""
    stmt = sa.select(Organization).order_by(Organization.name, Organization.id)
    if actor.is_platform_admin:
        return stmt
    mine = sa.select(OrganizationMember.organization_id).where(
        OrganizationMember.user_id == actor.id,
        OrganizationMember.status == MemberStatus.ACTIVE,
    )
    return stmt.where(Organization.id.in_(mine))


@functools.cache
def _organization_and_role() -> sa.Select:
    """The organization by slug and the caller's active role in it, in one query."""
    member = sa.and_(
        OrganizationMember.organization_id == Organization.id,
        OrganizationMember.user_id == sa.bindparam("b_user_id"),
        OrganizationMember.status == MemberStatus.ACTIVE,
    )
    return (
        sa.select(Organization, OrganizationMember.role)
        .outerjoin(OrganizationMember, member)
        .where(Organization.slug == sa.bindparam("b_slug"))
    )


def get_organization(slug: str, actor: User, *, admin: bool = False) -> Organization:
    """The organization, if ``actor`` may see it (404 otherwise); with ``admin=True`` only its
    admins and platform admins may act (403 for its learners)."""
    row = db.session.execute(
        _organization_and_role(), {"b_slug": slug, "b_user_id": actor.id}
    ).first()
    if row is None:
        raise NotFound("No such organization.")
    organization, role = row
    if actor.is_platform_admin:
        return organization
    if role is None:
        raise NotFound("No such organization.")
    if admin and role != MemberRole.ADMIN:
        raise Forbidden("Only the organization's admins can do this.")
    return organization


def lock_organization(organization: Organization) -> None:
    """Serialize seat-taking for one organization (a row lock on PostgreSQL).

    SQLite has no row locks: there a write transaction holds the database's write lock from
    its BEGIN IMMEDIATE (see ``lms.core.db``), which serializes seat-taking as well.
    """
    db.session.execute(
        sa.select(Organization.id).where(Organization.id == organization.id).with_for_update()
    )


# -- seats ------------------------------------------------------------------------------


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


# -- seat grants and their ledger -------------------------------------------------------


def _ledger(grant: SeatGrant, action: str, actor: User | None, reason: str) -> None:
    db.session.add(
        SeatGrantEvent(
            organization_id=grant.organization_id,
            grant_id=grant.id,
            action=action,
            seats=grant.seats,
            starts_at=grant.starts_at,
            ends_at=grant.ends_at,
            reason=reason,
            actor_id=getattr(actor, "id", None),
        )
    )


def _check_period(seats: int, starts_at: datetime, ends_at: datetime) -> None:
    errors = {}
    if seats <= 0:
        errors["seats"] = ["Must be at least 1."]
    if ends_at <= starts_at:
        errors["ends_at"] = ["Must be after starts_at."]
    if errors:
        raise RuleViolation("The seat grant is not valid.", errors=errors)


def record_grant(
    organization: Organization,
    actor: User | None,
    *,
    seats: int,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
    source: str = GrantSource.MANUAL,
) -> SeatGrant:
    """Add seats for a period (an invoice-paid grant, or a sponsorship's)."""
    _check_period(seats, starts_at, ends_at)
    grant = SeatGrant(
        organization_id=organization.id,
        seats=seats,
        starts_at=starts_at,
        ends_at=ends_at,
        source=source,
        note=note,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(grant)
    db.session.flush()
    _ledger(grant, GrantAction.CREATED, actor, note)
    return grant


def change_grant(
    grant: SeatGrant,
    actor: User | None,
    *,
    reason: str,
    seats: int | None = None,
    ends_at: datetime | None = None,
) -> SeatGrant:
    """Change a grant's seats or end (ending it now is an end date of now), with a reason.
    A change that changes nothing is no change: the grant is returned as it is, and the
    ledger records nothing."""
    new_seats = grant.seats if seats is None else seats
    new_end = grant.ends_at if ends_at is None else ends_at
    if not reason.strip():
        raise RuleViolation("Say why the grant changes.", errors={"reason": ["Required."]})
    if new_seats == grant.seats and new_end == grant.ends_at:
        return grant
    _check_period(new_seats, grant.starts_at, new_end)
    grant.seats, grant.ends_at = new_seats, new_end
    db.session.flush()
    action = GrantAction.ENDED if new_end <= utcnow() else GrantAction.CHANGED
    _ledger(grant, action, actor, reason)
    return grant


def get_grant(organization: Organization, grant_id: int) -> SeatGrant:
    grant = db.session.scalar(
        sa.select(SeatGrant).where(
            SeatGrant.id == grant_id, SeatGrant.organization_id == organization.id
        )
    )
    if grant is None:
        raise NotFound("No such seat grant.")
    return grant


def grant_ledger(organization: Organization) -> sa.Select:
    return (
        sa.select(SeatGrantEvent)
        .where(SeatGrantEvent.organization_id == organization.id)
        .order_by(SeatGrantEvent.id.desc())
    )


# -- members ----------------------------------------------------------------------------


def members_query(
    organization: Organization,
    *,
    search: str | None = None,
    role: str | None = None,
    status: str | None = MemberStatus.ACTIVE,
) -> sa.Select:
    stmt = (
        sa.select(OrganizationMember)
        .join(User, User.id == OrganizationMember.user_id)
        .where(OrganizationMember.organization_id == organization.id)
    )
    if status:
        stmt = stmt.where(OrganizationMember.status == status)
    if role:
        stmt = stmt.where(OrganizationMember.role == role)
    if search:
        stmt = stmt.where(text_search(search, User.email, User.name))
    return stmt.order_by(User.name, User.id)


def get_member(organization: Organization, user_id: int) -> OrganizationMember:
    member = db.session.scalar(
        sa.select(OrganizationMember).where(
            OrganizationMember.organization_id == organization.id,
            OrganizationMember.user_id == user_id,
        )
    )
    if member is None:
        raise NotFound("No such member.")
    return member


def _other_active_admins(organization: Organization, member: OrganizationMember) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            OrganizationMember.organization_id == organization.id,
            OrganizationMember.role == MemberRole.ADMIN,
            OrganizationMember.status == MemberStatus.ACTIVE,
            OrganizationMember.id != member.id,
        )
    )


def change_member_role(
    organization: Organization, member: OrganizationMember, role: str
) -> OrganizationMember:
    """Learner to admin keeps the seat (their learning goes on; an admin may release it);
    admin to learner takes a seat unless they hold one (409 when full). The last admin stays."""
    if not member.is_active:
        raise RuleViolation("This person is no longer a member; invite them again.")
    if member.role == role:
        return member
    lock_organization(organization)
    if member.role == MemberRole.ADMIN and _other_active_admins(organization, member) == 0:
        raise Conflict("The organization's last admin cannot stop being an admin.")
    if role == MemberRole.LEARNER and not member.holds_seat:
        ensure_free_seat(organization)
        member.holds_seat = True
    member.role = role
    db.session.flush()
    return member


def set_learner_seat(
    organization: Organization, member: OrganizationMember, holds_seat: bool
) -> OrganizationMember:
    """An admin takes a learner seat (409 when none is free) or releases it. A learner always
    holds one: theirs is released by removing them."""
    if not member.is_active:
        raise RuleViolation("This person is no longer a member; invite them again.")
    if member.holds_seat == holds_seat:
        return member
    if not holds_seat:
        if member.role == MemberRole.LEARNER:
            raise RuleViolation(
                "A learner always holds a seat: remove them to free it.",
                errors={"learner_seat": ["learners hold a seat while they are members"]},
            )
        member.holds_seat = False
    else:
        lock_organization(organization)
        ensure_free_seat(organization)
        member.holds_seat = True
    db.session.flush()
    return member


def update_member(
    organization: Organization,
    member: OrganizationMember,
    *,
    role: str | None = None,
    learner_seat: bool | None = None,
) -> OrganizationMember:
    """Change a member's role, their learner seat, or both (the role first)."""
    if role is not None:
        change_member_role(organization, member, role)
    if learner_seat is not None:
        set_learner_seat(organization, member, learner_seat)
    return member


def remove_member(organization: Organization, member: OrganizationMember) -> None:
    """Frees the seat; the person's progress and certificates are kept."""
    if not member.is_active:
        return
    lock_organization(organization)
    if member.role == MemberRole.ADMIN and _other_active_admins(organization, member) == 0:
        raise Conflict("The organization's last admin cannot be removed.")
    member.status = MemberStatus.REMOVED
    member.holds_seat = False
    member.removed_at = utcnow()
    db.session.flush()


def add_member(organization: Organization, user: User, role: str) -> OrganizationMember:
    """Make ``user`` an active member (re-activating a removed one); a learner takes a seat,
    an admin none. Call with the organization locked. Only an account whose email is proven
    joins (accepting an invitation proves it, or takes an unproven account over first)."""
    accounts.require_verified_email(user, "join an organization")
    member = db.session.scalar(
        sa.select(OrganizationMember).where(
            OrganizationMember.organization_id == organization.id,
            OrganizationMember.user_id == user.id,
        )
    )
    if member is not None and member.is_active:
        if role == MemberRole.ADMIN and member.role != MemberRole.ADMIN:
            member.role = MemberRole.ADMIN  # promotion keeps the seat they hold
        elif role == MemberRole.LEARNER and not member.holds_seat:
            ensure_free_seat(organization)  # an admin accepting a learner seat takes one
            member.holds_seat = True
        db.session.flush()
        return member
    holds_seat = role == MemberRole.LEARNER
    if holds_seat:
        ensure_free_seat(organization)
    if member is None:
        member = OrganizationMember(
            organization_id=organization.id, user_id=user.id, role=role, holds_seat=holds_seat
        )
        db.session.add(member)
    else:
        member.role, member.status, member.removed_at = role, MemberStatus.ACTIVE, None
        member.holds_seat = holds_seat
        member.joined_at = utcnow()
    db.session.flush()
    return member
