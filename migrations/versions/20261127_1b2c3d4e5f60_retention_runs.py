"""retention: a record of retention runs, CV versions whose file was removed, when an email failed for good

Revision ID: 1b2c3d4e5f60
Revises: f1a2b3c4d5e6
Create Date: 2026-11-27 13:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '1b2c3d4e5f60'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'retention_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('triggered_by', sa.String(length=10), nullable=False),
        sa.Column('triggered_by_id', sa.Integer(), nullable=True),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "triggered_by IN ('worker', 'command', 'admin')", name=op.f('ck_retention_runs_trigger_known')
        ),
        sa.ForeignKeyConstraint(
            ['triggered_by_id'], ['users.id'], name=op.f('fk_retention_runs_triggered_by_id_users'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_runs')),
    )
    op.create_index('ix_retention_runs_started', 'retention_runs', ['started_at'], unique=False)
    # Plain ADD COLUMNs: a batch copy of cv_documents would cascade-delete the rows that refer to it on SQLite.
    op.add_column('cv_documents', sa.Column('file_removed_at', portal.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('outbox_emails', sa.Column('failed_at', portal.db.UTCDateTime(timezone=True), nullable=True))
    # An email that failed before this revision: its last planned attempt is the best record of when.
    op.execute("UPDATE outbox_emails SET failed_at = next_attempt_at WHERE status = 'failed'")
    # What the retention run looks up by age: sent and failed emails, notifications.
    op.create_index('ix_outbox_emails_sent', 'outbox_emails', ['status', 'sent_at'], unique=False)
    op.create_index('ix_outbox_emails_failed', 'outbox_emails', ['status', 'failed_at'], unique=False)
    op.create_index('ix_notifications_created', 'notifications', ['created_at'], unique=False)


def downgrade():
    op.drop_index('ix_notifications_created', table_name='notifications')
    op.drop_index('ix_outbox_emails_failed', table_name='outbox_emails')
    op.drop_index('ix_outbox_emails_sent', table_name='outbox_emails')
    op.drop_column('outbox_emails', 'failed_at')
    op.drop_column('cv_documents', 'file_removed_at')
    op.drop_index('ix_retention_runs_started', table_name='retention_runs')
    op.drop_table('retention_runs')
