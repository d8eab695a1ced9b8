"""flask lms migrations check: risky operations on the large tables are listed, and fail the
check until the revision carries a lock_review note."""

import shutil
import textwrap
from pathlib import Path

import pytest

from lms.core.migration_check import check, scan_sql

ROOT = Path(__file__).parent.parent
HEAD = "e4a9c2b7d5f1"

RISKY = '''
"""risky: everything that locks a large table"""
from alembic import op
import sqlalchemy as sa

revision = "f0f0f0f0f0f0"
down_revision = "{head}"
branch_labels = None
depends_on = None
{review}

def upgrade():
    op.alter_column("users", "name", type_=sa.Text())
    op.add_column("outbox", sa.Column("shard", sa.Integer(), nullable=False))
    op.add_column("outbox", sa.Column("tag", sa.String(10), nullable=False, server_default="x"))
    op.alter_column("enrollments", "learner_name", nullable=False)
    op.create_index("ix_progress_x", "lesson_progress", ["enrollment_id"])
    op.create_index("ix_progress_y", "lesson_progress", ["lesson_id"], postgresql_concurrently=True)
    op.create_foreign_key("fk_x", "enrollments", "users", ["user_id"], ["id"])
    op.execute("UPDATE lesson_progress SET lesson_id = lesson_id")
    op.create_table("small_new", sa.Column("id", sa.Integer, primary_key=True))
    op.create_index("ix_small_new", "small_new", ["id"])
    op.create_index("ix_orgs", "organizations", ["name"])


def downgrade():
    pass
'''


@pytest.fixture
def migrations_with(tmp_path):
    def make(review: str = "") -> Path:
        folder = tmp_path / "migrations"
        shutil.copytree(ROOT / "migrations", folder)
        text = textwrap.dedent(RISKY).format(head=HEAD, review=review)
        (folder / "versions" / "f0f0f0f0f0f0_risky.py").write_text(text)
        return folder

    return make


def test_the_project_s_migrations_pass_and_list_what_was_reviewed(runner):
    result = runner.invoke(args=["lms", "migrations", "check"])
    assert result.exit_code == 0, result.output
    assert "0 revision(s) not reviewed" in result.output
    assert (
        "5d1c0e7a9b21" in result.output and "creates an index without CONCURRENTLY" in result.output
    )


def test_a_risky_revision_is_flagged_operation_by_operation(runner, migrations_with):
    folder = migrations_with()
    risky = [f for f in check(folder) if f.revision == "f0f0f0f0f0f0"]
    assert sorted((f.table, f.problem.split(" (")[0]) for f in risky) == [
        ("enrollments", "adds a constraint without NOT VALID"),
        ("enrollments", "sets NOT NULL"),
        ("lesson_progress", "creates an index without CONCURRENTLY"),
        ("lesson_progress", "updates or deletes rows in one transaction"),
        ("outbox", "adds a NOT NULL column without a default"),
        ("users", "changes a column's type"),
    ]
    result = runner.invoke(args=["lms", "migrations", "check", "--directory", str(folder)])
    assert result.exit_code == 1
    assert (
        "f0f0f0f0f0f0 risky: everything that locks a large table  [NOT REVIEWED]" in result.output
    )
    assert "1 revision(s) not reviewed" in result.output


def test_a_lock_review_note_makes_it_pass(runner, migrations_with):
    folder = migrations_with(review='lock_review = "runs in the maintenance window"')
    result = runner.invoke(args=["lms", "migrations", "check", "--directory", str(folder)])
    assert result.exit_code == 0, result.output
    assert "[reviewed: runs in the maintenance window]" in result.output


def test_scan_sql_ignores_tables_created_by_the_same_revision():
    sql = "CREATE TABLE users (id INT);\nCREATE INDEX ix ON users (id);\n"
    assert scan_sql(sql) == []
    assert scan_sql("CREATE INDEX CONCURRENTLY ix ON users (id);\n") == []
    assert scan_sql("CREATE UNIQUE INDEX ix ON users (id);\n")[0][0] == "users"
