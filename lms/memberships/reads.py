"""What the organization pages show, each page's data read in one call."""

from dataclasses import dataclass

from lms.core.extensions import db
from lms.memberships.invitations import invitations_query
from lms.memberships.members import members_query
from lms.memberships.models import Invitation, Organization, OrganizationMember, SeatGrantEvent
from lms.memberships.seat_grants import grant_ledger
from lms.memberships.seats import SeatSummary, seat_summary

MEMBERS_PER_PAGE = 50
PENDING_SHOWN = 200
LEDGER_SHOWN = 200


@dataclass
class Dashboard:
    summary: SeatSummary
    members: list[OrganizationMember]  # one page, in name order
    has_next: bool
    pending: list[Invitation]  # the newest pending invitations


def organization_dashboard(organization: Organization, *, search: str, page: int) -> Dashboard:
    """The OSPO admin dashboard: seats, a page of members (``search`` by name or email), and
    the pending invitations."""
    stmt = members_query(organization, search=search or None)
    offset = (page - 1) * MEMBERS_PER_PAGE
    members = db.session.scalars(stmt.limit(MEMBERS_PER_PAGE + 1).offset(offset)).all()
    pending = db.session.scalars(invitations_query(organization).limit(PENDING_SHOWN)).all()
    return Dashboard(
        summary=seat_summary(organization),
        members=members[:MEMBERS_PER_PAGE],
        has_next=len(members) > MEMBERS_PER_PAGE,
        pending=pending,
    )


@dataclass
class GrantsPage:
    summary: SeatSummary
    ledger: list[SeatGrantEvent]  # the newest changes first


def seat_grants_page(organization: Organization) -> GrantsPage:
    """The platform admin's seat grants page: seats, and the newest changes to the grants."""
    ledger = db.session.scalars(grant_ledger(organization).limit(LEDGER_SHOWN)).all()
    return GrantsPage(summary=seat_summary(organization), ledger=ledger)
