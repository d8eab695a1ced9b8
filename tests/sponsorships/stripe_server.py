"""A Stripe-compatible server for the tests: localstripe, bound to 127.0.0.1, store in memory.

Run as ``python -m tests.sponsorships.stripe_server PORT``. localstripe's own command binds
every interface and pickles its store to a fixed file in /tmp after every write; this launcher
binds the loopback address only and turns that dump off, so parallel test runs share nothing.

localstripe speaks 2017-era Stripe. The few things lms uses that it lacks are added here, on
top of its real objects (so a Checkout Session that a test completes creates a real
localstripe subscription, invoice and signed webhooks):

* Prices (``/v1/prices``), stored as localstripe Plans whose id is the price id, and
  ``items[][price]`` on subscriptions;
* the subscription item's ``current_period_start``/``current_period_end`` and ``price``,
  where API versions since 2025-03-31 put them;
* ``collection_method=send_invoice`` with ``days_until_due`` (an open invoice, no charge);
* ``customer.subscription.updated`` and ``invoice.paid`` events;
* Checkout Sessions (``/v1/checkout/sessions``) and Billing Portal sessions
  (``/v1/billing_portal/sessions``). Their PAGES cannot be played here: a test completes a
  session with ``POST /_test/checkout/sessions/{id}/complete`` (what the sponsor's browser
  would do on Stripe's page), and plays the portal by calling the subscription API directly;
* ``POST /_test/subscriptions/{id}/renew``: the next billing period starts and its invoice is
  charged to the default payment method (a failing card makes the subscription past_due).
"""

import sys
import time

from aiohttp import web
from localstripe import server
from localstripe.errors import UserError
from localstripe.resources import (
    Customer,
    Event,
    Invoice,
    PaymentMethod,
    Plan,
    StripeObject,
    Subscription,
    SubscriptionItem,
    random_id,
    store,
)
from localstripe.webhooks import schedule_webhook

# -- the store stays in memory ------------------------------------------------------------
store.dump_to_disk = lambda: None


# -- prices -------------------------------------------------------------------------------


def price_shape(plan: Plan) -> dict:
    return {
        "id": plan.id,
        "object": "price",
        "active": plan.active,
        "currency": plan.currency,
        "unit_amount": plan.amount,
        "product": plan.product,
        "recurring": {"interval": plan.interval, "interval_count": plan.interval_count},
        "metadata": plan.metadata,
        "lookup_key": plan.nickname,
        "type": "recurring",
        "created": plan.created,
        "livemode": False,
    }


async def create_price(request):
    data = await server.get_post_data(request) or {}
    recurring = data.get("recurring") or {}
    if not isinstance(recurring, dict) or "interval" not in recurring:
        raise UserError(400, "Only recurring prices are supported here")
    plan = Plan(
        id="price_" + random_id(14),
        product=data.get("product"),
        amount=data.get("unit_amount"),
        currency=data.get("currency"),
        interval=recurring["interval"],
        metadata=data.get("metadata"),
        nickname=data.get("lookup_key"),
    )
    return server.json_response(price_shape(plan))


def retrieve_price(request):
    return server.json_response(price_shape(Plan._api_retrieve(request.match_info["id"])))


async def update_price(request):
    plan = Plan._api_retrieve(request.match_info["id"])
    data = await server.get_post_data(request) or {}
    if "active" in data:
        plan.active = str(data["active"]).lower() == "true"
    if isinstance(data.get("metadata"), dict):
        plan.metadata = {**(plan.metadata or {}), **data["metadata"]}
    return server.json_response(price_shape(plan))


def list_prices(request):
    product = request.query.get("product")
    prices = [
        price_shape(obj)
        for key, obj in store.items()
        if key.startswith("plan:price_") and (product is None or obj.product == product)
    ]
    return server.json_response(
        {"object": "list", "data": prices, "has_more": False, "url": "/v1/prices"}
    )


def _prices_to_plans(items):
    for item in items or []:
        if isinstance(item, dict) and "price" in item:
            item["plan"] = item.pop("price")
    return items


# -- subscriptions in the pinned API version's shape ---------------------------------------

SubscriptionItem.current_period_start = property(lambda self: self._current_period()["start"])
SubscriptionItem.current_period_end = property(lambda self: self._current_period()["end"])
SubscriptionItem.price = property(lambda self: price_shape(self.plan))

_subscription_init = Subscription.__init__
_subscription_update = Subscription._update


def subscription_init(self, *args, collection_method=None, days_until_due=None, **kwargs):
    kwargs["items"] = _prices_to_plans(kwargs.get("items"))
    send_invoice = collection_method == "send_invoice"
    if send_invoice:
        kwargs["trial_period_days"] = 0  # localstripe then creates no invoice and no charge
    _subscription_init(self, *args, **kwargs)
    self.collection_method = collection_method or "charge_automatically"
    self.days_until_due = int(days_until_due) if days_until_due is not None else None
    if send_invoice:
        # Stripe: the subscription is active at once, the invoice is open and e-mailed.
        self.trial_period_days = None
        self.status = "active"
        invoice = Invoice(customer=self.customer, subscription=self.id, items=self.items._list)
        invoice._finalize()
        invoice.collection_method = "send_invoice"


