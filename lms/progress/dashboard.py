"""What a learner reads: their enrollments (the dashboard), one enrollment with the state of
every lesson, and a lesson inside an enrollment (the learning page)."""

import functools
from dataclasses import dataclass, fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from lms.accounts.models import User
from lms.core.errors import NotFound
from lms.core.extensions import db
from lms.courses import services as courses
from lms.courses.models import Course, CourseVersion, Lesson
from lms.progress.certificate_links import CertificateLinks, certificate_links
from lms.progress.lesson_progress import mark_lesson
from lms.progress.models import (
    Enrollment,
    EnrollmentStatus,
    LessonProgress,
    ProgressStatus,
    QuizAttempt,
)
from lms.progress.seats import seat_problem


@dataclass(slots=True)
class EnrollmentRow:
    """An enrollment with what a dashboard shows about it, read in one query of plain,
    labelled columns (loading ORM entities cost a fifth of the dashboard request). The field
    names are the column labels of ``_rows_query``."""

    id: int
    organization_id: int
    version_id: int
    status: str
    percent_complete: int
    lessons_done: int
    quizzes_passed: int
    required_done: int
    required_total: int
    started_at: datetime
    last_activity_at: datetime
    completed_at: datetime | None
    course_slug: str
    title: str
    version: str
    version_number: int
    resume_slug: str | None
    resume_title: str | None
    newer_version: str | None
    certificate_code: str | None

    @property
    def certificate(self) -> CertificateLinks | None:
        """The links of the enrollment's current certificate (None before one is issued)."""
        return certificate_links(self.certificate_code)

    @property
    def next_lesson(self) -> dict | None:
        """Where to go on: the resume point, except that a completed enrollment has no next
        lesson (its resume point stays, to review the course from)."""
        if self.resume_slug is None or self.status == EnrollmentStatus.COMPLETED:
            return None
        return {"slug": self.resume_slug, "title": self.resume_title}


@dataclass(slots=True)
class EnrollmentDetail(EnrollmentRow):
    """An enrollment row with every lesson of its version and the learner's state of it."""

    lessons: list[dict]


@functools.cache
def _rows_query() -> sa.Select:
    """Built once: statements are immutable, and building this one (with its aliases) costs
    more than running it. Every column is labelled with its ``EnrollmentRow`` field."""
    resume = aliased(Lesson)
    newer = aliased(CourseVersion)
    enrollment_fields = ("id", "organization_id", "version_id", "status", "percent_complete",
                         "lessons_done", "quizzes_passed", "required_done", "required_total",
                         "started_at", "last_activity_at", "completed_at",
                         "certificate_code")  # fmt: skip
    columns = {
        **{name: getattr(Enrollment, name) for name in enrollment_fields},
        "course_slug": Course.slug,
        "title": CourseVersion.title,
        "version": CourseVersion.label,
        "version_number": CourseVersion.number,
        "resume_slug": resume.slug,
        "resume_title": resume.title,
        "newer_version": newer.label,
    }
    return (
        sa.select(*(column.label(name) for name, column in columns.items()))
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


@functools.cache
def _dashboard_query() -> sa.Select:
    return (
        _rows_query()
        .where(Enrollment.user_id == sa.bindparam("b_user_id"))
        .order_by(Enrollment.status, Enrollment.last_activity_at.desc())
    )


@functools.cache
def _one_row_query() -> sa.Select:
    return _rows_query().where(
        Enrollment.id == sa.bindparam("b_enrollment_id"),
        Enrollment.user_id == sa.bindparam("b_user_id"),
    )


def my_enrollments(user: User) -> list[EnrollmentRow]:
    """The learner's dashboard: one query however many enrollments."""
    rows = db.session.execute(_dashboard_query(), {"b_user_id": user.id}).mappings()
    return [EnrollmentRow(**row) for row in rows]


def get_enrollment_row(user: User, enrollment_id: int) -> EnrollmentRow:
    """One of the learner's enrollments (404 for anyone else's)."""
    row = (
        db.session.execute(
            _one_row_query(), {"b_enrollment_id": enrollment_id, "b_user_id": user.id}
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("No such enrollment.")
    return EnrollmentRow(**row)


def lesson_states(enrollment_id: int) -> dict[int, LessonProgress]:
    """The learner's progress rows of an enrollment, by lesson id."""
    rows = db.session.scalars(
        sa.select(LessonProgress).where(LessonProgress.enrollment_id == enrollment_id)
    )
    return {row.lesson_id: row for row in rows}


def enrollment_detail(user: User, enrollment_id: int) -> EnrollmentDetail:
    """One of the learner's enrollments with every lesson of its version and its state."""
    row = get_enrollment_row(user, enrollment_id)
    states = lesson_states(row.id)
    lessons = db.session.scalars(
        sa.select(Lesson).where(Lesson.version_id == row.version_id).order_by(Lesson.position)
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
    values = {field.name: getattr(row, field.name) for field in fields(EnrollmentRow)}
    return EnrollmentDetail(**values, lessons=overview)


@dataclass
class LessonInEnrollment:
    """What the learning page shows: the enrollment, the lesson of the enrollment's own
    version, the learner's state of it (None before the first visit), and why the learner may
    not write progress (None while they hold a seat)."""

    row: EnrollmentRow
    page: courses.LessonPage
    state: LessonProgress | None
    seat_problem: str | None
    attempts_used: int = 0  # quizzes: the attempts so far (the form names the next one)


def lesson_in_enrollment(user: User, enrollment_id: int, lesson_slug: str) -> LessonInEnrollment:
    """A lesson inside one of the learner's enrollments (404 otherwise)."""
    row = get_enrollment_row(user, enrollment_id)
    page = courses.lesson_page(row.course_slug, lesson_slug, version_id=row.version_id)
    attempts = 0
    if page.lesson.is_quiz:
        attempts = db.session.scalar(
            sa.select(sa.func.count()).where(
                QuizAttempt.enrollment_id == row.id, QuizAttempt.lesson_id == page.lesson.id
            )
        )
    return LessonInEnrollment(
        row=row,
        page=page,
        state=lesson_states(row.id).get(page.lesson.id),
        seat_problem=seat_problem(user, row.organization_id),
        attempts_used=attempts,
    )


def open_lesson(user: User, enrollment_id: int, lesson_slug: str) -> LessonInEnrollment:
    """``lesson_in_enrollment``, and the first visit of a learner with a seat records the
    lesson as viewed (the page still shows the state from before the visit)."""
    lesson = lesson_in_enrollment(user, enrollment_id, lesson_slug)
    if lesson.state is None and lesson.seat_problem is None:
        mark_lesson(user, enrollment_id, lesson_slug, ProgressStatus.VIEWED)
    return lesson
