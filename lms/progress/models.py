"""Enrollments and progress, with per-enrollment counters kept in the same transaction as each
progress write, so dashboards and reports never aggregate raw progress rows per request."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.courses.models import Course, CourseVersion, Lesson


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"


class Enrollment(db.Model):
    __tablename__ = "enrollments"
    __table_args__ = (
        # One enrollment per person and course; it moves between versions, never duplicates.
        sa.UniqueConstraint("user_id", "course_id"),
        # Report pages: the page of an organization's enrollments first, then their joins.
        sa.Index("ix_enrollments_organization_id_id", "organization_id", "id"),
        # Every order the report offers is served by an index that starts with the
        # organization, so a page of 50 never sorts the whole organization.
        sa.Index("ix_enrollments_org_learner_name", "organization_id", "learner_name", "id"),
        sa.Index("ix_enrollments_org_learner_email", "organization_id", "learner_email", "id"),
        sa.Index("ix_enrollments_org_course", "organization_id", "course_slug", "id"),
        sa.Index("ix_enrollments_org_started", "organization_id", "started_at", "id"),
        sa.Index("ix_enrollments_org_completed", "organization_id", "completed_at", "id"),
        sa.Index("ix_enrollments_org_percent", "organization_id", "percent_complete", "id"),
        sa.Index("ix_enrollments_org_activity", "organization_id", "last_activity_at", "id"),
        sa.CheckConstraint("required_done <= required_total", name="required_done_bounded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("course_versions.id"), index=True)
    # Copies of the learner's name and email and of the course's slug (which never changes), so
    # that report pages sort and search on this table's indexes instead of joining and sorting
    # all of the organization's users. Written when enrolling; a name change is copied by
    # ``services.rename_learner``.
    learner_name: Mapped[str] = mapped_column(sa.String(200), default="")
    learner_email: Mapped[str] = mapped_column(sa.String(254), default="")
    course_slug: Mapped[str] = mapped_column(sa.String(100), default="")
    status: Mapped[str] = mapped_column(sa.String(10), default=EnrollmentStatus.ACTIVE)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Counters, kept by the progress writes (see services.mark_lesson).
    lessons_done: Mapped[int] = mapped_column(default=0)
    quizzes_passed: Mapped[int] = mapped_column(default=0)
    required_total: Mapped[int] = mapped_column(default=0)
    required_done: Mapped[int] = mapped_column(default=0)
    percent_complete: Mapped[int] = mapped_column(default=0)
    # Where "resume" takes the learner: the lesson after the last one they finished.
    resume_lesson_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lessons.id"))
    # The code of the enrollment's CURRENT certificate as people read it (ABCD-EFGH-JKMN-PQRS),
    # or None before one is issued. Written by the certificates package when it issues or
    # reissues (progress never imports it), so that the dashboard and the report show and
    # filter certificates from this table alone. A revoked certificate keeps its code here;
    # its verification page says it is revoked.
    certificate_code: Mapped[str | None] = mapped_column(sa.String(19))

    @hybrid_property
    def certified(self) -> bool:
        """A certificate was issued (``EnrollmentTally.certified`` counts by it)."""
        return self.certificate_code is not None

    @certified.inplace.expression
    @classmethod
    def _certified_expression(cls):
        return cls.certificate_code.is_not(None)

    user: Mapped[User] = relationship(lazy="raise")
    course: Mapped[Course] = relationship(lazy="raise")
    version: Mapped[CourseVersion] = relationship(lazy="raise")
    resume_lesson: Mapped[Lesson | None] = relationship(lazy="raise")


class EnrollmentTally(db.Model):
    """How many enrollments an organization has per course, status and certificate (issued
    or not), for the report's totals. Kept by triggers on ``enrollments`` in the writing
    transaction (migration a7d3e1c9b5f2), whichever code writes; nothing here writes it."""

    __tablename__ = "enrollment_tallies"

    organization_id: Mapped[int] = mapped_column(primary_key=True)
    course_slug: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    certified: Mapped[bool] = mapped_column(primary_key=True)
    n: Mapped[int]


class ProgressStatus(StrEnum):
    VIEWED = "viewed"
    COMPLETED = "completed"


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (
        sa.UniqueConstraint("enrollment_id", "lesson_id"),
        sa.Index("ix_lesson_progress_enrollment_completed", "enrollment_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"))
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lessons.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=ProgressStatus.VIEWED)
    first_viewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]  # the first completion; never moved
    time_spent_seconds: Mapped[int] = mapped_column(default=0)
    best_score: Mapped[int | None]  # quizzes
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizAttempt(db.Model):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        # The attempt number is unique: two racing submissions cannot both be attempt 3 of 3.
        sa.UniqueConstraint("enrollment_id", "lesson_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lessons.id"), index=True)
    number: Mapped[int]
    answers: Mapped[dict] = mapped_column(sa.JSON)
    score: Mapped[int]  # percent, 0..100
    passed: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
