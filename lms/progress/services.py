"""Enrollment and progress rules: enrolling, marking lessons, grading quizzes, completing.

Progress writes are built so that concurrent requests stay consistent without locks held in
Python: one upsert per write returns a row only if it changed something, and only then are the
enrollment's counters moved, by a single conditional UPDATE that also completes the enrollment
exactly once.
"""

import functools
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

import sqlalchemy as sa
from blinker import Namespace
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from lms.core.extensions import db
from lms.core.transaction import recover_from
from lms.courses.models import Course, CourseVersion, Lesson, LessonKind
from lms.memberships import services as memberships
from lms.memberships.models import MemberStatus, Organization, OrganizationMember
from lms.progress.models import (
    Enrollment,
    EnrollmentStatus,
    LessonProgress,
    ProgressStatus,
    QuizAttempt,
)

signals = Namespace()
# Sent once per enrollment, in the transaction that completed it (sender: the enrollment id).
# The certificates package issues the certificate on it.
enrollment_completed = signals.signal("enrollment-completed")


# -- enrolling --------------------------------------------------------------------------


def _published_version(course_slug: str) -> CourseVersion:
    version = db.session.scalar(
        sa.select(CourseVersion)
        .join(Course, Course.id == CourseVersion.course_id)
        .where(Course.slug == course_slug, CourseVersion.is_published)
    )
    if version is None:
        raise NotFound("No such course.")
    return version


def _seat_organization(user: User, organization_slug: str | None) -> Organization:
    stmt = (
        sa.select(Organization)
        .join(OrganizationMember, OrganizationMember.organization_id == Organization.id)
        .where(
            OrganizationMember.user_id == user.id,
            OrganizationMember.status == MemberStatus.ACTIVE,
            OrganizationMember.holds_seat == sa.true(),
        )
    )
    if organization_slug:
        stmt = stmt.where(Organization.slug == organization_slug)
    organizations = db.session.scalars(stmt).all()
    if not organizations:
        raise Forbidden(
            "You need a seat in an organization to enroll. Ask your OSPO for an invitation."
        )
    if len(organizations) > 1:
        raise RuleViolation(
            "You hold seats in several organizations: say which one this enrollment is for.",
            errors={"organization": [o.slug for o in organizations]},
        )
    organization = organizations[0]
    if memberships.seat_capacity(organization.id) <= 0:
        raise Forbidden(f"{organization.name}'s membership has lapsed; new enrollments wait.")
    return organization


def enroll(
    user: User, course_slug: str, organization_slug: str | None = None
) -> tuple[Enrollment, bool]:
    """Enroll in a published course's current version. Enrolling twice returns the first."""
    version = _published_version(course_slug)
    existing = _enrollment_for(user.id, version.course_id)
    if existing is not None:
        return existing, False
    organization = _seat_organization(user, organization_slug)
    required_total = db.session.scalar(
        sa.select(sa.func.count()).where(Lesson.version_id == version.id, Lesson.is_required)
    )
    first_lesson = db.session.scalar(
        sa.select(Lesson.id)
        .where(Lesson.version_id == version.id)
        .order_by(Lesson.position)
        .limit(1)
    )
    enrollment = Enrollment(
        user_id=user.id,
        learner_name=user.name,
        learner_email=user.email,
        course_slug=course_slug,
        organization_id=organization.id,
        course_id=version.course_id,
        version_id=version.id,
        required_total=required_total,
        resume_lesson_id=first_lesson,
    )
    try:
        with db.session.begin_nested():
            db.session.add(enrollment)
    except sa.exc.IntegrityError:
        # A second tab enrolled at the same moment: theirs is ours.
        existing = _enrollment_for(user.id, version.course_id)
        if existing is None:
            raise
        return existing, False
    return enrollment, True


def _enrollment_for(user_id: int, course_id: int) -> Enrollment | None:
    return db.session.scalar(
        sa.select(Enrollment).where(
            Enrollment.user_id == user_id, Enrollment.course_id == course_id
        )
    )


def rename_learner(user: User) -> None:
    """Copy a changed name onto the person's enrollments (the report sorts by the copy)."""
    db.session.execute(
        sa.update(Enrollment)
        .where(Enrollment.user_id == user.id)
        .values(learner_name=user.name)
        .execution_options(synchronize_session=False)
    )


def enroll_from_invitation(invitation, member) -> None:
    """Invitations that named courses enroll the learner when accepted."""
    if not member.holds_seat or not invitation.courses:
        return
    user = db.session.get(User, member.user_id)
    organization = db.session.get(Organization, member.organization_id)
    for slug in invitation.courses:
        # A course unpublished since the invitation: nothing to enroll in, the rest goes on.
        with recover_from(NotFound, Forbidden):
            enroll(user, slug, organization.slug)


