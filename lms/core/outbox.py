"""The transactional outbox: work to do after a request, written in the request's transaction.

``add(kind, payload)`` queues a row that is inserted just before the current transaction
commits (one multi-row INSERT, however many rows a request queues), so the work exists exactly
when the change that caused it committed, and a rollback forgets it. After the commit the new
rows are handed on (``dispatch``): to Celery workers when a broker is configured
(``CELERY_BROKER_URL``), or drained in this process right away when none is (with up to
``OUTBOX_CATCH_UP`` earlier rows that are due again, as there is no sweep then).

Processing one row: it is claimed (``locked_until``, so no other worker takes it meanwhile; on
PostgreSQL the claim skips rows another worker holds, ``FOR UPDATE SKIP LOCKED``), its handler
runs, and the outcome is committed before the next row is taken, so a killed worker repeats at
most the row it was on, once its claim has lapsed. A failure is recorded and retried with
exponential backoff up to ``OUTBOX_MAX_ATTEMPTS`` times; nothing is deleted. A handler that
finds its work no longer makes sense (an invitation revoked before its mail went out) returns a
note: the row is done and nothing happened.
"""

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db

log = logging.getLogger(__name__)

# Rows a worker claims at once: few enough that a killed worker delays little (the rest wait
# for their claim to lapse), many enough that claiming costs little per row.
CLAIM_BATCH = 20
_NEW_KEY = "lms_outbox_new"  # rows queued by add(), inserted before the commit
_WRITTEN_KEY = "lms_outbox_written"  # ids inserted in this transaction, dispatched after it


