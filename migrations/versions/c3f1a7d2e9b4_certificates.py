"""certificates: certificates, certificate_events, certificate_counters

Revision ID: c3f1a7d2e9b4
Revises: 9c4f2a7d1e63
Create Date: 2026-12-01 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f1a7d2e9b4'
down_revision = '9c4f2a7d1e63'
branch_labels = None
depends_on = None

CURRENT = sa.text('replaced_at IS NULL')


def upgrade():
    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('learner_name', sa.String(length=200), nullable=False),
    sa.Column('learner_email', sa.String(length=254), nullable=False),
    sa.Column('course_slug', sa.String(length=100), nullable=False),
    sa.Column('course_title', sa.String(length=200), nullable=False),
    sa.Column('version_label', sa.String(length=50), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('organization_name', sa.String(length=200), nullable=False),
    sa.Column('sponsor_name', sa.String(length=200), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_index', sa.Integer(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revocation_reason', sa.Text(), nullable=True),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('pdf_rendered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('replaced_by_id IS NULL OR replaced_at IS NOT NULL', name=op.f('ck_certificates_replaced_by_needs_replaced')),
    sa.CheckConstraint('revoked_at IS NULL OR revocation_reason IS NOT NULL', name=op.f('ck_certificates_revocation_has_reason')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_certificates_course_id_courses')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_certificates_enrollment_id_enrollments')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_certificates_organization_id_organizations')),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['certificates.id'], name=op.f('fk_certificates_replaced_by_id_certificates')),
    sa.ForeignKeyConstraint(['replaces_id'], ['certificates.id'], name=op.f('fk_certificates_replaces_id_certificates')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_certificates_user_id_users')),
    sa.ForeignKeyConstraint(['version_id'], ['course_versions.id'], name=op.f('fk_certificates_version_id_course_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('code', name=op.f('uq_certificates_code')),
    sa.UniqueConstraint('replaces_id', name=op.f('uq_certificates_replaces_id')),
    sa.UniqueConstraint('status_index', name=op.f('uq_certificates_status_index'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_enrollment_id'), ['enrollment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_version_id'), ['version_id'], unique=False)
        batch_op.create_index('ix_certificates_organization_issued', ['organization_id', 'issued_at'], unique=False)
        batch_op.create_index('ix_certificates_user_issued', ['user_id', 'issued_at'], unique=False)
        batch_op.create_index('uq_certificates_current_enrollment', ['enrollment_id'], unique=True, postgresql_where=CURRENT, sqlite_where=CURRENT)

    op.create_table('certificate_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_certificate_events_actor_id_users')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_certificate_events_certificate_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_events'))
    )
    with op.batch_alter_table('certificate_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_events_certificate_id'), ['certificate_id'], unique=False)

    counters = op.create_table('certificate_counters',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_certificate_counters'))
    )
    # The revocation status list's bits are handed out from here, starting at 1.
    op.bulk_insert(counters, [{'name': 'status_index', 'value': 0}])


def downgrade():
    op.drop_table('certificate_counters')
    with op.batch_alter_table('certificate_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_events_certificate_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_events_actor_id'))
    op.drop_table('certificate_events')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('uq_certificates_current_enrollment', postgresql_where=CURRENT, sqlite_where=CURRENT)
        batch_op.drop_index('ix_certificates_user_issued')
        batch_op.drop_index('ix_certificates_organization_issued')
        batch_op.drop_index(batch_op.f('ix_certificates_version_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_enrollment_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_course_id'))
    op.drop_table('certificates')