# -- seats gate learning ----------------------------------------------------------------


def _seat_lost(organization_id: int) -> Forbidden:
    """The 403 for a progress write without a seat (built on the refusal path only)."""
    name = db.session.scalar(sa.select(Organization.name).where(Organization.id == organization_id))
    return Forbidden(
        f"You no longer hold a seat at {name}: your progress so far is kept and readable; "
        "ask your OSPO admins for a seat to continue."
    )


def seat_problem(user: User, enrollment) -> str | None:
    """Why ``user`` may not write progress in ``enrollment`` (None when they hold a seat in
    its organization): for pages that show the reason instead of the write buttons."""
    held = db.session.scalar(
        sa.select(OrganizationMember.id).where(
            OrganizationMember.organization_id == enrollment.organization_id,
            OrganizationMember.user_id == user.id,
            OrganizationMember.status == MemberStatus.ACTIVE,
            OrganizationMember.holds_seat == sa.true(),
        )
    )
    return None if held else _seat_lost(enrollment.organization_id).message


def _require_seat(user: User, enrollment) -> None:
    problem = seat_problem(user, enrollment)
    if problem:
        raise Forbidden(problem)


# -- reading ----------------------------------------------------------------------------


@dataclass
class EnrollmentRow:
    """An enrollment with what a dashboard shows about it, loaded in one query."""

    enrollment: Enrollment
    course_slug: str
    title: str
    version: str
    version_number: int
    resume_slug: str | None
    resume_title: str | None
    newer_version: str | None

    @property
    def next_lesson(self) -> dict | None:
        """Where to go on: the resume point, except that a completed enrollment has no next
        lesson (its resume point stays, to review the course from)."""
        if self.resume_slug is None or self.enrollment.status == EnrollmentStatus.COMPLETED:
            return None
        return {"slug": self.resume_slug, "title": self.resume_title}


@functools.cache
def _rows_query() -> sa.Select:
    """Built once: statements are immutable, and building this one (with its aliases) costs
    more than running it. Callers add their ``where`` to a copy."""
    resume = aliased(Lesson)
    newer = aliased(CourseVersion)
    return (
        sa.select(
            Enrollment,
            Course.slug,
            CourseVersion.title,
            CourseVersion.label,
            CourseVersion.number,
            resume.slug,
            resume.title,
            newer.label,
        )
        .join(CourseVersion, CourseVersion.id == Enrollment.version_id)
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(resume, resume.id == Enrollment.resume_lesson_id)
        .outerjoin(
            newer,
            sa.and_(
                newer.course_id == Enrollment.course_id,
                newer.is_published,
                newer.number > CourseVersion.number,
            ),
        )
    )


_ENROLLMENT_COLUMNS = tuple(Enrollment.__table__.c.keys())


@functools.cache
def _dashboard_query() -> sa.Select:
    """The same joins as ``_rows_query`` with plain columns instead of the ORM entity: the
    dashboard only reads, and loading entities cost a fifth of the request."""
    base = _rows_query()
    return (
        # selected_columns expands the entity into its columns first; the rest follow.
        base.with_only_columns(
            *Enrollment.__table__.c, *list(base.selected_columns)[len(_ENROLLMENT_COLUMNS) :]
        )
        .where(Enrollment.user_id == sa.bindparam("b_user_id"))
        .order_by(Enrollment.status, Enrollment.last_activity_at.desc())
    )


def my_enrollments(user: User) -> list[EnrollmentRow]:
    """The learner's dashboard: one query however many enrollments."""
    width = len(_ENROLLMENT_COLUMNS)
    rows = db.session.execute(_dashboard_query(), {"b_user_id": user.id}).all()
    return [
        EnrollmentRow(
            SimpleNamespace(**dict(zip(_ENROLLMENT_COLUMNS, row[:width], strict=True))),
            *row[width:],
        )
        for row in rows
    ]


def get_enrollment_row(user: User, enrollment_id: int) -> EnrollmentRow:
    row = db.session.execute(
        _rows_query().where(Enrollment.id == enrollment_id, Enrollment.user_id == user.id)
    ).first()
    if row is None:
        raise NotFound("No such enrollment.")
    return EnrollmentRow(*row)


def lesson_states(enrollment: Enrollment) -> dict[int, LessonProgress]:
    rows = db.session.scalars(
        sa.select(LessonProgress).where(LessonProgress.enrollment_id == enrollment.id)
    )
    return {row.lesson_id: row for row in rows}


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


