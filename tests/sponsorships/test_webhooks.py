"""POST /stripe/webhook with events signed here. The subscriptions they name are real ones at
localstripe (started by the ``local_stripe`` fixture), because the handler reads the current
state of a subscription from Stripe rather than trusting the event."""

import logging
import socket
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.core.db import utcnow
from lms.memberships.models import SeatGrant, SeatGrantEvent
from lms.memberships.services import seat_summary
from lms.sponsorships.models import Sponsorship, StripeEvent
from tests.factories import MemberFactory
from tests.sponsorships.conftest import event, post_event, signed

CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port here


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def funded(local_stripe, db, sponsor, plan, organization, quantity=5, card="pm_card_visa"):
    """A real subscription at localstripe for ``sponsor``, naming our plan and organization."""
    customer, sub = local_stripe.subscription(
        quantity=quantity,
        card=card,
        metadata={
            "lms_sponsor_id": str(sponsor.id),
            "lms_plan": plan.slug,
            "lms_organization": organization.slug,
        },
    )
    sponsor.stripe_customer_id = customer
    db.session.flush()
    return sub


def sponsorship_of(db, subscription_id):
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Sponsorship).where(Sponsorship.stripe_subscription_id == subscription_id)
    )


def ledger(db, grant_id):
    return db.session.scalars(
        sa.select(SeatGrantEvent).where(SeatGrantEvent.grant_id == grant_id).order_by("id")
    ).all()


# -- refused before anything is stored -----------------------------------------------------------


@pytest.fixture
def no_stripe(billing):
    billing(CLOSED)


def test_missing_signature_is_400_and_nothing_stored(client, db, no_stripe):
    body, _ = signed(event("customer.subscription.updated", {"id": "sub_x"}))
    response = client.post("/stripe/webhook", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == 400
    assert "Stripe-Signature" in response.json["message"]
    assert count(db, StripeEvent) == 0


def test_forged_signature_is_400_and_nothing_stored(client, db, no_stripe):
    response = post_event(
        client, event("customer.subscription.updated", {"id": "sub_x"}), secret="whsec_forged"
    )
    assert response.status_code == 400
    assert "signature" in response.json["message"]
    assert count(db, StripeEvent) == 0


def test_tampered_body_is_400(client, db, no_stripe):
    body, headers = signed(event("invoice.paid", {"id": "in_x", "subscription": "sub_x"}))
    response = client.post("/stripe/webhook", data=body.replace("in_x", "in_y"), headers=headers)
    assert response.status_code == 400
    assert count(db, StripeEvent) == 0


def test_stale_timestamp_is_400(client, db, no_stripe):
    old = int((utcnow() - timedelta(hours=1)).timestamp())
    response = post_event(client, event("invoice.paid", {"id": "in_x"}), timestamp=old)
    assert response.status_code == 400
    assert "tolerance" in response.json["message"].lower()
    assert count(db, StripeEvent) == 0


def test_a_signed_body_that_is_not_json_is_400(client, db, no_stripe):
    import stripe

    body = "this is not json {"
    header = stripe.WebhookSignature.generate_signature_header(body, "whsec_test_secret_for_lms")
    response = client.post(
        "/stripe/webhook", data=body, headers={"Stripe-Signature": header},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "not JSON" in response.json["message"]
    assert count(db, StripeEvent) == 0


def test_a_signed_json_that_is_not_an_event_is_400(client, db, no_stripe):
    body, headers = signed(["not", "an", "event"])
    assert client.post("/stripe/webhook", data=body, headers=headers).status_code == 400
    body, headers = signed({"object": "event"})
    assert client.post("/stripe/webhook", data=body, headers=headers).status_code == 400
    assert count(db, StripeEvent) == 0


def test_a_huge_body_is_413_and_nothing_stored(client, db, no_stripe, app):
    evt = event("customer.updated", {"id": "cus_x", "padding": "x" * (600 * 1024)})
    response = post_event(client, evt)
    assert response.status_code == 413
    assert response.json["code"] == 413
    assert count(db, StripeEvent) == 0


def test_unknown_event_types_are_acknowledged_and_change_nothing(client, db, no_stripe):
    response = post_event(client, event("charge.refunded", {"id": "ch_1"}, event_id="evt_other"))
    assert response.status_code == 200
    assert response.json["result"] == "ignored"
    assert count(db, Sponsorship) == 0
    assert count(db, SeatGrant) == 0


def test_the_webhook_needs_no_csrf_token(client, db, no_stripe, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client.get("/sponsorship-plans")  # a browser session exists
    response = post_event(client, event("charge.refunded", {"id": "ch_2"}))
    assert response.status_code == 200


def test_without_a_webhook_secret_there_is_no_endpoint(client, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", None)
    response = post_event(client, event("invoice.paid", {"id": "in_x"}))
    assert response.status_code == 404
    assert "not configured" in response.json["message"]
    assert count(db, StripeEvent) == 0


# -- applied against localstripe's subscriptions ----------------------------------------------


@pytest.mark.slow
def test_a_subscription_becomes_a_seat_grant_until_the_item_period_end(
    client, db, stripe_billing, sponsor, plan, beneficiary
):
    sub = funded(stripe_billing, db, sponsor, plan, beneficiary, quantity=7)
    evt = event("customer.subscription.created", sub.to_dict(), event_id="evt_created_1")
    response = post_event(client, evt)
    assert response.status_code == 200, response.json
    sponsorship = sponsorship_of(db, sub.id)
    assert (sponsorship.status, sponsorship.seats) == ("active", 7)
    period_end = sub["items"]["data"][0]["current_period_end"]
    grant = sponsorship.grant
    assert grant.source == "sponsorship"
    assert grant.seats == 7
    assert int(grant.ends_at.timestamp()) == period_end
    assert seat_summary(beneficiary).capacity == 7
    assert [e.reason for e in ledger(db, grant.id)] == ["evt_created_1"]


@pytest.mark.slow
def test_the_same_event_three_times_is_applied_once(
    client, db, stripe_billing, sponsor, plan, beneficiary
):
    sub = funded(stripe_billing, db, sponsor, plan, beneficiary)
    evt = event("customer.subscription.created", sub.to_dict(), event_id="evt_thrice")
    results = [post_event(client, evt) for _ in range(3)]
    assert [r.status_code for r in results] == [200, 200, 200]
    assert [r.json["result"].split(":")[0] for r in results] == [
        "applied",
        "duplicate",
        "duplicate",
    ]
    assert count(db, StripeEvent) == 1
    sponsorship = sponsorship_of(db, sub.id)
    assert len(ledger(db, sponsorship.grant_id)) == 1
    assert count(db, SeatGrant) == 1


@pytest.mark.slow
def test_events_in_reverse_order_end_in_the_current_state(
    client, db, stripe_billing, sponsor, plan, beneficiary
):
    sub = funded(stripe_billing, db, sponsor, plan, beneficiary, quantity=5)
    created = event("customer.subscription.created", sub.to_dict(), event_id="evt_rev_1")
    item = sub["items"]["data"][0]
    updated_sub = stripe_billing.client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item["id"], "quantity": 9}]}
    )
    updated = event("customer.subscription.updated", updated_sub.to_dict(), event_id="evt_rev_2")
    assert post_event(client, updated).status_code == 200  # the newer one first
    assert post_event(client, created).status_code == 200  # its stale object says 5 seats
    sponsorship = sponsorship_of(db, sub.id)
    assert sponsorship.seats == 9
    assert sponsorship.grant.seats == 9
    # The older event found nothing to change: one ledger line.
    assert [(e.action, e.seats) for e in ledger(db, sponsorship.grant_id)] == [("created", 9)]


