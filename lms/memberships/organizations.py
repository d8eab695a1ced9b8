"""Organizations: creating and editing them, who sees which, and the lock that serializes
seat-taking.

Tenant scoping: everything owned by an organization is reached through ``get_organization``,
which answers 404 to anyone who is neither a platform admin nor a member, so another
organization's objects are never even confirmed to exist.
"""

import functools

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.errors import Conflict, Forbidden, NotFound
from lms.core.extensions import db
from lms.memberships.models import MemberRole, MemberStatus, Organization, OrganizationMember


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


def list_organizations(actor: User, limit: int = 500) -> list[Organization]:
    """``organizations_for`` as a list, for the pages."""
    return db.session.scalars(organizations_for(actor).limit(limit)).all()


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
