"""`flask db upgrade` on an empty database builds exactly the schema the models describe."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db
from portal.insights.models import compared_with_the_models
from tests.conftest import app_settings, empty_database


def _old_user(email: str, name: str) -> int:
    """A candidate inserted with the columns every revision of the users table has; returns its id."""
    db.session.execute(
        sa.text(
            "INSERT INTO users (email, name, password_hash, role, timezone, active, session_version, focus_areas,"
            " created_at, updated_at) VALUES (:email, :name, 'x', 'candidate', 'Europe/London', true, 1, '', :now,"
            " :now)"
        ),
        {"email": email, "name": name, "now": datetime(2026, 11, 1, tzinfo=UTC)},
    )
    return db.session.execute(sa.text("SELECT id FROM users WHERE email = :email"), {"email": email}).scalar_one()


def test_upgrade_on_empty_database_matches_models_and_downgrade_works(tmp_path):
    with empty_database(tmp_path, "migrations") as uri:
        app = create_app(app_settings(uri, tmp_path))
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                # The full-text index is made by DDL of its own (see portal.insights.models), not by the models.
                opts = {"compare_type": True, "include_name": compared_with_the_models}
                context = MigrationContext.configure(connection, opts=opts)
                differences = compare_metadata(context, db.metadata)
            assert differences == [], differences
            downgrade(revision="base")
            with db.engine.connect() as connection:
                remaining = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
            assert remaining == set()
            db.engine.dispose()


def test_names_and_filenames_stored_before_the_checks_are_cleaned_and_nothing_else_changes(tmp_path):
    with empty_database(tmp_path, "cleaning") as uri:
        app = create_app(app_settings(uri, tmp_path))
        with app.app_context():
            upgrade(revision="f5a6b7c8d9e0")
            # Rows written as that revision's schema stood (the models have columns added later).
            hostile = _old_user("eve@example.org", "Eve\r\nBcc: x@example.org")
            reversed_name = _old_user("sam@example.org", "Sam \u202eroyaT")
            untouched = _old_user("jo@example.org", "Jo  Spaced")  # double space, nothing unsafe: left as it was
            db.session.execute(
                sa.text(
                    "INSERT INTO cv_documents (candidate_id, name, original_filename, media_type, size_bytes, sha256,"
                    " storage_key, word_count, extracted_text, links, is_current, created_at) VALUES (:candidate,"
                    " :name, :filename, 'application/pdf', 10, :sha, 'key-1', 0, '', '', false, :now)"
                ),
                {
                    "candidate": hostile,
                    "name": "My CV\x1b",  # (PostgreSQL cannot store NUL at all)
                    "filename": "C:\\docs\\cv\u202egpj.pdf",
                    "sha": "0" * 64,
                    "now": datetime(2026, 11, 1, tzinfo=UTC),
                },
            )
            db.session.commit()
            ids = hostile, reversed_name, untouched
            db.session.remove()

            upgrade()

            names = dict(db.session.execute(sa.text("SELECT id, name FROM users")).all())
            assert [names[user_id] for user_id in ids] == ["Eve Bcc: x@example.org", "Sam royaT", "Jo  Spaced"]
            document = db.session.execute(sa.text("SELECT name, original_filename FROM cv_documents")).one()
            assert tuple(document) == ("My CV", "cvgpj.pdf")
            db.session.remove()
            db.engine.dispose()
