"""Login throttling through Flask-Limiter: per address, failed logins per account, the switch,
and the client address behind trusted proxies."""

import pytest

from lms.core.extensions import limiter
from tests.accounts.test_views import submit
from tests.factories import DEFAULT_PASSWORD, UserFactory

WRONG = "not the password"


def api_login(client, email, password, **kwargs):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password}, **kwargs)


def page_login(client, email, password):
    return submit(client, "/login", {"email": email, "password": password})


def test_failed_logins_count_per_account_across_the_api_and_the_page(client, user):
    for _ in range(3):
        assert api_login(client, user.email, WRONG).status_code == 401
    for _ in range(2):
        assert page_login(client, f"  {user.email.upper()} ", WRONG).status_code == 401
    blocked = api_login(client, user.email, DEFAULT_PASSWORD)
    assert blocked.status_code == 429
    assert blocked.json["message"].startswith("Too many failed logins for this account")
    assert int(blocked.headers["Retry-After"]) > 0
    page = page_login(client, user.email, DEFAULT_PASSWORD)
    assert page.status_code == 429
    assert "Too many failed logins for this account" in page.get_data(as_text=True)
    assert "Retry-After" in page.headers


def test_successful_logins_are_not_counted_as_failures(client, user):
    for _ in range(8):
        client.delete_cookie("lms_session")  # a new browser each time
        assert api_login(client, user.email, DEFAULT_PASSWORD).status_code == 200


def test_malformed_login_bodies_are_refused_not_counted(client, user):
    for body in ({"password": WRONG}, {"email": 5, "password": WRONG}, ["a list"]):
        assert client.post("/api/v1/auth/login", json=body).status_code == 422
    not_json = client.post(
        "/api/v1/auth/login", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert api_login(client, user.email, DEFAULT_PASSWORD).status_code == 200


def test_logins_work_with_rate_limiting_switched_off(make_app, db, monkeypatch):
    # As in a process started with the switch off: Flask-Limiter never built its limiter, and
    # the old direct `limiter.limiter` calls asserted on every login (500).
    monkeypatch.setattr(limiter, "_limiter", None)
    monkeypatch.setattr(limiter, "_storage", None)
    other = make_app(RATELIMIT_ENABLED=False, LOGIN_ATTEMPTS_PER_ADDRESS="1 per minute")
    user = UserFactory()
    client = other.test_client()
    for _ in range(7):
        assert api_login(client, user.email, WRONG).status_code == 401
    assert api_login(client, user.email, DEFAULT_PASSWORD).status_code == 200
    for _ in range(7):
        assert page_login(client, user.email, WRONG).status_code == 401
    assert page_login(client, user.email, DEFAULT_PASSWORD).status_code == 302


# -- the client address behind proxies -------------------------------------------------


def forwarded_for(address):
    return {"X-Forwarded-For": address}


@pytest.mark.parametrize("hops", [1, 2])
def test_behind_trusted_proxies_each_client_has_its_own_address_bucket(make_app, db, hops):
    other = make_app(TRUSTED_PROXIES=hops, LOGIN_ATTEMPTS_PER_ADDRESS="1 per minute")
    client = other.test_client()
    proxies = ", 10.0.0.1" * (hops - 1)  # the addresses earlier proxies appended

    def attempt(address):
        headers = forwarded_for(address + proxies)
        return api_login(client, "x@uni.example", WRONG, headers=headers).status_code

    assert [attempt("203.0.113.7"), attempt("198.51.100.9"), attempt("203.0.113.7")] == [
        401,
        401,
        429,
    ]


def test_without_trusted_proxies_the_forwarded_header_is_ignored(make_app, db):
    other = make_app(TRUSTED_PROXIES=0, LOGIN_ATTEMPTS_PER_ADDRESS="1 per minute")
    client = other.test_client()
    first = api_login(client, "x@uni.example", WRONG, headers=forwarded_for("203.0.113.7"))
    second = api_login(client, "x@uni.example", WRONG, headers=forwarded_for("198.51.100.9"))
    assert (first.status_code, second.status_code) == (401, 429)


def test_trusted_proxies_set_the_scheme_and_host_too(make_app, db):
    other = make_app(TRUSTED_PROXIES=1)

    @other.get("/_test/where")
    def where():
        from flask import request

        return {"url": request.url_root, "remote": request.remote_addr}

    seen = other.test_client().get(
        "/_test/where",
        headers={
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "learn.example.org",
            "X-Forwarded-Port": "443",
        },
    )
    assert seen.json == {"url": "https://learn.example.org/", "remote": "203.0.113.7"}
