"""Security headers, cookie flags, CSRF on HTML forms and API writes, bearer tokens."""

from lms.accounts import services
from tests.factories import DEFAULT_PASSWORD, UserFactory


def test_security_headers_on_pages_and_api(client):
    for path in ("/", "/api/v1/me", "/healthz"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "same-origin"


def test_api_responses_are_not_cached(client):
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"


def test_html_form_post_without_csrf_token_is_refused(client, user):
    response = client.post("/login", data={"email": user.email, "password": "whatever it is"})
    assert response.status_code == 400
    assert "This form expired" in response.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401


def test_production_sets_secure_cookie_and_hsts(app, monkeypatch):
    monkeypatch.setitem(app.config, "ENV", "production")
    response = app.test_client().get("/")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


# -- CSRF and bearer tokens --------------------------------------------------------------


def test_a_junk_bearer_token_does_not_fall_back_to_the_session_cookie(user_client, user, db):
    # A request that names a token is authenticated by the token alone: sending any
    # "Authorization: Bearer" header along with the session cookie used to skip the CSRF check
    # and act as the session's user.
    user_client.csrf_token = None  # no X-CSRFToken header
    response = user_client.patch(
        "/api/v1/me", json={"name": "Forged"}, headers={"Authorization": "Bearer junk"}
    )
    assert response.status_code == 401
    assert "token" in response.json["message"]
    empty = user_client.patch("/api/v1/me", json={"name": "F"}, headers={"Authorization": "Bearer"})
    assert empty.status_code == 401
    db.session.refresh(user)
    assert user.name != "Forged"
    # The session itself still works, with its CSRF header.
    assert user_client.get("/api/v1/me").json["id"] == user.id


def test_a_session_write_without_the_csrf_header_is_refused(user_client, user):
    user_client.csrf_token = None
    response = user_client.patch("/api/v1/me", json={"name": "Forged"})
    assert response.status_code == 400
    assert "CSRF" in response.json["message"]


def test_a_valid_bearer_token_writes_without_csrf_and_wins_over_the_session(user_client, user, db):
    other = UserFactory()
    _token, raw = services.create_api_token(other, "script", None)
    user_client.csrf_token = None
    response = user_client.patch(
        "/api/v1/me", json={"name": "Renamed by token"}, headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 200
    assert response.json["id"] == other.id and response.json["name"] == "Renamed by token"
    db.session.refresh(user)
    assert user.name != "Renamed by token"


def test_csrf_switched_off_lets_forms_and_cookie_api_writes_through(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    page = client.get("/login")
    assert 'name="csrf_token"' not in page.get_data(as_text=True)
    logged_in = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert logged_in.status_code == 302
    renamed = client.patch("/api/v1/me", json={"name": "No CSRF here"})
    assert renamed.status_code == 200
    assert renamed.json["name"] == "No CSRF here"
    saved = client.post("/account/profile", data={"name": "From the form"})
    assert saved.status_code == 302
    assert client.get("/api/v1/me").json["name"] == "From the form"
