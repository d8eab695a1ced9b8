"""accounts: email verification (users.email_verified_at, email verification tokens)

Revision ID: 3735425eeb29
Revises: 5b1e7c3a9d20
Create Date: 2026-11-28 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3735425eeb29'
down_revision = '5b1e7c3a9d20'
branch_labels = None
depends_on = None
# Reviewed for locks on large tables (flask lms migrations check):
lock_review = 'marks the accounts of the time as verified, before lms had a production deployment; the new column is nullable.'


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('email_verification_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_verification_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_verification_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_email_verification_tokens_token_hash'))
    )
    with op.batch_alter_table('email_verification_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_verification_tokens_user_id'), ['user_id'], unique=False)

    # Existing accounts: platform admins (made by an operator) and organization members (who
    # followed an invitation's mailed link) have proven their address; anyone else who signed
    # up alone has not, and stays unverified until they follow a new link.
    users = sa.table(
        'users',
        sa.column('id', sa.Integer()),
        sa.column('is_platform_admin', sa.Boolean()),
        sa.column('email_verified_at', sa.DateTime(timezone=True)),
    )
    members = sa.table('organization_members', sa.column('user_id', sa.Integer()))
    is_member = sa.exists().where(members.c.user_id == users.c.id)
    op.execute(
        users.update()
        .where(sa.or_(users.c.is_platform_admin == sa.true(), is_member))
        .values(email_verified_at=sa.func.current_timestamp())
    )


def downgrade():
    with op.batch_alter_table('email_verification_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_verification_tokens_user_id'))

    op.drop_table('email_verification_tokens')
    # SQLite (3.35+) drops a column in place; recreating "users" would fail its foreign keys
    # as soon as any row refers to a user.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('email_verified_at')
