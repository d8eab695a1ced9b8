"""Backup and restore (issue 14, item 7): back up, wipe the database and the instance folder,
restore, and everything is there again: rows, files, the issuer's keys; on SQLite and
PostgreSQL (pg_dump / pg_restore next to the test server's binaries)."""

import hashlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from lms import create_app
from lms.certificates.keys import issuer_keys
from lms.core import backup
from lms.core.extensions import db as _db
from lms.core.extensions import limiter
from lms.courses import services as courses
from lms.progress.models import Enrollment
from tests.conftest import make_test_config
from tests.courses.builders import make_course
from tests.factories import DEFAULT_PASSWORD, MemberFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.slow  # pg_dump and pg_restore are processes of their own


def pg_bindir() -> str | None:
    folders = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return os.environ.get("LMS_PG_BINDIR") or (str(folders[-1]) if folders else None)


def files_of(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith("lms.sqlite3")
    }


@pytest.fixture
def backed_up_app(app, backend, fresh_database_url, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    with fresh_database_url("lms_backup") as url:
        if backend == "sqlite":  # the usual place: inside the instance folder
            url = f"sqlite:///{instance / 'lms.sqlite3'}"
        config = {**make_test_config(url, instance), "POSTGRES_BIN_DIR": pg_bindir()}
        other = create_app(config)
        other.instance_path = str(instance)
        try:
            with other.app_context():
                flask_migrate.upgrade()
                yield other
                _db.session.remove()
                _db.engine.dispose()
        finally:
            limiter.init_app(app)


TALLIES = "SELECT organization_id, course_slug, status, certified, n FROM enrollment_tallies"


def snapshot(app) -> dict:
    engine = _db.engine
    with engine.connect() as connection:
        emails = connection.scalars(sa.text("SELECT email FROM users ORDER BY email")).all()
        tallies = sorted(tuple(row) for row in connection.execute(sa.text(TALLIES)))
    return {
        "rows": backup.row_counts(engine),
        "emails": emails,
        "tallies": tallies,
        "files": files_of(Path(app.instance_path)),
    }


def enroll_raw(user_ids, organization_id, imported):
    """Enrollments written directly (the tallies' triggers count them as any other)."""
    now = datetime.now(UTC)
    _db.session.execute(
        sa.insert(Enrollment),
        [
            {"user_id": uid, "organization_id": organization_id, "course_id": imported.course.id,
             "version_id": imported.version.id, "course_slug": "tiny-course", "status": "active",
             "started_at": now, "last_activity_at": now}
            for uid in user_ids
        ],
    )  # fmt: skip
    _db.session.commit()


def test_back_up_wipe_restore_and_everything_is_there(backed_up_app, backend, tmp_path):
    app = backed_up_app
    instance = Path(app.instance_path)
    org = OrganizationFactory(slug="kept")
    members = [MemberFactory(organization=org, role="learner") for _ in range(3)]
    UserFactory(email="admin@kept.example", is_platform_admin=True)
    member_email = members[0].user.email
    imported = courses.import_course_folder(make_course(tmp_path / "course"), publish=True)
    late_learner, org_id = members[2].user_id, org.id
    enroll_raw([m.user_id for m in members[:2]], org_id, imported)
    keys = issuer_keys(app)  # generated into instance/issuer-keys/
    (instance / "imports").mkdir()
    (instance / "imports" / "course.zip").write_bytes(os.urandom(2048))
    before = snapshot(app)
    assert before["rows"]["users"] == 4 and before["rows"]["organization_members"] == 3
    assert before["tallies"] == [(org_id, "tiny-course", "active", False, 2)]
    assert any(name.startswith("issuer-keys/") for name in before["files"])

    folder = tmp_path / "backup"
    runner = app.test_cli_runner()
    made = runner.invoke(args=["lms", "backup", str(folder)])
    assert made.exit_code == 0, made.output
    assert f"Backed up the {backend} database" in made.output
    dump = folder / ("database.dump" if backend == "postgresql" else "database.sqlite3")
    assert dump.stat().st_size > 0 and (folder / "instance.tar.gz").exists()

    # Wipe: no tables, no files.
    _db.session.remove()
    with _db.engine.begin() as connection:
        if backend == "postgresql":
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    _db.engine.dispose()
    if backend == "sqlite":
        (instance / "lms.sqlite3").unlink()
    shutil.rmtree(instance)
    instance.mkdir()
    assert sa.inspect(_db.engine).get_table_names() == []

    refused = runner.invoke(args=["lms", "restore", str(folder)], input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    restored = runner.invoke(args=["lms", "restore", "--yes", str(folder)])
    assert restored.exit_code == 0, restored.output
    assert "row counts match" in restored.output

    after = snapshot(app)
    assert after == before
    assert issuer_keys(app).signing.public_bytes == keys.signing.public_bytes
    # The restored accounts work: a member logs in with the password it had.
    login = app.test_client().post(
        "/api/v1/auth/login", json={"email": member_email, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200, login.json
    # The tallies came back as they were (not counted again while the rows were loaded), and
    # their triggers with them: a new enrollment is counted.
    enroll_raw([late_learner], org_id, imported_again())
    assert snapshot(app)["tallies"] == [(org_id, "tiny-course", "active", False, 3)]


def imported_again():
    """The restored course and version, as ``import_course_folder`` returned them."""
    from types import SimpleNamespace

    from lms.courses.models import Course, CourseVersion

    course = _db.session.scalar(sa.select(Course).where(Course.slug == "tiny-course"))
    version = _db.session.scalar(
        sa.select(CourseVersion).where(CourseVersion.course_id == course.id)
    )
    return SimpleNamespace(course=course, version=version)


def test_backup_refuses_a_folder_that_is_not_empty(backed_up_app, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "something").write_text("x")
    result = backed_up_app.test_cli_runner().invoke(args=["lms", "backup", str(tmp_path / "used")])
    assert result.exit_code == 1 and "not empty" in result.output


def test_restore_refuses_a_folder_without_a_manifest(backed_up_app, tmp_path):
    result = backed_up_app.test_cli_runner().invoke(args=["lms", "restore", "--yes", str(tmp_path)])
    assert result.exit_code == 1 and "manifest.json" in result.output
