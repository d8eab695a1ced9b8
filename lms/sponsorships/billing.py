"""Billing through Stripe: Checkout for card subscriptions, invoice-paid subscriptions and
the Customer Portal (every Stripe call itself is in ``gateway``). Seats come only from the
webhooks. No HTTP."""

from dataclasses import dataclass

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.errors import Conflict, RuleViolation
from lms.core.extensions import db
from lms.memberships.models import Organization
from lms.sponsorships import gateway
from lms.sponsorships.models import (
    Sponsor,
    Sponsorship,
    SponsorshipPlan,
    SponsorshipSource,
    SponsorshipStatus,
)
from lms.sponsorships.services import plan_by_slug


def _checkout_inputs(
    plan_slug: str, organization_slug: str, seats: int
) -> tuple[SponsorshipPlan, Organization]:
    errors = {}
    plan = plan_by_slug(plan_slug)
    if plan is None or not plan.is_active:
        errors["plan"] = ["No such plan."]
    organization = db.session.scalar(
        sa.select(Organization).where(Organization.slug == organization_slug)
    )
    if organization is None:
        errors["organization"] = ["No such organization."]
    if plan is not None and seats < plan.min_seats:
        errors["seats"] = [f"This plan funds at least {plan.min_seats} seats."]
    if errors:
        raise RuleViolation("The sponsorship cannot be set up as asked.", errors=errors)
    return plan, organization


def _stripe_price(plan: SponsorshipPlan) -> str:
    if not plan.stripe_price_id:
        raise Conflict(
            "This plan is not set up at Stripe yet: a platform administrator runs "
            "`flask lms stripe sync-plans`."
        )
    return plan.stripe_price_id


def _metadata(sponsor: Sponsor, plan: SponsorshipPlan, organization: Organization) -> dict:
    return {
        "lms_sponsor_id": str(sponsor.id),
        "lms_plan": plan.slug,
        "lms_organization": organization.slug,
    }


def ensure_customer(sponsor: Sponsor) -> str:
    if not sponsor.stripe_customer_id:
        sponsor.stripe_customer_id = gateway.create_customer(sponsor)
        db.session.flush()
    return sponsor.stripe_customer_id


@dataclass
class CheckoutStart:
    id: str
    url: str


def start_checkout(
    sponsor: Sponsor,
    *,
    plan_slug: str,
    organization_slug: str,
    seats: int,
    success_url: str,
    cancel_url: str,
) -> CheckoutStart:
    """A Stripe Checkout Session for the sponsor to pay by card. Nothing is granted here:
    the webhooks grant once Stripe says the subscription exists."""
    plan, organization = _checkout_inputs(plan_slug, organization_slug, seats)
    if not gateway.is_configured():
        raise gateway.BillingNotConfigured()
    price = _stripe_price(plan)
    customer = ensure_customer(sponsor)
    session_id, url = gateway.create_checkout_session(
        customer_id=customer,
        price_id=price,
        seats=seats,
        metadata=_metadata(sponsor, plan, organization),
        client_reference_id=f"sponsor-{sponsor.id}",
        success_url=success_url,
        cancel_url=cancel_url,
    )
    return CheckoutStart(id=session_id, url=url)


def portal_url(sponsor: Sponsor, return_url: str) -> str:
    if not gateway.is_configured():
        raise gateway.BillingNotConfigured()
    if not sponsor.stripe_customer_id:
        raise Conflict("This sponsor has no billing account yet: start a sponsorship first.")
    return gateway.create_portal_session(sponsor.stripe_customer_id, return_url)


def create_invoice_sponsorship(
    sponsor: Sponsor,
    actor: User,
    *,
    plan_slug: str,
    organization_slug: str,
    seats: int,
    days_until_due: int = 30,
) -> Sponsorship:
    """A subscription paid by invoice (net terms): Stripe e-mails the invoice. Its seats come,
    as for card subscriptions, from the webhooks."""
    plan, organization = _checkout_inputs(plan_slug, organization_slug, seats)
    if not gateway.is_configured():
        raise gateway.BillingNotConfigured()
    price = _stripe_price(plan)
    customer = ensure_customer(sponsor)
    state = gateway.create_invoice_subscription(
        customer_id=customer,
        price_id=price,
        seats=seats,
        days_until_due=days_until_due,
        metadata=_metadata(sponsor, plan, organization),
    )
    sponsorship = Sponsorship(
        sponsor_id=sponsor.id,
        organization_id=organization.id,
        plan_id=plan.id,
        source=SponsorshipSource.STRIPE,
        collection_method="send_invoice",
        status=SponsorshipStatus.INCOMPLETE,  # the webhooks bring the subscription's state
        seats=seats,
        stripe_subscription_id=state.id,
        created_by_id=actor.id,
    )
    db.session.add(sponsorship)
    db.session.flush()
    return sponsorship
