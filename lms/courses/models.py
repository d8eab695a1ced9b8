"""Courses, their immutable versions, modules, lessons and quizzes, and stored lesson files.

A ``Course`` is the stable identity (its slug); each import of changed content adds a
``CourseVersion`` whose modules and lessons never change afterwards, because enrollments and
certificates point at them. Nothing here is ever hard-deleted: unpublishing hides a course.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import TimestampMixin, utcnow
from lms.core.extensions import db


class LessonKind(StrEnum):
    LESSON = "lesson"
    QUIZ = "quiz"


class Course(TimestampMixin, db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)
    # Title and summary of the newest version, for admin lists; learners see the version's.
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")

    versions: Mapped[list["CourseVersion"]] = relationship(
        back_populates="course", order_by="CourseVersion.number", lazy="raise"
    )


class CourseVersion(db.Model):
    __tablename__ = "course_versions"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "number"),
        sa.UniqueConstraint("course_id", "content_hash"),
        sa.UniqueConstraint("course_id", "label"),
        # At most one published version per course.
        sa.Index(
            "uq_course_versions_published",
            "course_id",
            unique=True,
            sqlite_where=sa.text("is_published"),
            postgresql_where=sa.text("is_published"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    number: Mapped[int]  # 1, 2, 3 ... in import order
    label: Mapped[str] = mapped_column(sa.String(50))  # the author's "version" from course.yaml
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text)
    topics: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    estimated_hours: Mapped[float]
    pass_mark: Mapped[int]
    lesson_count: Mapped[int] = mapped_column(default=0)
    quiz_count: Mapped[int] = mapped_column(default=0)
    total_minutes: Mapped[int] = mapped_column(default=0)
    is_published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)

    course: Mapped[Course] = relationship(back_populates="versions", lazy="joined", innerjoin=True)
    modules: Mapped[list["Module"]] = relationship(
        back_populates="version", order_by="Module.position", lazy="raise"
    )
    lessons: Mapped[list["Lesson"]] = relationship(
        back_populates="version", order_by="Lesson.position", lazy="raise"
    )


class CourseTopic(db.Model):
    """One row per (published-or-not) version and topic, so the catalog filters in SQL."""

    __tablename__ = "course_topics"

    version_id: Mapped[int] = mapped_column(sa.ForeignKey("course_versions.id"), primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(60), primary_key=True, index=True)


class Module(db.Model):
    __tablename__ = "course_modules"
    __table_args__ = (
        sa.UniqueConstraint("version_id", "slug"),
        sa.UniqueConstraint("version_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("course_versions.id"), index=True)
    position: Mapped[int]
    slug: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")

    version: Mapped[CourseVersion] = relationship(back_populates="modules")
    lessons: Mapped[list["Lesson"]] = relationship(
        back_populates="module", order_by="Lesson.position", lazy="raise"
    )


class Lesson(db.Model):
    """A lesson or a quiz. Quiz questions, answers included, live in ``questions`` and are
    only ever sent to clients without the answers."""

    __tablename__ = "lessons"
    __table_args__ = (
        sa.UniqueConstraint("version_id", "slug"),
        sa.UniqueConstraint("version_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("course_versions.id"), index=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("course_modules.id"), index=True)
    position: Mapped[int]  # order across the whole course, from 1
    slug: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[LessonKind] = mapped_column(sa.String(10))
    title: Mapped[str] = mapped_column(sa.String(200))
    minutes: Mapped[int]
    is_required: Mapped[bool] = mapped_column(default=True)
    source_path: Mapped[str] = mapped_column(sa.String(300))
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    pass_mark: Mapped[int | None]
    max_attempts: Mapped[int | None]
    questions: Mapped[list | None] = mapped_column(sa.JSON)

    version: Mapped[CourseVersion] = relationship(back_populates="lessons")
    module: Mapped[Module] = relationship(back_populates="lessons")

    @property
    def is_quiz(self) -> bool:
        return self.kind == LessonKind.QUIZ


class CourseAsset(db.Model):
    """A file a lesson shows or links to, stored by content hash (shared across versions)."""

    __tablename__ = "course_assets"
    __table_args__ = (sa.UniqueConstraint("course_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    media_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
