"""One commit per request, and work that must wait until that commit has succeeded.

Services only ``flush()``. ``LmsFlask.dispatch_request`` commits once after the view returned
a successful response and rolls back otherwise; because the commit happens inside dispatch,
a failing commit (say, a unique constraint that lost a race) still reaches the error handlers
and becomes a clean 409 rather than a 500.

A domain error raised during the request also means rollback, even when a page caught it,
flashed its message and redirected: whatever the service flushed before it gave up is not
committed. ``DomainError`` marks the transaction as failed when it is created
(``mark_failed``); code that deliberately carries on after a domain error does so through
``recover_from``, which undoes the failed step in a savepoint and clears the mark.

``after_commit(fn)`` queues a callable (sending mail, rendering a PDF) that runs only once the
data it describes is safely committed, and is dropped if the transaction rolls back. Each one
runs on its own: one that fails is logged and never stops the others nor changes the answer
of the request whose data is already committed.
"""

import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.core.extensions import db

log = logging.getLogger(__name__)

_PENDING_KEY = "lms_after_commit"
_FAILED_KEY = "lms_domain_error"


def after_commit(fn: Callable[[], object]) -> None:
    """Run ``fn`` after the current transaction commits; forget it on rollback."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still forgets ``fn``
    session.info.setdefault(_PENDING_KEY, []).append(fn)


def mark_failed() -> None:
    """Make the current request roll back whatever it does (a domain error was raised)."""
    if has_app_context():
        db.session().info[_FAILED_KEY] = True


def has_failed() -> bool:
    return bool(db.session().info.get(_FAILED_KEY))


@contextmanager
def recover_from(*errors: type[Exception]) -> Iterator[None]:
    """Run a step that may fail with one of ``errors`` and carry on without it.

    The step runs in a savepoint: if it raises one of ``errors``, what it flushed is rolled
    back, the error is swallowed and the request may still commit the rest of its work::

        with recover_from(NotFound, Forbidden):
            enroll(user, slug)
    """
    session = db.session()
    failed_before = session.info.get(_FAILED_KEY, False)
    try:
        with session.begin_nested():
            yield
    except errors:
        if not failed_before:
            session.info.pop(_FAILED_KEY, None)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # SQLAlchemy sends after_commit for savepoints too; the work waits for the commit
    session.info.pop(_FAILED_KEY, None)
    pending = session.info.pop(_PENDING_KEY, [])
    for fn in pending:
        try:
            fn()
        except Exception as exc:
            # Only the type and the place: the message may carry what the task was handling
            # (addresses, names, links).
            where = traceback.extract_tb(exc.__traceback__)[-1]
            log.error(
                "after-commit task %s failed with %s at %s:%s; the committed data stays",
                getattr(fn, "__qualname__", type(fn).__qualname__),
                type(exc).__name__,
                where.filename,
                where.lineno,
            )


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction) -> None:
    # Rolling back a savepoint (begin_nested) keeps the work queued by the outer transaction.
    if not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)
        session.info.pop(_FAILED_KEY, None)


class LmsFlask(Flask):
    def dispatch_request(self):
        rv = super().dispatch_request()
        response = self.make_response(rv)
        if response.status_code < 400 and not has_failed():
            db.session.commit()
        else:
            db.session.rollback()
        db.session().info.pop(_FAILED_KEY, None)
        return response
