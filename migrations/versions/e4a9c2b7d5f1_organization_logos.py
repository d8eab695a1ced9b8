"""memberships: organization_logos (the logo on the organization's certificates)

Revision ID: e4a9c2b7d5f1
Revises: e4a7c2d9b1f3
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a9c2b7d5f1'
down_revision = 'e4a7c2d9b1f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organization_logos',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('png', sa.LargeBinary(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('width > 0 AND height > 0', name=op.f('ck_organization_logos_size_positive')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_logos_organization_id_organizations')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_organization_logos_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_organization_logos'))
    )


def downgrade():
    op.drop_table('organization_logos')
