"""Declarative base, column types and mixins shared by every model."""

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
from sqlalchemy.types import TypeDecorator

# Named constraints, so that Alembic migrations can refer to (and drop) them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC. Use as a callable default, never called at import."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as
    naive UTC and made aware again when loaded. Naive datetimes are refused on the way in,
    because guessing their zone is how off-by-hours bugs are born.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def text_search(text: str, *columns) -> sa.ColumnElement[bool]:
    """Rows where any of ``columns`` contains ``text``, ignoring case: the one way a
    ``?search=`` filter builds LIKE.

    ``%`` and ``_`` typed into a search are the characters themselves, not LIKE wildcards
    (SQLAlchemy's ``autoescape``); otherwise a search for "%" matched everyone.
    """
    needle = text.strip().lower()
    return sa.or_(*(sa.func.lower(column).contains(needle, autoescape=True) for column in columns))


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    """WAL, a busy timeout and foreign keys for SQLite; let SQLAlchemy drive transactions.

    pysqlite's own transaction handling breaks SAVEPOINT (used by the test suite and by
    nested transactions), so autocommit is switched off at the driver level and
    SQLAlchemy emits BEGIN itself (see ``_sqlite_begin``).
    """
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Requests with these methods only read. (A rare write inside one, such as recording the first
# view of a lesson, keeps a plain BEGIN's behaviour: under heavy write load it may find the
# database busy.)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _sqlite_begin_statement() -> str:
    """``BEGIN IMMEDIATE`` for anything that may write; a plain ``BEGIN`` for reads.

    A plain (deferred) BEGIN reads first and asks for the write lock only at the first write.
    When another writer committed in between, SQLite cannot let it write from its stale
    snapshot and fails at once with "database is locked", busy timeout or not: concurrent
    writers failed halfway (503) instead of queueing. IMMEDIATE takes the write lock at the
    start, so writers wait their turn for up to the busy timeout. Reads keep a plain BEGIN,
    so that in WAL mode they never wait for a writer. Outside a request (CLI commands, jobs)
    the work is there to write.
    """
    if has_request_context() and request.method in READ_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name == "sqlite":
        if conn.get_execution_options().get("lms_begin_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the outbox's sessions: always writers
        else:
            conn.exec_driver_sql(_sqlite_begin_statement())


def ping_idle_connections(engine: Engine, idle_seconds: float | None) -> None:
    """Test a pooled connection before use when it sat idle longer than ``idle_seconds``.

    After a database restart or failover the pool's connections are dead; a request that takes
    one fails (503) and SQLAlchemy then replaces the whole pool. A connection that has just
    been used is alive, so pinging every checkout (``pool_pre_ping``) costs a round trip on
    every request of a busy worker for nothing; a connection that waited is pinged, and a dead
    one is replaced before the request sees it. ``None`` never pings, ``0`` always does.
    """
    if idle_seconds is None or engine.dialect.name == "sqlite":  # SQLite has no server
        return

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record):
        record.info["lms_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy):
        since = record.info.pop("lms_idle_since", None)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:
            alive = False
        if not alive:
            # The pool drops this connection and checks out another (a new one if need be).
            raise sa.exc.DisconnectionError("a pooled connection died while idle")
