"""Email verification and what a password change or reset ends (issue 8, item 1)."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.accounts import services
from lms.accounts.models import ApiToken, EmailVerificationToken, User
from lms.core.db import utcnow
from tests.accounts.test_api import GOOD_PASSWORD, assert_error_shape
from tests.accounts.test_views import csrf_from, login_page, submit
from tests.conftest import log_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

VERIFY_LINK = re.compile(r"http://lms\.test(/account/verify-email/(\S+))")


def verification_link(mailbox, email) -> tuple[str, str]:
    """(the page's path, the raw token) from the last verification mail to ``email``."""
    match = VERIFY_LINK.search(mailbox.last_to(email).get_content())
    assert match, "no verification link in the mail"
    return match.group(1), match.group(2)


def register(client, email="new@uni.example"):
    response = client.post(
        "/api/v1/auth/register", json={"email": email, "password": GOOD_PASSWORD, "name": "New"}
    )
    assert response.status_code == 201, response.json
    client.csrf_token = client.get("/api/v1/auth/csrf").json["csrf_token"]
    return response


def bearer(app, raw):
    return app.test_client(), {"Authorization": f"Bearer {raw}"}


def token_works(app, raw) -> bool:
    client, headers = bearer(app, raw)
    status = client.get("/api/v1/me", headers=headers).status_code
    assert status in (200, 401)
    return status == 200


# -- registration and the verification link ---------------------------------------------


def test_self_registration_is_unverified_and_mails_a_hashed_single_use_link(client, mailbox, db):
    created = register(client)
    assert created.json["email_verified"] is False
    assert client.get("/api/v1/me").json["email_verified"] is False
    _, raw = verification_link(mailbox, "new@uni.example")
    stored = db.session.scalar(sa.select(EmailVerificationToken))
    assert stored.token_hash != raw and raw not in stored.token_hash
    assert stored.expires_at > utcnow() + timedelta(hours=47)


def test_an_unverified_account_cannot_create_api_tokens_until_it_verifies(client, mailbox, db):
    register(client)
    refused = client.post("/api/v1/me/tokens", json={"name": "script"})
    body = assert_error_shape(refused, 403)
    assert "Confirm your email address first" in body["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    assert client.get("/api/v1/me").status_code == 200  # it can still log in and browse

    _, raw = verification_link(mailbox, "new@uni.example")
    assert client.post("/api/v1/auth/verify-email", json={"token": raw}).status_code == 204
    assert client.get("/api/v1/me").json["email_verified"] is True
    assert client.post("/api/v1/me/tokens", json={"name": "script"}).status_code == 201


def test_a_verification_link_works_once(client, mailbox, db):
    register(client)
    _, raw = verification_link(mailbox, "new@uni.example")
    assert client.post("/api/v1/auth/verify-email", json={"token": raw}).status_code == 204
    reused = client.post("/api/v1/auth/verify-email", json={"token": raw})
    body = assert_error_shape(reused, 400)
    assert "already used" in body["message"]


def test_an_expired_verification_link_changes_nothing(client, mailbox, db):
    register(client)
    _, raw = verification_link(mailbox, "new@uni.example")
    db.session.execute(
        sa.update(EmailVerificationToken).values(expires_at=utcnow() - timedelta(minutes=1))
    )
    response = client.post("/api/v1/auth/verify-email", json={"token": raw})
    assert "expired" in assert_error_shape(response, 400)["message"]
    assert client.get("/api/v1/me").json["email_verified"] is False


@pytest.mark.parametrize("token", ["forged-token", "x" * 200])
def test_a_bad_verification_token_is_400(client, db, token):
    body = assert_error_shape(client.post("/api/v1/auth/verify-email", json={"token": token}), 400)
    assert "invalid" in body["message"]


def test_verify_email_validates_its_body(client, db):
    assert (
        "token"
        in assert_error_shape(client.post("/api/v1/auth/verify-email", json={}), 422)["errors"]
    )


def test_resending_the_link_mails_a_new_one_and_both_work_until_one_is_used(client, mailbox, db):
    register(client)
    first_path, first = verification_link(mailbox, "new@uni.example")
    assert client.post("/api/v1/me/verification-email").status_code == 202
    _, second = verification_link(mailbox, "new@uni.example")
    assert second != first
    assert client.post("/api/v1/auth/verify-email", json={"token": second}).status_code == 204
    # Verified: the older link is retired, and asking again is a 409.
    assert_error_shape(client.post("/api/v1/auth/verify-email", json={"token": first}), 400)
    body = assert_error_shape(client.post("/api/v1/me/verification-email"), 409)
    assert "already confirmed" in body["message"]


def test_resending_needs_a_login_and_is_rate_limited(app, client, mailbox, db, monkeypatch):
    assert_error_shape(client.post("/api/v1/me/verification-email"), 401)
    register(client)
    monkeypatch.setitem(app.config, "LOGIN_ATTEMPTS_PER_ADDRESS", "2 per minute")
    statuses = [client.post("/api/v1/me/verification-email").status_code for _ in range(3)]
    assert statuses == [202, 202, 429]


def test_verification_routes_are_documented(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert "post" in paths["/api/v1/auth/verify-email"]
    assert "post" in paths["/api/v1/me/verification-email"]
    password = paths["/api/v1/me/password"]["post"]
    assert "your other sessions were logged out and your API tokens revoked" in (
        password["summary"] + password.get("description", "")
    )


def test_accounts_made_by_create_admin_are_verified(runner, db):
    result = runner.invoke(
        args=["lms", "create-admin", "boss@uni.example", "--password", "quiet harbour lantern"]
    )
    assert result.exit_code == 0, result.output
    assert services.get_user_by_email("boss@uni.example").email_verified


def test_create_admin_promoting_an_unverified_account_verifies_it_and_ends_its_tokens(runner, db):
    squatter = UserFactory(email="boss@uni.example")
    _, raw = services.create_api_token(squatter, "legacy", None)
    squatter.email_verified_at = None
    db.session.flush()
    result = runner.invoke(
        args=["lms", "create-admin", "boss@uni.example", "--password", "quiet harbour lantern"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = services.get_user_by_email("boss@uni.example")
    assert user.email_verified and user.is_platform_admin
    assert services.user_for_api_token(raw) is None


def test_seed_demo_accounts_are_verified(runner, db):
    assert runner.invoke(args=["lms", "seed-demo"]).exit_code == 0
    unverified = db.session.scalars(sa.select(User.email).where(User.email_verified_at.is_(None)))
    assert list(unverified) == []


# -- a password change or reset ends every session and every token ----------------------


def test_password_change_revokes_every_api_token(app, user_client, user, db):
    raws = [user_client.post("/api/v1/me/tokens", json={"name": n}).json["token"] for n in "ab"]
    other_session = log_in(app.test_client(), user)
    assert all(token_works(app, raw) for raw in raws)

    response = user_client.post(
        "/api/v1/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": GOOD_PASSWORD},
    )
    assert response.status_code == 204
    assert not any(token_works(app, raw) for raw in raws)
    assert other_session.get("/api/v1/me").status_code == 401
    assert user_client.get("/api/v1/me").status_code == 200  # this session stays
    assert user_client.get("/api/v1/me/tokens").json == []


def test_password_change_through_a_token_revokes_it_and_opens_no_session(app, user, db):
    _, raw = services.create_api_token(user, "script", None)
    client, headers = bearer(app, raw)
    response = client.post(
        "/api/v1/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": GOOD_PASSWORD},
        headers=headers,
    )
    assert response.status_code == 204
    assert "Set-Cookie" not in response.headers
    assert not token_works(app, raw)


def test_password_reset_revokes_every_api_token_and_ends_sessions(app, client, user, mailbox, db):
    _, raw = services.create_api_token(user, "script", None)
    session = log_in(app.test_client(), user)
    client.post("/api/v1/auth/password-reset", json={"email": user.email})
    link = next(
        line for line in mailbox.last_to(user.email).get_content().splitlines() if "/reset/" in line
    )
    reset = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": link.strip().rsplit("/", 1)[1], "password": GOOD_PASSWORD},
    )
    assert reset.status_code == 204
    assert not token_works(app, raw)
    assert session.get("/api/v1/me").status_code == 401


def test_a_password_reset_through_the_mailed_link_verifies_the_address(client, mailbox, db):
    person = UserFactory(email_verified_at=None)
    client.post("/api/v1/auth/password-reset", json={"email": person.email})
    link = next(
        line
        for line in mailbox.last_to(person.email).get_content().splitlines()
        if "/reset/" in line
    )
    token = link.strip().rsplit("/", 1)[1]
    assert (
        client.post(
            "/api/v1/auth/password-reset/confirm", json={"token": token, "password": GOOD_PASSWORD}
        ).status_code
        == 204
    )
    db.session.refresh(person)
    assert person.email_verified


# -- the pages --------------------------------------------------------------------------


def test_register_page_mails_a_link_and_the_account_page_says_to_confirm(client, mailbox, db):
    response = submit(
        client,
        "/register",
        {"name": "Ada", "email": "ada@uni.example", "password": "analytical engine 1843"},
    )
    assert response.status_code == 302
    home = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We sent a link to ada@uni.example" in home
    account = client.get("/account").get_data(as_text=True)
    assert "Your email address is not confirmed yet." in account
    assert 'action="/account/tokens"' not in account
    verification_link(mailbox, "ada@uni.example")

    # The form is gone from the page; posting it anyway is refused.
    refused = submit(client, "/account/tokens", {"name": "laptop"}, page="/account")
    assert refused.status_code == 403
    assert "Confirm your email address first" in refused.get_data(as_text=True)

    resent = submit(client, "/account/verification-email", {}, page="/account")
    assert resent.status_code == 302
    assert "A new link is on its way" in client.get("/account").get_data(as_text=True)
    assert len([m for m in mailbox.messages if m["To"] == "ada@uni.example"]) == 2


def test_verification_page_confirms_on_the_button_not_on_opening(client, mailbox, db):
    register(client, "page@uni.example")
    path, _ = verification_link(mailbox, "page@uni.example")
    page = client.get(path)
    assert page.status_code == 200
    html = " ".join(page.get_data(as_text=True).split())
    assert "Confirm my email address" in html
    assert "the lms account for page@uni.example created on" in html
    assert "If you did not create it, do not press the button" in html
    assert client.get("/api/v1/me").json["email_verified"] is False  # opening changed nothing

    confirmed = client.post(path, data={"csrf_token": csrf_from(page)})
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/account"
    account = client.get("/account").get_data(as_text=True)
    assert "page@uni.example is confirmed" in account
    assert "not confirmed yet" not in account

    reused = client.get(path)
    assert reused.status_code == 400
    assert "invalid, already used or expired" in reused.get_data(as_text=True)
    assert client.get("/account/verify-email/forged").status_code == 400


def test_password_pages_say_that_sessions_and_tokens_end(client, user, mailbox, db):
    login_page(client, user)
    account = client.get("/account").get_data(as_text=True)
    assert "logs out your other sessions and revokes your API tokens" in account
    _, raw = services.create_api_token(user, "laptop", None)
    changed = submit(
        client,
        "/account/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "a fresh passphrase 7"},
        page="/account",
    )
    assert changed.status_code == 302
    notice = "your other sessions were logged out and your API tokens revoked"
    assert notice in client.get("/account").get_data(as_text=True)
    assert not token_works(client.application, raw)

    client.delete_cookie("lms_session")
    submit(client, "/password/reset", {"email": user.email})
    link = next(
        line.strip()
        for line in mailbox.last_to(user.email).get_content().splitlines()
        if "/password/reset/" in line
    )
    reset = submit(client, link.replace("http://lms.test", ""), {"password": "brand new words 9"})
    assert reset.status_code == 302
    assert notice in client.get(reset.headers["Location"]).get_data(as_text=True)
