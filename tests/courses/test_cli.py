import sqlalchemy as sa

from lms.courses.models import CourseVersion
from tests.courses.builders import make_course, write, zip_folder


def test_import_folder_publish_and_again(runner, db, tmp_path):
    folder = make_course(tmp_path)
    first = runner.invoke(args=["lms", "courses", "import", str(folder), "--publish"])
    assert first.exit_code == 0, first.output
    assert (
        "tiny-course 1.0.0 (version 1, published): created; 3 lessons, 1 quizzes." in first.output
    )
    again = runner.invoke(args=["lms", "courses", "import", str(folder)])
    assert "unchanged" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseVersion)) == 1


def test_import_an_archive_file(runner, db, tmp_path):
    archive = tmp_path / "course.zip"
    archive.write_bytes(zip_folder(make_course(tmp_path / "src")))
    result = runner.invoke(args=["lms", "courses", "import", str(archive)])
    assert result.exit_code == 0, result.output
    assert "(version 1, draft): created" in result.output


def test_import_prints_every_problem_and_fails(runner, db, tmp_path):
    folder = make_course(tmp_path)
    write(folder / "01-basics" / "module.yaml", "summary: x\n")
    write(folder / "02-next" / "01-more.md", "---\ntitle: M\nminutes: 0\n---\n\nText\n")
    result = runner.invoke(args=["lms", "courses", "import", str(folder)])
    assert result.exit_code == 1
    assert "01-basics/module.yaml:1: missing key 'title'" in result.output
    assert "02-next/01-more.md:3: 'minutes' must be a whole number from 1 to 600" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseVersion)) == 0


def test_publish_command(runner, db, tmp_path):
    runner.invoke(args=["lms", "courses", "import", str(make_course(tmp_path))])
    result = runner.invoke(args=["lms", "courses", "publish", "tiny-course"])
    assert result.exit_code == 0 and "published" in result.output
    assert db.session.scalar(sa.select(CourseVersion.is_published))
