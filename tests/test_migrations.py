"""`flask db upgrade` on an empty database builds exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db
from tests.conftest import app_settings, empty_database


def test_upgrade_on_empty_database_matches_models_and_downgrade_works(tmp_path):
    with empty_database(tmp_path, "migrations") as uri:
        app = create_app(app_settings(uri, tmp_path))
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                differences = compare_metadata(context, db.metadata)
            assert differences == [], differences
            downgrade(revision="base")
            with db.engine.connect() as connection:
                remaining = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
            assert remaining == set()
            db.engine.dispose()
