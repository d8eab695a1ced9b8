"""Importing a course: a folder or an uploaded archive becomes a new version, all or nothing;
the same content again changes nothing; enrollments stay on the version they started."""

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from lms.core.errors import RuleViolation
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
from lms.courses.publishing import publish_version


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
            publish_version(course, same, versions)
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
        publish_version(course, version, versions)
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


DEFAULT_CONTENT = Path(__file__).resolve().parents[2] / "content"


def launch_course_folders() -> list[Path]:
    return sorted(p for p in DEFAULT_CONTENT.iterdir() if (p / "course.yaml").is_file())
