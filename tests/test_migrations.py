"""Alembic: empty -> head -> base on each database, and the models match the migrations."""

import flask_migrate
import sqlalchemy as sa

from lms import create_app
from lms.core.extensions import db as _db
from tests.conftest import make_test_config


def test_migrations_go_up_and_down_without_drift(backend, fresh_database_url, tmp_path):
    with fresh_database_url("lms_migrations") as url:
        app = create_app(make_test_config(url, tmp_path))
        with app.app_context():
            flask_migrate.upgrade()
            tables = set(sa.inspect(_db.engine).get_table_names())
            assert {"users", "api_tokens", "password_reset_tokens"} <= tables
            assert {"courses", "course_versions", "lessons", "course_assets"} <= tables
            # `flask db check`: raises if the models and the migrations disagree.
            flask_migrate.check()

            flask_migrate.downgrade(revision="base")
            assert set(sa.inspect(_db.engine).get_table_names()) <= {"alembic_version"}

            flask_migrate.upgrade()
            assert "users" in sa.inspect(_db.engine).get_table_names()
            _db.engine.dispose()


def test_every_revision_has_a_downgrade():
    from pathlib import Path

    versions = Path(__file__).parent.parent / "migrations" / "versions"
    for path in versions.glob("*.py"):
        source = path.read_text()
        assert "def downgrade():" in source
        body = source.split("def downgrade():", 1)[1]
        assert "op." in body, f"{path.name} has an empty downgrade"


def test_holds_seat_is_backfilled_from_the_role(backend, fresh_database_url, tmp_path):
    """Before: active learners held the seats. After: they hold them as ``holds_seat``;
    admins and removed members hold none."""
    with fresh_database_url("lms_migrations_seats") as url:
        app = create_app(make_test_config(url, tmp_path))
        with app.app_context():
            flask_migrate.upgrade(revision="246a5fc19fc9")
            now = "2026-01-01 00:00:00"
            with _db.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO users (id, email, name, password_hash, is_platform_admin,"
                        " session_epoch, created_at, updated_at) VALUES"
                        " (1, 'a@x.example', 'A', '', false, 0, :now, :now),"
                        " (2, 'b@x.example', 'B', '', false, 0, :now, :now),"
                        " (3, 'c@x.example', 'C', '', false, 0, :now, :now)"
                    ),
                    {"now": now},
                )
                connection.execute(
                    sa.text(
                        "INSERT INTO organizations (id, slug, name, kind, created_at, updated_at)"
                        " VALUES (1, 'o', 'O', 'other', :now, :now)"
                    ),
                    {"now": now},
                )
                connection.execute(
                    sa.text(
                        "INSERT INTO organization_members (organization_id, user_id, role,"
                        " status, joined_at, created_at, updated_at) VALUES"
                        " (1, 1, 'learner', 'active', :now, :now, :now),"
                        " (1, 2, 'learner', 'removed', :now, :now, :now),"
                        " (1, 3, 'admin', 'active', :now, :now, :now)"
                    ),
                    {"now": now},
                )
            flask_migrate.upgrade()
            with _db.engine.connect() as connection:
                rows = connection.execute(
                    sa.text("SELECT user_id, holds_seat FROM organization_members ORDER BY user_id")
                ).all()
            assert [(user_id, bool(held)) for user_id, held in rows] == [
                (1, True),
                (2, False),
                (3, False),
            ]
            flask_migrate.downgrade(revision="246a5fc19fc9")
            _db.engine.dispose()


def three_enrolled_learners(tmp_path):
    """tiny-course, organization "o" with seats, and Ada, Bea and Cy enrolled in the course:
    (organization, users, enrollment ids)."""
    from lms.courses import services as course_services
    from lms.progress import enrolling
    from tests.courses.builders import make_course
    from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory

    course_services.import_course_folder(make_course(tmp_path / "course"), publish=True)
    organization = OrganizationFactory(slug="o")
    SeatGrantFactory(organization=organization, seats=5)
    users = [
        MemberFactory(organization=organization, user__name=n).user for n in "Ada Bea Cy".split()
    ]
    ids = [enrolling.enroll(user, "tiny-course")[0].id for user in users]
    return organization, users, ids


