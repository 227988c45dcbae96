"""indexes for large data sets

Revision ID: c1d2e3f4a5b6
Revises: e34b77eadde6
Create Date: 2026-11-27 06:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c1d2e3f4a5b6'
down_revision = 'e34b77eadde6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_slot_status', ['slot_id', 'status'], unique=False)
        batch_op.create_index('ix_bookings_updated_at', ['updated_at'], unique=False)
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.create_index('ix_slots_starts_at', ['starts_at'], unique=False)
        batch_op.create_index('ix_slots_updated_at', ['updated_at'], unique=False)
    for table in ('users', 'cv_reviews', 'session_feedback'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_updated_at', ['updated_at'], unique=False)


def downgrade():
    for table in ('users', 'cv_reviews', 'session_feedback'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_updated_at')
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_index('ix_slots_updated_at')
        batch_op.drop_index('ix_slots_starts_at')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_updated_at')
        batch_op.drop_index('ix_bookings_slot_status')
