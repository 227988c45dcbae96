"""privacy-notice versions: which version each person accepted, and acknowledgements of newer ones

Revision ID: e0f1a2b3c4d5
Revises: d9e0f1a2b3c4
Create Date: 2026-11-27 13:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = 'e0f1a2b3c4d5'
down_revision = 'd9e0f1a2b3c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('privacy_notice_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('page_revision_id', sa.Integer(), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['page_revision_id'], ['page_revisions.id'], name=op.f('fk_privacy_notice_versions_page_revision_id_page_revisions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_privacy_notice_versions_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_notice_versions')),
    sa.UniqueConstraint('label', name=op.f('uq_privacy_notice_versions_label'))
    )
    op.create_table('privacy_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('notice_version', sa.String(length=40), nullable=False),
    sa.Column('how', sa.String(length=20), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("how IN ('registration', 'invitation', 'acknowledged')", name=op.f('ck_privacy_consents_how_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_privacy_consents_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_consents'))
    )
    with op.batch_alter_table('privacy_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_consents_user_id'), ['user_id'], unique=False)
    # Plain ADD COLUMNs: a batch copy of users would cascade-delete every row that refers to it on SQLite.
    op.add_column('users', sa.Column('privacy_notice_version', sa.String(length=40), nullable=True))
    op.add_column('users', sa.Column('privacy_ack_due', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('registrations', sa.Column('privacy_notice_version', sa.String(length=40), nullable=True))
    # Everyone accepted an earlier, unversioned notice: each is asked once to acknowledge the current one.
    op.execute(sa.text("UPDATE users SET privacy_ack_due = :yes").bindparams(yes=True))


def downgrade():
    op.drop_column('registrations', 'privacy_notice_version')
    op.drop_column('users', 'privacy_ack_due')
    op.drop_column('users', 'privacy_notice_version')
    with op.batch_alter_table('privacy_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_consents_user_id'))
    op.drop_table('privacy_consents')
    op.drop_table('privacy_notice_versions')
