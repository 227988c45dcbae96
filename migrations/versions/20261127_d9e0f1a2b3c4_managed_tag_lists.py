"""managed tag lists: a tag can be retired, and a name is used once per list

Revision ID: d9e0f1a2b3c4
Revises: c8d9e0f1a2b3
Create Date: 2026-11-27 10:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd9e0f1a2b3c4'
down_revision = 'c8d9e0f1a2b3'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('insight_tags', sa.Column('retired', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index('uq_insight_tags_kind_name', 'insight_tags', ['kind', 'name'], unique=True)


def downgrade():
    op.drop_index('uq_insight_tags_kind_name', table_name='insight_tags')
    op.drop_column('insight_tags', 'retired')
