"""Stripe events: verified webhooks and replayed events go through ``process_event``.

* Idempotent: the event id is inserted (unique) in the same transaction as the event's effect.
  A second delivery finds it and changes nothing; two deliveries at once race on the unique
  index, and the loser answers "duplicate" too.
* Order-proof: for subscription, invoice and checkout events the subscription is read from
  Stripe and its CURRENT state applied, never the (possibly stale) object in the event. The
  sponsor's row is locked first, so two events of one sponsor apply one after the other.
* A failure (Stripe unreachable, the database) raises: the transaction rolls back, the event
  is not recorded, the webhook answers 5xx, and Stripe's retry applies it.
"""

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.memberships.models import Organization
from lms.sponsorships import gateway
from lms.sponsorships.models import (
    Sponsor,
    Sponsorship,
    SponsorshipPlan,
    SponsorshipSource,
    StripeEvent,
)
from lms.sponsorships.seats import apply_seats

log = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"})
CHECKOUT_EVENTS = frozenset({"checkout.session.completed"})
HANDLED = SUBSCRIPTION_EVENTS | INVOICE_EVENTS | CHECKOUT_EVENTS


@dataclass
class Outcome:
    event_id: str
    result: str  # applied | duplicate | ignored | unknown subscription | ...


def _subscription_id(event_type: str, obj: dict) -> str | None:
    if event_type in SUBSCRIPTION_EVENTS:
        return obj.get("id")
    if event_type in CHECKOUT_EVENTS:
        return obj.get("subscription") if obj.get("mode") == "subscription" else None
    # Invoices: since 2025-03-31 the subscription is under parent.subscription_details.
    parent = obj.get("parent") or {}
    details = parent.get("subscription_details") or {}
    subscription = details.get("subscription") or obj.get("subscription")
    if isinstance(subscription, dict):
        subscription = subscription.get("id")
    return subscription


def _customer_id(obj: dict) -> str | None:
    customer = obj.get("customer")
    return customer.get("id") if isinstance(customer, dict) else customer


def process_event(event: dict, *, source: str = "webhook") -> Outcome:
    """Apply one Stripe event exactly once. The caller commits."""
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise gateway.InvalidWebhook("The body is not a Stripe event (no id or type).")
    version = event.get("api_version")
    if version and version != gateway.api_version():
        log.warning(
            "Stripe event %s (%s) has API version %s; lms is pinned to %s: check the "
            "webhook endpoint's version at Stripe",
            event_id,
            event_type,
            version,
            gateway.api_version(),
        )
    if db.session.scalar(sa.select(StripeEvent.id).where(StripeEvent.event_id == event_id)):
        return Outcome(event_id, "duplicate")
    created = event.get("created")
    record = StripeEvent(
        event_id=event_id[:255],
        type=event_type[:100],
        api_version=(version or None) and str(version)[:40],
        source=source,
        stripe_created_at=gateway._timestamp(created) if isinstance(created, int) else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError:
        return Outcome(event_id, "duplicate")  # delivered twice at once; the other one applies
    obj = (event.get("data") or {}).get("object") or {}
    if event_type not in HANDLED or not isinstance(obj, dict):
        result = "ignored"
    else:
        subscription_id = _subscription_id(event_type, obj)
        result = (
            sync_subscription(subscription_id, event_id, customer=_customer_id(obj))
            if subscription_id
            else "no subscription"
        )
    record.outcome = result
    db.session.flush()
    return Outcome(event_id, result)


def _lock_sponsor(customer: str | None, metadata: dict) -> Sponsor | None:
    """The sponsor the subscription belongs to, its row locked (PostgreSQL; SQLite's write
    transaction already serializes) so that its events apply one after the other."""
    stmt = sa.select(Sponsor).with_for_update()
    if customer:
        sponsor = db.session.scalar(stmt.where(Sponsor.stripe_customer_id == customer))
        if sponsor is not None:
            return sponsor
    raw = str(metadata.get("lms_sponsor_id") or "")
    if raw.isdigit() and len(raw) < 10:
        sponsor = db.session.scalar(stmt.where(Sponsor.id == int(raw)))
        # A subscription names its customer: a sponsor with another customer is not its.
        if sponsor is not None and sponsor.stripe_customer_id in (None, customer):
            return sponsor
    return None


def sync_subscription(subscription_id: str, reason: str, *, customer: str | None = None) -> str:
    """Read the subscription from Stripe and make its sponsorship and seats match it now."""
    sponsor = _lock_sponsor(customer, {})
    if sponsor is None:
        known = db.session.scalar(
            sa.select(Sponsorship.sponsor_id).where(
                Sponsorship.stripe_subscription_id == subscription_id
            )
        )
        if known is not None:
            sponsor = db.session.scalar(
                sa.select(Sponsor).where(Sponsor.id == known).with_for_update()
            )
    state = gateway.retrieve_subscription(subscription_id)  # after the lock: the newest state
    if state is None:
        log.info("Stripe event %s: subscription %s is unknown at Stripe", reason, subscription_id)
        return "unknown subscription"
    if sponsor is None:
        sponsor = _lock_sponsor(state.customer, state.metadata)
    # Read under the lock, refreshing what this session may hold from before it.
    sponsorship = db.session.scalar(
        sa.select(Sponsorship)
        .where(Sponsorship.stripe_subscription_id == subscription_id)
        .execution_options(populate_existing=True)
    )
    if sponsorship is None:
        sponsorship = _new_sponsorship(sponsor, state)
        if sponsorship is None:
            log.warning(
                "Stripe event %s: subscription %s names no sponsor, plan or organization "
                "that lms knows; nothing changed",
                reason,
                subscription_id,
            )
            return "unknown subscription"
    if state.quantity >= 1:
        sponsorship.seats = state.quantity
    sponsorship.status = state.status
    sponsorship.collection_method = state.collection_method
    sponsorship.period_starts_at = state.period_start
    sponsorship.period_ends_at = state.period_end
    sponsorship.updated_at = utcnow()
    db.session.flush()
    apply_seats(sponsorship, reason)
    db.session.flush()
    return f"applied: {state.status}, {sponsorship.seats} seats"


def _new_sponsorship(sponsor: Sponsor | None, state: gateway.SubscriptionState):
    if sponsor is None:
        return None
    plan = db.session.scalar(
        sa.select(SponsorshipPlan).where(SponsorshipPlan.slug == state.metadata.get("lms_plan"))
    )
    organization = db.session.scalar(
        sa.select(Organization).where(Organization.slug == state.metadata.get("lms_organization"))
    )
    if organization is None:
        return None
    if sponsor.stripe_customer_id is None and state.customer:
        sponsor.stripe_customer_id = state.customer
    sponsorship = Sponsorship(
        sponsor_id=sponsor.id,
        organization_id=organization.id,
        plan_id=plan.id if plan else None,
        source=SponsorshipSource.STRIPE,
        collection_method=state.collection_method,
        status=state.status,
        seats=max(state.quantity, 0),
        stripe_subscription_id=state.id,
    )
    db.session.add(sponsorship)
    db.session.flush()
    db.session.refresh(sponsorship)
    return sponsorship


def max_body_bytes() -> int:
    return current_app.config["STRIPE_WEBHOOK_MAX_BYTES"]
