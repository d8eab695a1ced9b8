"""Lesson progress, the hot path: marking a lesson viewed or completed and moving the
enrollment's counters (quizzes write through here too, see ``quizzes``).

Progress writes are built so that concurrent requests stay consistent without locks held in
Python: one upsert per write returns a row only if it changed something, and only then are the
enrollment's counters moved, by a single conditional UPDATE that also completes the enrollment
exactly once. The statements are built once with bind parameters (building one costs more
than running it) and run on the session's connection; ``tests/progress`` pins the budget.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.errors import NotFound, RuleViolation
from lms.core.extensions import db
from lms.courses.models import Lesson, LessonKind
from lms.memberships.models import MemberStatus, OrganizationMember
from lms.progress.models import Enrollment, EnrollmentStatus, LessonProgress, ProgressStatus
from lms.progress.seats import seat_lost
from lms.progress.signals import enrollment_completed

# -- what a write needs, in one query -----------------------------------------------------


@dataclass(slots=True)
class EnrollmentRef:
    """What a progress write needs of an enrollment (a row, not an ORM object: cheaper)."""

    id: int
    status: str
    percent_complete: int


@dataclass(slots=True)
class LessonRef:
    """What a progress write needs of a lesson."""

    id: int
    slug: str
    kind: str
    is_required: bool
    position: int
    version_id: int
    questions: list | None
    pass_mark: int | None
    max_attempts: int | None


_LESSON_FIELDS = ("id", "slug", "kind", "is_required", "position", "version_id", "questions",
                  "pass_mark", "max_attempts")  # fmt: skip


@functools.cache
def _enrollment_and_lesson_query() -> sa.Select:
    # The seat check rides along as an outer join (``m_id`` is NULL without a seat in the
    # enrollment's organization): the hot path keeps its statement budget.
    seat = sa.and_(
        OrganizationMember.organization_id == Enrollment.organization_id,
        OrganizationMember.user_id == Enrollment.user_id,
        OrganizationMember.status == MemberStatus.ACTIVE.value,
        OrganizationMember.holds_seat == sa.true(),
    )
    return (
        sa.select(
            Enrollment.id.label("e_id"),
            Enrollment.status.label("e_status"),
            Enrollment.percent_complete.label("e_percent_complete"),
            Enrollment.organization_id.label("e_organization_id"),
            OrganizationMember.id.label("m_id"),
            *(getattr(Lesson, name).label(f"l_{name}") for name in _LESSON_FIELDS),
        )
        .join(Lesson, Lesson.version_id == Enrollment.version_id)
        .outerjoin(OrganizationMember, seat)
        .where(
            Enrollment.id == sa.bindparam("b_enrollment_id"),
            Enrollment.user_id == sa.bindparam("b_user_id"),
            Lesson.slug == sa.bindparam("b_slug"),
        )
    )


def enrollment_and_lesson(
    user: User, enrollment_id: int, lesson_slug: str
) -> tuple[EnrollmentRef, LessonRef]:
    """The caller's enrollment and a lesson of its version, in one query (404 otherwise), for
    a progress write: 403 unless the caller holds a seat in the enrollment's organization."""
    # Plain columns, so the session's connection runs it without the ORM's execute machinery.
    row = (
        db.session.connection()
        .execute(
            _enrollment_and_lesson_query(),
            {"b_enrollment_id": enrollment_id, "b_user_id": user.id, "b_slug": lesson_slug},
        )
        .first()
    )
    if row is None:
        raise NotFound("No such lesson in this enrollment.")
    if row.m_id is None:
        raise seat_lost(row.e_organization_id)
    enrollment = EnrollmentRef(row.e_id, row.e_status, row.e_percent_complete)
    lesson = LessonRef(**{name: getattr(row, f"l_{name}") for name in _LESSON_FIELDS})
    return enrollment, lesson


# -- progress writes --------------------------------------------------------------------


def _larger(new, old):
    return sa.case((new > old, new), else_=old)


@dataclass
class ProgressResult:
    enrollment_id: int
    lesson_slug: str
    status: str
    completed_at: datetime | None
    enrollment_status: str
    percent_complete: int
    changed: bool
    just_completed_course: bool


