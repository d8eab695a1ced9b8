"""Organization, seat and member rules: the service interface that views, APIs, commands and
later packages call. No HTTP here. Each rule lives in the module named for its job:

* ``organizations``: creating and editing organizations, who sees which (tenant scoping),
  and the lock that serializes seat-taking;
* ``seats``: capacity, seats used and free, term and status;
* ``seat_grants``: recording and changing seat grants, and their ledger;
* ``members``: members, their roles and learner seats, joining and removal.

Invitations are ``invitations`` (one by one), ``acceptance`` and ``csv_enrollment``; what the
pages show is read by ``reads``.
"""

from lms.memberships.members import (
    active_member_emails,
    add_member,
    change_member_role,
    get_member,
    members_query,
    remove_member,
    set_learner_seat,
    update_member,
)
from lms.memberships.organizations import (
    create_organization,
    get_organization,
    list_organizations,
    lock_organization,
    organizations_for,
    update_organization,
)
from lms.memberships.seat_grants import change_grant, get_grant, grant_ledger, record_grant
from lms.memberships.seats import (
    EXPIRING_WITHIN,
    SeatSummary,
    active_grants_filter,
    ensure_free_seat,
    seat_capacity,
    seat_summary,
    seats_free,
    seats_used,
)

__all__ = [
    "EXPIRING_WITHIN",
    "SeatSummary",
    "active_grants_filter",
    "active_member_emails",
    "add_member",
    "change_grant",
    "change_member_role",
    "create_organization",
    "ensure_free_seat",
    "get_grant",
    "get_member",
    "get_organization",
    "grant_ledger",
    "list_organizations",
    "lock_organization",
    "members_query",
    "organizations_for",
    "record_grant",
    "remove_member",
    "seat_capacity",
    "seat_summary",
    "seats_free",
    "seats_used",
    "set_learner_seat",
    "update_member",
    "update_organization",
]