def _enrollment_and_lesson(user: User, enrollment_id: int, lesson_slug: str):
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
        raise _seat_lost(row.e_organization_id)
    enrollment = EnrollmentRef(row.e_id, row.e_status, row.e_percent_complete)
    lesson = LessonRef(*(getattr(row, f"l_{name}") for name in _LESSON_FIELDS))
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
    more than running it). See ``_write_progress``."""
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


def _write_progress(
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
    enrollment, lesson = _enrollment_and_lesson(user, enrollment_id, lesson_slug)
    completing = status == ProgressStatus.COMPLETED
    if completing and lesson.kind == LessonKind.QUIZ:
        raise RuleViolation(
            "A quiz is completed by passing it: submit an attempt.",
            errors={"status": ["quizzes complete through attempts"]},
        )
    now = utcnow()
    completed_at, changed = _write_progress(
        enrollment, lesson, completed=completing, time_spent=time_spent, score=None, now=now
    )
    newly_completed = changed and completed_at == now
    return _finish_write(enrollment, lesson, changed, newly_completed, completed_at, now)


def _finish_write(enrollment, lesson, changed, newly_completed, completed_at, now):
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


# -- quizzes ----------------------------------------------------------------------------


@dataclass
class AttemptResult:
    attempt: QuizAttempt
    pass_mark: int
    attempts_left: int | None
    best_score: int
    questions: list[dict]
    progress: ProgressResult


def _check_answers(lesson: Lesson, answers) -> dict[str, list[str]]:
    """The answers' shape and ids, per question; 422 with a message per problem."""
    if not isinstance(answers, dict):
        raise RuleViolation(
            "Send answers as an object: question id -> list of choice ids.",
            errors={"answers": ["must be an object"]},
        )
    questions = {q["id"]: q for q in lesson.questions or []}
    errors: dict[str, list[str]] = {}
    for qid in answers:
        if qid not in questions:
            errors[str(qid)] = ["no such question in this quiz"]
    for qid, question in questions.items():
        given = answers.get(qid)
        if given is None:
            errors[qid] = ["missing answer"]
            continue
        if not isinstance(given, list) or not all(isinstance(c, str) for c in given) or not given:
            errors[qid] = ["must be a non-empty list of choice ids"]
            continue
        choice_ids = {c["id"] for c in question["choices"]}
        unknown = [c for c in given if c not in choice_ids]
        if unknown:
            errors[qid] = [f"no such choice: {', '.join(unknown)}"]
        elif question["type"] == "single" and len(given) != 1:
            errors[qid] = ["choose exactly one answer"]
        elif len(set(given)) != len(given):
            errors[qid] = ["a choice is listed twice"]
    if errors:
        raise RuleViolation("Some answers are not valid.", errors={"answers": errors})
    return {qid: sorted(set(answers[qid])) for qid in questions}


def submit_attempt(user: User, enrollment_id: int, lesson_slug: str, answers) -> AttemptResult:
    """Grade on the server; the best score counts; attempts may be limited (409 beyond)."""
    enrollment, lesson = _enrollment_and_lesson(user, enrollment_id, lesson_slug)
    if lesson.kind != LessonKind.QUIZ:
        raise NotFound("This lesson is not a quiz.")
    given = _check_answers(lesson, answers)
    used = db.session.scalar(
        sa.select(sa.func.count()).where(
            QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.lesson_id == lesson.id
        )
    )
    if lesson.max_attempts is not None and used >= lesson.max_attempts:
        raise Conflict(f"No attempts left: this quiz allows {lesson.max_attempts}.")
    results, correct_count = [], 0
    for question in lesson.questions:
        right = sorted(question["answer"])
        is_correct = given[question["id"]] == right
        correct_count += is_correct
        results.append(
            {"question": question, "given": given[question["id"]], "correct": is_correct}
        )
    questions_total = len(lesson.questions) or 1
    score = (correct_count * 100) // questions_total
    pass_mark = lesson.pass_mark if lesson.pass_mark is not None else 70
    passed = score >= pass_mark
    attempt = QuizAttempt(
        enrollment_id=enrollment.id,
        lesson_id=lesson.id,
        number=used + 1,  # unique with the enrollment and quiz: a racing twin gets 409
        answers=given,
        score=score,
        passed=passed,
    )
    db.session.add(attempt)
    db.session.flush()
    now = utcnow()
    completed_at, changed = _write_progress(
        enrollment, lesson, completed=passed, time_spent=0, score=score, now=now
    )
    newly_completed = changed and passed and completed_at == now
    progress = _finish_write(enrollment, lesson, True, newly_completed, completed_at, now)
    attempts_left = None if lesson.max_attempts is None else lesson.max_attempts - attempt.number
    reveal = passed or attempts_left == 0
    best_score = db.session.scalar(
        sa.select(sa.func.max(QuizAttempt.score)).where(
            QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.lesson_id == lesson.id
        )
    )
    return AttemptResult(
        attempt=attempt,
        pass_mark=pass_mark,
        attempts_left=attempts_left,
        best_score=best_score,
        questions=[
            {
                "id": r["question"]["id"],
                "correct": r["correct"],
                "your_answer": r["given"],
                # The right choices once they can no longer be used to pass by trying again.
                "correct_answer": r["question"]["answer"] if reveal else None,
                "explanation_html": r["question"]["explanation_html"],
            }
            for r in results
        ],
        progress=progress,
    )