@pytest.mark.slow
def test_an_event_for_an_unknown_subscription_is_acknowledged(client, db, stripe_billing):
    evt = event("customer.subscription.updated", {"id": "sub_unknown", "customer": "cus_nobody"})
    response = post_event(client, evt)
    assert response.status_code == 200
    assert response.json["result"] == "unknown subscription"
    assert count(db, Sponsorship) == 0


@pytest.mark.slow
def test_a_subscription_that_names_nothing_we_know_changes_nothing(
    client, db, stripe_billing, sponsor
):
    _, sub = stripe_billing.subscription(metadata={"lms_organization": "no-such-org"})
    response = post_event(client, event("customer.subscription.created", sub.to_dict()))
    assert response.status_code == 200
    assert response.json["result"] == "unknown subscription"
    assert count(db, Sponsorship) == 0


@pytest.mark.slow
@pytest.mark.allow_5xx
def test_a_failure_inside_answers_5xx_and_the_retry_succeeds(
    client, db, billing, local_stripe, sponsor, plan, beneficiary
):
    billing(local_stripe.url)
    sub = funded(local_stripe, db, sponsor, plan, beneficiary)
    evt = event("customer.subscription.created", sub.to_dict(), event_id="evt_retry")
    billing(CLOSED)  # Stripe unreachable while the event is handled
    response = post_event(client, evt)
    assert response.status_code == 502
    assert "Stripe could not be reached" in response.json["message"]
    assert count(db, StripeEvent) == 0 and count(db, Sponsorship) == 0
    billing(local_stripe.url)  # Stripe's retry
    response = post_event(client, evt)
    assert response.status_code == 200
    assert sponsorship_of(db, sub.id).grant.seats == 5


@pytest.mark.slow
def test_an_event_of_another_api_version_is_logged(
    client, db, stripe_billing, sponsor, plan, beneficiary, caplog
):
    sub = funded(stripe_billing, db, sponsor, plan, beneficiary)
    evt = event("customer.subscription.created", sub.to_dict(), version="2017-08-15")
    with caplog.at_level(logging.WARNING, logger="lms.sponsorships.webhooks"):
        assert post_event(client, evt).status_code == 200
    assert "2017-08-15" in caplog.text and "2025-03-31.basil" in caplog.text


