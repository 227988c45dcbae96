"""account closing and erasure: when an account was closed, is due to be erased, was erased

Revision ID: 0a1b2c3d4e5f
Revises: d9e0f1a2b3c4
Create Date: 2026-11-27 13:00:00

"""
from alembic import op
import sqlalchemy as sa

from portal.db import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0a1b2c3d4e5f'
down_revision = 'd9e0f1a2b3c4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('erase_after', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('erased_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_erase_after'), ['erase_after'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_erase_after'))
        batch_op.drop_column('erased_at')
        batch_op.drop_column('erase_after')
        batch_op.drop_column('closed_at')
