"""Seat grants (invoice-paid or a sponsorship's) and their ledger: every grant made, changed
or ended is recorded with who did it and why."""

from datetime import datetime

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.errors import NotFound, RuleViolation
from lms.core.extensions import db
from lms.memberships.models import (
    GrantAction,
    GrantSource,
    Organization,
    SeatGrant,
    SeatGrantEvent,
)


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
