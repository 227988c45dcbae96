"""`flask backup create` while the portal keeps writing, and `flask backup restore` into a new, empty instance:
every table and every file checksum compared. Runs on the database kind of the test run (SQLite or PostgreSQL)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from psycopg.conninfo import conninfo_to_dict

from portal import backup, create_app
from portal.auth.models import User
from portal.cvs import services as cv_services
from portal.cvs.models import CVDocument
from portal.extensions import db
from portal.notifications.services import notify
from portal.storage import storage_for
from tests.conftest import ON_POSTGRES, app_settings, empty_database, s3_settings
from tests.cv_samples import GOOD_CV_LINES, pdf_with_text

CV_BYTES = pdf_with_text(GOOD_CV_LINES)
WAIT_SECONDS = 60.0


def new_instance(tmp_path: Path, name: str, database_uri: str, **settings) -> Flask:
    """An app of its own: its own database and its own UPLOAD_DIR (tmp_path/name/uploads)."""
    return create_app(app_settings(database_uri, tmp_path / name, CV_MAX_VERSIONS=1000, **settings))


def run(app: Flask, *args: str):
    """A real command line, through the Flask CLI runner."""
    return app.test_cli_runner().invoke(args=list(args))


def close(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    """Two instances, source and target, each with an empty database and file directories of its own."""
    with (
        empty_database(tmp_path, "backup_source") as source_uri,
        empty_database(tmp_path, "backup_target") as target_uri,
    ):
        source = new_instance(tmp_path, "source", source_uri)
        target = new_instance(tmp_path, "target", target_uri)
        try:
            yield source, target
        finally:
            close(source)
            close(target)


@pytest.fixture
def instances(pair: tuple[Flask, Flask]) -> tuple[Flask, Flask]:
    """The pair, the source with the migrated schema and the demo data (CVs uploaded through the service)."""
    for args in (["db", "upgrade"], ["seed-demo"]):
        result = run(pair[0], *args)
        assert result.exit_code == 0, result.output
    return pair


def upload_cv(candidate: User, name: str = "My CV") -> CVDocument:
    return cv_services.upload_cv(candidate, name, "cv.pdf", io.BytesIO(CV_BYTES))


def table_rows(app: Flask) -> dict[str, Counter]:
    """Every row of every table (alembic_version included), as a multiset per table."""
    with app.app_context(), db.engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        rows = {}
        for name in names:
            query = f"SELECT * FROM {backup.quoted(name)}"  # noqa: S608 - names from the catalogue, quoted
            rows[name] = Counter(repr(tuple(row)) for row in connection.exec_driver_sql(query))
        return rows


def orphans(app: Flask) -> list[str]:
    """Rows whose foreign key points at no row, in every table."""
    found = []
    with app.app_context(), db.engine.connect() as connection:
        inspector = sa.inspect(connection)
        for table in inspector.get_table_names():
            for key in inspector.get_foreign_keys(table):
                child = [f"c.{backup.quoted(column)}" for column in key["constrained_columns"]]
                parent = [f"p.{backup.quoted(column)}" for column in key["referred_columns"]]
                joined = " AND ".join(f"{c} = {p}" for c, p in zip(child, parent, strict=True))
                tables = f"{backup.quoted(table)} c LEFT JOIN {backup.quoted(key['referred_table'])} p ON {joined}"
                query = f"SELECT count(*) FROM {tables} WHERE {child[0]} IS NOT NULL AND {parent[0]} IS NULL"  # noqa: S608
                if count := connection.exec_driver_sql(query).scalar():
                    found.append(f"{table} -> {key['referred_table']}: {count}")
    return found


def stored_files(app: Flask) -> dict[str, str]:
    """sha256 of every file in the instance's storage directory, by key."""
    with app.app_context():
        root = storage_for(app).root
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in root.iterdir() if path.is_file()}


def documents_without_their_file(app: Flask) -> list[str]:
    """CV versions whose stored file is missing or differs from the size and sha256 in their row."""
    problems = []
    files = stored_files(app)
    with app.app_context():
        for document in db.session.scalars(sa.select(CVDocument)):
            if files.get(document.storage_key) != document.sha256:
                problems.append(f"{document.id}: {document.storage_key}")
            elif (storage_for(app).root / document.storage_key).stat().st_size != document.size_bytes:
                problems.append(f"{document.id}: size")
    return problems


