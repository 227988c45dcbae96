"""where sessions happen: ways of meeting, places, preparation notes, meeting links, rooms and phone numbers

Revision ID: e4f5a6b7c8d9
Revises: e3f4a5b6c7d8
Create Date: 2026-11-27 10:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = 'e4f5a6b7c8d9'
down_revision = 'e3f4a5b6c7d8'
branch_labels = None
depends_on = None

MODES = "meeting_mode IN ('video', 'phone', 'in_person')"
# Added and dropped in place: on SQLite, recreating these tables (batch mode) would trip the foreign keys that point
# at them once they hold rows. SQLite adds a column together with its own CHECK, and drops it (3.35+) the same way.
COLUMNS = {
    'interview_types': [
        ('meeting_mode', "VARCHAR(10) DEFAULT 'video' NOT NULL", 'ck_interview_types_meeting_mode_known'),
        ('place', "VARCHAR(300) DEFAULT '' NOT NULL", None),
        ('preparation', "TEXT DEFAULT '' NOT NULL", None),
    ],
    'slots': [
        ('meeting_mode', 'VARCHAR(10)', 'ck_slots_meeting_mode_known'),
        ('place', 'VARCHAR(300)', None),
    ],
    'bookings': [
        ('phone', 'VARCHAR(30)', None),
    ],
}


def _on_sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    sqlite = _on_sqlite()
    for table, columns in COLUMNS.items():
        for name, definition, check in columns:
            constraint = f' CONSTRAINT {check} CHECK ({MODES})' if check and sqlite else ''
            op.execute(f'ALTER TABLE {table} ADD COLUMN {name} {definition}{constraint}')
            if check and not sqlite:
                op.create_check_constraint(check, table, MODES)

    # Every booking gets a room of its own: an unguessable name, kept for the booking's whole life. SQLite cannot
    # make a column NOT NULL after the fact without recreating the table, so there it starts with a default of ''
    # that the backfill replaces (the app always writes a name of its own).
    op.execute(
        "ALTER TABLE bookings ADD COLUMN meeting_room VARCHAR(64) DEFAULT '' NOT NULL"
        if sqlite
        else 'ALTER TABLE bookings ADD COLUMN meeting_room VARCHAR(64)'
    )
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text('SELECT id FROM bookings'))]
    for start in range(0, len(ids), 1000):
        connection.execute(
            sa.text('UPDATE bookings SET meeting_room = :room WHERE id = :id'),
            [{'id': id_, 'room': f'mock-interview-{secrets.token_urlsafe(16)}'} for id_ in ids[start : start + 1000]],
        )
    if not sqlite:
        op.alter_column('bookings', 'meeting_room', existing_type=sa.String(length=64), nullable=False)
    op.create_index(op.f('ix_bookings_meeting_room'), 'bookings', ['meeting_room'], unique=True)

    op.create_table(
        'meeting_links',
        sa.Column('mentor_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['mentor_id'], ['users.id'], name=op.f('fk_meeting_links_mentor_id_users'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('mentor_id', name=op.f('pk_meeting_links')),
    )


def downgrade():
    op.drop_table('meeting_links')
    op.drop_index(op.f('ix_bookings_meeting_room'), table_name='bookings')
    op.execute('ALTER TABLE bookings DROP COLUMN meeting_room')
    for table, columns in reversed(COLUMNS.items()):
        for name, _, check in reversed(columns):
            if check and not _on_sqlite():
                op.drop_constraint(check, table, type_='check')
            op.execute(f'ALTER TABLE {table} DROP COLUMN {name}')
