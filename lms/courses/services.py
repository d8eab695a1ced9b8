"""Course rules: importing versions, publishing, and what the catalog shows to whom."""

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, selectinload

from lms.core.db import utcnow
from lms.core.errors import Forbidden, NotFound, RuleViolation
from lms.core.extensions import db
from lms.courses import archives
from lms.courses.loader import CourseFormatError, CourseSpec, load_course
from lms.courses.models import (
    Course,
    CourseAsset,
    CourseTopic,
    CourseVersion,
    Lesson,
    LessonKind,
    Module,
)


@dataclass
class ImportResult:
    course: Course
    version: CourseVersion
    created: bool  # False: the same content was already imported

    @property
    def status(self) -> str:
        return "created" if self.created else "unchanged"


def _format_problems(exc: CourseFormatError) -> RuleViolation:
    count = len(exc.problems)
    return RuleViolation(
        f"The course has {count} problem{'s' if count != 1 else ''}; nothing was imported.",
        errors={
            "problems": [
                {"file": p.path, "line": p.line, "message": p.message} for p in exc.problems
            ]
        },
    )


def import_course_folder(folder: Path, actor=None, publish: bool = False) -> ImportResult:
    """Import a course folder: all or nothing, idempotent for unchanged content."""
    try:
        spec = load_course(folder)
    except CourseFormatError as exc:
        raise _format_problems(exc) from None
    return _store(spec, actor, publish)


def import_course_archive(data: bytes, actor=None, publish: bool = False) -> ImportResult:
    """Import an uploaded .zip or .tar.gz, unpacked into a private folder of the import area."""
    area = Path(current_app.instance_path) / "imports"
    area.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(dir=area))
    try:
        folder = archives.unpack(data, workdir)
        return import_course_folder(folder, actor, publish)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _store(spec: CourseSpec, actor, publish: bool) -> ImportResult:
    course = db.session.scalar(sa.select(Course).where(Course.slug == spec.slug).with_for_update())
    if course is None:
        course = Course(slug=spec.slug, title=spec.title, summary=spec.summary)
        db.session.add(course)
        db.session.flush()
    versions = db.session.scalars(
        sa.select(CourseVersion).where(CourseVersion.course_id == course.id)
    ).all()
    same = next((v for v in versions if v.content_hash == spec.content_hash), None)
    if same is not None:
        if publish and not same.is_published:
            _publish_version(course, same, versions)
        return ImportResult(course, same, created=False)
    clash = next((v for v in versions if v.label == spec.version), None)
    if clash is not None:
        raise RuleViolation(
            f"Version {spec.version} of {spec.slug} was already imported with other content. "
            "Raise 'version' in course.yaml for a changed course.",
            errors={
                "problems": [
                    {
                        "file": "course.yaml",
                        "line": spec.version_line,
                        "message": f"version {spec.version} already exists with other content",
                    }
                ]
            },
        )

    lessons = spec.lessons
    version = CourseVersion(
        course_id=course.id,
        number=max((v.number for v in versions), default=0) + 1,
        label=spec.version,
        content_hash=spec.content_hash,
        title=spec.title,
        summary=spec.summary,
        topics=spec.topics,
        estimated_hours=spec.estimated_hours,
        pass_mark=spec.pass_mark,
        lesson_count=sum(1 for item in lessons if item.kind == "lesson"),
        quiz_count=sum(1 for item in lessons if item.kind == "quiz"),
        total_minutes=sum(item.minutes for item in lessons),
        imported_by_id=getattr(actor, "id", None),
    )
    db.session.add(version)
    db.session.flush()
    db.session.add_all(CourseTopic(version_id=version.id, topic=t) for t in set(spec.topics))
    _store_outline(spec, version)
    _store_assets(spec, course)
    course.title, course.summary = spec.title, spec.summary
    if publish:
        _publish_version(course, version, versions)
    db.session.flush()
    return ImportResult(course, version, created=True)


def _store_outline(spec: CourseSpec, version: CourseVersion) -> None:
    modules = [
        Module(version_id=version.id, position=i, slug=m.slug, title=m.title, summary=m.summary)
        for i, m in enumerate(spec.modules, start=1)
    ]
    db.session.add_all(modules)
    db.session.flush()
    rows = []
    position = 0
    for module, module_spec in zip(modules, spec.modules, strict=True):
        for item in module_spec.lessons:
            position += 1
            rows.append(
                {
                    "version_id": version.id,
                    "module_id": module.id,
                    "position": position,
                    "slug": item.slug,
                    "kind": LessonKind(item.kind),
                    "title": item.title,
                    "minutes": item.minutes,
                    "is_required": item.is_required,
                    "source_path": item.source_path,
                    "body_html": item.body_html,
                    "pass_mark": item.pass_mark,
                    "max_attempts": item.max_attempts,
                    "questions": [_question_json(q) for q in item.questions]
                    if item.kind == "quiz"
                    else None,
                }
            )
    # One executemany for all lessons: a 200-lesson course is one round trip, not 200.
    db.session.execute(sa.insert(Lesson), rows)


def _question_json(question) -> dict:
    return {
        "id": question.id,
        "type": question.type,
        "prompt_html": question.prompt_html,
        "choices": [{"id": c.id, "text_html": c.text_html} for c in question.choices],
        "answer": question.answer,
        "explanation_html": question.explanation_html,
    }


def _store_assets(spec: CourseSpec, course: Course) -> None:
    if not spec.assets:
        return
    wanted = {asset.sha256: asset for asset in spec.assets.values()}
    existing = set(
        db.session.scalars(
            sa.select(CourseAsset.sha256).where(
                CourseAsset.course_id == course.id, CourseAsset.sha256.in_(wanted)
            )
        )
    )
    db.session.add_all(
        CourseAsset(
            course_id=course.id,
            sha256=sha,
            media_type=asset.media_type,
            size=len(asset.data),
            data=asset.data,
        )
        for sha, asset in wanted.items()
        if sha not in existing
    )


def _publish_version(course: Course, version: CourseVersion, versions) -> None:
    for other in versions:
        if other.is_published and other.id != version.id:
            other.is_published = False
    # Clear first, then set: the partial unique index allows one published row at a time.
    db.session.flush()
    version.is_published = True
    version.published_at = utcnow()


# -- publishing -------------------------------------------------------------------------


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
        _publish_version(course, versions[-1], versions)
        return versions[-1]
    for version in versions:
        version.is_published = False
    return None


# -- the catalog ------------------------------------------------------------------------


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


DEFAULT_CONTENT = Path(__file__).resolve().parents[2] / "content"


def launch_course_folders() -> list[Path]:
    return sorted(p for p in DEFAULT_CONTENT.iterdir() if (p / "course.yaml").is_file())


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