class Writer(threading.Thread):
    """Keeps writing, as the portal does while the backup runs: each round, in one transaction, a new candidate,
    a notification and (every other round) an uploaded CV. Only inserts, so that any row of the backup must be in
    the database afterwards, and the rounds in the backup must be 1..n for some n."""

    def __init__(self, app: Flask) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.rounds = 0
        self.uploads = 0
        self.error: BaseException | None = None
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            with self.app.app_context():
                while not self.stopping.is_set():
                    number = self.rounds + 1
                    user = User(email=f"writer{number}@example.org", name=f"Writer {number}", role="candidate")
                    db.session.add(user)
                    db.session.flush()
                    notify(user, f"write {number}")
                    if number % 2 == 0:
                        upload_cv(user)
                    db.session.commit()
                    self.rounds = number
                    self.uploads += number % 2 == 0
                db.session.remove()
        except BaseException as error:
            self.error = error
            raise

    def wait_for(self, attribute: str, count: int) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while getattr(self, attribute) < count:
            assert self.error is None, self.error
            assert self.is_alive(), "the writer stopped"
            assert time.monotonic() < deadline, f"the writer did not reach {count} {attribute}"
            time.sleep(0.01)

    def finish(self) -> None:
        self.stopping.set()
        self.join(timeout=WAIT_SECONDS)
        assert not self.is_alive() and self.error is None, self.error


def test_backup_while_writes_continue_restores_every_row_and_file(instances, tmp_path, monkeypatch):
    source, target = instances
    with source.app_context():
        for candidate in db.session.scalars(sa.select(User).where(User.role == "candidate")):
            upload_cv(candidate, "Extra version")
        db.session.commit()
    assert run(target, "db", "upgrade").exit_code == 0  # the target may hold the empty schema already
    before, files_before = table_rows(source), stored_files(source)
    assert len(files_before) >= 4 and sum(map(sum, (c.values() for c in before.values()))) > 100

    writer = Writer(source)
    real_snapshot = backup.database_snapshot

    def snapshot_while_writing(*args):
        # Uploads land after the first pass over the files (the second pass must fetch them), and rows keep coming
        # while the snapshot is taken and after it, while the files are copied.
        writer.wait_for("uploads", writer.uploads + 2)
        result = real_snapshot(*args)
        writer.wait_for("rounds", writer.rounds + 3)
        return result

    monkeypatch.setattr(backup, "database_snapshot", snapshot_while_writing)
    writer.start()
    writer.wait_for("rounds", 3)
    backup_path = tmp_path / "backups" / "nightly"
    try:
        created = run(source, "backup", "create", str(backup_path))
    finally:
        writer.finish()
    assert created.exit_code == 0, created.output
    assert "Backup complete" in created.output
    assert not backup_path.with_name("nightly.partial").exists()
    manifest = json.loads((backup_path / "manifest.json").read_text())
    assert manifest["database"]["kind"] == ("postgresql" if ON_POSTGRES else "sqlite")
    assert manifest["missing_files"] == []
    after = table_rows(source)

    restored = run(target, "backup", "restore", str(backup_path))
    assert restored.exit_code == 0, restored.output
    assert "the newest this code knows: ready" in restored.output

    rows = table_rows(target)
    assert set(rows) == set(before) == set(after)
    for table in rows:
        assert not before[table] - rows[table], f"{table}: rows of before the backup are missing"
        assert not rows[table] - after[table], f"{table}: rows that the source never had"
    assert orphans(target) == []
    with target.app_context():
        writes = db.session.scalars(sa.select(User.email).where(User.email.like("writer%"))).all()
    numbers = sorted(int(email.removeprefix("writer").split("@")[0]) for email in writes)
    assert numbers == list(range(1, len(numbers) + 1)), "the backup is not one point in time"
    assert 3 <= len(numbers) < writer.rounds, "writes went on before and after the snapshot"
    # Files: all of before the backup, with the same checksums, and each CV row's own file.
    restored_files = stored_files(target)
    assert {key: restored_files.get(key) for key in files_before} == files_before
    assert documents_without_their_file(target) == []
    with target.app_context():
        keys = set(db.session.scalars(sa.select(CVDocument.storage_key)))
    assert len(keys) == len(files_before) + len(numbers) // 2  # the writer's uploads up to the snapshot included


