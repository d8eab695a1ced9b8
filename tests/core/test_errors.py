"""Every error reaches the client in one shape (API) or as a page (HTML), never as a trace."""

import errno
import logging
import re

import pytest
import sqlalchemy as sa
from flask import Blueprint

from lms.accounts.models import User
from lms.core.extensions import db as _db


def assert_api_error(response, code):
    assert response.status_code == code
    assert response.is_json
    body = response.json
    assert body["code"] == code and body["status"] and body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_unknown_api_path_is_a_json_404(client):
    body = assert_api_error(client.get("/api/v1/nothing-here"), 404)
    assert body["status"] == "Not Found"


def test_unknown_page_is_an_html_404_with_the_message(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Nothing was found at this address." in html
    assert "<h1>Page not found</h1>" in html
    assert 'href="/"' in html  # a way back


def test_wrong_method_is_405(client):
    assert_api_error(client.get("/api/v1/auth/login"), 405)
    assert client.delete("/login").status_code == 405


@pytest.fixture
def probe_app(make_app):
    """A separate app on the test's database, with routes that misbehave on purpose."""
    probe = make_app(MAX_CONTENT_LENGTH=1024)
    bp = Blueprint("probe", __name__)

    @bp.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("secret internals: password=hunter2")

    @bp.get("/boom")
    def page_boom():
        raise RuntimeError("secret internals")

    @bp.post("/api/v1/duplicate")
    def duplicate():
        # Two rows that break a unique constraint, as two racing requests would.
        _db.session.add_all(
            [User(email="same@uni.example", name="A"), User(email="same@uni.example", name="B")]
        )
        _db.session.flush()
        return {}, 201

    @bp.get("/api/v1/connection-gone")
    def connection_gone():
        # What psycopg says about a connection the server closed (PostgreSQL restarted):
        # not an OperationalError, but SQLAlchemy marks the connection invalidated.
        raise sa.exc.InterfaceError(
            "SELECT 1", {}, Exception("the connection is closed"), connection_invalidated=True
        )

    @bp.get("/connection-gone")
    def page_connection_gone():
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    @bp.post("/api/v1/disk/<name>")
    def disk(name):
        code = getattr(errno, name)
        raise OSError(code, "refused", "/srv/lms/instance/issuer-keys/.tmp-x")

    probe.register_blueprint(bp)
    return probe


@pytest.mark.allow_5xx  # the 500 is the point
def test_unexpected_error_is_a_500_without_details(probe_app):
    client = probe_app.test_client()
    body = assert_api_error(client.get("/api/v1/boom"), 500)
    assert "hunter2" not in str(body) and "RuntimeError" not in str(body)
    page = client.get("/boom")
    assert page.status_code == 500
    assert "secret internals" not in page.get_data(as_text=True)


def test_unique_constraint_race_is_409_and_writes_nothing(probe_app):
    client = probe_app.test_client()
    assert_api_error(client.post("/api/v1/duplicate", json={}), 409)
    with probe_app.app_context():
        assert _db.session.query(User).filter_by(email="same@uni.example").count() == 0


def test_the_integrity_error_log_names_the_constraint_not_the_values(probe_app, caplog):
    # PostgreSQL's message carries the row in its DETAIL line: (email)=(same@uni.example).
    with caplog.at_level(logging.INFO, logger="lms.core.errors"):
        assert_api_error(probe_app.test_client().post("/api/v1/duplicate", json={}), 409)
    [line] = [r.getMessage() for r in caplog.records if r.name == "lms.core.errors"]
    assert "same@uni.example" not in line
    assert "users" in line
    if probe_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert line == "integrity error mapped to 409: constraint uq_users_email on table users"


def test_oversized_body_is_413(probe_app):
    client = probe_app.test_client()
    response = client.post(
        "/api/v1/auth/register",
        data='{"name": "' + "x" * 5000 + '"}',
        content_type="application/json",
    )
    body = assert_api_error(response, 413)
    assert "too large" in body["message"]


def test_error_pages_have_no_stack_trace_markers(client):
    html = client.get("/definitely/missing").get_data(as_text=True)
    assert not re.search(r"File \".*\", line \d+", html)


@pytest.mark.allow_5xx  # the 503 is the point
def test_a_dropped_database_connection_is_a_503_in_the_one_shape(probe_app, caplog):
    client = probe_app.test_client()
    with caplog.at_level(logging.ERROR, logger="lms.core.errors"):
        response = client.get("/api/v1/connection-gone")
    body = assert_api_error(response, 503)
    assert body["status"] == "Service Unavailable" and "database" in body["message"]
    assert response.headers["Retry-After"] == "5"
    assert any("database unavailable (503)" in r.getMessage() for r in caplog.records)
    page = client.get("/connection-gone")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "database is not available" in page.get_data(as_text=True)


@pytest.mark.allow_5xx
@pytest.mark.parametrize("name", ["ENOSPC", "EROFS", "EACCES", "EFBIG", "EDQUOT"])
def test_a_disk_that_refuses_a_write_is_a_503_naming_storage(probe_app, caplog, name):
    with caplog.at_level(logging.ERROR, logger="lms.core.errors"):
        response = probe_app.test_client().post(f"/api/v1/disk/{name}")
    body = assert_api_error(response, 503)
    assert "Storage is not available" in body["message"]
    assert "/srv/lms" not in body["message"]  # the path stays in the log
    [line] = [r.getMessage() for r in caplog.records if r.name == "lms.core.errors"]
    assert line.startswith("storage unavailable (503)") and name in line


@pytest.mark.allow_5xx
def test_other_os_errors_stay_500(probe_app):
    assert_api_error(probe_app.test_client().post("/api/v1/disk/ENOENT"), 500)