# -- moving to a newer version ----------------------------------------------------------


def upgrade(user: User, enrollment_id: int) -> Enrollment:
    """Move to the course's published version when it is newer than the enrollment's,
    keeping progress for lessons whose slug is in both. The old progress rows stay where
    they are: nothing is lost. (An older version published again is never a move forward.)"""
    row = get_enrollment_row(user, enrollment_id)
    enrollment = row.enrollment
    _require_seat(user, enrollment)
    target = db.session.scalar(
        sa.select(CourseVersion).where(
            CourseVersion.course_id == enrollment.course_id, CourseVersion.is_published
        )
    )
    if target is None or target.number <= row.version_number:
        raise Conflict("You are already on the newest version of this course.")
    if enrollment.status == EnrollmentStatus.COMPLETED:
        raise Conflict("This enrollment is complete; its certificate names the version you took.")
    old = {
        lesson.slug: lesson
        for lesson in db.session.scalars(
            sa.select(Lesson).where(Lesson.version_id == enrollment.version_id)
        )
    }
    progress = lesson_states(enrollment)
    new_lessons = db.session.scalars(
        sa.select(Lesson).where(Lesson.version_id == target.id).order_by(Lesson.position)
    ).all()
    carried = []
    for lesson in new_lessons:
        before = old.get(lesson.slug)
        state = progress.get(before.id) if before else None
        if state is not None:
            carried.append(
                LessonProgress(
                    enrollment_id=enrollment.id,
                    lesson_id=lesson.id,
                    status=state.status,
                    first_viewed_at=state.first_viewed_at,
                    completed_at=state.completed_at,
                    time_spent_seconds=state.time_spent_seconds,
                    best_score=state.best_score,
                )
            )
    db.session.add_all(carried)
    done = {p.lesson_id for p in carried if p.completed_at}
    enrollment.version_id = target.id
    enrollment.required_total = sum(1 for lesson in new_lessons if lesson.is_required)
    enrollment.required_done = sum(
        1 for lesson in new_lessons if lesson.is_required and lesson.id in done
    )
    enrollment.lessons_done = sum(
        1 for lesson in new_lessons if lesson.id in done and lesson.kind == LessonKind.LESSON
    )
    enrollment.quizzes_passed = sum(
        1 for lesson in new_lessons if lesson.id in done and lesson.kind == LessonKind.QUIZ
    )
    enrollment.percent_complete = (
        100
        if not enrollment.required_total
        else enrollment.required_done * 100 // enrollment.required_total
    )
    enrollment.resume_lesson_id = next(
        (lesson.id for lesson in new_lessons if lesson.id not in done), new_lessons[-1].id
    )
    enrollment.last_activity_at = utcnow()
    db.session.flush()
    if enrollment.required_done >= enrollment.required_total:
        enrollment.status = EnrollmentStatus.COMPLETED
        enrollment.completed_at = utcnow()
        db.session.flush()
        enrollment_completed.send(enrollment.id)
    return enrollment


def lesson_overview(enrollment: Enrollment) -> list[dict]:
    """Every lesson of the enrollment's version with the learner's state of it."""
    states = lesson_states(enrollment)
    lessons = db.session.scalars(
        sa.select(Lesson)
        .where(Lesson.version_id == enrollment.version_id)
        .order_by(Lesson.position)
    ).all()
    overview = []
    for lesson in lessons:
        state = states.get(lesson.id)
        overview.append(
            {
                "id": lesson.id,
                "slug": lesson.slug,
                "title": lesson.title,
                "kind": lesson.kind,
                "required": lesson.is_required,
                "status": "not_started"
                if state is None
                else (ProgressStatus.COMPLETED if state.completed_at else ProgressStatus.VIEWED),
                "completed_at": state.completed_at if state else None,
                "best_score": state.best_score if state else None,
            }
        )
    return overview
