"""The migration that adds email verification backfills existing accounts."""

from datetime import UTC, datetime

import flask_migrate
import sqlalchemy as sa

from lms import create_app
from lms.core.extensions import db as _db
from tests.conftest import make_test_config

BEFORE = "246a5fc19fc9"
REVISION = "3735425eeb29"
WHEN = datetime(2026, 1, 1, tzinfo=UTC)

# The tables as they were before the revision (never the app's models, which move on).
users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("name", sa.String),
    sa.column("is_platform_admin", sa.Boolean),
    sa.column("session_epoch", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
organizations = sa.table(
    "organizations",
    sa.column("id", sa.Integer),
    sa.column("slug", sa.String),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
members = sa.table(
    "organization_members",
    sa.column("organization_id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("role", sa.String),
    sa.column("status", sa.String),
    sa.column("joined_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def test_existing_admins_and_members_are_verified_and_self_registered_accounts_are_not(
    backend, fresh_database_url, tmp_path
):
    stamps = {"created_at": WHEN, "updated_at": WHEN}
    with fresh_database_url("lms_verify_backfill") as url:
        app = create_app(make_test_config(url, tmp_path))
        with app.app_context():
            flask_migrate.upgrade(revision=BEFORE)
            with _db.engine.begin() as conn:
                conn.execute(
                    users.insert(),
                    [
                        {"id": n, "email": email, "name": "N", "is_platform_admin": admin}
                        | {"session_epoch": 0, **stamps}
                        for n, email, admin in [
                            (1, "admin@x.example", True),
                            (2, "member@x.example", False),  # a removed member still joined once
                            (3, "alone@x.example", False),
                        ]
                    ],
                )
                conn.execute(
                    organizations.insert().values(id=1, slug="o", name="O", kind="other", **stamps)
                )
                conn.execute(
                    members.insert().values(
                        organization_id=1,
                        user_id=2,
                        role="learner",
                        status="removed",
                        joined_at=WHEN,
                        **stamps,
                    )
                )
            flask_migrate.upgrade(revision=REVISION)
            with _db.engine.connect() as conn:
                verified = dict(
                    conn.execute(sa.text("SELECT email, email_verified_at FROM users")).all()
                )
            assert verified["admin@x.example"] is not None
            assert verified["member@x.example"] is not None
            assert verified["alone@x.example"] is None

            flask_migrate.downgrade(revision=BEFORE)
            columns = {c["name"] for c in sa.inspect(_db.engine).get_columns("users")}
            assert "email_verified_at" not in columns
            _db.engine.dispose()
