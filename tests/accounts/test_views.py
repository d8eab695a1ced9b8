"""HTML pages for accounts, driven as a browser would: GET the form, POST it with its token."""

import re

import sqlalchemy as sa

from lms.accounts.models import ApiToken, User
from tests.factories import DEFAULT_PASSWORD, UserFactory


def csrf_from(response) -> str:
    match = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)
    )
    if not match:
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF token in the page"
    return match.group(1)


def submit(client, path, data, page=None):
    token = csrf_from(client.get(page or path))
    return client.post(path, data={**data, "csrf_token": token})


def login_page(client, user, password=DEFAULT_PASSWORD):
    return submit(client, "/login", {"email": user.email, "password": password})


def test_pages_have_labels_headings_and_no_cdn(client):
    for path in ("/", "/login", "/register", "/password/reset"):
        html = client.get(path).get_data(as_text=True)
        assert "<h1>" in html
        assert 'lang="en"' in html and 'href="#main"' in html
        assert not re.search(r'(?:src|href)="https?://', html)
        for input_id in re.findall(r'<input[^>]*id="([^"]+)"', html):
            if input_id != "csrf_token":
                assert f'for="{input_id}"' in html


def test_register_page_creates_an_account(client, db):
    response = submit(
        client,
        "/register",
        {"name": "Ada", "email": "ada@uni.example", "password": "analytical engine 1843"},
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User).where(User.email == "ada@uni.example")) is not None


def test_register_page_shows_each_problem_next_to_its_field(client, db):
    response = submit(client, "/register", {"name": "", "email": "nope", "password": "password1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert "at least 10 characters" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_login_page_success_and_generic_failure(client, user):
    failed = login_page(client, user, password="not the password")
    assert failed.status_code == 401
    assert "The email or password is not correct." in failed.get_data(as_text=True)
    ok = login_page(client, user)
    assert ok.status_code == 302 and ok.headers["Location"] == "/start"


def test_login_ignores_an_offsite_next_parameter(client, user):
    token = csrf_from(client.get("/login"))
    response = client.post(
        "/login?next=//evil.example/x",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/start"


def test_account_page_requires_login(client, db):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_token_is_shown_once_on_the_account_page_and_can_be_revoked(client, user, db):
    login_page(client, user)
    created = submit(client, "/account/tokens", {"name": "laptop"}, page="/account")
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    raw = re.search(r'id="new-token">([^<]+)<', html).group(1)
    assert raw.startswith("lms_")
    assert raw not in client.get("/account").get_data(as_text=True)

    bearer = client.application.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {raw}"}
    )
    assert bearer.status_code == 200

    token_id = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == user.id))
    revoked = submit(client, f"/account/tokens/{token_id}/revoke", {}, page="/account")
    assert revoked.status_code == 302
    again = client.application.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {raw}"}
    )
    assert again.status_code == 401


def test_password_change_page_checks_the_current_password(client, user):
    login_page(client, user)
    wrong = submit(
        client,
        "/account/password",
        {"current_password": "nope nope nope", "new_password": "a fresh passphrase 7"},
        page="/account",
    )
    assert wrong.status_code == 422
    assert "not correct" in wrong.get_data(as_text=True)


def test_password_reset_pages_end_to_end(client, user, mailbox):
    sent = submit(client, "/password/reset", {"email": user.email})
    assert sent.status_code == 200
    assert "Check your email" in sent.get_data(as_text=True)
    link = next(
        line.strip()
        for line in mailbox.last_to(user.email).get_content().splitlines()
        if "/password/reset/" in line
    )
    path = link.replace("http://lms.test", "")
    changed = submit(client, path, {"password": "a brand new passphrase"})
    assert changed.status_code == 302
    reused = client.get(path)
    assert reused.status_code == 400
    assert "invalid, already used or expired" in reused.get_data(as_text=True)
    assert login_page(client, user, "a brand new passphrase").status_code == 302


def test_logout_needs_the_form_token(client, user):
    login_page(client, user)
    client.post("/logout", data={})
    assert client.get("/account").status_code == 200  # refused without the token: still in
    submit(client, "/logout", {}, page="/account")
    assert client.get("/account").status_code == 302


def test_other_users_token_cannot_be_revoked_from_the_page(client, user, db):
    from lms.accounts import services

    other = UserFactory()
    token, _ = services.create_api_token(other, "theirs", None)
    login_page(client, user)
    response = submit(client, f"/account/tokens/{token.id}/revoke", {}, page="/account")
    assert response.status_code == 404
    db.session.refresh(token)
    assert token.revoked_at is None
