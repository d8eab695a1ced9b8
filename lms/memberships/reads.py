"""What the organization pages show, each page's data read in one call."""

from dataclasses import dataclass

from lms.core.extensions import db
from lms.core.paging import PageInfo, page_of
from lms.memberships.invitations import invitations_query
from lms.memberships.logos import get_logo
from lms.memberships.members import members_query
from lms.memberships.models import (
    Invitation,
    Organization,
    OrganizationLogo,
    OrganizationMember,
    SeatGrantEvent,
)
from lms.memberships.seat_grants import grant_ledger
from lms.memberships.seats import SeatSummary, seat_summary

MEMBERS_PER_PAGE = 50
PENDING_SHOWN = 200
LEDGER_SHOWN = 200


@dataclass
class Dashboard:
    summary: SeatSummary
    members: list[OrganizationMember]  # one page, in name order
    page: PageInfo
    pending: list[Invitation]  # the newest pending invitations
    logo: OrganizationLogo | None  # its PNG is not loaded


def organization_dashboard(organization: Organization, *, search: str, page: int) -> Dashboard:
    """The OSPO admin dashboard: seats, a page of members (``search`` by name or email), the
    pending invitations and the logo."""
    members = page_of(members_query(organization, search=search or None), page, MEMBERS_PER_PAGE)
    pending = db.session.scalars(invitations_query(organization).limit(PENDING_SHOWN)).all()
    return Dashboard(
        summary=seat_summary(organization),
        members=members.items,
        page=members.info,
        pending=pending,
        logo=get_logo(organization),
    )


@dataclass
class GrantsPage:
    summary: SeatSummary
    ledger: list[SeatGrantEvent]  # the newest changes first


def seat_grants_page(organization: Organization) -> GrantsPage:
    """The platform admin's seat grants page: seats, and the newest changes to the grants."""
    ledger = db.session.scalars(grant_ledger(organization).limit(LEDGER_SHOWN)).all()
    return GrantsPage(summary=seat_summary(organization), ledger=ledger)