@functools.cache
def _progress_upsert(dialect: str):
    """The progress upsert, built once per dialect with bind parameters (building it costs
    more than running it). See ``write_progress``."""
    # On the Core table: the ORM-enabled insert goes through bulk-persistence machinery that
    # costs more than the statement itself.
    table = LessonProgress.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    p = sa.bindparam
    insert = insert.values(
        enrollment_id=p("b_enrollment_id"),
        lesson_id=p("b_lesson_id"),
        status=p("b_status"),
        first_viewed_at=p("b_now", type_=table.c.first_viewed_at.type),
        completed_at=p("b_completed_at", type_=table.c.completed_at.type),
        time_spent_seconds=p("b_time_spent"),
        best_score=p("b_score", type_=sa.Integer()),
        updated_at=p("b_now", type_=table.c.updated_at.type),
    )
    new = insert.excluded
    completes_now = sa.and_(p("b_completing", type_=sa.Boolean()), table.c.completed_at.is_(None))
    better_score = sa.and_(
        new.best_score.is_not(None),
        new.best_score > sa.func.coalesce(table.c.best_score, -1),
    )
    return insert.on_conflict_do_update(
        index_elements=[table.c.enrollment_id, table.c.lesson_id],
        set_={
            "status": sa.case(
                (completes_now, ProgressStatus.COMPLETED.value), else_=table.c.status
            ),
            "completed_at": sa.case((completes_now, new.completed_at), else_=table.c.completed_at),
            "time_spent_seconds": _larger(new.time_spent_seconds, table.c.time_spent_seconds),
            "best_score": sa.case((better_score, new.best_score), else_=table.c.best_score),
            "updated_at": new.updated_at,
        },
        where=sa.or_(
            completes_now,
            new.time_spent_seconds > table.c.time_spent_seconds,
            better_score,
        ),
    ).returning(table.c.completed_at)


def write_progress(
    enrollment: EnrollmentRef,
    lesson: LessonRef,
    *,
    completed: bool,
    time_spent: int,
    score: int | None,
    now: datetime,
):
    """Upsert the progress row; returns (completed_at, changed) of what the row now says.

    The row is only touched when something changes (first view, more time, a completion, a
    better score), so the same request twice changes nothing the second time. The first
    completion time is never moved.
    """
    # Core statements run on the session's connection (same transaction): the ORM session's
    # execute machinery costs more than these statements need.
    connection = db.session.connection()
    stmt = _progress_upsert(connection.dialect.name)
    row = connection.execute(
        stmt,
        {
            "b_enrollment_id": enrollment.id,
            "b_lesson_id": lesson.id,
            "b_status": ProgressStatus.COMPLETED if completed else ProgressStatus.VIEWED,
            "b_now": now,
            "b_completed_at": now if completed else None,
            "b_time_spent": time_spent,
            "b_score": score,
            "b_completing": completed,
        },
    ).first()
    if row is not None:
        return row.completed_at, True
    # Nothing changed (a repeated request): report what the row already says.
    completed_at = connection.execute(
        _progress_completed_at(), {"b_enrollment_id": enrollment.id, "b_lesson_id": lesson.id}
    ).scalar()
    return completed_at, False


@functools.cache
def _progress_completed_at() -> sa.Select:
    table = LessonProgress.__table__
    return sa.select(table.c.completed_at).where(
        table.c.enrollment_id == sa.bindparam("b_enrollment_id"),
        table.c.lesson_id == sa.bindparam("b_lesson_id"),
    )


