"""core: the transactional outbox

Revision ID: 8b3e51f2c4d0
Revises: 5d1c0e7a9b21
Create Date: 2026-11-30 20:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b3e51f2c4d0'
down_revision = '5d1c0e7a9b21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['next_attempt_at', 'id'], unique=False, postgresql_where=sa.text('done_at IS NULL AND failed_at IS NULL'), sqlite_where=sa.text('done_at IS NULL AND failed_at IS NULL'))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due', postgresql_where=sa.text('done_at IS NULL AND failed_at IS NULL'), sqlite_where=sa.text('done_at IS NULL AND failed_at IS NULL'))
    op.drop_table('outbox')
