"""The operator's view of the outbox (``flask lms outbox``): counts, the last errors, and
making failed or waiting rows due now."""

from dataclasses import dataclass

import sqlalchemy as sa

from lms.core.db import utcnow
from lms.core.outbox import OutboxItem, _session


@dataclass
class OutboxStats:
    pending: int  # not done, not failed (due now or waiting for a retry)
    waiting: int  # of those, failed at least once and waiting for their next attempt
    failed: int
    done: int
    last_errors: list[tuple[int, str, int, str]]  # id, kind, attempts, error


def stats(errors: int = 10) -> OutboxStats:
    with _session() as session:
        open_ = sa.and_(OutboxItem.done_at.is_(None), OutboxItem.failed_at.is_(None))
        count = sa.func.count(OutboxItem.id)
        pending = session.scalar(sa.select(count).where(open_))
        waiting = session.scalar(sa.select(count).where(open_, OutboxItem.last_error.is_not(None)))
        failed = session.scalar(sa.select(count).where(OutboxItem.failed_at.is_not(None)))
        done = session.scalar(sa.select(count).where(OutboxItem.done_at.is_not(None)))
        last = session.execute(
            sa.select(OutboxItem.id, OutboxItem.kind, OutboxItem.attempts, OutboxItem.last_error)
            .where(OutboxItem.done_at.is_(None), OutboxItem.last_error.is_not(None))
            .order_by(OutboxItem.id.desc())
            .limit(errors)
        ).all()
        return OutboxStats(pending, waiting, failed, done, [tuple(row) for row in last])


def retry_now() -> int:
    """Make failed and waiting rows due now (failed ones get a fresh set of attempts)."""
    with _session() as session:
        changed = session.execute(
            sa.update(OutboxItem)
            .where(OutboxItem.done_at.is_(None))
            .where(sa.or_(OutboxItem.failed_at.is_not(None), OutboxItem.last_error.is_not(None)))
            .values(
                next_attempt_at=utcnow(),
                locked_until=None,
                attempts=sa.case((OutboxItem.failed_at.is_not(None), 0), else_=OutboxItem.attempts),
                failed_at=None,
            )
        ).rowcount
        session.commit()
    return changed
