"""progress: the current certificate's code on enrollments (dashboard and report links)

Revision ID: e4a7c2d9b1f3
Revises: c3f1a7d2e9b4
Create Date: 2026-12-10 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a7c2d9b1f3'
down_revision = 'c3f1a7d2e9b4'
branch_labels = None
depends_on = None
# Reviewed for locks on large tables (flask lms migrations check):
lock_review = 'updates one enrollment per issued certificate (few at the time); the new column is nullable.'


def upgrade():
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_code', sa.String(length=19), nullable=True))
    # Certificates issued before this revision: copy the current one's code, in the form
    # people read (groups of four joined by dashes), as the certificates package writes it.
    enrollments = sa.table('enrollments', sa.column('id', sa.Integer), sa.column('certificate_code', sa.String))
    certificates = sa.table(
        'certificates',
        sa.column('enrollment_id', sa.Integer), sa.column('code', sa.String), sa.column('replaced_at', sa.DateTime),
    )
    bind = op.get_bind()
    current = bind.execute(
        sa.select(certificates.c.enrollment_id, certificates.c.code).where(certificates.c.replaced_at.is_(None))
    ).all()
    for enrollment_id, code in current:
        display = '-'.join(code[i:i + 4] for i in range(0, len(code), 4))
        bind.execute(enrollments.update().where(enrollments.c.id == enrollment_id).values(certificate_code=display))


def downgrade():
    # Not batch mode: on SQLite a batch drop copies the table and drops the old one, which the
    # foreign keys of lesson progress and certificates refuse once there are rows. The column
    # has no index or constraint, so SQLite (3.35+) drops it in place, as PostgreSQL does.
    op.drop_column('enrollments', 'certificate_code')
