"""clean names, CV names and filenames stored before forms refused control and bidi characters

Revision ID: a6b7c8d9e0f1
Revises: f5a6b7c8d9e0
Create Date: 2026-11-27 10:30:00

Forms now refuse these characters, but rows written earlier may hold them, and from there they would reach pages,
email subjects and download names. The rules are written out here, not imported, so that this migration keeps
doing what it did when the application's rules change later.
"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a6b7c8d9e0f1'
down_revision = 'f5a6b7c8d9e0'
branch_labels = None
depends_on = None

# C0 and C1 controls, DEL, bidi controls, line and paragraph separators.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
SPACES = re.compile(r"\s+")

# (table, column, fallback when nothing is left, is it a filename)
COLUMNS = (
    ("users", "name", "Name removed", False),
    ("users", "focus_areas", "", False),
    ("registrations", "name", "Name removed", False),
    ("cv_documents", "name", "CV", False),
    ("cv_documents", "original_filename", "cv", True),
    ("cv_reviews", "document_name", "CV", False),
    ("cv_reviews", "target_role", "", False),
)


def cleaned(value, fallback, filename):
    if filename:  # the base name, with the characters removed (as uploads are cleaned now)
        value = UNSAFE.sub("", re.split(r"[/\\]", value)[-1])
    text = SPACES.sub(" ", UNSAFE.sub(" ", value)).strip()
    if filename:
        text = text.strip(". ")
    return text or fallback


def upgrade():
    connection = op.get_bind()
    for table_name, column_name, fallback, filename in COLUMNS:
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column_name, sa.String))
        column = table.c[column_name]
        changed = []
        for row_id, value in connection.execute(sa.select(table.c.id, column)):
            if value is None or not UNSAFE.search(value):
                continue
            new = cleaned(value, fallback, filename)
            if new != value:
                changed.append({"row_id": row_id, "value": new})
        if changed:
            connection.execute(
                table.update().where(table.c.id == sa.bindparam("row_id")).values({column_name: sa.bindparam("value")}),
                changed,
            )


def downgrade():
    pass  # the characters removed cannot be put back, and nothing needs them
