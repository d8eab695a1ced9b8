"""One commit per request, and work that must wait until that commit has succeeded.

Services only ``flush()``. ``LmsFlask.dispatch_request`` commits once after the view returned
a successful response and rolls back otherwise; because the commit happens inside dispatch,
a failing commit (say, a unique constraint that lost a race) still reaches the error handlers
and becomes a clean 409 rather than a 500.

``after_commit(fn)`` queues a callable (sending mail, rendering a PDF) that runs only once the
data it describes is safely committed, and is dropped if the transaction rolls back.
"""

from collections.abc import Callable

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.core.extensions import db

_PENDING_KEY = "lms_after_commit"


def after_commit(fn: Callable[[], object]) -> None:
    """Run ``fn`` after the current transaction commits; forget it on rollback."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still forgets ``fn``
    session.info.setdefault(_PENDING_KEY, []).append(fn)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    for fn in pending:
        fn()


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction) -> None:
    # Rolling back a savepoint (begin_nested) keeps the work queued by the outer transaction.
    if not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)


class LmsFlask(Flask):
    def dispatch_request(self):
        rv = super().dispatch_request()
        response = self.make_response(rv)
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response
