"""The whole journey against real servers: the app in gunicorn, localstripe (through
``stripe_server.py``) delivering signed webhooks to it, on SQLite and PostgreSQL.

Checkout's and the Portal's PAGES are the only parts played by the test: completing the
Checkout Session (``/_test/checkout/...``, which makes a real localstripe subscription and a
signed ``checkout.session.completed``) and changing the quantity or cancelling through the
subscription API, as the portal would. Everything else is the app calling localstripe and
localstripe calling the app's webhook, in whatever order it delivers.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import free_port
from tests.sponsorships.conftest import (
    WEBHOOK_SECRET,
    start_local_stripe,
    stop,
    stripe_settings,
)
from tests.support.cli import flask_cli
from tests.test_gunicorn import wait_for

ROOT = Path(__file__).parent.parent.parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def seed(url: str, base: str) -> tuple[str, int]:
    """An organization, a synced plan and a sponsor; returns its admin's API token and id."""
    from lms import create_app
    from lms.accounts import services as accounts
    from lms.core.extensions import db
    from lms.memberships import services as memberships
    from lms.sponsorships import services

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "seed", "PASSWORD_HASH_METHOD": "pbkdf2",
         **stripe_settings(base)}
    )  # fmt: skip
    with app.app_context():
        memberships.create_organization(None, {"slug": "journey-u", "name": "Journey U OSPO"})
        services.save_plan(
            {"slug": "supporter", "name": "Supporter", "unit_amount": 1000, "currency": "eur",
             "interval": "month", "min_seats": 5, "has_sponsor_on_certificates": True}
        )  # fmt: skip
        services.sync_plans()
        admin = accounts.register_user(
            "sam@sponsor.example", "correct horse 2026 x", "Sam", verified=True
        )
        sponsor = services.create_sponsor(
            admin, {"name": "Journey Foundation", "billing_email": "sam@sponsor.example"}
        )
        _, raw = accounts.create_api_token(admin, "journey", None)
        sponsor_id = sponsor.id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return raw, sponsor_id


def replay(url: str, base: str, since: str) -> str:
    from lms import create_app
    from lms.core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "r", **stripe_settings(base)})
    result = app.test_cli_runner().invoke(args=["lms", "stripe", "replay", "--since", since])
    with app.app_context():
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    return result.output