def test_file_deleted_after_the_snapshot_is_in_the_backup(instances, tmp_path, monkeypatch):
    """A CV deleted right after the snapshot (row first, file after the commit, as the page does) keeps its file in
    the backup; restored into a database where no migration has run."""
    source, target = instances
    real_snapshot = backup.database_snapshot

    def then_delete(*args):
        result = real_snapshot(*args)
        with source.app_context():
            document = db.session.scalars(sa.select(CVDocument).order_by(CVDocument.id)).first()
            key = cv_services.delete_document(document)
            db.session.commit()
            storage_for(source).delete(key)
        return result

    monkeypatch.setattr(backup, "database_snapshot", then_delete)
    with source.app_context():
        count = db.session.scalar(sa.select(sa.func.count(CVDocument.id)))
    assert count >= 1
    created = run(source, "backup", "create", str(tmp_path / "backup"))
    assert created.exit_code == 0, created.output

    restored = run(target, "backup", "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CVDocument.id))) == count
    assert documents_without_their_file(target) == []


def test_cv_deleted_while_files_are_copied_is_neither_restored_nor_reported_missing(instances, tmp_path, monkeypatch):
    source, target = instances
    with source.app_context():
        candidate = db.session.scalars(sa.select(User).where(User.role == "candidate")).first()
        doomed = upload_cv(candidate, "Deleted during the backup").storage_key
        db.session.commit()
    real_files = backup.FileRoots.files

    def deleting_one(roots):
        for name, path in real_files(roots):
            if path.name == doomed:  # listed, then deleted (row and file, as the page does) before it is copied
                with source.app_context():
                    document = db.session.scalar(sa.select(CVDocument).where(CVDocument.storage_key == doomed))
                    cv_services.delete_document(document)
                    db.session.commit()
                    storage_for(source).delete(doomed)
            yield name, path

    monkeypatch.setattr(backup.FileRoots, "files", deleting_one)
    with source.app_context():
        count = db.session.scalar(sa.select(sa.func.count(CVDocument.id)))
    created = run(source, "backup", "create", str(tmp_path / "backup"))
    assert created.exit_code == 0, created.output
    assert "Warning" not in created.output
    monkeypatch.undo()

    restored = run(target, "backup", "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CVDocument.id))) == count - 1
    assert documents_without_their_file(target) == []
    assert len(stored_files(target)) == count - 1 and doomed not in stored_files(target)


def test_restore_refuses_a_target_that_is_not_empty(instances, tmp_path):
    source, target = instances
    assert run(source, "backup", "create", str(tmp_path / "backup")).exit_code == 0
    assert run(target, "db", "upgrade").exit_code == 0
    assert run(target, "create-user", "a@example.org", "--name", "A", "--password", "long enough pass").exit_code == 0

    refused = run(target, "backup", "restore", str(tmp_path / "backup"))
    assert refused.exit_code != 0
    assert "This instance is not empty: its database has accounts" in refused.output
    with target.app_context():
        assert db.session.scalars(sa.select(User.email)).all() == ["a@example.org"]
    assert stored_files(target) == {}

    with target.app_context():
        db.session.execute(sa.delete(User))
        db.session.commit()
        stray = storage_for(target).root / "left-behind-file-0123456789"
    stray.write_bytes(b"an old CV")
    refused = run(target, "backup", "restore", str(tmp_path / "backup"))
    assert refused.exit_code != 0
    assert f"This instance is not empty: {stray} exists" in refused.output


def test_restore_refuses_a_tampered_file_and_names_it(instances, tmp_path):
    source, target = instances
    assert run(source, "backup", "create", str(tmp_path / "backup")).exit_code == 0
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    tampered = manifest["files"][0]["path"]
    (tmp_path / "backup" / tampered).write_bytes(b"%PDF-1.4 something else entirely")

    refused = run(target, "backup", "restore", str(tmp_path / "backup"))
    assert refused.exit_code != 0
    assert f"{tampered} does not match its checksum in the manifest" in refused.output
    with target.app_context():
        assert "users" not in sa.inspect(db.engine).get_table_names()
    assert stored_files(target) == {}


def test_create_refuses_a_path_that_is_not_empty(pair, tmp_path):
    source, _ = pair
    path = tmp_path / "backup"
    path.mkdir()
    (path / "notes.txt").write_text("keep me")
    refused = run(source, "backup", "create", str(path))
    assert refused.exit_code != 0
    assert "already exists and is not empty" in refused.output
    assert [p.name for p in path.iterdir()] == ["notes.txt"]

    inside = Path(source.config["UPLOAD_DIR"]) / "backups" / "tonight"
    refused = run(source, "backup", "create", str(inside))
    assert refused.exit_code != 0 and "which is backed up itself: choose a directory outside it" in refused.output
    assert not inside.parent.exists()

    path.joinpath("notes.txt").unlink()  # an empty directory is fine
    assert run(source, "db", "upgrade").exit_code == 0
    created = run(source, "backup", "create", str(path))
    assert created.exit_code == 0, created.output
    assert (path / "manifest.json").is_file()


def test_interrupted_create_leaves_only_the_partial_directory(pair, tmp_path, monkeypatch):
    source, target = pair
    assert run(source, "db", "upgrade").exit_code == 0

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup, "database_snapshot", disk_full)
    path = tmp_path / "backup"
    failed = run(source, "backup", "create", str(path))
    assert failed.exit_code != 0
    partial = tmp_path / "backup.partial"
    assert "No space left on device" in failed.output
    assert f"The incomplete backup is left in {partial}" in failed.output
    assert not path.exists() and partial.is_dir() and not (partial / "manifest.json").exists()

    monkeypatch.undo()
    again = run(source, "backup", "create", str(path))
    assert again.exit_code != 0 and "an earlier backup was interrupted" in again.output
    refused = run(target, "backup", "restore", str(partial))
    assert refused.exit_code != 0 and "has no manifest.json: it is not a complete backup" in refused.output


def test_with_s3_storage_only_the_database_is_backed_up_and_it_says_so(tmp_path, s3_endpoint, s3_bucket):
    with empty_database(tmp_path, "backup_s3") as uri:
        source = new_instance(tmp_path, "source", uri, **s3_settings(s3_endpoint, s3_bucket))
        try:
            assert run(source, "db", "upgrade").exit_code == 0
            assert run(source, "seed-demo").exit_code == 0
            created = run(source, "backup", "create", str(tmp_path / "backup"))
        finally:
            close(source)
    assert created.exit_code == 0, created.output
    assert f"Uploaded CVs are in the S3 bucket '{s3_bucket}' and are NOT in this backup" in created.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["storage"] == {"kind": "s3", "bucket": s3_bucket, "prefix": "cvs"}
    assert manifest["files"] == []


def test_pg_dump_is_needed_for_postgresql_only_and_its_absence_is_a_clear_message(pair, tmp_path, monkeypatch):
    """PostgreSQL is dumped by pg_dump, which must be on PATH; SQLite is copied by Python's own sqlite3 module."""
    source, _ = pair
    assert run(source, "db", "upgrade").exit_code == 0
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = run(source, "backup", "create", str(tmp_path / "backup"))
    if ON_POSTGRES:
        assert result.exit_code != 0
        assert "pg_dump was not found on PATH" in result.output
        assert not (tmp_path / "backup").exists() and not (tmp_path / "backup.partial").exists()
    else:
        assert result.exit_code == 0, result.output
        assert (tmp_path / "backup" / backup.SQLITE_FILE).is_file()


def test_a_pg_dump_older_than_the_server_is_refused_and_never_used_for_sqlite(pair, tmp_path, monkeypatch):
    source, _ = pair
    assert run(source, "db", "upgrade").exit_code == 0
    tools = tmp_path / "old-bin"
    tools.mkdir()
    old = tools / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    result = run(source, "backup", "create", str(tmp_path / "backup"))
    if ON_POSTGRES:
        assert result.exit_code != 0
        assert "pg_dump is version 9 but the server runs PostgreSQL" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert json.loads((tmp_path / "backup" / "manifest.json").read_text())["database"]["kind"] == "sqlite"


def test_a_target_migrated_to_another_revision_is_refused_on_postgresql_and_replaced_whole_on_sqlite(pair, tmp_path):
    """pg_restore --clean can only drop and recreate the schema it dumped; SQLite's backup API replaces the whole
    file, schema included."""
    source, target = pair
    assert run(source, "db", "upgrade").exit_code == 0
    assert run(source, "backup", "create", str(tmp_path / "backup")).exit_code == 0
    assert run(target, "db", "upgrade", "f5a6b7c8d9e0").exit_code == 0
    result = run(target, "backup", "restore", str(tmp_path / "backup"))
    if ON_POSTGRES:
        assert result.exit_code != 0
        assert "holds the schema of revision f5a6b7c8d9e0" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert "the newest this code knows: ready" in result.output
        assert table_rows(target) == table_rows(source)


def test_restore_of_an_older_schema_says_to_run_db_upgrade(tmp_path):
    with empty_database(tmp_path, "backup_old") as old_uri, empty_database(tmp_path, "backup_new") as new_uri:
        old, target = new_instance(tmp_path, "old", old_uri), new_instance(tmp_path, "target", new_uri)
        try:
            assert run(old, "db", "upgrade", "f5a6b7c8d9e0").exit_code == 0
            created = run(old, "backup", "create", str(tmp_path / "backup"))
            assert created.exit_code == 0, created.output
            assert "(revision f5a6b7c8d9e0)" in created.output
            restored = run(target, "backup", "restore", str(tmp_path / "backup"))
            assert restored.exit_code == 0, restored.output
            assert "revision f5a6b7c8d9e0, older than this code's: run `flask db upgrade` now" in restored.output
            upgraded = run(target, "db", "upgrade")
            assert upgraded.exit_code == 0, upgraded.output
        finally:
            close(old)
            close(target)


def test_the_database_password_is_passed_in_the_environment_not_on_the_command_line(tmp_path):
    url = "postgresql+psycopg://portal:s3cret%20pw@db.example:5433/portal?sslmode=require"
    app = new_instance(tmp_path, "remote", url)
    with app.app_context():
        conninfo, environment = backup.libpq_connection()
    assert "s3cret" not in conninfo
    assert conninfo_to_dict(conninfo) == {
        "host": "db.example",
        "port": "5433",
        "user": "portal",
        "dbname": "portal",
        "sslmode": "require",
    }
    assert environment["PGPASSWORD"] == "s3cret pw"


def test_erased_cvs_are_not_reported_missing_and_a_ready_export_is_backed_up(instances, tmp_path):
    from portal.privacy import exports
    from portal.privacy.erasure import erase_user
    from portal.privacy.models import DataExport

    source, target = instances
    with source.app_context():
        admin = db.session.scalar(sa.select(User).where(User.role == "admin"))
        candidates = db.session.scalars(sa.select(User).where(User.role == "candidate").order_by(User.id)).all()
        upload_cv(candidates[0])
        db.session.commit()
        assert erase_user(candidates[0], by=admin) is True
        exports.request_export(candidates[1], candidates[1])
        db.session.commit()
        assert exports.build_due_exports() == 1
        ready = db.session.scalar(sa.select(DataExport))
        zip_path = exports.export_storage(source).root / ready.storage_key
        zip_bytes = zip_path.read_bytes()

    made = run(source, "backup", "create", str(tmp_path / "backup"))
    assert made.exit_code == 0, made.output
    assert "missing" not in made.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["missing_files"] == []

    restored = run(target, "backup", "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        export = db.session.scalar(sa.select(DataExport))
        assert (exports.export_storage(target).root / export.storage_key).read_bytes() == zip_bytes
