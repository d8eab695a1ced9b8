"""``flask lms courses import PATH [--publish]``."""

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.courses import services


def register(group: AppGroup) -> None:
    courses = AppGroup("courses", help="Import and publish courses.")
    group.add_command(courses)

    @courses.command("import")
    @click.argument("path", type=click.Path(exists=True, path_type=Path))
    @click.option("--publish", is_flag=True, help="Publish the imported version.")
    def import_command(path: Path, publish: bool) -> None:
        """Import a course folder (or a .zip / .tar.gz of one)."""
        try:
            if path.is_dir():
                result = services.import_course_folder(path, publish=publish)
            else:
                result = services.import_course_archive(path.read_bytes(), publish=publish)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            lines = [exc.message]
            for problem in (exc.errors or {}).get("problems", []):
                where = (
                    f"{problem['file']}:{problem['line']}" if problem["line"] else problem["file"]
                )
                lines.append(f"  {where}: {problem['message']}")
            for message in (exc.errors or {}).get("archive", []):
                lines.append(f"  {message}")
            raise click.ClickException("\n".join(lines)) from None
        version = result.version
        state = "published" if version.is_published else "draft"
        click.echo(
            f"{result.course.slug} {version.label} (version {version.number}, {state}): "
            f"{result.status}; {version.lesson_count} lessons, {version.quiz_count} quizzes."
        )

    @courses.command("publish")
    @click.argument("slug")
    @click.option("--unpublish", is_flag=True, help="Hide the course instead.")
    def publish_command(slug: str, unpublish: bool) -> None:
        """Publish a course's newest version (or unpublish the course)."""
        try:
            course = services.get_course_for_admin(slug)
            services.set_published(course, not unpublish)
            db.session.commit()
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"{slug}: {'unpublished' if unpublish else 'published'}.")
