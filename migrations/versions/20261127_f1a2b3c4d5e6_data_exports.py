"""data exports: a person's copy of their data, built by the worker and kept for a few days

Revision ID: f1a2b3c4d5e6
Revises: e0f1a2b3c4d5
Create Date: 2026-11-27 13:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e0f1a2b3c4d5'
branch_labels = None
depends_on = None

IN_PROGRESS = "status IN ('queued', 'building')"


def upgrade():
    op.create_table('data_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('claimed_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('storage_key', sa.String(length=128), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ready_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('downloaded_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'building', 'ready', 'failed')", name=op.f('ck_data_exports_status_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_data_exports_attempts_not_negative')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_data_exports_requested_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subject_id'], ['users.id'], name=op.f('fk_data_exports_subject_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_exports')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_data_exports_storage_key'))
    )
    with op.batch_alter_table('data_exports', schema=None) as batch_op:
        batch_op.create_index('ix_data_exports_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_data_exports_subject_created', ['subject_id', 'created_at'], unique=False)
        batch_op.create_index('ix_data_exports_expires_at', ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_exports_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(
            'uq_data_exports_in_progress',
            ['subject_id'],
            unique=True,
            sqlite_where=sa.text(IN_PROGRESS),
            postgresql_where=sa.text(IN_PROGRESS),
        )


def downgrade():
    with op.batch_alter_table('data_exports', schema=None) as batch_op:
        batch_op.drop_index('uq_data_exports_in_progress')
        batch_op.drop_index(batch_op.f('ix_data_exports_requested_by_id'))
        batch_op.drop_index('ix_data_exports_expires_at')
        batch_op.drop_index('ix_data_exports_subject_created')
        batch_op.drop_index('ix_data_exports_status_created')

    op.drop_table('data_exports')
