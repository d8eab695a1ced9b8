"""Seats gate learning: a person writes progress only while holding a seat in the enrollment's
organization; what they did so far stays readable without one."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.errors import Forbidden
from lms.core.extensions import db
from lms.memberships.models import MemberStatus, Organization, OrganizationMember


def seat_lost(organization_id: int) -> Forbidden:
    """The 403 for a progress write without a seat (built on the refusal path only)."""
    name = db.session.scalar(sa.select(Organization.name).where(Organization.id == organization_id))
    return Forbidden(
        f"You no longer hold a seat at {name}: your progress so far is kept and readable; "
        "ask your OSPO admins for a seat to continue."
    )


def seat_problem(user: User, organization_id: int) -> str | None:
    """Why ``user`` may not write progress in an enrollment of the organization (None when
    they hold a seat in it): for pages that show the reason instead of the write buttons."""
    held = db.session.scalar(
        sa.select(OrganizationMember.id).where(
            OrganizationMember.organization_id == organization_id,
            OrganizationMember.user_id == user.id,
            OrganizationMember.status == MemberStatus.ACTIVE,
            OrganizationMember.holds_seat == sa.true(),
        )
    )
    return None if held else seat_lost(organization_id).message


def require_seat(user: User, organization_id: int) -> None:
    """403 unless ``user`` holds a seat in the organization."""
    problem = seat_problem(user, organization_id)
    if problem:
        raise Forbidden(problem)
