"""mentor focus areas, shown with their name on the public home page

Revision ID: f5a6b7c8d9e0
Revises: e4f5a6b7c8d9
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f5a6b7c8d9e0'
down_revision = 'e4f5a6b7c8d9'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('focus_areas', sa.String(length=200), server_default='', nullable=False))


def downgrade():
    op.drop_column('users', 'focus_areas')
