"""Security headers, cookie flags and CSRF on HTML forms."""


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
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401


def test_production_sets_secure_cookie_and_hsts(app, monkeypatch):
    monkeypatch.setitem(app.config, "ENV", "production")
    response = app.test_client().get("/")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