class Database:
    def __init__(self, url: str):
        self.engine = sa.create_engine(url)

    def one(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).first()

    def sponsorship(self, subscription_id: str):
        return self.one(
            "SELECT s.status, s.seats, g.seats AS grant_seats, g.ends_at, s.period_starts_at,"
            " s.period_ends_at, s.grant_id FROM sponsorships s LEFT JOIN seat_grants g"
            " ON g.id = s.grant_id WHERE s.stripe_subscription_id = :id",
            id=subscription_id,
        )

    def wait_for(self, subscription_id: str, check, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while True:
            row = self.sponsorship(subscription_id)
            if row is not None and check(row):
                return row
            assert time.monotonic() < deadline, f"never reached; last: {row}"
            time.sleep(0.2)

    def count(self, table: str) -> int:
        return self.one(f"SELECT count(*) FROM {table}")[0]  # noqa: S608 (a table name we chose)


def as_utc_seconds(moment) -> int:
    """A timestamp column read without the ORM (SQLite gives text, PostgreSQL a datetime)."""
    from datetime import UTC, datetime

    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@pytest.fixture
def journey(backend, fresh_database_url, tmp_path):
    process, local = start_local_stripe()
    log = (tmp_path / "gunicorn.log").open("w")
    web = None
    try:
        with fresh_database_url(f"lms_stripe_{uuid.uuid4().hex[:8]}") as url:
            env = {
                **os.environ,
                "LMS_ENV": "production",
                "LMS_SECRET_KEY": "stripe-journey-secret-" + "x" * 20,
                "LMS_SQLALCHEMY_DATABASE_URI": url,
                "LMS_BASE_URL": "https://learn.example.org",
                "LMS_INSTANCE_PATH": str(tmp_path / "instance"),
                **{f"LMS_{k}": str(v) for k, v in stripe_settings(local.url).items()},
            }
            flask_cli(env, "db", "upgrade")
            token, sponsor_id = seed(url, local.url)
            port = free_port()
            web = subprocess.Popen(
                [BIN / "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            wait_for(f"http://127.0.0.1:{port}/healthz", timeout=60)
            local.register_webhook("lms", f"http://127.0.0.1:{port}/stripe/webhook", WEBHOOK_SECRET)
            db = Database(url)
            try:
                yield local, port, token, sponsor_id, db, url
            finally:
                db.engine.dispose()
    except Exception:
        print((tmp_path / "gunicorn.log").read_text()[-6000:])
        raise
    finally:
        if web is not None:
            web.terminate()
            web.wait(timeout=30)
        log.close()
        stop(process)


def api(port: int, token: str, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_sponsors_subscription_moves_the_seats_and_replays_change_nothing(journey):
    local, port, token, sponsor_id, db, url = journey
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 5))

    # Checkout: the app creates the Customer and the Session; the sponsor pays on Stripe.
    status, body = api(port, token, f"/api/v1/sponsors/{sponsor_id}/checkout",
                       {"plan": "supporter", "organization": "journey-u", "seats": 10})  # fmt: skip
    assert status == 201, body
    assert db.count("seat_grants") == 0  # nothing is granted before Stripe says so
    session = local.post(f"/_test/checkout/sessions/{body['id']}/complete")
    sub_id = session["subscription"]

    # The webhooks (created, checkout.session.completed, invoice.*) grant the seats.
    row = db.wait_for(sub_id, lambda r: r.grant_seats == 10 and r.status == "active")
    assert as_utc_seconds(row.ends_at) == as_utc_seconds(row.period_ends_at)

    # A quantity change (what the portal does) moves the grant.
    sub = local.client.v1.subscriptions.retrieve(sub_id)
    local.client.v1.subscriptions.update(
        sub_id, {"items": [{"id": sub["items"]["data"][0]["id"], "quantity": 14}]}
    )
    row = db.wait_for(sub_id, lambda r: r.grant_seats == 14)

    # A failed renewal: past_due keeps the seats for the grace period.
    customer = local.client.v1.subscriptions.retrieve(sub_id).customer
    pm = local.client.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", {"customer": customer}
    )
    local.client.v1.customers.update(
        customer, {"invoice_settings": {"default_payment_method": pm.id}}
    )
    local.post(f"/_test/subscriptions/{sub_id}/renew")
    row = db.wait_for(sub_id, lambda r: r.status == "past_due")
    grace_end = as_utc_seconds(row.period_starts_at) + int(timedelta(days=7).total_seconds())
    row = db.wait_for(sub_id, lambda r: as_utc_seconds(r.ends_at) == grace_end)

    # Cancellation ends the grant; it never extends it past the grace period.
    local.client.v1.subscriptions.cancel(sub_id)
    row = db.wait_for(sub_id, lambda r: r.status == "canceled")
    assert as_utc_seconds(row.ends_at) == grace_end

    time.sleep(2.5)  # let localstripe deliver what it still holds
    ledger = db.count("seat_grant_events")
    events = db.count("stripe_events")
    with db.engine.connect() as conn:
        reasons = set(conn.scalars(sa.text("SELECT reason FROM seat_grant_events")))
    assert all(reason.startswith("evt_") for reason in reasons)

    # Replaying every event since the start changes no seat. (It may record events that were
    # never delivered, such as those of the plan's sync before the endpoint was registered.)
    output = replay(url, local.url, since)
    assert "applied" not in output, output
    assert db.count("seat_grant_events") == ledger
    assert db.count("stripe_events") >= events
    events = db.count("stripe_events")
    assert "duplicate" in replay(url, local.url, since)
    assert db.count("stripe_events") == events  # the second replay records nothing
    final = db.sponsorship(sub_id)
    assert (final.status, final.grant_seats, as_utc_seconds(final.ends_at)) == (
        "canceled", 14, grace_end,
    )  # fmt: skip


def test_an_invoice_subscription_grants_through_the_webhooks(journey):
    local, port, _token, sponsor_id, db, url = journey
    from lms import create_app
    from lms.accounts import services as accounts
    from lms.core.extensions import db as _db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "s", "PASSWORD_HASH_METHOD": "pbkdf2"}
    )
    with app.app_context():
        admin, _ = accounts.ensure_platform_admin(
            "root@lms.example", "correct horse 2026 y", "Root"
        )
        _, raw = accounts.create_api_token(admin, "admin", None)
        _db.session.commit()
        _db.session.remove()
        _db.engine.dispose()
    status, body = api(port, raw, f"/api/v1/sponsors/{sponsor_id}/invoice-sponsorships",
                       {"plan": "supporter", "organization": "journey-u", "seats": 6})  # fmt: skip
    assert status == 201, body
    row = db.wait_for(body["stripe_subscription_id"], lambda r: r.grant_seats == 6)
    assert row.status == "active"
