"""Fixtures for sponsorships: a real Stripe-compatible server (localstripe, started through
``tests/sponsorships/stripe_server.py``), the app pointed at it, and events signed here."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import stripe

from lms.core.db import utcnow
from lms.sponsorships.models import Sponsor, SponsorAdmin, SponsorshipPlan
from tests.conftest import free_port
from tests.factories import BaseFactory, OrganizationFactory, UserFactory

ROOT = Path(__file__).parent.parent.parent
WEBHOOK_SECRET = "whsec_test_secret_for_lms"
API_KEY = "sk_test_lms"


class LocalStripe:
    def __init__(self, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.client = stripe.StripeClient(
            API_KEY,
            base_addresses={"api": self.url},
            stripe_version="2025-03-31.basil",
            http_client=stripe.RequestsClient(timeout=10),
            max_network_retries=0,
        )

    def post(self, path: str, **data):
        """A test-only route of the launcher (what Stripe's own pages would do)."""
        response = requests.post(
            self.url + path, data=data, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()

    def register_webhook(self, name: str, url: str, secret: str = WEBHOOK_SECRET) -> None:
        response = requests.post(
            f"{self.url}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=10
        )
        assert response.status_code == 200, response.text

    def subscription(self, *, quantity: int = 5, metadata: dict | None = None, card="pm_card_visa"):
        """A real subscription at localstripe, paid by card: (customer id, subscription)."""
        customer = self.client.v1.customers.create({"name": "Sponsor", "email": "s@x.example"})
        pm = self.client.v1.payment_methods.attach(card, {"customer": customer.id})
        self.client.v1.customers.update(
            customer.id, {"invoice_settings": {"default_payment_method": pm.id}}
        )
        product = self.client.v1.products.create({"name": "Seats"})
        price = self.client.v1.prices.create(
            {
                "product": product.id,
                "unit_amount": 1000,
                "currency": "eur",
                "recurring": {"interval": "month"},
            }
        )
        sub = self.client.v1.subscriptions.create(
            {
                "customer": customer.id,
                "items": [{"price": price.id, "quantity": quantity}],
                "metadata": metadata or {},
            }
        )
        return customer.id, sub


def start_local_stripe() -> tuple[subprocess.Popen, LocalStripe]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sponsorships.stripe_server", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/v1/customers", timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(process.stderr.read().decode()) from None
            time.sleep(0.1)
    return process, LocalStripe(port)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    process.stderr.close()


@pytest.fixture(scope="session")
def local_stripe():
    """localstripe on 127.0.0.1 for the session (no webhook endpoint registered)."""
    process, server = start_local_stripe()
    try:
        yield server
    finally:
        stop(process)


def stripe_settings(base: str, **extra) -> dict:
    return {
        "STRIPE_SECRET_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": base,
        "STRIPE_TIMEOUT": 5,
        "STRIPE_MAX_NETWORK_RETRIES": 0,
        **extra,
    }


@pytest.fixture
def billing(app, monkeypatch):
    """``billing(base)``: the app's Stripe settings point at ``base`` for this test."""

    def configure(base: str, **extra):
        for key, value in stripe_settings(base, **extra).items():
            monkeypatch.setitem(app.config, key, value)

    return configure


@pytest.fixture
def stripe_billing(billing, local_stripe):
    billing(local_stripe.url)
    return local_stripe


# -- signed events --------------------------------------------------------------------------


def signed(event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    """The body and headers Stripe would send for ``event``."""
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)
    return body, {"Stripe-Signature": header, "Content-Type": "application/json"}


def event(event_type: str, obj: dict, *, event_id: str | None = None, version="2025-03-31.basil"):
    return {
        "id": event_id or f"evt_{event_type.replace('.', '_')}_{time.monotonic_ns()}",
        "object": "event",
        "type": event_type,
        "api_version": version,
        "created": int(utcnow().timestamp()),
        "data": {"object": obj},
    }


def post_event(client, evt: dict, **kwargs):
    body, headers = signed(evt, **kwargs)
    return client.post("/stripe/webhook", data=body, headers=headers)


# -- factories ------------------------------------------------------------------------------


class PlanFactory(BaseFactory):
    class Meta:
        model = SponsorshipPlan

    slug = "supporter"
    name = "Supporter"
    unit_amount = 12000
    currency = "eur"
    interval = "year"
    min_seats = 5
    has_sponsor_on_certificates = True


class SponsorFactory(BaseFactory):
    class Meta:
        model = Sponsor

    name = "Open Research Foundation"
    billing_email = "billing@orf.example"


@pytest.fixture
def plan(db):
    return PlanFactory()


@pytest.fixture
def beneficiary(db):
    return OrganizationFactory(slug="funded-u")


@pytest.fixture
def sponsor_admin(db):
    return UserFactory()


@pytest.fixture
def sponsor(db, sponsor_admin):
    sponsor = SponsorFactory()
    db.session.add(SponsorAdmin(sponsor_id=sponsor.id, user_id=sponsor_admin.id))
    db.session.flush()
    return sponsor
