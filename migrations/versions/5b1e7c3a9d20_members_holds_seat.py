"""memberships: organization_members.holds_seat (admins may hold a learner seat)

Revision ID: 5b1e7c3a9d20
Revises: 246a5fc19fc9
Create Date: 2026-11-28 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e7c3a9d20'
down_revision = '246a5fc19fc9'
branch_labels = None
depends_on = None

SEAT_RULE = (
    "(status = 'active' OR NOT holds_seat)"
    " AND (status != 'active' OR role != 'learner' OR holds_seat)"
)


def upgrade():
    with op.batch_alter_table('organization_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holds_seat', sa.Boolean(), nullable=True))

    # Until now an active learner held a seat and nobody else did.
    members = sa.table(
        'organization_members',
        sa.column('role', sa.String),
        sa.column('status', sa.String),
        sa.column('holds_seat', sa.Boolean),
    )
    op.execute(
        members.update().values(
            holds_seat=sa.and_(members.c.role == 'learner', members.c.status == 'active')
        )
    )

    with op.batch_alter_table('organization_members', schema=None) as batch_op:
        batch_op.alter_column('holds_seat', existing_type=sa.Boolean(), nullable=False)
        batch_op.create_check_constraint(
            batch_op.f('ck_organization_members_seat_matches_role_and_status'), SEAT_RULE
        )
        batch_op.drop_index('ix_organization_members_seats')
        batch_op.create_index(
            'ix_organization_members_seats', ['organization_id', 'status', 'holds_seat'], unique=False
        )


def downgrade():
    with op.batch_alter_table('organization_members', schema=None) as batch_op:
        batch_op.drop_index('ix_organization_members_seats')
        batch_op.create_index(
            'ix_organization_members_seats', ['organization_id', 'status', 'role'], unique=False
        )
        batch_op.drop_constraint(
            batch_op.f('ck_organization_members_seat_matches_role_and_status'), type_='check'
        )
        batch_op.drop_column('holds_seat')
