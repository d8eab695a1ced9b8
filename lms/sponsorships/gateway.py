"""Every call to Stripe, through the ``stripe`` library. Nothing else in lms talks to Stripe.

The client is pinned to ``STRIPE_API_VERSION`` and reads fields where that version puts them
(since 2025-03-31 the current period is on the subscription item). ``STRIPE_API_BASE`` points
it at another server (the tests' localstripe). A timeout, an outage or a refusal from Stripe
becomes ``StripeUnavailable`` (502 with a message that says so); the request that called
rolls back, so nothing is half-created on our side, and the calls that create something at
Stripe carry an idempotency key, so trying again does not create it twice.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import stripe
from flask import current_app

from lms.core.errors import BadRequest, DomainError, NotFound

log = logging.getLogger(__name__)


class StripeUnavailable(DomainError):
    """Stripe did not answer in time, could not be reached, or refused the call."""

    code = 502


class BillingNotConfigured(DomainError):
    """No Stripe keys: the billing actions are off (409: the server's state, not the input,
    is what stands in the way; not a 5xx, which would read as an outage)."""

    code = 409

    def __init__(self):
        super().__init__(
            "Billing is not configured on this server (no STRIPE_SECRET_KEY). "
            "Manual sponsorships still work: ask a platform administrator."
        )


class WebhooksNotConfigured(NotFound):
    """Without an endpoint secret no event can be verified: there is no webhook endpoint."""


class InvalidWebhook(BadRequest):
    """A webhook whose signature is missing, wrong or too old (400, nothing stored)."""


def is_configured() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def api_version() -> str:
    return current_app.config["STRIPE_API_VERSION"]


def _client() -> stripe.StripeClient:
    if not is_configured():
        raise BillingNotConfigured()
    config = current_app.config
    settings = (
        config["STRIPE_SECRET_KEY"],
        config["STRIPE_API_VERSION"],
        config.get("STRIPE_API_BASE"),
        config["STRIPE_TIMEOUT"],
        config["STRIPE_MAX_NETWORK_RETRIES"],
    )
    cached = current_app.extensions.get("lms_stripe")
    if cached is None or cached[0] != settings:
        key, version, base, timeout, retries = settings
        client = stripe.StripeClient(
            key,
            stripe_version=version,
            base_addresses={"api": base} if base else None,
            http_client=stripe.RequestsClient(timeout=timeout),
            max_network_retries=retries,
        )
        cached = current_app.extensions["lms_stripe"] = (settings, client)
    return cached[1]


@contextmanager
def _calling(what: str) -> Iterator[None]:
    try:
        yield
    except stripe.APIConnectionError as exc:
        log.warning("Stripe unreachable while trying to %s: %s", what, exc.user_message or exc)
        raise StripeUnavailable(
            f"Stripe could not be reached to {what} (timeout or network error). "
            "Nothing was changed; try again in a moment."
        ) from None
    except stripe.StripeError as exc:
        log.warning("Stripe refused to %s: %s", what, exc.user_message or exc)
        raise StripeUnavailable(
            f"Stripe refused to {what}: {exc.user_message or 'no reason given'}. "
            "Nothing was changed."
        ) from None


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value is not None else None


# -- plans ----------------------------------------------------------------------------------


def sync_plan(plan) -> tuple[str, str, list[str]]:
    """Make the plan's Stripe Product and recurring Price match it; returns the product id, the
    price id and what changed. Prices cannot change at Stripe: a new amount, currency or
    interval makes a new Price and deactivates the old one."""
    client = _client()
    changes = []
    with _calling(f"sync the plan {plan.slug}"):
        if plan.stripe_product_id:
            product = client.v1.products.retrieve(plan.stripe_product_id).to_dict()
            if product.get("name") != plan.name:
                client.v1.products.update(plan.stripe_product_id, {"name": plan.name})
                changes.append("product renamed")
        else:
            product = client.v1.products.create(
                {"name": plan.name, "metadata": {"lms_plan": plan.slug}},
                {"idempotency_key": f"lms-plan-{plan.slug}-product"},
            ).to_dict()
            changes.append("product created")
        price_id = plan.stripe_price_id
        if price_id:
            price = client.v1.prices.retrieve(price_id).to_dict()
            recurring = price.get("recurring") or {}
            same = (
                price.get("unit_amount") == plan.unit_amount
                and price.get("currency") == plan.currency
                and recurring.get("interval") == plan.interval
                and price.get("product") == product["id"]
            )
            if not same:
                client.v1.prices.update(price_id, {"active": False})
                price_id = None
                changes.append("old price deactivated")
        if not price_id:
            key = f"lms-plan-{plan.slug}-{plan.unit_amount}-{plan.currency}-{plan.interval}"
            price = client.v1.prices.create(
                {
                    "product": product["id"],
                    "unit_amount": plan.unit_amount,
                    "currency": plan.currency,
                    "recurring": {"interval": plan.interval},
                    "metadata": {"lms_plan": plan.slug},
                },
                {"idempotency_key": key},
            )
            price_id = price.id
            changes.append("price created")
    return product["id"], price_id, changes


# -- customers, Checkout, Portal, invoice subscriptions -----------------------------------------


def create_customer(sponsor) -> str:
    """The sponsor's Stripe Customer. The idempotency key makes a retry after a failure later
    in the same request (whose rollback forgot the id) find the same customer."""
    with _calling("create the sponsor's customer"):
        customer = _client().v1.customers.create(
            {
                "name": sponsor.name,
                "email": sponsor.billing_email,
                "metadata": {"lms_sponsor_id": str(sponsor.id)},
            },
            {"idempotency_key": f"lms-sponsor-{sponsor.id}-customer"},
        )
    return customer.id


def create_checkout_session(
    *,
    customer_id: str,
    price_id: str,
    seats: int,
    metadata: dict[str, str],
    client_reference_id: str,
    success_url: str,
    cancel_url: str,
) -> tuple[str, str]:
    """A Checkout Session in subscription mode for ``seats`` seats; returns its id and URL."""
    with _calling("start a checkout"):
        session = _client().v1.checkout.sessions.create(
            {
                "mode": "subscription",
                "customer": customer_id,
                "line_items": [{"price": price_id, "quantity": seats}],
                "metadata": metadata,
                "client_reference_id": client_reference_id,
                "subscription_data": {"metadata": metadata},
                "success_url": success_url,
                "cancel_url": cancel_url,
            }
        )
    return session.id, session.url


def create_portal_session(customer_id: str, return_url: str) -> str:
    with _calling("open the billing portal"):
        session = _client().v1.billing_portal.sessions.create(
            {"customer": customer_id, "return_url": return_url}
        )
    return session.url


def create_invoice_subscription(
    *, customer_id: str, price_id: str, seats: int, days_until_due: int, metadata: dict
) -> "SubscriptionState":
    """A subscription paid by invoice (Stripe e-mails it, due in ``days_until_due`` days)."""
    with _calling("create the invoice subscription"):
        subscription = _client().v1.subscriptions.create(
            {
                "customer": customer_id,
                "items": [{"price": price_id, "quantity": seats}],
                "collection_method": "send_invoice",
                "days_until_due": days_until_due,
                "metadata": metadata,
            }
        )
    return subscription_state(subscription.to_dict())


# -- subscriptions and events ----------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionState:
    """What lms needs of a subscription, read where the pinned API version puts it."""

    id: str
    customer: str | None
    status: str
    quantity: int
    price_id: str | None
    period_start: datetime | None
    period_end: datetime | None
    collection_method: str
    metadata: dict = field(default_factory=dict)


def subscription_state(data: dict) -> SubscriptionState:
    items = (data.get("items") or {}).get("data") or []
    item = items[0] if items else {}
    price = item.get("price") or item.get("plan") or {}
    # Since 2025-03-31 the period is on the item; older versions (and localstripe's 2017
    # objects) have it on the subscription.
    start = item.get("current_period_start", data.get("current_period_start"))
    end = item.get("current_period_end", data.get("current_period_end"))
    customer = data.get("customer")
    return SubscriptionState(
        id=data["id"],
        customer=customer.get("id") if isinstance(customer, dict) else customer,
        status=data.get("status") or "incomplete",
        quantity=int(item.get("quantity") or data.get("quantity") or 0),
        price_id=price.get("id") if isinstance(price, dict) else price,
        period_start=_timestamp(start),
        period_end=_timestamp(end),
        collection_method=data.get("collection_method") or "charge_automatically",
        metadata=dict(data.get("metadata") or {}),
    )


def retrieve_subscription(subscription_id: str) -> SubscriptionState | None:
    """The subscription as Stripe has it now; None when Stripe does not know it."""
    with _calling("read the subscription"):
        try:
            subscription = _client().v1.subscriptions.retrieve(subscription_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise
    return subscription_state(subscription.to_dict())


def list_events(since: datetime) -> list[dict]:
    """Stripe's events created at or after ``since`` (Stripe keeps 30 days), oldest first."""
    with _calling("list events"):
        page = _client().v1.events.list({"created": {"gte": int(since.timestamp())}, "limit": 100})
        events = [event.to_dict() for event in page.auto_paging_iter()]
    return sorted(events, key=lambda event: (event.get("created") or 0, event.get("id")))


# -- webhooks ------------------------------------------------------------------------------


def verify_webhook(payload: bytes, signature: str | None) -> None:
    """Check the ``Stripe-Signature`` header on the raw body with the endpoint secret and the
    timestamp tolerance; ``InvalidWebhook`` (400) when it is missing, wrong or too old."""
    config = current_app.config
    secret = config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise WebhooksNotConfigured(
            "Stripe webhooks are not configured on this server (no STRIPE_WEBHOOK_SECRET)."
        )
    if not signature:
        raise InvalidWebhook("The Stripe-Signature header is missing.")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, config["STRIPE_WEBHOOK_TOLERANCE"]
        )
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(f"The webhook signature does not verify: {exc.user_message}") from None
    except UnicodeDecodeError:
        raise InvalidWebhook("The webhook body is not UTF-8.") from None
