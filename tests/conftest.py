"""Test fixtures.

Every test that takes ``app`` runs twice: on SQLite and on a real PostgreSQL server that this
session starts from the installed binaries through pytest-postgresql (``--db sqlite`` or
``--db postgresql`` picks one). The schema is built by the Alembic migrations, once per
database. Each test runs inside a transaction that is rolled back afterwards (``db``).
"""

import os
import pwd
import shutil
import socket
import tempfile
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import request, request_finished
from flask.testing import FlaskClient
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor

from lms import create_app
from lms.core.extensions import db as _db
from lms.core.extensions import limiter

SUPPORT = Path(__file__).parent / "support"
TEST_PASSWORD_HASH = "pbkdf2:sha256:1000"  # fast in tests; production uses scrypt


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="which database(s) to run the suite on",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "allow_5xx: the test expects the app to answer 5xx (a 503, say); without it any 5xx "
        "answer fails the test",
    )


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        backends = ["sqlite", "postgresql"] if choice == "both" else [choice]
        metafunc.parametrize("backend", backends, scope="session", indirect=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("postgresql_only"):
            callspec = getattr(item, "callspec", None)
            if callspec and callspec.params.get("backend") == "sqlite":
                item.add_marker(pytest.mark.skip(reason="needs PostgreSQL"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def backend(request):
    return request.param


# -- PostgreSQL -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgresql_server():
    """A private PostgreSQL cluster on 127.0.0.1, started by pytest-postgresql's executor."""
    base = Path(tempfile.mkdtemp(prefix="lms-pg-"))
    if os.geteuid() == 0:
        pg_user = pwd.getpwnam("postgres")
        os.chown(base, pg_user.pw_uid, pg_user.pw_gid)
    executor = PostgreSQLExecutor(
        executable=str(SUPPORT / "pg_ctl"),
        host="127.0.0.1",
        port=free_port(),
        datadir=str(base / "data"),
        unixsocketdir=str(base),
        logfile=str(base / "postgresql.log"),
        startparams="-w",
        dbname="lms_test",
        user="postgres",
        postgres_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        "-c max_connections=200",
    )
    executor.start()
    try:
        yield executor
    finally:
        executor.stop()
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def postgresql_database(server, name: str):
    """A fresh, empty database on the test server; dropped afterwards."""
    janitor = DatabaseJanitor(user=server.user, host=server.host, port=server.port, dbname=name)
    janitor.init()
    try:
        yield f"postgresql+psycopg://{server.user}@{server.host}:{server.port}/{name}"
    finally:
        janitor.drop()


@pytest.fixture(scope="session")
def fresh_database_url(backend, request, tmp_path_factory):
    """Makes empty databases of the current backend: ``with fresh_database_url(name) as url``."""

    @contextmanager
    def make(name: str):
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("sqlite") / f"{name}.sqlite3"
            yield f"sqlite:///{path}"
        else:
            server = request.getfixturevalue("postgresql_server")
            with postgresql_database(server, name) as url:
                yield url

    return make


# -- application ------------------------------------------------------------------------


def make_test_config(database_url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BASE_URL": "http://lms.test",
        "MAIL_BACKEND": "file",
        "MAIL_DIR": str(instance / "mail"),
        "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH,
    }


class ApiClient(FlaskClient):
    """A test client that behaves like separate HTTP requests.

    * Each request runs in an application context of its own, so it gets its own database
      session, as in production (Flask would otherwise reuse the test's context and session,
      and a request's rollback would undo the test's own setup).
    * Once it has a CSRF token it sends the X-CSRFToken header, as a browser app would.
    """

    csrf_token: str | None = None

    def open(self, *args, **kwargs):
        if self.csrf_token:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token)
            kwargs["headers"] = headers
        with self.application.app_context():
            return super().open(*args, **kwargs)


# -- no 5xx unless a test expects one ---------------------------------------------------

_server_errors: list[str] = []


def _record_server_error(sender, response, **extra):
    if response.status_code >= 500:
        _server_errors.append(f"{request.method} {request.path} -> {response.status}")


def watch_for_server_errors(app) -> None:
    request_finished.connect(_record_server_error, app, weak=False)


@pytest.fixture(autouse=True)
def no_server_errors(request):
    """Fail a test in which the app answered 5xx, unless it is marked ``allow_5xx``."""
    _server_errors.clear()
    yield
    errors = list(_server_errors)
    _server_errors.clear()
    if errors and request.node.get_closest_marker("allow_5xx") is None:
        pytest.fail("the app answered 5xx: " + "; ".join(errors))


@pytest.fixture(scope="session")
def app(backend, fresh_database_url, tmp_path_factory):
    """The application on a migrated database of the current backend."""
    import flask_migrate

    instance = tmp_path_factory.mktemp(f"instance-{backend}")
    with fresh_database_url("lms_test") as url:
        app = create_app(make_test_config(url, instance))
        app.test_client_class = ApiClient
        watch_for_server_errors(app)
        with app.app_context():
            flask_migrate.upgrade()
            _db.session.remove()
        yield app
        with app.app_context():
            _db.engine.dispose()


@pytest.fixture
def db(app):
    """The database session, inside a transaction that is rolled back after the test.

    Every session the app opens during the test (each request gets its own) is bound to one
    connection whose outer transaction never commits; their commits become savepoints.
    """
    with app.app_context():
        engines = _db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
        _db.session.remove()
        _db.session.configure(join_transaction_mode="create_savepoint")
        limiter.reset()
        try:
            yield _db
        finally:
            _db.session.remove()
            engines[None] = engine
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def make_app(app, db, tmp_path):
    """``make_app(**settings)``: another application built with extra settings (those read once
    at start, such as TRUSTED_PROXIES or RATELIMIT_ENABLED), on the test's database connection,
    so that its writes are rolled back with the test's.

    Flask-Limiter's one ``limiter`` object takes its switch and storage from the app it was
    last initialised with; it goes back to the test application afterwards.
    """
    connection = db.engines[None]
    made = []

    def make(**settings):
        config = make_test_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
        other = create_app({**config, **settings})
        other.test_client_class = ApiClient
        watch_for_server_errors(other)
        with other.app_context():
            made.append((other, _db.engines[None]))
            _db.engines[None] = connection
        return other

    try:
        yield make
    finally:
        for other, engine in made:
            with other.app_context():
                _db.engines[None] = engine
            engine.dispose()
        limiter.init_app(app)
        limiter.reset()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def count_queries(db):
    """``with count_queries() as queries: ...`` records the SQL statements run inside."""
    connection = db.engines[None]

    @contextmanager
    def counter():
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        sa.event.listen(connection, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa.event.remove(connection, "before_cursor_execute", record)

    return counter


# -- mail -------------------------------------------------------------------------------


class Mailbox:
    """The messages the file backend wrote during one test."""

    def __init__(self, folder: Path):
        self.folder = folder

    @property
    def messages(self):
        return [
            message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted(self.folder.glob("*.eml"))
        ]

    def last_to(self, address: str):
        for message in reversed(self.messages):
            if message["To"] == address:
                return message
        raise AssertionError(f"no mail to {address}")


@pytest.fixture
def mailbox(app, tmp_path, monkeypatch):
    folder = tmp_path / "mail"
    monkeypatch.setitem(app.config, "MAIL_DIR", str(folder))
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    return Mailbox(folder)


@pytest.fixture(scope="module")
def smtp():
    """An SMTP server for a module's servers in their own processes (gunicorn, Celery)."""
    from tests.support.smtp import SmtpSink

    sink = SmtpSink(free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_sink():
    """A real SMTP server on 127.0.0.1 that records what it receives (tests/support/smtp.py)."""
    from lms.core.mail import close_smtp_connection
    from tests.support.smtp import SmtpSink

    sink = SmtpSink(free_port()).start()
    try:
        yield sink
    finally:
        close_smtp_connection()  # the app keeps one SMTP connection per thread
        sink.stop()


@pytest.fixture
def smtp_mail(app, monkeypatch, smtp_sink):
    """The app sends mail by SMTP to ``smtp_sink``."""
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_SMTP_PORT", smtp_sink.port)
    monkeypatch.setitem(app.config, "MAIL_SMTP_TIMEOUT", 2)
    return smtp_sink


# -- users ------------------------------------------------------------------------------


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def admin(db):
    from tests.factories import UserFactory

    return UserFactory(is_platform_admin=True)


def log_in(client: ApiClient, user) -> ApiClient:
    """Log ``client`` in as ``user`` through the API, and keep the CSRF token it returns."""
    from tests.factories import DEFAULT_PASSWORD

    client.csrf_token = None
    client.delete_cookie("lms_session")  # start from a fresh browser session
    response = client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.json
    client.csrf_token = response.json["csrf_token"]
    return client


@pytest.fixture
def user_client(client, user):
    return log_in(client, user)


@pytest.fixture
def admin_client(client, admin):
    return log_in(client, admin)
