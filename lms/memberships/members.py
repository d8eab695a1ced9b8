"""Organization members: who is a member, their role and learner seat, joining and removal.
A learner always holds a seat; an admin holds one only to learn; the last admin stays."""

import sqlalchemy as sa

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.db import text_search, utcnow
from lms.core.errors import Conflict, NotFound, RuleViolation
from lms.core.extensions import db
from lms.memberships.models import MemberRole, MemberStatus, Organization, OrganizationMember
from lms.memberships.organizations import lock_organization
from lms.memberships.seats import ensure_free_seat


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


def active_member_emails(organization: Organization, emails: list[str] | None = None) -> set[str]:
    """The addresses of the organization's active members; with ``emails``, only those among
    them."""
    stmt = (
        sa.select(User.email)
        .join(OrganizationMember, OrganizationMember.user_id == User.id)
        .where(
            OrganizationMember.organization_id == organization.id,
            OrganizationMember.status == MemberStatus.ACTIVE,
        )
    )
    if emails is not None:
        stmt = stmt.where(User.email.in_(emails))
    return set(db.session.scalars(stmt))


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
