"""progress: enrollment_tallies (report totals without counting the organization's rows)

Revision ID: a7d3e1c9b5f2
Revises: e4a9c2b7d5f1
Create Date: 2026-12-01 02:00:00.000000

How many enrollments an organization has per course, status and certificate, kept by triggers
on ``enrollments`` in the writing transaction, whichever code writes (the ORM, the hot-path
statements, a bulk insert, a manual fix in psql). The report's total reads a few of these rows
instead of counting up to all of the organization's enrollments on every page.

The trigger is created before the tallies are filled, in the same transaction: on PostgreSQL
``CREATE TRIGGER`` holds a lock that makes writers to ``enrollments`` wait until the commit,
so no enrollment is written between the fill and the first counted write.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d3e1c9b5f2'
down_revision = 'e4a9c2b7d5f1'
branch_labels = None
depends_on = None

KEY = "organization_id, course_slug, status, certified"

# PostgreSQL: one function for the three events. A changed key takes one from the old tally
# and adds one to the new, locking the two rows in key order, so that two writers moving
# enrollments in opposite directions (a certificate issued, another revoked) cannot deadlock.
PG_FUNCTION = f"""
CREATE FUNCTION enrollment_tallies_keep() RETURNS trigger AS $$
DECLARE
    old_first boolean;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        old_first := ROW(OLD.organization_id, OLD.course_slug, OLD.status,
                         OLD.certificate_code IS NOT NULL)
                   < ROW(NEW.organization_id, NEW.course_slug, NEW.status,
                         NEW.certificate_code IS NOT NULL);
    ELSE
        old_first := TG_OP = 'DELETE';
    END IF;
    IF old_first AND TG_OP <> 'INSERT' THEN
        PERFORM enrollment_tallies_add(OLD.organization_id, OLD.course_slug, OLD.status,
                                       OLD.certificate_code IS NOT NULL, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM enrollment_tallies_add(NEW.organization_id, NEW.course_slug, NEW.status,
                                       NEW.certificate_code IS NOT NULL, 1);
    END IF;
    IF NOT old_first AND TG_OP = 'UPDATE' THEN
        PERFORM enrollment_tallies_add(OLD.organization_id, OLD.course_slug, OLD.status,
                                       OLD.certificate_code IS NOT NULL, -1);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
PG_ADD = f"""
CREATE FUNCTION enrollment_tallies_add(
    p_organization_id integer, p_course_slug varchar, p_status varchar, p_certified boolean,
    p_delta integer
) RETURNS void AS $$
    INSERT INTO enrollment_tallies ({KEY}, n)
    VALUES (p_organization_id, p_course_slug, p_status, p_certified, p_delta)
    ON CONFLICT ({KEY}) DO UPDATE SET n = enrollment_tallies.n + EXCLUDED.n
$$ LANGUAGE sql
"""


def _changed(differs: str) -> str:
    """The tally key of an updated row changed (``differs``: the dialect's null-safe <>)."""
    return (
        f"OLD.organization_id {differs} NEW.organization_id"
        f" OR OLD.course_slug {differs} NEW.course_slug"
        f" OR OLD.status {differs} NEW.status"
        " OR (OLD.certificate_code IS NULL) <> (NEW.certificate_code IS NULL)"
    )


PG_TRIGGERS = [
    "CREATE TRIGGER enrollment_tallies_insert_delete AFTER INSERT OR DELETE ON enrollments"
    " FOR EACH ROW EXECUTE FUNCTION enrollment_tallies_keep()",
    "CREATE TRIGGER enrollment_tallies_update AFTER UPDATE ON enrollments"
    f" FOR EACH ROW WHEN ({_changed('IS DISTINCT FROM')}) EXECUTE FUNCTION enrollment_tallies_keep()",
]


def _sqlite_add(row: str, delta: int) -> str:
    return (
        f"INSERT INTO enrollment_tallies ({KEY}, n) VALUES ({row}.organization_id,"
        f" {row}.course_slug, {row}.status, {row}.certificate_code IS NOT NULL, {delta})"
        f" ON CONFLICT ({KEY}) DO UPDATE SET n = n + excluded.n;"
    )


# SQLite: one writer at a time, so the order of the two rows does not matter.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER enrollment_tallies_insert AFTER INSERT ON enrollments"
    f" BEGIN {_sqlite_add('NEW', 1)} END",
    "CREATE TRIGGER enrollment_tallies_delete AFTER DELETE ON enrollments"
    f" BEGIN {_sqlite_add('OLD', -1)} END",
    "CREATE TRIGGER enrollment_tallies_update AFTER UPDATE ON enrollments"
    f" WHEN {_changed('IS NOT')} BEGIN {_sqlite_add('OLD', -1)} {_sqlite_add('NEW', 1)} END",
]


def upgrade():
    op.create_table('enrollment_tallies',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('course_slug', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('certified', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('organization_id', 'course_slug', 'status', 'certified', name=op.f('pk_enrollment_tallies'))
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(PG_ADD)
        op.execute(PG_FUNCTION)
        statements = PG_TRIGGERS
    else:
        statements = SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)
    op.execute(
        f"INSERT INTO enrollment_tallies ({KEY}, n)"
        " SELECT organization_id, course_slug, status, certificate_code IS NOT NULL, count(*)"
        " FROM enrollments GROUP BY organization_id, course_slug, status,"
        " certificate_code IS NOT NULL"
    )


def downgrade():
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER enrollment_tallies_update ON enrollments")
        op.execute("DROP TRIGGER enrollment_tallies_insert_delete ON enrollments")
        op.execute("DROP FUNCTION enrollment_tallies_keep()")
        op.execute("DROP FUNCTION enrollment_tallies_add(integer, varchar, varchar, boolean, integer)")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER enrollment_tallies_{name}")
    op.drop_table('enrollment_tallies')
