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