class OutboxItem(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (
        # The rows still to do, in the order they are taken: a small index however long the
        # history of done rows grows.
        sa.Index(
            "ix_outbox_due",
            "next_attempt_at",
            "id",
            postgresql_where=sa.text("done_at IS NULL AND failed_at IS NULL"),
            sqlite_where=sa.text("done_at IS NULL AND failed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(50))
    payload: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Claimed by a worker until then; a claim that lapses (a killed worker) is taken again.
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    done_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]  # gave up after OUTBOX_MAX_ATTEMPTS (or a permanent error)
    note: Mapped[str] = mapped_column(sa.String(200), default="")


class PermanentError(Exception):
    """The work can never succeed (a message that cannot be built): fail now, no retries."""


# kind -> handler(session, payload) -> None when done, or a note saying why nothing was done.
# The session is the outbox's own (the request's may already have committed).
Handler = Callable[[Session, dict], str | None]
_handlers: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that carries out rows of ``kind``."""

    def register(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn

    return register


# name -> check(session, argument) -> None when the work still makes sense, else the reason
# it does not.
Check = Callable[[Session, object], str | None]
_checks: dict[str, Check] = {}


def register_check(name: str, fn: Check) -> None:
    """Let packages say, just before a row is carried out, whether it still makes sense."""
    _checks[name] = fn


def run_check(session: Session, check) -> str | None:
    if not check:
        return None
    name, argument = check
    if name not in _checks:
        raise PermanentError(f"unknown outbox check {name!r}")
    try:
        return _checks[name](session, argument)
    finally:
        # On SQLite this session's transactions take the write lock at BEGIN: end the read
        # before the (slow) work. On PostgreSQL a read holds no lock, so the row's outcome is
        # written in the same transaction (a BEGIN and a ROLLBACK fewer for every mail).
        if session.get_bind().dialect.name != "postgresql":
            session.rollback()


# -- writing ----------------------------------------------------------------------------


def add(kind: str, payload: dict) -> None:
    """Queue work to be done once the current transaction commits (forgotten on rollback)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still forgets the row
    session.info.setdefault(_NEW_KEY, []).append({"kind": kind, "payload": payload})


@event.listens_for(Session, "before_commit")
def _insert_new_rows(session: Session) -> None:
    # SQLAlchemy sends before/after_commit for savepoints (begin_nested) too: the rows wait for
    # the transaction's real commit, or a savepoint would dispatch them while it is still open
    # (on SQLite the drain then waits for the write lock this very transaction holds).
    if session.in_nested_transaction():
        return
    new = session.info.pop(_NEW_KEY, None)
    if not new:
        return
    now = utcnow()
    rows = [{**row, "created_at": now, "next_attempt_at": now, "attempts": 0} for row in new]
    if current_app.config.get("CELERY_BROKER_URL"):
        # Workers take whatever is due: only the number of rows is handed on, and a plain
        # multi-row INSERT costs a third of one that returns ids in order (10,000 mails).
        session.execute(sa.insert(OutboxItem.__table__), rows)
        written: list[int | None] = [None] * len(rows)
    else:
        written = session.scalars(
            sa.insert(OutboxItem).returning(OutboxItem.id, sort_by_parameter_order=True), rows
        ).all()
    session.info.setdefault(_WRITTEN_KEY, []).extend(written)


@event.listens_for(Session, "after_commit")
def _dispatch_written_rows(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint, not the commit (see _insert_new_rows)
    ids = session.info.pop(_WRITTEN_KEY, None)
    if not ids:
        return
    try:
        dispatch(ids)
    except Exception as exc:
        # The rows are committed and stay due: the sweep (with a broker), the next commit's
        # catch-up (without one) or `flask lms outbox retry` does them. Raising here would
        # turn a committed request into an error (the database dropping between the commit
        # and the drain did: a 503, then a 500).
        log.error(
            "outbox: %d committed row(s) not handed on (%s); they stay due", len(ids),
            type(exc).__name__,
        )  # fmt: skip


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_NEW_KEY, None)
        session.info.pop(_WRITTEN_KEY, None)


def dispatch(ids: list[int | None]) -> None:
    """Hand newly committed rows on: enqueue for Celery (which needs only their number), or
    do them now in this process."""
    if current_app.config.get("CELERY_BROKER_URL"):
        from lms.core import jobs

        jobs.enqueue_drain(len(ids))
    else:
        drain(ids=ids)
        # Without a broker there is no sweep: each commit that writes work also takes a few
        # earlier rows whose time has come (a send waiting for its retry, a row stranded when
        # the database dropped before its drain), so they go out without an operator.
        catch_up = current_app.config["OUTBOX_CATCH_UP"]
        if catch_up:
            drain(limit=catch_up)


# -- processing -------------------------------------------------------------------------


def _due(now):
    return sa.and_(
        OutboxItem.done_at.is_(None),
        OutboxItem.failed_at.is_(None),
        OutboxItem.next_attempt_at <= now,
        sa.or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until <= now),
    )


@dataclass
class Claimed:
    """A row taken by this worker: plain values, so that no transaction stays open while its
    work runs (on SQLite an open write transaction would block every request meanwhile)."""

    id: int
    kind: str
    payload: dict
    attempts: int  # including this one


@functools.cache
def _claim_statements(dialect: str) -> tuple[sa.Update, sa.Update]:
    """(claim the next due rows, claim these due rows), built once with bind parameters:
    building them cost more than running them. Both take rows only if they are still due,
    so two workers never hold the same row."""
    now = sa.bindparam("b_now", type_=UTCDateTime())
    due = _due(now)
    pick = sa.select(OutboxItem.id).where(due).order_by(OutboxItem.id).limit(sa.bindparam("b_n"))
    if dialect == "postgresql":
        # Rows another worker holds are skipped. The pick is a materialized CTE, run once:
        # as an ``IN (subquery)`` PostgreSQL may run it again while the UPDATE locks rows,
        # and each run then skips the rows just locked and picks the next ones, so one
        # worker claimed every due row (and the others had nothing to do) whatever the LIMIT.
        picked = pick.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
        next_ids = OutboxItem.id.in_(sa.select(picked.c.id))
    else:
        next_ids = OutboxItem.id.in_(pick.scalar_subquery())

    def claim(where):
        return (
            sa.update(OutboxItem.__table__)
            .where(where, due)
            .values(locked_until=sa.bindparam("b_until"), attempts=OutboxItem.attempts + 1)
            .returning(OutboxItem.id, OutboxItem.kind, OutboxItem.payload, OutboxItem.attempts)
        )

    return claim(next_ids), claim(OutboxItem.id.in_(sa.bindparam("b_ids", expanding=True)))


def _claim(session: Session, ids: list[int] | None = None, n: int = 1) -> list[Claimed]:
    """Take up to ``n`` due rows (or those of ``ids`` that are due) for this worker, committed.
    A killed worker's rows are taken again once their claim lapses."""
    now = utcnow()
    next_rows, these_rows = _claim_statements(session.get_bind().dialect.name)
    params = {"b_now": now, "b_until": now + current_app.config["OUTBOX_LEASE"]}
    if ids is None:
        rows = session.execute(next_rows, {**params, "b_n": n}).all()
    else:
        rows = session.execute(these_rows, {**params, "b_ids": ids}).all()
    session.commit()
    return sorted(
        (Claimed(row.id, row.kind, dict(row.payload), row.attempts) for row in rows),
        key=lambda item: item.id,
    )


def _backoff(attempts: int):
    return current_app.config["OUTBOX_RETRY_BASE"] * (2 ** max(0, attempts - 1))


def _run(session: Session, item: Claimed) -> bool:
    """Carry out one claimed row and commit its outcome. True if it is done."""
    fn = _handlers.get(item.kind)
    outcome: dict = {"locked_until": None}
    try:
        if fn is None:
            raise PermanentError(f"no handler for outbox rows of kind {item.kind!r}")
        note = fn(session, dict(item.payload))
    except PermanentError as exc:
        outcome.update(failed_at=utcnow(), last_error=_describe(exc))
        log.error("outbox row %s (%s) failed for good: %s", item.id, item.kind, _describe(exc))
    except Exception as exc:  # noqa: BLE001 (any failure is recorded and retried)
        outcome["last_error"] = _describe(exc)
        if item.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            outcome["failed_at"] = utcnow()
            log.error(
                "outbox row %s (%s) failed after %s attempts: %s",
                item.id,
                item.kind,
                item.attempts,
                outcome["last_error"],
            )
        else:
            outcome["next_attempt_at"] = utcnow() + _backoff(item.attempts)
            log.warning(
                "outbox row %s (%s) attempt %s failed, next at %s: %s",
                item.id,
                item.kind,
                item.attempts,
                outcome["next_attempt_at"].isoformat(timespec="seconds"),
                outcome["last_error"],
            )
    else:
        outcome.update(
            done_at=utcnow(), note=(note or "")[:200], payload=_scrubbed(item.kind, item.payload)
        )
    if "done_at" in outcome:
        session.execute(_done_statement(), {"b_id": item.id, **outcome})
    else:
        session.execute(
            sa.update(OutboxItem.__table__).where(OutboxItem.id == item.id).values(**outcome)
        )
    session.commit()
    return "done_at" in outcome


@functools.cache
def _done_statement() -> sa.Update:
    """Marks a row done (the outcome of almost every row), built once with bind parameters."""
    table = OutboxItem.__table__
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values({column: sa.bindparam(column, type_=table.c[column].type) for column in _DONE})
    )


_DONE = ("locked_until", "done_at", "note", "payload")


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


# Payload keys that may carry secrets (a link with a token): dropped once the work is done.
SECRET_KEYS = frozenset({"body"})


def _scrubbed(kind: str, payload: dict) -> dict:
    return {key: value for key, value in payload.items() if key not in SECRET_KEYS}


def _session() -> Session:
    # A session of its own: this runs after the request's commit (when the request's session
    # can no longer run SQL) and in workers. In the test suite the engine is a connection whose
    # outer transaction never commits; joining it with savepoints keeps that working.
    bind = db.engine
    if isinstance(bind, sa.Engine) and bind.dialect.name == "sqlite":
        # Every transaction here writes: take SQLite's write lock at BEGIN, so that a busy
        # database is waited for (busy timeout) instead of failing when a read turns into a
        # write (see lms.core.db).
        bind = bind.execution_options(lms_begin_immediate=True)
    return Session(bind=bind, join_transaction_mode="create_savepoint")


def drain(ids: Iterable[int] | None = None, limit: int | None = None) -> int:
    """Process due rows (only ``ids`` if given) until none is left or ``limit`` are done.
    Returns how many rows were processed (done or not). Rows are claimed a few at a time and
    each outcome is committed before the next row's work starts."""
    processed = 0
    with _session() as session:
        wanted = None if ids is None else list(ids)
        while limit is None or processed < limit:
            if wanted is not None:
                if not wanted:
                    break
                batch, wanted = wanted[:CLAIM_BATCH], wanted[CLAIM_BATCH:]
                items = _claim(session, ids=batch)
            else:
                n = CLAIM_BATCH if limit is None else min(CLAIM_BATCH, limit - processed)
                items = _claim(session, n=n)
                if not items:
                    break
            for item in items:
                _run(session, item)
                processed += 1
    return processed


def count_due() -> int:
    with _session() as session:
        return session.scalar(sa.select(sa.func.count()).where(_due(utcnow())))
