"""progress: learner name, email and course slug on enrollments, an index per report order

Revision ID: 5d1c0e7a9b21
Revises: 3735425eeb29
Create Date: 2026-11-30 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1c0e7a9b21'
down_revision = '3735425eeb29'
branch_labels = None
depends_on = None
# Reviewed for locks on large tables (flask lms migrations check):
lock_review = 'written before lms had a production deployment; on a large enrollments table, run the backfill in batches and build the indexes CONCURRENTLY by hand first (see docs/operations.md).'

INDEXES = {
    'ix_enrollments_org_learner_name': ['organization_id', 'learner_name', 'id'],
    'ix_enrollments_org_learner_email': ['organization_id', 'learner_email', 'id'],
    'ix_enrollments_org_course': ['organization_id', 'course_slug', 'id'],
    'ix_enrollments_org_started': ['organization_id', 'started_at', 'id'],
    'ix_enrollments_org_completed': ['organization_id', 'completed_at', 'id'],
    'ix_enrollments_org_percent': ['organization_id', 'percent_complete', 'id'],
    'ix_enrollments_org_activity': ['organization_id', 'last_activity_at', 'id'],
}


def upgrade():
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('learner_name', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('learner_email', sa.String(length=254), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('course_slug', sa.String(length=100), nullable=False, server_default=''))
    enrollments = sa.table(
        'enrollments',
        sa.column('user_id', sa.Integer), sa.column('course_id', sa.Integer),
        sa.column('learner_name', sa.String), sa.column('learner_email', sa.String),
        sa.column('course_slug', sa.String),
    )
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('name', sa.String), sa.column('email', sa.String))
    courses = sa.table('courses', sa.column('id', sa.Integer), sa.column('slug', sa.String))
    op.execute(
        enrollments.update().values(
            learner_name=sa.select(users.c.name).where(users.c.id == enrollments.c.user_id).scalar_subquery(),
            learner_email=sa.select(users.c.email).where(users.c.id == enrollments.c.user_id).scalar_subquery(),
            course_slug=sa.select(courses.c.slug).where(courses.c.id == enrollments.c.course_id).scalar_subquery(),
        )
    )
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.alter_column('learner_name', server_default=None)
        batch_op.alter_column('learner_email', server_default=None)
        batch_op.alter_column('course_slug', server_default=None)
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_column('course_slug')
        batch_op.drop_column('learner_email')
        batch_op.drop_column('learner_name')
