"""A sponsorship's seats: one ``sponsorship`` seat grant at the beneficiary, set from the
sponsorship's current state.

* ``active`` / ``trialing``: the paid quantity until the current period ends;
* ``past_due``: the same seats for ``SPONSORSHIP_GRACE_DAYS`` after the unpaid period began;
* ``canceled`` / ``unpaid`` / ``incomplete_expired`` (and a manual sponsorship that ended):
  the grant ends at the period end, never later than it already ended;
* ``incomplete``: nothing was paid yet, so no grant.

The seats are a function of the state, not of the events that led to it: applying the same
state twice changes nothing, and states may arrive in any order. A reduction below the seats
in use leaves the organization over capacity; no learner is removed.
"""

from datetime import datetime, timedelta

from flask import current_app

# The memberships services that own seat grants and their ledger. (In one place, should they
# move to another module.)
from lms.memberships.services import change_grant, record_grant
from lms.sponsorships.models import Sponsorship, SponsorshipStatus

KEEPS_SEATS = frozenset({SponsorshipStatus.ACTIVE, SponsorshipStatus.TRIALING})
GRACE = frozenset({SponsorshipStatus.PAST_DUE})
ENDS = frozenset(
    {
        SponsorshipStatus.CANCELED,
        SponsorshipStatus.UNPAID,
        SponsorshipStatus.INCOMPLETE_EXPIRED,
        SponsorshipStatus.ENDED,
        SponsorshipStatus.PAUSED,
    }
)
SECOND = timedelta(seconds=1)


def grace_period() -> timedelta:
    return timedelta(days=current_app.config["SPONSORSHIP_GRACE_DAYS"])


def wanted_end(sponsorship: Sponsorship) -> datetime | None:
    """Until when the sponsorship's state keeps its seats (None: no grant is wanted)."""
    status, start, end = (
        sponsorship.status,
        sponsorship.period_starts_at,
        sponsorship.period_ends_at,
    )
    if end is None:
        return None
    if status in KEEPS_SEATS:
        return end
    if status in GRACE:
        return (start or end) + grace_period()
    if status in ENDS:
        return end
    return None


def apply_seats(sponsorship: Sponsorship, reason: str, actor=None) -> None:
    """Make the sponsorship's grant match its state; ``reason`` (a Stripe event id, say) goes
    into the grant ledger with each change."""
    end = wanted_end(sponsorship)
    grant = sponsorship.grant
    if grant is None:
        if end is None or sponsorship.status not in KEEPS_SEATS | GRACE:
            return  # nothing was granted, and nothing is to be granted now
        if sponsorship.seats < 1:
            return
        start = sponsorship.period_starts_at or end - SECOND
        grant = record_grant(
            sponsorship.organization,
            actor,
            seats=sponsorship.seats,
            starts_at=min(start, end - SECOND),
            ends_at=end,
            note=reason,
            source="sponsorship",
        )
        sponsorship.grant = grant
        sponsorship.grant_id = grant.id
        return
    if sponsorship.status in ENDS or end is None:
        # Ending never extends: a grant already cut short (a grace period) stays as it is.
        end = min(end or grant.ends_at, grant.ends_at)
    end = max(end, grant.starts_at + SECOND)  # a grant always covers a moment
    seats = sponsorship.seats if sponsorship.seats >= 1 else grant.seats
    change_grant(grant, actor, reason=reason, seats=seats, ends_at=end)
