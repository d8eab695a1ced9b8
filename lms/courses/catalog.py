"""What the catalog shows to whom: the courses listed, a course's outline, a lesson with its
neighbours, quiz questions without their answers, and lesson files."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from lms.core.errors import Forbidden, NotFound
from lms.core.extensions import db
from lms.courses.models import Course, CourseAsset, CourseTopic, CourseVersion, Lesson, Module


def catalog_query(topic: str | None = None, status: str = "published", actor=None) -> sa.Select:
    """Versions to list: the published one of each course, or for admins the newest."""
    if status != "published" and not getattr(actor, "is_platform_admin", False):
        raise Forbidden("Only platform administrators can see draft courses.")
    if status == "published":
        stmt = sa.select(CourseVersion).where(CourseVersion.is_published)
    else:
        other = aliased(CourseVersion)
        newest = (
            sa.select(sa.func.max(other.number))
            .where(other.course_id == CourseVersion.course_id)
            .scalar_subquery()
        )
        stmt = sa.select(CourseVersion).where(CourseVersion.number == newest)
        if status == "draft":
            published = sa.select(other.id).where(
                other.course_id == CourseVersion.course_id, other.is_published
            )
            stmt = stmt.where(~published.exists())
    if topic:
        stmt = stmt.join(CourseTopic, CourseTopic.version_id == CourseVersion.id).where(
            CourseTopic.topic == topic
        )
    return stmt.order_by(CourseVersion.title, CourseVersion.id)


def visible_version(slug: str, actor=None, number: int | None = None) -> CourseVersion:
    """The version of a course this person may read: the published one, or for platform
    admins any version (the newest by default). Drafts are a 404 for everyone else."""
    is_admin = getattr(actor, "is_platform_admin", False)
    stmt = sa.select(CourseVersion).join(Course).where(Course.slug == slug)
    if number is not None:
        if not is_admin:
            raise NotFound("No such course.")
        stmt = stmt.where(CourseVersion.number == number)
    elif is_admin:
        stmt = stmt.order_by(CourseVersion.is_published.desc(), CourseVersion.number.desc())
    else:
        stmt = stmt.where(CourseVersion.is_published)
    version = db.session.scalars(stmt.limit(1)).first()
    if version is None:
        raise NotFound("No such course.")
    return version


def outline(version: CourseVersion) -> list[Module]:
    """Modules with their lessons, in two queries whatever the size of the course."""
    return db.session.scalars(
        sa.select(Module)
        .where(Module.version_id == version.id)
        .options(selectinload(Module.lessons).defer(Lesson.body_html).defer(Lesson.questions))
        .order_by(Module.position)
    ).all()


@dataclass
class LessonPage:
    version: CourseVersion
    lesson: Lesson
    module: Module
    previous: Lesson | None
    next: Lesson | None

    @property
    def questions(self) -> list[dict]:
        return public_questions(self.lesson)


def lesson_page(
    slug: str,
    lesson_slug: str,
    actor=None,
    number: int | None = None,
    *,
    version_id: int | None = None,
) -> LessonPage:
    """A lesson with its module and neighbours. ``version_id`` reads a given version (an
    enrollment's own, which stays readable after a newer one is published)."""
    if version_id is not None:
        version = db.session.get(CourseVersion, version_id)
        if version is None:
            raise NotFound("No such course.")
    else:
        version = visible_version(slug, actor, number)
    lesson = db.session.scalar(
        sa.select(Lesson)
        .where(Lesson.version_id == version.id, Lesson.slug == lesson_slug)
        .options(selectinload(Lesson.module))
    )
    if lesson is None:
        raise NotFound("No such lesson in this course.")
    neighbours = db.session.execute(
        sa.select(Lesson.position, Lesson.slug, Lesson.title).where(
            Lesson.version_id == version.id,
            Lesson.position.in_([lesson.position - 1, lesson.position + 1]),
        )
    ).all()
    by_position = {row.position: row for row in neighbours}
    return LessonPage(
        version=version,
        lesson=lesson,
        module=lesson.module,
        previous=by_position.get(lesson.position - 1),
        next=by_position.get(lesson.position + 1),
    )


def public_questions(lesson: Lesson) -> list[dict]:
    """Quiz questions as learners may see them before answering: no answers, no explanations."""
    return [
        {
            "id": q["id"],
            "type": q["type"],
            "prompt_html": q["prompt_html"],
            "choices": q["choices"],
        }
        for q in (lesson.questions or [])
    ]


def get_asset(slug: str, sha256: str, actor=None) -> CourseAsset:
    visible_version(slug, actor)  # a draft course's files are as hidden as the course
    asset = db.session.scalar(
        sa.select(CourseAsset)
        .join(Course, Course.id == CourseAsset.course_id)
        .where(Course.slug == slug, CourseAsset.sha256 == sha256)
    )
    if asset is None:
        raise NotFound("No such file.")
    return asset


def published_slugs(slugs: set[str]) -> set[str]:
    """Which of these course slugs are published courses (for invitations naming courses)."""
    if not slugs:
        return set()
    return set(
        db.session.scalars(
            sa.select(Course.slug)
            .join(CourseVersion, CourseVersion.course_id == Course.id)
            .where(Course.slug.in_(slugs), CourseVersion.is_published)
        )
    )


@dataclass
class CatalogPage:
    versions: list[CourseVersion]
    topics: list[str]  # the topics to filter by


def catalog_page(topic: str | None = None, limit: int = 100) -> CatalogPage:
    """The catalog page: published courses (on ``topic``, if given), and their topics."""
    versions = db.session.scalars(catalog_query(topic).limit(limit)).all()
    topics = sorted({t for v in versions for t in v.topics}) if not topic else [topic]
    return CatalogPage(versions=versions, topics=topics)


@dataclass
class AdminCourseRow:
    newest: CourseVersion  # the newest imported version
    published: CourseVersion | None  # the one learners see, if any


def admin_courses(actor, limit: int = 200) -> list[AdminCourseRow]:
    """Every course for the platform admins' page: its newest version and its published one."""
    newest = db.session.scalars(catalog_query(None, "all", actor).limit(limit)).all()
    course_ids = [version.course_id for version in newest]
    published = {
        version.course_id: version
        for version in db.session.scalars(
            sa.select(CourseVersion).where(
                CourseVersion.course_id.in_(course_ids), CourseVersion.is_published
            )
        )
    }
    return [AdminCourseRow(version, published.get(version.course_id)) for version in newest]
