"""Issue 14, item 5: the production configuration's headers and cookie flags, login throttling
per client address (pages and API), and uploaded files never served with an active type."""

import pytest

from lms.courses import services as courses
from tests.accounts.test_views import csrf_from
from tests.courses.builders import make_course
from tests.factories import DEFAULT_PASSWORD, UserFactory

PRODUCTION = {
    "ENV": "production",
    "SECRET_KEY": "a-production-secret-key-of-40-characters",
    "BASE_URL": "https://learn.example.org",
}
HTTPS = {"base_url": "https://learn.example.org"}


@pytest.fixture
def production(make_app):
    return make_app(**PRODUCTION)


def cookie_attributes(response, name: str) -> set[str]:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return {part.strip().lower() for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie set: {response.headers.getlist('Set-Cookie')}")


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/me", "/no-such-page", "/readyz"])
def test_production_security_headers(production, path):
    response = production.test_client().get(path, **HTTPS)
    headers = response.headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_production_session_cookie_is_secure_httponly_samesite(production, db):
    user = UserFactory()
    client = production.test_client()
    api = client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}, **HTTPS
    )
    assert api.status_code == 200
    assert {"secure", "httponly", "samesite=lax"} <= cookie_attributes(api, "lms_session")

    browser = production.test_client()
    token = csrf_from(browser.get("/login", **HTTPS))
    page = browser.post(
        "/login",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
        headers={"Referer": "https://learn.example.org/login"},
        **HTTPS,
    )
    assert page.status_code == 302
    assert {"secure", "httponly", "samesite=lax"} <= cookie_attributes(page, "lms_session")
    # Flask-Login's remember cookie (not used by lms today) would carry the same flags.
    config = production.config
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_login_attempts_are_throttled_per_address_on_the_api_and_the_page(make_app, db):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_ATTEMPTS_PER_ADDRESS="3 per minute")
    client = app.test_client()
    # Different accounts each time: the per-account failure limit is not what stops them.
    for n in range(3):
        body = {"email": f"nobody{n}@example.org", "password": "wrong password"}
        assert client.post("/api/v1/auth/login", json=body).status_code == 401
    blocked = client.post("/api/v1/auth/login", json={"email": "x@example.org", "password": "p"})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0

    token = csrf_from(client.get("/login"))
    for n in range(3):
        data = {"email": f"page{n}@example.org", "password": "wrong password", "csrf_token": token}
        assert client.post("/login", data=data).status_code == 401
    page = client.post(
        "/login", data={"email": "y@example.org", "password": "p", "csrf_token": token}
    )
    assert page.status_code == 429 and "Too many attempts" in page.text


ACTIVE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">'
    b"<script>alert(document.cookie)</script></svg>"
)


def test_a_course_s_svg_and_html_like_files_cannot_run_on_our_origin(client, db, tmp_path):
    folder = make_course(tmp_path)
    (folder / "01-basics" / "img" / "evil.svg").write_bytes(ACTIVE_SVG)
    lesson = folder / "01-basics" / "01-hello.md"
    lesson.write_text(lesson.read_text() + "\n![evil](img/evil.svg)\n")
    version = courses.import_course_folder(folder, publish=True)
    page = client.get(f"/courses/{version.course.slug}/lessons/hello")
    assert page.status_code == 200
    url = next(
        part.split('"')[0] for part in page.text.split('src="')[1:] if '.svg"' in part.split(">")[0]
    )
    asset = client.get(url)
    assert asset.status_code == 200
    assert asset.headers["X-Content-Type-Options"] == "nosniff"
    csp = asset.headers["Content-Security-Policy"]
    directives = [d.strip() for d in csp.split(";")]
    assert "default-src 'none'" in directives and "sandbox" in directives
    assert "script" not in csp
