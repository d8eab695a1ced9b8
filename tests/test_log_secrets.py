"""Issue 14, item 5: no secret in any log line. A full journey runs with every logger at DEBUG
(the app's, Flask-Login's, SQLAlchemy's statements and parameters, ...), then every captured
line is searched for each password, token and link the journey used.

The redaction is lms.core.logs' record factory: this test proves it, with the logging that
really happens, not by counting call sites."""

import io
import logging
import re
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from lms.core.extensions import db as _db
from tests.accounts.test_views import csrf_from
from tests.conftest import log_in
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory, UserFactory

FIRST_PASSWORD = "amber meadow falcon 71"
RESET_PASSWORD = "copper harbor lantern 42"
INVITEE_PASSWORD = "silver orchard river 93"
CSV_PASSWORD = "granite willow comet 58"


def link(mailbox, address: str, path: str) -> tuple[str, str]:
    """(the full link, its token) from the last mail to ``address``."""
    match = re.search(
        rf"(https?://\S+{re.escape(path)}(\S+))", mailbox.last_to(address).get_content()
    )
    assert match, f"no {path} link mailed to {address}"
    return match.group(1), match.group(2)


@pytest.fixture
def everything_at_debug(caplog):
    """Every logger at DEBUG, before the test's database connection exists (a SQLAlchemy
    connection decides once, when made, whether it logs its statements)."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "werkzeug", "flask_login", "celery"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_a_full_journey_leaves_no_secret_in_the_logs(everything_at_debug, app, client, db, mailbox):
    caplog = everything_at_debug
    secrets = {FIRST_PASSWORD, RESET_PASSWORD, INVITEE_PASSWORD, CSV_PASSWORD}

    # Register, then verify the address through the mailed link's page.
    registered = client.post(
        "/api/v1/auth/register",
        json={"email": "journey@uni.example", "password": FIRST_PASSWORD, "name": "Journey"},
    )
    assert registered.status_code == 201, registered.json
    client.csrf_token = (
        registered.json.get("csrf_token") or client.get("/api/v1/auth/csrf").json["csrf_token"]
    )
    verify_link, verify_token = link(mailbox, "journey@uni.example", "/account/verify-email/")
    secrets |= {verify_link, verify_token}
    page = client.get(verify_link)
    assert page.status_code == 200
    confirmed = client.post(verify_link, data={"csrf_token": csrf_from(page)})
    assert confirmed.status_code in (200, 302)
    assert client.get("/api/v1/me").json["email_verified"] is True

    # A personal API token, used once.
    made = client.post("/api/v1/me/tokens", json={"name": "script"})
    assert made.status_code == 201, made.json
    api_token = made.json["token"]
    secrets.add(api_token)
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {api_token}"})
    assert me.status_code == 200

    # Forgot the password: the reset link's page, then a new password.
    anonymous = app.test_client()
    assert (
        anonymous.post(
            "/api/v1/auth/password-reset", json={"email": "journey@uni.example"}
        ).status_code
        == 202
    )
    reset_link, reset_token = link(mailbox, "journey@uni.example", "/password/reset/")
    secrets |= {reset_link, reset_token}
    form = anonymous.get(reset_link)
    assert form.status_code == 200
    done = anonymous.post(
        reset_link,
        data={"password": RESET_PASSWORD, "csrf_token": csrf_from(form)},
    )
    assert done.status_code == 302, done.text
    relogged = anonymous.post(
        "/api/v1/auth/login", json={"email": "journey@uni.example", "password": RESET_PASSWORD}
    )
    assert relogged.status_code == 200

    # An OSPO invites one person, who accepts, and enrolls more from a CSV file.
    org = OrganizationFactory(slug="journey-ospo")
    SeatGrantFactory(organization=org, seats=5)
    admin = MemberFactory(organization=org, role="admin").user
    ospo = log_in(app.test_client(), admin)
    invited = ospo.post(
        "/api/v1/organizations/journey-ospo/invitations", json={"email": "invitee@uni.example"}
    )
    assert invited.status_code == 201, invited.json
    invite_link, invite_token = link(mailbox, "invitee@uni.example", "/invitations/")
    secrets |= {invite_link, invite_token}
    assert app.test_client().get(invite_link).status_code == 200
    accepted = app.test_client().post(
        f"/api/v1/invitations/{invite_token}/accept",
        json={"name": "Invitee", "password": INVITEE_PASSWORD},
    )
    assert accepted.status_code == 200, accepted.json

    csv = "email,name\ncsv1@uni.example,Csv One\ncsv2@uni.example,Csv Two\n"
    report = ospo.post(
        "/api/v1/organizations/journey-ospo/invitations/import",
        data={"file": (io.BytesIO(csv.encode()), "people.csv")},
        content_type="multipart/form-data",
    )
    assert report.status_code == 200 and report.json["created"] == 2, report.json
    csv_link, csv_token = link(mailbox, "csv1@uni.example", "/invitations/")
    secrets |= {csv_link, csv_token, link(mailbox, "csv2@uni.example", "/invitations/")[1]}
    assert (
        app.test_client()
        .post(
            f"/api/v1/invitations/{csv_token}/accept",
            json={"name": "Csv", "password": CSV_PASSWORD},
        )
        .status_code
        == 200
    )

    # The sponsor pages without Stripe configured.
    sponsor_viewer = log_in(app.test_client(), UserFactory())
    for path in ("/sponsorship-plans", "/sponsors"):
        assert sponsor_viewer.get(path).status_code in (200, 302)

    # The mailed links opened in a browser, through a real HTTP server: Werkzeug logs each
    # request line (gunicorn's access log would too), link tokens included.
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for mailed in (verify_link, reset_link, invite_link, csv_link):
            url = mailed.replace("http://lms.test", f"http://127.0.0.1:{server.port}")
            try:
                urllib.request.urlopen(url, timeout=10).close()  # noqa: S310 (our test server)
            except urllib.error.HTTPError as answer:  # used links: 400 or 410 pages
                assert answer.code < 500
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert any(r.name == "werkzeug" and "/invitations/" in r.getMessage() for r in caplog.records)

    _db.session.remove()
    # The journey was logged at DEBUG: SQL statements with their parameters too.
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    assert len(caplog.records) > 200
    lines = caplog.text.splitlines() + [r.getMessage() for r in caplog.records]
    leaks = sorted({secret for secret in secrets for line in lines if secret in line})
    assert leaks == [], f"secrets in the logs: {leaks}"
