"""Account pre-hijacking (issue 8, item 1): a squatter registers the address of a future OSPO
admin first. Whoever proves the address later owns the account, and the squatter keeps nothing:
no session, no API token, no way into the organization."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.accounts.models import ApiToken, User
from lms.core.db import utcnow
from lms.core.tokens import hash_secret, new_secret
from lms.memberships.models import OrganizationMember
from tests.accounts.test_api import assert_error_shape
from tests.accounts.test_views import csrf_from
from tests.conftest import log_in

ADDRESS = "ospo-lead@uni.edu"
SQUATTER_PASSWORD = "squatter passphrase 1"
OWNER_PASSWORD = "the real owner speaks"


def invitation_token(mailbox, email=ADDRESS):
    return re.search(r"/invitations/(\S+)", mailbox.last_to(email).get_content()).group(1)


@pytest.fixture
def organization(admin_client):
    assert (
        admin_client.post(
            "/api/v1/organizations", json={"slug": "uni", "name": "Uni OSPO"}
        ).status_code
        == 201
    )
    start = utcnow()
    granted = admin_client.post(
        "/api/v1/organizations/uni/seat-grants",
        json={
            "seats": 5,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=365)).isoformat(),
            "note": "Invoice 1",
        },
    )
    assert granted.status_code == 201
    return "uni"


@pytest.fixture
def squatter(app, db):
    """The squatter's logged-in API session and a token (made before tokens needed a verified
    address; today the API refuses to make one)."""
    client = app.test_client()
    registered = client.post(
        "/api/v1/auth/register",
        json={"email": ADDRESS, "password": SQUATTER_PASSWORD, "name": "Squatter"},
    )
    assert registered.status_code == 201 and registered.json["email_verified"] is False
    client.csrf_token = client.get("/api/v1/auth/csrf").json["csrf_token"]
    refused = client.post("/api/v1/me/tokens", json={"name": "backdoor"})
    assert "Confirm your email address first" in assert_error_shape(refused, 403)["message"]

    raw = new_secret("lms_")
    db.session.add(
        ApiToken(
            user_id=registered.json["id"],
            name="backdoor",
            token_hash=hash_secret(raw),
            token_prefix=raw[:10],
        )
    )
    db.session.flush()
    client.token, client.user_id = raw, registered.json["id"]
    return client


def assert_squatter_is_out(app, squatter, organization):
    headers = {"Authorization": f"Bearer {squatter.token}"}
    outsider = app.test_client()
    members = outsider.get(f"/api/v1/organizations/{organization}/members", headers=headers)
    assert "token" in assert_error_shape(members, 401)["message"]
    invite = outsider.post(
        f"/api/v1/organizations/{organization}/invitations",
        json={"email": "accomplice@evil.example", "role": "admin"},
        headers=headers,
    )
    assert_error_shape(invite, 401)
    assert_error_shape(squatter.get("/api/v1/me"), 401)
    relogin = app.test_client().post(
        "/api/v1/auth/login", json={"email": ADDRESS, "password": SQUATTER_PASSWORD}
    )
    assert_error_shape(relogin, 401)


def test_owner_resets_the_password_logs_in_and_accepts_the_squatter_is_out(
    app, admin_client, organization, squatter, mailbox, db
):
    """The reproduction of the issue, step by step, through the API."""
    sent = admin_client.post(
        f"/api/v1/organizations/{organization}/invitations",
        json={"email": ADDRESS, "role": "admin"},
    )
    assert sent.status_code == 201
    token = invitation_token(mailbox)

    owner = app.test_client()
    owner.post("/api/v1/auth/password-reset", json={"email": ADDRESS})
    reset_link = re.search(r"/password/reset/(\S+)", mailbox.last_to(ADDRESS).get_content())
    reset = owner.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": reset_link.group(1), "password": OWNER_PASSWORD},
    )
    assert reset.status_code == 204
    login = owner.post("/api/v1/auth/login", json={"email": ADDRESS, "password": OWNER_PASSWORD})
    assert login.status_code == 200 and login.json["user"]["email_verified"] is True
    owner.csrf_token = login.json["csrf_token"]
    accepted = owner.post(f"/api/v1/invitations/{token}/accept", json={})
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["role"] == "admin" and accepted.json["claimed_account"] is False

    assert_squatter_is_out(app, squatter, organization)
    assert owner.get(f"/api/v1/organizations/{organization}/members").status_code == 200


def test_accepting_the_invitation_takes_an_unconfirmed_account_over(
    app, admin_client, organization, squatter, mailbox, db
):
    admin_client.post(
        f"/api/v1/organizations/{organization}/invitations",
        json={"email": ADDRESS, "role": "admin"},
    )
    token = invitation_token(mailbox)
    owner = app.test_client()
    without_password = owner.post(f"/api/v1/invitations/{token}/accept", json={})
    body = assert_error_shape(without_password, 422)
    assert "An unconfirmed account uses this address" in body["message"]
    assert set(body["errors"]) == {"name", "password"}

    accepted = owner.post(
        f"/api/v1/invitations/{token}/accept",
        json={"name": "Olu Lead", "password": OWNER_PASSWORD},
    )
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["claimed_account"] is True and accepted.json["created_account"] is False
    me = owner.get("/api/v1/me").json  # the acceptor is logged in
    assert (me["email"], me["name"], me["email_verified"]) == (ADDRESS, "Olu Lead", True)
    assert me["id"] == squatter.user_id  # the same account, with its new owner
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2

    assert_squatter_is_out(app, squatter, organization)
    owner_login = app.test_client().post(
        "/api/v1/auth/login", json={"email": ADDRESS, "password": OWNER_PASSWORD}
    )
    assert owner_login.status_code == 200


def test_a_weak_password_or_a_full_organization_leaves_the_squatters_account_as_it_was(
    app, admin_client, organization, squatter, mailbox, db
):
    from lms.memberships.models import Organization
    from tests.memberships.conftest import fill_seats

    admin_client.post(f"/api/v1/organizations/{organization}/invitations", json={"email": ADDRESS})
    token = invitation_token(mailbox)
    weak = app.test_client().post(
        f"/api/v1/invitations/{token}/accept", json={"name": "O", "password": "short"}
    )
    assert "password" in assert_error_shape(weak, 422)["errors"]
    fill_seats(db.session.scalar(sa.select(Organization).where(Organization.slug == "uni")), 5)
    full = app.test_client().post(
        f"/api/v1/invitations/{token}/accept", json={"name": "O", "password": OWNER_PASSWORD}
    )
    assert "No free seats" in assert_error_shape(full, 409)["message"]
    # Nothing changed: the takeover happens only together with the acceptance.
    assert squatter.get("/api/v1/me").json["email_verified"] is False
    assert token_usable(app, squatter.token)


def test_the_squatter_logged_in_cannot_join_without_choosing_a_new_password(
    app, admin_client, organization, squatter, mailbox, db
):
    """Logged in or not, an unconfirmed account joins only by being taken over."""
    admin_client.post(f"/api/v1/organizations/{organization}/invitations", json={"email": ADDRESS})
    token = invitation_token(mailbox)
    refused = squatter.post(f"/api/v1/invitations/{token}/accept", json={})
    assert "An unconfirmed account" in assert_error_shape(refused, 422)["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrganizationMember)) == 0

    # Whoever holds the link and this session takes the account over; other sessions end.
    other_session = log_in_as(app, ADDRESS, SQUATTER_PASSWORD)
    accepted = squatter.post(
        f"/api/v1/invitations/{token}/accept",
        json={"name": "Owner", "password": OWNER_PASSWORD},
    )
    assert accepted.status_code == 200 and accepted.json["claimed_account"] is True
    assert squatter.get("/api/v1/me").json["email_verified"] is True  # this session goes on
    assert_error_shape(other_session.get("/api/v1/me"), 401)
    assert not token_usable(app, squatter.token)


def test_a_verified_account_must_still_log_in_to_accept(app, admin_client, organization, mailbox):
    from tests.factories import UserFactory

    person = UserFactory(email=ADDRESS)
    admin_client.post(f"/api/v1/organizations/{organization}/invitations", json={"email": ADDRESS})
    token = invitation_token(mailbox)
    anonymous = app.test_client()
    for body in ({}, {"name": "Thief", "password": OWNER_PASSWORD}):
        response = anonymous.post(f"/api/v1/invitations/{token}/accept", json=body)
        assert "log in" in assert_error_shape(response, 409)["message"]
    accepted = log_in(anonymous, person).post(f"/api/v1/invitations/{token}/accept", json={})
    assert accepted.status_code == 200 and accepted.json["claimed_account"] is False


def test_a_new_person_accepting_gets_a_verified_account(app, admin_client, organization, mailbox):
    admin_client.post(
        f"/api/v1/organizations/{organization}/invitations", json={"email": "fresh@uni.edu"}
    )
    newcomer = app.test_client()
    accepted = newcomer.post(
        f"/api/v1/invitations/{invitation_token(mailbox, 'fresh@uni.edu')}/accept",
        json={"name": "Fresh", "password": OWNER_PASSWORD},
    )
    assert accepted.status_code == 200 and accepted.json["created_account"] is True
    assert newcomer.get("/api/v1/me").json["email_verified"] is True
    newcomer.csrf_token = newcomer.get("/api/v1/auth/csrf").json["csrf_token"]
    assert newcomer.post("/api/v1/me/tokens", json={"name": "script"}).status_code == 201


def test_the_acceptance_page_takes_an_unconfirmed_account_over(
    app, admin_client, organization, squatter, mailbox, db
):
    admin_client.post(
        f"/api/v1/organizations/{organization}/invitations",
        json={"email": ADDRESS, "role": "admin"},
    )
    page = f"/invitations/{invitation_token(mailbox)}"
    owner = app.test_client()
    shown = owner.get(page)
    html = " ".join(shown.get_data(as_text=True).split())
    assert (
        "An unconfirmed account uses this address; choosing a password here makes it yours." in html
    )
    assert 'name="password"' in html and 'name="name"' in html

    done = owner.post(
        page,
        data={"csrf_token": csrf_from(shown), "name": "Olu Lead", "password": OWNER_PASSWORD},
    )
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    assert done.headers["Location"] == "/start"  # then on to the organization they administer
    landing = owner.get(done.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "its other sessions were logged out and its API tokens revoked" in landing
    assert owner.get("/account").status_code == 200  # logged in as the new owner

    assert_squatter_is_out(app, squatter, organization)


def test_the_acceptance_page_asks_a_verified_account_to_log_in(
    app, admin_client, organization, mailbox
):
    from tests.factories import UserFactory

    UserFactory(email=ADDRESS)
    admin_client.post(f"/api/v1/organizations/{organization}/invitations", json={"email": ADDRESS})
    html = app.test_client().get(f"/invitations/{invitation_token(mailbox)}").get_data(as_text=True)
    assert "An account uses this address" in html and "log in</a> to accept" in html
    assert "unconfirmed" not in html and 'name="password"' not in html


def log_in_as(app, email, password):
    client = app.test_client()
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200
    client.csrf_token = response.json["csrf_token"]
    return client


def token_usable(app, raw) -> bool:
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    return response.status_code == 200
