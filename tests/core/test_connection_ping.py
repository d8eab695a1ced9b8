"""A pooled connection that died while idle (a database restart, a failover, an idle timeout)
is replaced before a request uses it; a connection in steady use is not pinged at all."""

import time

import pytest
import sqlalchemy as sa

from lms.core.db import ping_idle_connections

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
def engine(backend, fresh_database_url):
    with fresh_database_url("lms_ping") as url:
        engine = sa.create_engine(url, pool_size=1, max_overflow=0)
        yield engine
        engine.dispose()


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT pg_backend_pid()"))


def kill(engine, pid: int) -> None:
    with sa.create_engine(engine.url, poolclass=sa.pool.NullPool).connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def count_pings(engine) -> list:
    pings = []
    original = engine.dialect.do_ping

    def counting(dbapi_connection):
        pings.append(1)
        return original(dbapi_connection)

    engine.dialect.do_ping = counting
    return pings


def test_a_connection_that_died_while_idle_is_replaced_unseen(engine):
    ping_idle_connections(engine, 0.05)
    pid = backend_pid(engine)
    kill(engine, pid)
    time.sleep(0.1)
    assert backend_pid(engine) != pid  # the dead one was pinged, dropped and replaced


def test_without_the_ping_the_first_use_fails(engine):
    """What the ping prevents (and the 503 a request got before it)."""
    pid = backend_pid(engine)
    kill(engine, pid)
    with pytest.raises(sa.exc.OperationalError), engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    assert backend_pid(engine) != pid  # SQLAlchemy then replaced the pool


def test_a_connection_in_steady_use_is_not_pinged(engine):
    ping_idle_connections(engine, 5.0)
    pings = count_pings(engine)
    for _ in range(20):
        backend_pid(engine)
    assert pings == []
    pinging = sa.create_engine(engine.url, pool_size=1)
    ping_idle_connections(pinging, 0)
    always = count_pings(pinging)
    for _ in range(3):
        backend_pid(pinging)
    pinging.dispose()
    assert len(always) == 2  # every checkout but the first, of a brand-new connection
