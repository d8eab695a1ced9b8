"""Publishing: one published version per course at a time; unpublishing deletes nothing."""

import sqlalchemy as sa

from lms.core.db import utcnow
from lms.core.errors import NotFound, RuleViolation
from lms.core.extensions import db
from lms.courses.models import Course, CourseVersion


def publish_version(course: Course, version: CourseVersion, versions) -> None:
    """Make ``version`` the published one of ``versions`` (all of the course's)."""
    for other in versions:
        if other.is_published and other.id != version.id:
            other.is_published = False
    # Clear first, then set: the partial unique index allows one published row at a time.
    db.session.flush()
    version.is_published = True
    version.published_at = utcnow()


def get_course_for_admin(slug: str) -> Course:
    course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
    if course is None:
        raise NotFound("No such course.")
    return course


def set_published(course: Course, published: bool) -> CourseVersion | None:
    """Publish the newest version, or unpublish the course (nothing is deleted)."""
    versions = db.session.scalars(
        sa.select(CourseVersion)
        .where(CourseVersion.course_id == course.id)
        .order_by(CourseVersion.number)
        .with_for_update()
    ).all()
    if not versions:
        raise RuleViolation("This course has no imported version to publish.")
    if published:
        publish_version(course, versions[-1], versions)
        return versions[-1]
    for version in versions:
        version.is_published = False
    return None
