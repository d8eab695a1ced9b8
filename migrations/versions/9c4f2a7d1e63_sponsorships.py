"""sponsorships: plans, sponsors, sponsorships, stripe events

Revision ID: 9c4f2a7d1e63
Revises: 8b3e51f2c4d0
Create Date: 2026-11-30 20:46:37.069268

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c4f2a7d1e63'
down_revision = '8b3e51f2c4d0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sponsorship_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('unit_amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('interval', sa.String(length=10), nullable=False),
    sa.Column('min_seats', sa.Integer(), nullable=False),
    sa.Column('has_sponsor_on_certificates', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('stripe_product_id', sa.String(length=255), nullable=True),
    sa.Column('stripe_price_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("interval IN ('month', 'year')", name=op.f('ck_sponsorship_plans_interval_known')),
    sa.CheckConstraint('min_seats >= 1', name=op.f('ck_sponsorship_plans_min_seats_positive')),
    sa.CheckConstraint('unit_amount >= 0', name=op.f('ck_sponsorship_plans_unit_amount_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sponsorship_plans')),
    sa.UniqueConstraint('slug', name=op.f('uq_sponsorship_plans_slug'))
    )
    op.create_table('stripe_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('api_version', sa.String(length=40), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=200), nullable=False),
    sa.Column('stripe_created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_stripe_events_event_id'))
    )
    op.create_table('sponsors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('logo_url', sa.String(length=500), nullable=True),
    sa.Column('billing_email', sa.String(length=254), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sponsors_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sponsors')),
    sa.UniqueConstraint('stripe_customer_id', name=op.f('uq_sponsors_stripe_customer_id'))
    )
    op.create_table('sponsor_admins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sponsor_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sponsor_id'], ['sponsors.id'], name=op.f('fk_sponsor_admins_sponsor_id_sponsors')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sponsor_admins_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sponsor_admins')),
    sa.UniqueConstraint('sponsor_id', 'user_id', name=op.f('uq_sponsor_admins_sponsor_id_user_id'))
    )
    with op.batch_alter_table('sponsor_admins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sponsor_admins_sponsor_id'), ['sponsor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sponsor_admins_user_id'), ['user_id'], unique=False)

    op.create_table('sponsor_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sponsor_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_sponsor_invitations_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_sponsor_invitations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['sponsor_id'], ['sponsors.id'], name=op.f('fk_sponsor_invitations_sponsor_id_sponsors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sponsor_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sponsor_invitations_token_hash'))
    )
    with op.batch_alter_table('sponsor_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sponsor_invitations_sponsor_id'), ['sponsor_id'], unique=False)

    op.create_table('sponsorships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sponsor_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('collection_method', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('stripe_subscription_id', sa.String(length=255), nullable=True),
    sa.Column('period_starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('grant_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('seats >= 0', name=op.f('ck_sponsorships_seats_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sponsorships_created_by_id_users')),
    sa.ForeignKeyConstraint(['grant_id'], ['seat_grants.id'], name=op.f('fk_sponsorships_grant_id_seat_grants')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_sponsorships_organization_id_organizations')),
    sa.ForeignKeyConstraint(['plan_id'], ['sponsorship_plans.id'], name=op.f('fk_sponsorships_plan_id_sponsorship_plans')),
    sa.ForeignKeyConstraint(['sponsor_id'], ['sponsors.id'], name=op.f('fk_sponsorships_sponsor_id_sponsors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sponsorships')),
    sa.UniqueConstraint('stripe_subscription_id', name=op.f('uq_sponsorships_stripe_subscription_id'))
    )
    with op.batch_alter_table('sponsorships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sponsorships_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sponsorships_sponsor_id'), ['sponsor_id'], unique=False)



def downgrade():
    with op.batch_alter_table('sponsorships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sponsorships_sponsor_id'))
        batch_op.drop_index(batch_op.f('ix_sponsorships_organization_id'))

    op.drop_table('sponsorships')
    with op.batch_alter_table('sponsor_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sponsor_invitations_sponsor_id'))

    op.drop_table('sponsor_invitations')
    with op.batch_alter_table('sponsor_admins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sponsor_admins_user_id'))
        batch_op.drop_index(batch_op.f('ix_sponsor_admins_sponsor_id'))

    op.drop_table('sponsor_admins')
    op.drop_table('sponsors')
    op.drop_table('stripe_events')
    op.drop_table('sponsorship_plans')
