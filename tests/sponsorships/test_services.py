"""Rules without HTTP: seats from a sponsorship's state, reading the pinned API version's
shapes, the impact report and its suppression, sponsors on certificates; and the CLI
(sync-plans, replay) and seed-demo."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.core.db import utcnow
from lms.memberships.models import SeatGrantEvent
from lms.progress.models import Enrollment
from lms.sponsorships import gateway, impact, services
from lms.sponsorships.models import Sponsorship, StripeEvent
from lms.sponsorships.seats import apply_seats
from tests.factories import OrganizationFactory, UserFactory
from tests.sponsorships.conftest import PlanFactory, SponsorFactory

# A subscription as API version 2025-03-31.basil returns it (the fields lms reads; shape as in
# Stripe's API reference): the current period is on the item, no longer on the subscription.
BASIL_SUBSCRIPTION = {
    "id": "sub_1Basil",
    "object": "subscription",
    "customer": "cus_Basil",
    "status": "active",
    "collection_method": "send_invoice",
    "metadata": {"lms_sponsor_id": "1", "lms_plan": "supporter", "lms_organization": "u"},
    "items": {
        "object": "list",
        "data": [
            {
                "id": "si_Basil",
                "object": "subscription_item",
                "quantity": 12,
                "current_period_start": 1767225600,  # 2026-01-01
                "current_period_end": 1798761600,  # 2027-01-01
                "price": {"id": "price_Basil", "object": "price", "unit_amount": 12000},
            }
        ],
    },
}


def test_the_pinned_versions_subscription_is_read_from_the_item():
    state = gateway.subscription_state(BASIL_SUBSCRIPTION)
    assert (state.status, state.quantity, state.price_id) == ("active", 12, "price_Basil")
    assert state.period_start.isoformat() == "2026-01-01T00:00:00+00:00"
    assert state.period_end.isoformat() == "2027-01-01T00:00:00+00:00"
    assert state.collection_method == "send_invoice"


def test_an_older_versions_subscription_is_read_from_the_subscription():
    old = {**BASIL_SUBSCRIPTION, "current_period_start": 1, "current_period_end": 1798761600}
    old["items"] = {"data": [{"quantity": 3, "plan": {"id": "plan_1"}}]}
    state = gateway.subscription_state(old)
    assert (state.quantity, state.price_id) == (3, "plan_1")
    assert state.period_end.isoformat() == "2027-01-01T00:00:00+00:00"


def _sponsorship(db, organization, status="active", seats=5, start=None, end=None, plan=None):
    sponsor = SponsorFactory()
    now = utcnow()
    sponsorship = Sponsorship(
        sponsor_id=sponsor.id,
        organization_id=organization.id,
        plan_id=plan.id if plan else None,
        source="stripe",
        collection_method="charge_automatically",
        status=status,
        seats=seats,
        period_starts_at=start or now - timedelta(days=3),
        period_ends_at=end or now + timedelta(days=27),
    )
    db.session.add(sponsorship)
    db.session.flush()
    db.session.refresh(sponsorship)
    return sponsorship


def test_seats_follow_the_status(db, app):
    organization = OrganizationFactory()
    s = _sponsorship(db, organization)
    apply_seats(s, "evt_1")
    assert (s.grant.seats, s.grant.ends_at) == (5, s.period_ends_at)
    s.status = "past_due"
    apply_seats(s, "evt_2")
    assert s.grant.ends_at == s.period_starts_at + timedelta(days=7)
    s.status = "active"
    s.seats = 8
    apply_seats(s, "evt_3")
    assert (s.grant.seats, s.grant.ends_at) == (8, s.period_ends_at)
    s.status = "unpaid"
    apply_seats(s, "evt_4")
    assert s.grant.ends_at == s.period_ends_at
    apply_seats(s, "evt_5")  # the same state again: no change, no ledger line
    reasons = db.session.scalars(
        sa.select(SeatGrantEvent.reason).where(SeatGrantEvent.grant_id == s.grant_id).order_by("id")
    ).all()
    assert reasons == ["evt_1", "evt_2", "evt_3"]


def test_the_grace_period_is_configurable(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "SPONSORSHIP_GRACE_DAYS", 3)
    s = _sponsorship(db, OrganizationFactory(), status="past_due")
    apply_seats(s, "evt_grace")
    assert s.grant.ends_at == s.period_starts_at + timedelta(days=3)


def test_an_incomplete_subscription_grants_nothing(db, app):
    s = _sponsorship(db, OrganizationFactory(), status="incomplete")
    apply_seats(s, "evt_incomplete")
    assert s.grant is None


def test_the_sponsor_for_certificates(db, app):
    organization = OrganizationFactory()
    naming = PlanFactory(slug="naming", has_sponsor_on_certificates=True)
    silent = PlanFactory(slug="silent", has_sponsor_on_certificates=False)
    now = utcnow()
    assert services.sponsor_for_certificate(organization.id, now) is None
    _sponsorship(db, organization, plan=silent)
    assert services.sponsor_for_certificate(organization.id, now) is None
    named = _sponsorship(db, organization, plan=naming)
    named.sponsor.logo_url = "https://orf.example/logo.png"
    assert services.sponsor_for_certificate(organization.id, now) == (
        "Open Research Foundation",
        "https://orf.example/logo.png",
    )
    assert services.sponsor_for_certificate(organization.id, now + timedelta(days=60)) is None
    named.status = "canceled"
    assert services.sponsor_for_certificate(organization.id, now) is None


# -- impact ---------------------------------------------------------------------------------------


@pytest.fixture
def enroll(db, tmp_path):
    """``enroll(organization, course_slug, completed_days_ago=None)``: an enrollment of a new
    learner in a small imported course."""
    from lms.courses import services as course_services
    from tests.courses.builders import make_course

    versions = {}

    def make(organization, course, completed_days_ago=None):
        if course not in versions:
            result = course_services.import_course_folder(
                make_course(tmp_path / course, slug=course), publish=True
            )
            versions[course] = result.version
        return _enroll(db, organization, versions[course], course, completed_days_ago)

    return make


def _enroll(db, organization, version, course, completed_days_ago):
    now = utcnow()
    completed = now - timedelta(days=completed_days_ago) if completed_days_ago is not None else None
    db.session.add(
        Enrollment(
            user_id=UserFactory().id,
            organization_id=organization.id,
            course_id=version.course_id,
            version_id=version.id,
            course_slug=course,
            started_at=now - timedelta(days=2),
            completed_at=completed,
            status="completed" if completed else "active",
        )
    )
    db.session.flush()


def test_impact_counts_and_suppresses_small_cells(db, app, enroll):
    organization = OrganizationFactory(slug="impact-u")
    sponsor = SponsorFactory()
    services.record_manual_sponsorship(
        sponsor,
        None,
        organization_slug=organization.slug,
        seats=20,
        starts_at=utcnow() - timedelta(days=10),
        ends_at=utcnow() + timedelta(days=10),
    )
    for index in range(7):
        enroll(organization, "big-course", completed_days_ago=0 if index < 5 else None)
    for _ in range(3):
        enroll(organization, "small-course", completed_days_ago=0)
    enroll(OrganizationFactory(), "big-course", completed_days_ago=0)  # not funded
    report = impact.impact_report(sponsor)
    rows = {row.course: row for row in report.rows}
    assert (rows["big-course"].learners, rows["big-course"].completions) == (7, 5)
    assert rows["big-course"].seats_funded == 20
    assert (rows["small-course"].learners, rows["small-course"].completions) == (None, None)
    assert report.months == [(utcnow().strftime("%Y-%m"), 8)]
    csv_text = impact.impact_csv(report)
    assert csv_text.splitlines()[0] == (
        "organization,course,seats_funded,learners,enrollments,completions,certificates"
    )
    assert "impact-u,small-course,20,<5,<5,<5," in csv_text
    assert "@" not in csv_text  # counts only: no emails


def test_impact_counts_certificates_once_the_certificates_package_wires_them(
    db, app, monkeypatch, enroll
):
    organization = OrganizationFactory(slug="cert-u")
    sponsor = SponsorFactory()
    services.record_manual_sponsorship(
        sponsor, None, organization_slug=organization.slug, seats=5,
        starts_at=utcnow() - timedelta(days=1), ends_at=utcnow() + timedelta(days=1),
    )  # fmt: skip
    for _ in range(5):
        enroll(organization, "c", completed_days_ago=0)
    monkeypatch.setattr(impact, "count_certificates", lambda org, course, since, until: 6)
    assert impact.impact_report(sponsor).rows[0].certificates == 6


def test_the_impact_page_draws_the_chart(client, db, sponsor, sponsor_admin, enroll):
    from tests.conftest import log_in

    organization = OrganizationFactory(slug="chart-u")
    services.record_manual_sponsorship(
        sponsor, None, organization_slug=organization.slug, seats=5,
        starts_at=utcnow() - timedelta(days=1), ends_at=utcnow() + timedelta(days=1),
    )  # fmt: skip
    for _ in range(6):
        enroll(organization, "c", completed_days_ago=0)
    log_in(client, sponsor_admin)
    page = client.get(f"/sponsors/{sponsor.id}/impact")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "6 completions" in html
    csv_response = client.get(f"/sponsors/{sponsor.id}/impact.csv")
    assert csv_response.mimetype == "text/csv"
    assert "chart-u,c,5,6,6,6," in csv_response.get_data(as_text=True)


# -- pages without billing ------------------------------------------------------------------------


def test_without_stripe_keys_the_pages_say_billing_is_not_configured(
    client, db, sponsor, sponsor_admin, plan
):
    from tests.conftest import log_in

    page = client.get("/sponsorship-plans")
    assert page.status_code == 200
    assert "Billing is not configured" in page.get_data(as_text=True)
    assert "Supporter" in page.get_data(as_text=True)
    log_in(client, sponsor_admin)
    page = client.get(f"/sponsors/{sponsor.id}")
    assert page.status_code == 200
    assert "Billing is not configured" in page.get_data(as_text=True)


# -- the CLI against localstripe ------------------------------------------------------------------


@pytest.mark.slow
def test_sync_plans_is_idempotent(runner, db, plan, stripe_billing):
    first = runner.invoke(args=["lms", "stripe", "sync-plans"])
    assert first.exit_code == 0, first.output
    assert "product created, price created" in first.output
    db.session.expire_all()
    product, price = plan.stripe_product_id, plan.stripe_price_id
    assert product.startswith("prod_") and price.startswith("price_")
    again = runner.invoke(args=["lms", "stripe", "sync-plans"])
    assert "supporter: unchanged" in again.output
    db.session.expire_all()
    assert (plan.stripe_product_id, plan.stripe_price_id) == (product, price)
    plan.unit_amount = 15000
    db.session.flush()
    changed = runner.invoke(args=["lms", "stripe", "sync-plans"])
    assert "old price deactivated, price created" in changed.output
    db.session.expire_all()
    assert plan.stripe_product_id == product and plan.stripe_price_id != price
    assert stripe_billing.client.v1.prices.retrieve(price).active is False


@pytest.mark.slow
def test_replay_applies_missed_events_once(runner, db, stripe_billing, sponsor, plan, beneficiary):
    started = utcnow() - timedelta(seconds=5)
    customer, sub = stripe_billing.subscription(
        quantity=6,
        metadata={"lms_sponsor_id": str(sponsor.id), "lms_plan": plan.slug,
                  "lms_organization": beneficiary.slug},
    )  # fmt: skip
    sponsor.stripe_customer_id = customer
    db.session.flush()
    since = started.strftime("%Y-%m-%dT%H:%M:%S")
    first = runner.invoke(args=["lms", "stripe", "replay", "--since", since])
    assert first.exit_code == 0, first.output
    assert "applied" in first.output
    grants = db.session.scalar(sa.select(sa.func.count()).select_from(SeatGrantEvent))
    sponsorship = db.session.scalar(
        sa.select(Sponsorship).where(Sponsorship.stripe_subscription_id == sub.id)
    )
    assert sponsorship.grant.seats == 6
    events = db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent))
    second = runner.invoke(args=["lms", "stripe", "replay", "--since", since])
    assert second.exit_code == 0
    assert "applied" not in second.output and "duplicate" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SeatGrantEvent)) == grants
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == events


def test_replay_without_stripe_is_a_clear_error(runner, db, billing):
    billing("http://127.0.0.1:9")
    result = runner.invoke(args=["lms", "stripe", "replay", "--since", "2026-01-01"])
    assert result.exit_code != 0
    assert "Stripe could not be reached" in result.output


def test_a_suppressed_month_is_null_as_the_document_says(
    client, db, sponsor, sponsor_admin, enroll
):
    # Found by fuzzing: the document said each month's completions was an integer, but a month
    # with fewer than 5 completions is suppressed (null).
    import jsonschema

    from tests.conftest import log_in

    organization = OrganizationFactory(slug="few-u")
    services.record_manual_sponsorship(
        sponsor, None, organization_slug=organization.slug, seats=5,
        starts_at=utcnow() - timedelta(days=1), ends_at=utcnow() + timedelta(days=1),
    )  # fmt: skip
    enroll(organization, "c", completed_days_ago=0)
    spec = client.get("/api/openapi.json").json
    log_in(client, sponsor_admin)
    response = client.get(f"/api/v1/sponsors/{sponsor.id}/impact")
    assert response.status_code == 200
    assert response.json["completions_per_month"][0]["completions"] is None
    document = {**spec, "$ref": "#/components/schemas/ImpactOut"}
    jsonschema.validate(response.json, document)
