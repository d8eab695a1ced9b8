"""/healthz (alive, no dependency) and /readyz (database, and the broker when configured)."""

import subprocess
import time

import pytest

from lms import create_app
from lms.core.extensions import limiter
from tests.conftest import free_port, make_test_config


def test_healthz_says_alive_without_touching_the_database(client, count_queries):
    with count_queries() as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert queries == []


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok"}}
    assert response.headers["Cache-Control"] == "no-store"


def unreachable_database_url(backend, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/no/such/folder/lms.sqlite3"
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/lms?connect_timeout=2"


@pytest.mark.allow_5xx  # the 503 is the point
def test_readyz_is_503_and_healthz_200_when_the_database_is_unreachable(app, backend, tmp_path):
    down = create_app(make_test_config(unreachable_database_url(backend, tmp_path), tmp_path))
    try:
        with down.app_context():
            client = down.test_client()
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json == {"status": "unavailable", "checks": {"database": "unreachable"}}
            assert client.get("/healthz").status_code == 200
    finally:
        limiter.init_app(app)


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server on a free port; ``stop()`` takes it down."""
    import redis

    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis(port=port).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

    def stop():
        server.terminate()
        server.wait(timeout=10)

    server.url = f"redis://127.0.0.1:{port}/0"
    server.stop = stop
    yield server
    if server.poll() is None:
        stop()


@pytest.mark.slow
@pytest.mark.allow_5xx  # the 503 once the broker is down
def test_readyz_checks_the_broker_up_then_down(make_app, redis_server):
    app = make_app(CELERY_BROKER_URL=redis_server.url, CELERY_BROKER_TIMEOUT=1)
    client = app.test_client()
    up = client.get("/readyz")
    assert up.status_code == 200
    assert up.json["checks"] == {"database": "ok", "broker": "ok"}

    redis_server.stop()
    started = time.monotonic()
    down = client.get("/readyz")
    assert time.monotonic() - started < 5  # a short timeout, not kombu's retries
    assert down.status_code == 503
    assert down.json == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "unreachable"},
    }
    assert client.get("/healthz").status_code == 200