def test_certificate_codes_are_copied_onto_enrollments(backend, fresh_database_url, tmp_path):
    """Certificates issued before the column existed: each enrollment gets its CURRENT
    certificate's code (a reissued one's successor), in the form people read."""
    from lms.certificates import changes, codes
    from lms.certificates import services as certificates
    from lms.certificates.models import Certificate
    from lms.progress.models import Enrollment, EnrollmentStatus

    with fresh_database_url("lms_migrations_certificate_codes") as url:
        app = create_app(make_test_config(url, tmp_path))
        with app.app_context():
            flask_migrate.upgrade()
            organization, users, ids = three_enrolled_learners(tmp_path)
            for enrollment_id in ids[:2]:  # Cy has no certificate
                enrollment = _db.session.get(Enrollment, enrollment_id)
                enrollment.status = EnrollmentStatus.COMPLETED
                enrollment.completed_at = enrollment.started_at
                _db.session.flush()
                certificates.issue_certificate(enrollment_id)
            old = _db.session.scalar(
                sa.select(Certificate).where(Certificate.enrollment_id == ids[1])
            )
            new = changes.reissue(users[1], old.code, "Bea Renamed")
            current = {
                ids[0]: _db.session.scalar(
                    sa.select(Certificate.code).where(Certificate.enrollment_id == ids[0])
                ),
                ids[1]: new.code,
            }
            _db.session.commit()
            _db.session.remove()

            flask_migrate.downgrade(revision="c3f1a7d2e9b4")
            flask_migrate.upgrade()
            with _db.engine.connect() as connection:
                rows = dict(
                    connection.execute(
                        sa.text("SELECT id, certificate_code FROM enrollments ORDER BY id")
                    ).all()
                )
            assert rows == {
                ids[0]: codes.display(current[ids[0]]),
                ids[1]: codes.display(current[ids[1]]),
                ids[2]: None,
            }
            _db.session.remove()
            _db.engine.dispose()


def test_enrollment_tallies_are_filled_from_the_enrollments(backend, fresh_database_url, tmp_path):
    """An organization with enrollments from before the tallies: the migration counts them,
    then its triggers keep counting; going down removes table, triggers and functions."""
    from lms.progress.models import Enrollment

    tallies = "SELECT organization_id, course_slug, status, certified, n FROM enrollment_tallies"
    with fresh_database_url("lms_migrations_tallies") as url:
        app = create_app(make_test_config(url, tmp_path))
        with app.app_context():
            flask_migrate.upgrade()
            organization, _, ids = three_enrolled_learners(tmp_path)
            _db.session.execute(
                sa.update(Enrollment).where(Enrollment.id == ids[0]).values(status="completed")
            )
            org_id = organization.id
            _db.session.commit()
            _db.session.remove()

            flask_migrate.downgrade(revision="e4a9c2b7d5f1")
            assert "enrollment_tallies" not in sa.inspect(_db.engine).get_table_names()
            with _db.engine.begin() as connection:  # no trigger is left to count this
                connection.execute(sa.text("UPDATE enrollments SET status = 'active'"))
                connection.execute(
                    sa.text("UPDATE enrollments SET status = 'completed' WHERE id = :id"),
                    {"id": ids[1]},
                )
            flask_migrate.upgrade()
            with _db.engine.begin() as connection:
                assert sorted(tuple(r) for r in connection.execute(sa.text(tallies))) == [
                    (org_id, "tiny-course", "active", False, 2),
                    (org_id, "tiny-course", "completed", False, 1),
                ]
                connection.execute(
                    sa.text("UPDATE enrollments SET status = 'completed' WHERE id = :id"),
                    {"id": ids[2]},
                )
                assert sorted(tuple(r) for r in connection.execute(sa.text(tallies))) == [
                    (org_id, "tiny-course", "active", False, 1),
                    (org_id, "tiny-course", "completed", False, 2),
                ]
            _db.engine.dispose()