@functools.cache
def _counters_update():
    """The enrollment's counters in one UPDATE, built once with bind parameters: activity,
    counts, percent, resume point, and completion exactly once (see ``_move_counters``)."""
    table = Enrollment.__table__
    p = sa.bindparam
    now = p("b_now", type_=table.c.last_activity_at.type)
    required_done = table.c.required_done + p("b_done_required", type_=sa.Integer())
    finishes = sa.and_(
        table.c.status == EnrollmentStatus.ACTIVE.value,
        required_done >= table.c.required_total,
    )
    following = (
        sa.select(Lesson.id)
        .where(Lesson.version_id == p("b_version_id"), Lesson.position > p("b_position"))
        .order_by(Lesson.position)
        .limit(1)
        .scalar_subquery()
    )
    lesson_id = p("b_lesson_id", type_=sa.Integer())
    resume = sa.case(
        (p("b_newly_completed", type_=sa.Boolean()), sa.func.coalesce(following, lesson_id)),
        else_=lesson_id,
    )
    return (
        sa.update(table)
        .where(table.c.id == p("b_enrollment_id"))
        .values(
            last_activity_at=now,
            lessons_done=table.c.lessons_done + p("b_done_lessons", type_=sa.Integer()),
            quizzes_passed=table.c.quizzes_passed + p("b_done_quizzes", type_=sa.Integer()),
            required_done=required_done,
            percent_complete=sa.case(
                (table.c.required_total == 0, 100),
                else_=(required_done * 100) // table.c.required_total,
            ),
            status=sa.case((finishes, EnrollmentStatus.COMPLETED.value), else_=table.c.status),
            completed_at=sa.case((finishes, now), else_=table.c.completed_at),
            resume_lesson_id=resume,
        )
        .returning(table.c.status, table.c.completed_at, table.c.percent_complete)
    )


def _move_counters(
    enrollment: EnrollmentRef,
    lesson: LessonRef,
    *,
    newly_completed: bool,
    now: datetime,
) -> tuple[str, int, bool]:
    is_quiz = lesson.kind == LessonKind.QUIZ
    row = (
        db.session.connection()
        .execute(
            _counters_update(),
            {
                "b_enrollment_id": enrollment.id,
                "b_now": now,
                "b_done_lessons": 1 if newly_completed and not is_quiz else 0,
                "b_done_quizzes": 1 if newly_completed and is_quiz else 0,
                "b_done_required": 1 if newly_completed and lesson.is_required else 0,
                "b_version_id": lesson.version_id,
                "b_position": lesson.position,
                "b_lesson_id": lesson.id,
                "b_newly_completed": newly_completed,
            },
        )
        .one()
    )
    just_completed = row.status == EnrollmentStatus.COMPLETED and row.completed_at == now
    return row.status, row.percent_complete, just_completed


def mark_lesson(
    user: User, enrollment_id: int, lesson_slug: str, status: str, time_spent: int = 0
) -> ProgressResult:
    """Record a lesson as viewed or completed (idempotent). Quizzes complete by passing."""
    enrollment, lesson = enrollment_and_lesson(user, enrollment_id, lesson_slug)
    completing = status == ProgressStatus.COMPLETED
    if completing and lesson.kind == LessonKind.QUIZ:
        raise RuleViolation(
            "A quiz is completed by passing it: submit an attempt.",
            errors={"status": ["quizzes complete through attempts"]},
        )
    now = utcnow()
    completed_at, changed = write_progress(
        enrollment, lesson, completed=completing, time_spent=time_spent, score=None, now=now
    )
    newly_completed = changed and completed_at == now
    return finish_write(enrollment, lesson, changed, newly_completed, completed_at, now)


def finish_write(
    enrollment: EnrollmentRef,
    lesson: LessonRef,
    changed: bool,
    newly_completed: bool,
    completed_at: datetime | None,
    now: datetime,
) -> ProgressResult:
    """After ``write_progress``: move the counters when the row changed, announce a course
    completed by this write, and say what the lesson and the enrollment now are."""
    if changed:
        status, percent, just_completed = _move_counters(
            enrollment, lesson, newly_completed=newly_completed, now=now
        )
    else:
        status, percent, just_completed = (
            enrollment.status,
            enrollment.percent_complete,
            False,
        )
    if just_completed:
        enrollment_completed.send(enrollment.id)
    return ProgressResult(
        enrollment_id=enrollment.id,
        lesson_slug=lesson.slug,
        status=ProgressStatus.COMPLETED
        if completed_at or newly_completed
        else ProgressStatus.VIEWED,
        completed_at=completed_at,
        enrollment_status=status,
        percent_complete=percent,
        changed=changed,
        just_completed_course=just_completed,
    )
