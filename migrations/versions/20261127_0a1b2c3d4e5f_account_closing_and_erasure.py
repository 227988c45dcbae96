"""account closing and erasure: when an account was closed, is due to be erased, was erased

Revision ID: 0a1b2c3d4e5f
Revises: 1b2c3d4e5f60
Create Date: 2026-11-27 13:00:00

"""
from alembic import op
import sqlalchemy as sa

from portal.db import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0a1b2c3d4e5f'
down_revision = '1b2c3d4e5f60'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs: a batch copy of users would cascade-delete every row that refers to it on SQLite.
    op.add_column('users', sa.Column('closed_at', UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('erase_after', UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('erased_at', UTCDateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_users_erase_after'), 'users', ['erase_after'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_users_erase_after'), table_name='users')
    op.drop_column('users', 'erased_at')
    op.drop_column('users', 'erase_after')
    op.drop_column('users', 'closed_at')
