"""Seat accounting and membership rules, without HTTP."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.core.db import utcnow
from lms.core.errors import Conflict, NotFound, RuleViolation
from lms.memberships import services
from lms.memberships.models import SeatGrantEvent
from tests.factories import MemberFactory, SeatGrantFactory
from tests.memberships.conftest import fill_seats


def test_capacity_is_the_sum_of_active_grants(org, db):
    now = utcnow()
    SeatGrantFactory(organization=org, seats=5)
    SeatGrantFactory(
        organization=org,
        seats=100,
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=20),
    )  # not yet
    SeatGrantFactory(
        organization=org,
        seats=100,
        starts_at=now - timedelta(days=20),
        ends_at=now - timedelta(days=10),
    )  # over
    assert services.seat_capacity(org.id) == 8
    assert services.seat_capacity(org.id, now + timedelta(days=15)) == 108


def test_summary_counts_only_active_learners(org, db):
    fill_seats(org, 2)
    MemberFactory(organization=org, role="admin")
    MemberFactory(organization=org, role="learner", status="removed")
    summary = services.seat_summary(org)
    assert (summary.capacity, summary.used, summary.free) == (3, 2, 1)
    assert summary.status == "active" and not summary.over_capacity


def test_status_expiring_and_lapsed(db):
    from tests.factories import OrganizationFactory

    soon = OrganizationFactory()
    SeatGrantFactory(organization=soon, ends_at=utcnow() + timedelta(days=10))
    assert services.seat_summary(soon).status == "expiring"
    gone = OrganizationFactory()
    SeatGrantFactory(
        organization=gone,
        starts_at=utcnow() - timedelta(days=30),
        ends_at=utcnow() - timedelta(days=1),
    )
    assert services.seat_summary(gone).status == "lapsed"


def test_when_a_grant_ends_members_stay_and_the_org_is_over_capacity(org, db, admin):
    members = fill_seats(org, 3)
    extra = SeatGrantFactory(organization=org, seats=2)
    fill_seats(org, 2)
    services.change_grant(extra, admin, ends_at=utcnow(), reason="invoice not renewed")
    summary = services.seat_summary(org)
    assert summary.used == 5 and summary.capacity == 3 and summary.over_capacity
    assert all(m.is_active for m in members)
    with pytest.raises(Conflict, match="No free seats"):
        services.ensure_free_seat(org)


def test_grant_changes_go_to_the_append_only_ledger(org, db, admin):
    grant = services.record_grant(
        org,
        admin,
        seats=10,
        starts_at=utcnow(),
        ends_at=utcnow() + timedelta(days=30),
        note="PO 4711",
    )
    services.change_grant(grant, admin, seats=12, reason="two more researchers")
    services.change_grant(grant, admin, ends_at=utcnow(), reason="cancelled")
    events = db.session.scalars(
        sa.select(SeatGrantEvent)
        .where(SeatGrantEvent.grant_id == grant.id)
        .order_by(SeatGrantEvent.id)
    ).all()
    assert [(e.action, e.seats, e.reason) for e in events] == [
        ("created", 10, "PO 4711"),
        ("changed", 12, "two more researchers"),
        ("ended", 12, "cancelled"),
    ]
    assert all(e.actor_id == admin.id for e in events)


def test_a_change_needs_a_reason_and_a_valid_period(org, db, admin):
    grant = SeatGrantFactory(organization=org)
    with pytest.raises(RuleViolation):
        services.change_grant(grant, admin, seats=5, reason=" ")
    with pytest.raises(RuleViolation):
        services.change_grant(grant, admin, ends_at=grant.starts_at, reason="oops")


def test_the_last_admin_cannot_leave(org, db):
    admin = MemberFactory(organization=org, role="admin")
    with pytest.raises(Conflict):
        services.remove_member(org, admin)
    with pytest.raises(Conflict):
        services.change_member_role(org, admin, "learner")
    MemberFactory(organization=org, role="admin")
    services.remove_member(org, admin)
    assert admin.status == "removed"


def test_removing_a_learner_frees_the_seat_and_keeps_the_row(org, db):
    (member,) = fill_seats(org, 1)
    services.remove_member(org, member)
    assert services.seats_used(org.id) == 0
    removed = services.get_member(org, member.user_id)
    assert removed.status == "removed" and removed.holds_seat is False


def test_seats_used_counts_admins_holding_seats(org, db):
    admin = MemberFactory(organization=org, role="admin")
    MemberFactory(organization=org, role="admin")
    fill_seats(org, 1)
    assert services.seats_used(org.id) == 1
    services.set_learner_seat(org, admin, True)
    assert services.seats_used(org.id) == 2 and services.seats_free(org) == 1
    assert services.seat_summary(org).used == 2
    services.set_learner_seat(org, admin, False)
    assert services.seats_used(org.id) == 1


def test_promotion_keeps_the_seat_and_demotion_takes_one(org, db):
    MemberFactory(organization=org, role="admin")
    (learner,) = fill_seats(org, 1)
    services.change_member_role(org, learner, "admin")
    assert learner.holds_seat is True and services.seats_used(org.id) == 1
    services.change_member_role(org, learner, "learner")  # holds one already: no new seat
    assert services.seats_used(org.id) == 1

    seatless = MemberFactory(organization=org, role="admin")
    fill_seats(org, 2)
    with pytest.raises(Conflict):
        services.change_member_role(org, seatless, "learner")
    assert seatless.role == "admin" and seatless.holds_seat is False


def test_a_removed_admin_gives_the_seat_back_and_returns_as_invited(org, db):
    MemberFactory(organization=org, role="admin")
    admin = MemberFactory(organization=org, role="admin")
    services.set_learner_seat(org, admin, True)
    services.remove_member(org, admin)
    assert admin.holds_seat is False and services.seats_used(org.id) == 0
    with pytest.raises(RuleViolation):
        services.set_learner_seat(org, admin, True)
    services.add_member(org, admin.user, "admin")
    assert admin.is_active and admin.holds_seat is False  # an admin invitation takes no seat
    services.add_member(org, admin.user, "learner")  # an admin accepting a learner seat
    assert admin.role == "admin" and admin.holds_seat is True


def test_the_database_refuses_a_seatless_active_learner(org, db):
    (learner,) = fill_seats(org, 1)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        learner.holds_seat = False
        db.session.flush()


def test_outsiders_get_404_and_learners_403(org, learner, outsider, db):
    from lms.core.errors import Forbidden

    with pytest.raises(NotFound):
        services.get_organization("ospo", outsider)
    assert services.get_organization("ospo", learner).id == org.id
    with pytest.raises(Forbidden):
        services.get_organization("ospo", learner, admin=True)


def test_an_unverified_account_cannot_join_an_organization(org, db):
    from lms.core.errors import Forbidden
    from tests.factories import UserFactory

    squatter = UserFactory(email_verified_at=None)
    services.lock_organization(org)
    with pytest.raises(Forbidden, match="join an organization"):
        services.add_member(org, squatter, "learner")