def subscription_update(self, **data):
    data["items"] = _prices_to_plans(data.get("items"))
    if data["items"] is None:
        del data["items"]
    _subscription_update(self, **data)
    schedule_webhook(Event("customer.subscription.updated", self))


Subscription.__init__ = subscription_init
Subscription._update = subscription_update

_invoice_paid = Invoice._on_payment_success


def invoice_paid(self):
    _invoice_paid(self)
    schedule_webhook(Event("invoice.paid", self))


Invoice._on_payment_success = invoice_paid


async def renew_subscription(request):
    """The next period starts and is charged; a failing card leaves the subscription past_due."""
    sub = Subscription._api_retrieve(request.match_info["id"])
    before = sub.status
    sub.start_date = sub.current_period_end
    try:
        sub._create_invoice()
    except UserError:
        pass  # the card was declined: the invoice stays open
    invoice = Invoice._api_retrieve(sub.latest_invoice)
    if invoice.status != "paid":
        if sub.status == before == "active":
            sub.status = "past_due"
        schedule_webhook(Event("invoice.payment_failed", invoice))
    schedule_webhook(Event("customer.subscription.updated", sub))
    return server.json_response(sub._export())


# -- Checkout and the Customer Portal -------------------------------------------------------


class CheckoutSession(StripeObject):
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, **data):
        line_items = data.get("line_items") or []
        if data.get("mode") != "subscription" or len(line_items) != 1:
            raise UserError(400, "Only subscription sessions with one line item")
        if data.get("customer"):
            Customer._api_retrieve(data["customer"])
        Plan._api_retrieve(line_items[0]["price"])
        super().__init__()
        self.mode = "subscription"
        self.customer = data.get("customer")
        self.client_reference_id = data.get("client_reference_id")
        self.metadata = data.get("metadata") or {}
        self.success_url = data.get("success_url")
        self.cancel_url = data.get("cancel_url")
        self.status = "open"
        self.payment_status = "unpaid"
        self.subscription = None
        self.url = f"{BASE}/checkout/pay/{self.id}"
        self._price = line_items[0]["price"]
        self._quantity = int(line_items[0].get("quantity") or 1)
        self._subscription_metadata = (data.get("subscription_data") or {}).get("metadata") or {}


async def create_checkout_session(request):
    data = await server.get_post_data(request) or {}
    return server.json_response(CheckoutSession(**data)._export())


def retrieve_checkout_session(request):
    return server.json_response(CheckoutSession._api_retrieve(request.match_info["id"])._export())


async def complete_checkout_session(request):
    """What Stripe's Checkout page does when the sponsor pays: a subscription is created and
    ``checkout.session.completed`` is sent."""
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    data = await server.get_post_data(request) or {}
    payment_method = data.get("payment_method", "pm_card_visa")
    pm = PaymentMethod._api_attach(payment_method, customer=session.customer)
    customer = Customer._api_retrieve(session.customer)
    customer.invoice_settings["default_payment_method"] = pm.id
    sub = Subscription(
        customer=session.customer,
        items=[{"plan": session._price, "quantity": session._quantity}],
        metadata=dict(session._subscription_metadata),
    )
    session.status = "complete"
    session.payment_status = "paid" if sub.status == "active" else "unpaid"
    session.subscription = sub.id
    schedule_webhook(Event("checkout.session.completed", session))
    return server.json_response(session._export())


async def create_portal_session(request):
    data = await server.get_post_data(request) or {}
    Customer._api_retrieve(data.get("customer") or "")
    session_id = "bps_" + random_id(14)
    return server.json_response(
        {
            "id": session_id,
            "object": "billing_portal.session",
            "customer": data["customer"],
            "return_url": data.get("return_url"),
            "url": f"{BASE}/portal/{session_id}",
            "created": int(time.time()),
            "livemode": False,
        }
    )


BASE = "http://127.0.0.1"


def main() -> None:
    global BASE
    port = int(sys.argv[1])
    BASE = f"http://127.0.0.1:{port}"
    app = server.app
    routes = [
        ("POST", "/v1/prices", create_price),
        ("GET", "/v1/prices", list_prices),
        ("GET", "/v1/prices/{id}", retrieve_price),
        ("POST", "/v1/prices/{id}", update_price),
        ("POST", "/v1/checkout/sessions", create_checkout_session),
        ("GET", "/v1/checkout/sessions/{id}", retrieve_checkout_session),
        ("POST", "/_test/checkout/sessions/{id}/complete", complete_checkout_session),
        ("POST", "/_test/subscriptions/{id}/renew", renew_subscription),
        ("POST", "/v1/billing_portal/sessions", create_portal_session),
    ]
    for method, path, handler in routes:  # paths localstripe does not have
        app.router.add_route(method, path, handler)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
