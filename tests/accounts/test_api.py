"""Accounts API: status codes, the error shape, permissions and the bad input of the issue."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms.accounts import services
from lms.accounts.models import ApiToken, PasswordResetToken, User
from tests.conftest import log_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

GOOD_PASSWORD = "a sensible passphrase 42"


def assert_error_shape(response, code):
    assert response.status_code == code, response.get_data(as_text=True)
    body = response.json
    assert body["code"] == code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


# -- register ---------------------------------------------------------------------------


def test_register_creates_an_account_and_logs_in(client, db):
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "Grace@Uni.Example", "password": GOOD_PASSWORD, "name": "Grace Hopper"},
    )
    assert response.status_code == 201
    assert response.json["email"] == "grace@uni.example"
    assert response.json["name"] == "Grace Hopper"
    assert "password" not in response.json and "password_hash" not in response.json
    stored = db.session.scalar(sa.select(User).where(User.email == "grace@uni.example"))
    assert stored.password_hash.startswith("pbkdf2:") and GOOD_PASSWORD not in stored.password_hash
    assert client.get("/api/v1/me").json["email"] == "grace@uni.example"


@pytest.mark.parametrize(
    "email", ["person@uni.example", "PERSON@UNI.EXAMPLE", "Person@uni.Example"]
)
def test_register_with_an_existing_email_in_any_case_is_409(client, db, email):
    UserFactory(email="person@uni.example")
    response = client.post(
        "/api/v1/auth/register", json={"email": email, "password": GOOD_PASSWORD, "name": "X"}
    )
    body = assert_error_shape(response, 409)
    assert "already exists" in body["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_register_reports_each_bad_field(client, db):
    response = client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "password": "short", "name": ""}
    )
    body = assert_error_shape(response, 422)
    assert set(body["errors"]) == {"email", "password", "name"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    "password", ["password1234", "Password2026!", "qwertyuiop", "aaaaaaaaaaaa"]
)
def test_register_refuses_common_passwords(client, db, password):
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "new@uni.example", "password": password, "name": "New"},
    )
    body = assert_error_shape(response, 422)
    assert "common" in body["errors"]["password"][0]


def test_register_refuses_unknown_fields(client, db):
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "a@uni.example", "password": GOOD_PASSWORD, "name": "A", "is_admin": True},
    )
    body = assert_error_shape(response, 422)
    assert "is_admin" in body["errors"]


def test_a_body_that_is_not_json_is_415(client, db):
    response = client.post(
        "/api/v1/auth/register",
        data="email=a@uni.example&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    body = assert_error_shape(response, 415)
    assert "JSON" in body["message"]


def test_malformed_json_is_400(client, db):
    response = client.post(
        "/api/v1/auth/register", data="{not json", content_type="application/json"
    )
    body = assert_error_shape(response, 400)
    assert "JSON" in str(body)


def test_a_json_list_instead_of_an_object_is_422(client, db):
    response = client.post("/api/v1/auth/register", json=["a", "b"])
    assert_error_shape(response, 422)


# -- login ------------------------------------------------------------------------------


def test_login_sets_a_session_and_returns_a_csrf_token(client, user):
    response = client.post(
        "/api/v1/auth/login", json={"email": user.email.upper(), "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json["user"]["id"] == user.id
    assert response.json["csrf_token"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/api/v1/me").json["id"] == user.id


def test_wrong_password_and_unknown_email_get_the_same_generic_401(client, user):
    wrong = client.post("/api/v1/auth/login", json={"email": user.email, "password": "nope nope"})
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@uni.example", "password": "nope nope"}
    )
    assert_error_shape(wrong, 401)
    assert_error_shape(unknown, 401)
    assert wrong.json["message"] == unknown.json["message"]
    assert client.get("/api/v1/me").status_code == 401


def test_sixth_failed_login_for_one_account_within_a_minute_is_429(client, user):
    for _ in range(5):
        response = client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": "wrong password"}
        )
        assert response.status_code == 401
    sixth = client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )
    body = assert_error_shape(sixth, 429)
    assert "Retry-After" in sixth.headers
    assert "Too many" in body["message"]
    # Another account is not affected.
    other = UserFactory()
    ok = client.post(
        "/api/v1/auth/login", json={"email": other.email, "password": DEFAULT_PASSWORD}
    )
    assert ok.status_code == 200


def test_deactivated_account_cannot_log_in(client, user, db):
    user.deactivated_at = datetime.now(UTC)
    db.session.flush()
    response = client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert_error_shape(response, 401)


def test_logout_ends_the_session(user_client):
    assert user_client.post("/api/v1/auth/logout").status_code == 204
    assert user_client.get("/api/v1/me").status_code == 401


# -- CSRF -------------------------------------------------------------------------------


def test_cookie_authenticated_write_without_csrf_header_is_refused(user_client):
    user_client.csrf_token = None
    response = user_client.patch("/api/v1/me", json={"name": "Changed"})
    body = assert_error_shape(response, 400)
    assert "CSRF" in body["message"]
    assert user_client.get("/api/v1/me").json["name"] != "Changed"


def test_cookie_authenticated_write_with_csrf_header_works(user_client):
    response = user_client.patch("/api/v1/me", json={"name": "Changed"})
    assert response.status_code == 200
    assert response.json["name"] == "Changed"


def test_bearer_token_writes_need_no_csrf_header(client, user, db):
    _, raw = services.create_api_token(user, "script", None)
    response = client.patch(
        "/api/v1/me", json={"name": "Via token"}, headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 200
    assert response.json["name"] == "Via token"


# -- me and tokens ----------------------------------------------------------------------


def test_me_requires_authentication(client, db):
    body = assert_error_shape(client.get("/api/v1/me"), 401)
    assert "Log in" in body["message"]


def test_token_is_shown_once_stored_hashed_and_accepted_as_bearer(user_client, db, user):
    created = user_client.post("/api/v1/me/tokens", json={"name": "reporting script"})
    assert created.status_code == 201
    raw = created.json["token"]
    assert raw.startswith("lms_") and len(raw) > 40
    row = db.session.get(ApiToken, created.json["id"])
    assert row.token_hash != raw and raw not in row.token_hash
    assert row.last_used_at is None

    listed = user_client.get("/api/v1/me/tokens")
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json] == ["reporting script"]
    assert "token" not in listed.json[0]
    assert "X-Pagination" in listed.headers

    bearer = {"Authorization": f"Bearer {raw}"}
    me = user_client.application.test_client().get("/api/v1/me", headers=bearer)
    assert me.status_code == 200 and me.json["id"] == user.id
    db.session.expire_all()
    assert db.session.get(ApiToken, created.json["id"]).last_used_at is not None


def test_revoked_token_is_401(user_client, db):
    created = user_client.post("/api/v1/me/tokens", json={"name": "old"}).json
    assert user_client.delete(f"/api/v1/me/tokens/{created['id']}").status_code == 204
    anonymous = user_client.application.test_client()
    response = anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"})
    body = assert_error_shape(response, 401)
    assert "token" in body["message"]


def test_expired_token_is_401(client, user, db):
    token, raw = services.create_api_token(user, "soon", datetime.now(UTC) + timedelta(hours=1))
    token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.flush()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert_error_shape(response, 401)


def test_forged_token_is_401(client, db):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer lms_forged"})
    assert_error_shape(response, 401)


def test_token_expiry_in_the_past_is_422(user_client):
    response = user_client.post(
        "/api/v1/me/tokens", json={"name": "x", "expires_at": "2000-01-01T00:00:00Z"}
    )
    body = assert_error_shape(response, 422)
    assert "expires_at" in body["errors"]


def test_cannot_revoke_someone_elses_token(user_client, db):
    other = UserFactory()
    token, raw = services.create_api_token(other, "theirs", None)
    response = user_client.delete(f"/api/v1/me/tokens/{token.id}")
    assert_error_shape(response, 404)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None


# -- passwords --------------------------------------------------------------------------


def test_password_change_requires_the_current_password(user_client):
    response = user_client.post(
        "/api/v1/me/password",
        json={"current_password": "not it at all", "new_password": GOOD_PASSWORD},
    )
    body = assert_error_shape(response, 422)
    assert "current_password" in body["errors"]


def test_password_change_logs_out_other_sessions(app, user_client, user):
    other_session = log_in(app.test_client(), user)
    response = user_client.post(
        "/api/v1/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": GOOD_PASSWORD},
    )
    assert response.status_code == 204
    assert user_client.get("/api/v1/me").status_code == 200
    assert other_session.get("/api/v1/me").status_code == 401


def _reset_token_from(mailbox, email):
    message = mailbox.last_to(email)
    body = message.get_content()
    link = next(line for line in body.splitlines() if "/password/reset/" in line)
    return link.strip().rsplit("/", 1)[1]


def test_password_reset_by_emailed_single_use_link(client, user, mailbox, db):
    response = client.post("/api/v1/auth/password-reset", json={"email": user.email})
    assert response.status_code == 202
    token = _reset_token_from(mailbox, user.email)
    stored = db.session.scalar(sa.select(PasswordResetToken))
    assert stored.token_hash != token

    done = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": GOOD_PASSWORD}
    )
    assert done.status_code == 204
    login = client.post("/api/v1/auth/login", json={"email": user.email, "password": GOOD_PASSWORD})
    assert login.status_code == 200
    client.csrf_token = login.json["csrf_token"]

    again = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "password": "another good passphrase"},
    )
    body = assert_error_shape(again, 400)
    assert "used" in body["message"]


def test_password_reset_for_unknown_email_looks_the_same_and_sends_nothing(client, db, mailbox):
    response = client.post("/api/v1/auth/password-reset", json={"email": "nobody@uni.example"})
    assert response.status_code == 202
    assert mailbox.messages == []


def test_expired_reset_link_changes_nothing(client, user, mailbox, db):
    client.post("/api/v1/auth/password-reset", json={"email": user.email})
    token = _reset_token_from(mailbox, user.email)
    stored = db.session.scalar(sa.select(PasswordResetToken))
    stored.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.flush()
    before = user.password_hash
    response = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": GOOD_PASSWORD}
    )
    assert_error_shape(response, 400)
    db.session.refresh(user)
    assert user.password_hash == before


def test_forged_reset_link_changes_nothing(client, user, db):
    before = user.password_hash
    response = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": "forged-token", "password": GOOD_PASSWORD},
    )
    assert_error_shape(response, 400)
    db.session.refresh(user)
    assert user.password_hash == before


def test_reset_with_a_weak_password_keeps_the_link_usable(client, user, mailbox, db):
    client.post("/api/v1/auth/password-reset", json={"email": user.email})
    token = _reset_token_from(mailbox, user.email)
    weak = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "short"}
    )
    assert_error_shape(weak, 422)
    good = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": GOOD_PASSWORD}
    )
    assert good.status_code == 204


def test_token_list_makes_a_constant_number_of_queries(user_client, user, count_queries):
    services.create_api_token(user, "first", None)
    with count_queries() as one:
        assert len(user_client.get("/api/v1/me/tokens").json) == 1
    for n in range(10):
        services.create_api_token(user, f"more {n}", None)
    with count_queries() as eleven:
        assert len(user_client.get("/api/v1/me/tokens").json) == 11
    assert len(one) == len(eleven) <= 3  # the session user, the count, the page


def test_login_attempts_per_address_are_limited(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ATTEMPTS_PER_ADDRESS", "3 per minute")
    statuses = [
        client.post(
            "/api/v1/auth/login", json={"email": f"x{n}@uni.example", "password": "whatever x"}
        ).status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