@pytest.mark.slow
def test_a_failed_payment_keeps_the_seats_for_the_grace_period(
    client, db, stripe_billing, sponsor, plan, beneficiary
):
    sub = funded(stripe_billing, db, sponsor, plan, beneficiary)
    post_event(client, event("customer.subscription.created", sub.to_dict()))
    client_ = stripe_billing.client
    pm = client_.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", {"customer": sponsor.stripe_customer_id}
    )
    client_.v1.customers.update(
        sponsor.stripe_customer_id, {"invoice_settings": {"default_payment_method": pm.id}}
    )
    renewed = stripe_billing.post(f"/_test/subscriptions/{sub.id}/renew")
    assert renewed["status"] == "past_due"
    invoice = client_.v1.invoices.retrieve(renewed["latest_invoice"]).to_dict()
    response = post_event(client, event("invoice.payment_failed", invoice, event_id="evt_failed"))
    assert response.status_code == 200, response.json
    sponsorship = sponsorship_of(db, sub.id)
    assert sponsorship.status == "past_due"
    period_start = renewed["items"]["data"][0]["current_period_start"]
    assert int(sponsorship.grant.ends_at.timestamp()) == period_start + 7 * 86400
    assert ledger(db, sponsorship.grant_id)[-1].reason == "evt_failed"


@pytest.mark.slow
def test_cancellation_ends_the_grant_at_the_period_end_and_keeps_learners(
    client, db, stripe_billing, sponsor, plan, beneficiary
):
    sub = funded(stripe_billing, db, sponsor, plan, beneficiary, quantity=5)
    post_event(client, event("customer.subscription.created", sub.to_dict()))
    learners = [MemberFactory(organization=beneficiary) for _ in range(3)]
    period_end = sub["items"]["data"][0]["current_period_end"]
    canceled = stripe_billing.client.v1.subscriptions.cancel(sub.id)
    response = post_event(client, event("customer.subscription.deleted", canceled.to_dict()))
    assert response.status_code == 200
    sponsorship = sponsorship_of(db, sub.id)
    assert sponsorship.status == "canceled"
    assert int(sponsorship.grant.ends_at.timestamp()) == period_end
    assert all(member.is_active for member in learners)


@pytest.mark.slow
def test_a_reduction_below_seats_in_use_leaves_the_organization_over_capacity(
    client, db, stripe_billing, sponsor, plan, beneficiary
):
    sub = funded(stripe_billing, db, sponsor, plan, beneficiary, quantity=6)
    post_event(client, event("customer.subscription.created", sub.to_dict()))
    learners = [MemberFactory(organization=beneficiary) for _ in range(5)]
    item = sub["items"]["data"][0]
    smaller = stripe_billing.client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item["id"], "quantity": 2}]}
    )
    assert (
        post_event(client, event("customer.subscription.updated", smaller.to_dict())).status_code
        == 200
    )
    summary = seat_summary(beneficiary)
    assert (summary.capacity, summary.used, summary.over_capacity) == (2, 5, True)
    db.session.expire_all()
    assert all(member.is_active and member.holds_seat for member in learners)


@pytest.mark.slow
def test_checkout_completed_and_invoice_paid_find_the_subscription(
    client, db, stripe_billing, sponsor, plan, beneficiary
):
    sub = funded(stripe_billing, db, sponsor, plan, beneficiary, quantity=5)
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "customer": sponsor.stripe_customer_id,
        "subscription": sub.id,
    }
    assert post_event(client, event("checkout.session.completed", session)).status_code == 200
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "customer": sponsor.stripe_customer_id,
        # Where API versions since 2025-03-31 put the subscription of an invoice.
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub.id},
        },
    }
    response = post_event(client, event("invoice.paid", invoice))
    assert response.json["result"].startswith("applied")
    sponsorship = sponsorship_of(db, sub.id)
    assert sponsorship.grant.seats == 5
    assert len(ledger(db, sponsorship.grant_id)) == 1  # the second event changed nothing


@pytest.mark.allow_5xx
def test_a_stripe_timeout_is_a_502_not_a_hang(client, db, billing, sponsor, plan, beneficiary):
    """A server that accepts connections and never answers: the call times out."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        billing(f"http://127.0.0.1:{port}", STRIPE_TIMEOUT=0.5)
        sponsor.stripe_customer_id = "cus_x"
        db.session.flush()
        evt = event("customer.subscription.updated", {"id": "sub_x", "customer": "cus_x"})
        started = utcnow()
        response = post_event(client, evt)
    assert response.status_code == 502
    assert utcnow() - started < timedelta(seconds=5)
    assert count(db, StripeEvent) == 0
