"""`flask backup create PATH` and `flask backup restore PATH`: the database and the uploaded files, with checksums.

A backup is a directory: `database.sqlite3` (SQLite, copied by the online backup API) or `database.dump` (PostgreSQL,
`pg_dump --format=custom`), the files under `files/`, and `manifest.json` listing each with its size and SHA-256.
It is written as PATH.partial and renamed to PATH only when complete.

Files and database are made consistent in two passes: every stored file is copied, then the database snapshot is
taken, then any file a row of the snapshot refers to (a `storage_key` column) that the first pass missed is copied.
A file deleted after the snapshot was already copied; one uploaded before it is copied by the second pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import click
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import AppGroup
from psycopg.conninfo import make_conninfo

from portal.config import StorageLocation, storage_location
from portal.cvs.models import CVDocument
from portal.db import utcnow
from portal.extensions import db, migrate
from portal.privacy.exports import EXPORTS_AREA
from portal.privacy.models import DataExport, ExportStatus
from portal.storage import TEMP_PREFIX, checked_key, copy_and_hash

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"
STORAGE_DIR = "files/storage"  # the files of portal.storage (CVs), by key
UPLOADS_DIR = "files/uploads"  # anything else under UPLOAD_DIR (exports, for example)
REFERENCE_COLUMN = "storage_key"  # a column of this name holds the key of a stored file
# Tables whose stored files live in a folder of the storage root, and the conditions (on columns they may have) under
# which a row's file exists: a CV version whose file was removed (retention, erasure) has none, an export only once
# it is ready.
STORED_FILES: dict[str, tuple[str, dict[str, str]]] = {
    CVDocument.__tablename__: ("", {"file_removed_at": "file_removed_at IS NULL"}),
    DataExport.__tablename__: (EXPORTS_AREA, {"status": f"status = '{ExportStatus.READY}'"}),
}
Echo = Callable[[str], None]


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class FileRoots:
    """Where this instance keeps files: the local store (None on S3) and UPLOAD_DIR."""

    location: StorageLocation
    storage: Path | None
    uploads: Path

    @classmethod
    def of(cls, app: Flask) -> FileRoots:
        location = storage_location(app.config)
        storage = location.path.resolve() if location.kind == "file" and location.path else None
        return cls(location, storage, Path(app.config["UPLOAD_DIR"]).resolve())

    def files(self) -> Iterator[tuple[str, Path]]:
        """(path inside a backup, path on disk) of every file kept here, skipping uploads still being written."""
        if self.storage is not None and self.storage.is_dir():
            for path in sorted(self.storage.rglob("*")):
                if path.is_file() and not path.name.startswith(TEMP_PREFIX):
                    yield f"{STORAGE_DIR}/{path.relative_to(self.storage).as_posix()}", path
        if self.uploads.is_dir():
            for path in sorted(self.uploads.rglob("*")):
                if self.storage is not None and path.is_relative_to(self.storage):
                    continue
                if path.is_file() and not path.name.startswith(TEMP_PREFIX):
                    yield f"{UPLOADS_DIR}/{path.relative_to(self.uploads).as_posix()}", path

    def target_of(self, name: str) -> Path:
        """Where the backed-up file `name` goes in this instance; raises BackupError for a name outside the roots."""
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise BackupError(f"The manifest names a file outside the backup: {name}")
        if name.startswith(STORAGE_DIR + "/"):
            if self.storage is None:
                raise BackupError(
                    "The backup holds uploaded files but this instance keeps them in S3 (STORAGE_URL): restore into"
                    " an instance with local storage, or copy files/storage/ into the bucket yourself."
                )
            return self.storage / relative.relative_to(STORAGE_DIR)
        if name.startswith(UPLOADS_DIR + "/"):
            return self.uploads / relative.relative_to(UPLOADS_DIR)
        raise BackupError(f"The manifest names a file outside the backup: {name}")


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def copy_file(source: Path, target: Path) -> dict:
    """Copy one file into a new private file (0o600), hashing what was written; returns its manifest entry without
    the name. Raises FileNotFoundError when `source` is gone (nothing is written then); on any failure the
    target is removed again."""
    with source.open("rb") as reader:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as writer:
                size, sha256, _ = copy_and_hash(reader, writer, None)
                writer.flush()
                os.fsync(writer.fileno())
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    return {"size": size, "sha256": sha256}


def database_kind() -> str:
    name = db.engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def quoted(name: str) -> str:
    """A table or column name as an SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def references_query(table: str, columns: set[str]) -> str:
    """The stored files that `table` refers to, as `folder/key` (or `key` in the root); table and column names come
    from the database's own catalogue."""
    column = quoted(REFERENCE_COLUMN)
    folder, conditions = STORED_FILES.get(table, ("", {}))
    where = " AND ".join([f"{column} IS NOT NULL", *(sql for name, sql in conditions.items() if name in columns)])
    selected = f"'{folder}/' || {column}" if folder else column
    return f"SELECT {selected} FROM {quoted(table)} WHERE {where}"  # noqa: S608 - quoted identifiers, fixed text


def stored_path(root: Path, reference: str) -> Path:
    """Where the file a reference names lives under the storage root; raises ValueError for anything that is not
    a known folder and a plain key."""
    folder, _, key = reference.rpartition("/")
    if folder not in {place for place, _ in STORED_FILES.values()}:
        raise ValueError(f"Not a storage folder: {folder!r}")
    return root / folder / checked_key(key)


# The database: SQLite ----------------------------------------------------------------------------------------------


def sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("The database is in memory: there is no file to back up or restore into.")
    return Path(database)


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy the database `source` into `target` with SQLite's online backup API, in one step: the copy is one
    consistent snapshot, and other connections go on writing meanwhile (WAL). The copy is one self-contained file."""
    with closing(sqlite3.connect(source, timeout=30)) as reader, closing(sqlite3.connect(target, timeout=30)) as writer:
        reader.backup(writer)
        if writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            writer.execute("PRAGMA journal_mode = DELETE")
        problems = writer.execute("PRAGMA quick_check").fetchall()
    if problems != [("ok",)]:
        raise BackupError(f"The copy of the database fails SQLite's check: {problems[:3]}")


def sqlite_facts(path: Path) -> tuple[str | None, set[str], bool]:
    """(alembic revision, keys of stored files referred to, whether any account exists) of a SQLite file."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        revision = None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        keys: set[str] = set()
        for table in tables:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({quoted(table)})")]
            if REFERENCE_COLUMN in columns:
                keys.update(row[0] for row in connection.execute(references_query(table, set(columns))))
        has_users = "users" in tables and connection.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
    return revision, keys, has_users


# The database: PostgreSQL ------------------------------------------------------------------------------------------


def postgres_tool(name: str) -> str:
    """The path of pg_dump or pg_restore; raises BackupError when it is not on PATH."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client tools of the server's major version or"
            " newer (Debian and Ubuntu: apt install postgresql-client), or put their directory on PATH."
        )
    return path


def tool_major_version(path: str) -> int:
    """The major version a PostgreSQL client tool reports (`pg_dump (PostgreSQL) 15.20 ...` gives 15)."""
    output = subprocess.run(  # noqa: S603 - the tool found on PATH, no input of anyone else's
        [path, "--version"], capture_output=True, text=True, check=False, timeout=30
    ).stdout
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", output)
    if found is None:
        raise BackupError(f"{path} --version did not say its version: {output.strip()[:200]!r}")
    return int(found.group(1))


def server_major_version(connection: sa.Connection) -> int:
    return int(connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000


def libpq_connection() -> tuple[str, dict[str, str]]:
    """The app's database as a libpq connection string for the command line, without the password, and the
    environment for the tool: the password goes in PGPASSWORD, never in a command line others can read."""
    url = db.engine.url
    params = url.translate_connect_args(username="user", database="dbname")
    password = params.pop("password", None)
    params.update({key: value for key, value in url.query.items() if isinstance(value, str)})
    environment = dict(os.environ)
    if password:
        environment["PGPASSWORD"] = str(password)
    return make_conninfo(**{key: str(value) for key, value in params.items()}), environment


def run_tool(command: list[str], environment: dict[str, str]) -> None:
    result = subprocess.run(  # noqa: S603 - the tool found on PATH with arguments of our own
        command, capture_output=True, text=True, env=environment, check=False
    )
    if result.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed (exit code {result.returncode}): {result.stderr.strip()[-2000:]}")


def postgres_dump(target: Path) -> tuple[str | None, set[str]]:
    """`pg_dump --format=custom` of the app's database into `target`, from a snapshot this function exports and
    reads too; returns that snapshot's (alembic revision, keys of stored files referred to)."""
    pg_dump = postgres_tool("pg_dump")
    conninfo, environment = libpq_connection()
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
        client, server = tool_major_version(pg_dump), server_major_version(connection)
        if client < server:
            raise BackupError(
                f"pg_dump is version {client} but the server runs PostgreSQL {server}: install the client tools of"
                f" version {server} or newer (pg_dump refuses to dump a newer server)."
            )
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        revision, keys = postgres_facts(connection)
        run_tool(
            [pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}", "--file", str(target)]
            + ["--dbname", conninfo],
            environment,
        )
    return revision, keys


def postgres_facts(connection: sa.Connection) -> tuple[str | None, set[str]]:
    tables = set(sa.inspect(connection).get_table_names())
    revision = None
    if "alembic_version" in tables:
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    keys: set[str] = set()
    columns: dict[str, set[str]] = {}
    for table, column in connection.execute(
        sa.text("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()")
    ):
        columns.setdefault(table, set()).add(column)
    for table, names in columns.items():
        if REFERENCE_COLUMN in names:
            keys.update(connection.exec_driver_sql(references_query(table, names)).scalars())
    return revision, keys


# Create ------------------------------------------------------------------------------------------------------------


def database_snapshot(kind: str, directory: Path) -> tuple[str, str | None, set[str]]:
    """Write the database into `directory`; returns (file name, alembic revision, keys of stored files referred
    to), all of the one snapshot."""
    if kind == "sqlite":
        sqlite_copy(sqlite_path(), directory / SQLITE_FILE)
        revision, keys, _ = sqlite_facts(directory / SQLITE_FILE)
        return SQLITE_FILE, revision, keys
    revision, keys = postgres_dump(directory / POSTGRES_FILE)
    return POSTGRES_FILE, revision, keys


def create_backup(app: Flask, path: Path, echo: Echo = click.echo) -> dict:
    """Back up the database and the uploaded files into the new directory `path`; returns the manifest.

    Raises BackupError when `path` exists and is not empty or lies inside the directories backed up, when PATH.partial
    is left from an interrupted backup, when the database or pg_dump is missing, or when copying fails; a failure once
    PATH.partial is made leaves it behind (never PATH), for the operator to remove.
    """
    path = path.resolve()
    partial = path.with_name(path.name + ".partial")
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path} already exists and is not empty: choose a new directory for the backup.")
    if partial.exists():
        raise BackupError(f"{partial} exists: an earlier backup was interrupted. Remove it, then try again.")
    roots = FileRoots.of(app)
    for root in (roots.uploads, roots.storage):
        if root is not None and path.is_relative_to(root):
            raise BackupError(f"{path} is inside {root}, which is backed up itself: choose a directory outside it.")
    kind = database_kind()
    # Before anything is written: a missing database or tool is a message, not a partial backup.
    if kind == "sqlite" and not sqlite_path().is_file():
        raise BackupError(f"There is no database at {sqlite_path()}: check DATABASE_URL.")
    if kind == "postgresql":
        postgres_tool("pg_dump")
    db.session.remove()  # no transaction of ours holds up the snapshot or the writers
    partial.mkdir(mode=0o700, parents=True)
    try:
        manifest = write_backup(kind, roots, partial)
    except Exception as error:
        raise BackupError(f"{error} The incomplete backup is left in {partial}; remove it.") from error
    if path.exists():
        path.rmdir()  # it was checked empty; rmdir refuses if anything appeared since
    partial.rename(path)
    report_created(manifest, path, roots, echo)
    return manifest


def write_backup(kind: str, roots: FileRoots, partial: Path) -> dict:
    """Copy the files, take the database snapshot, copy the files it refers to that appeared meanwhile, and write
    the manifest last; returns the manifest."""
    copied: dict[str, dict] = {}
    for name, source in roots.files():  # first pass: before the snapshot
        try:
            copied[name] = copy_file(source, partial / name)
        except FileNotFoundError:
            continue  # deleted meanwhile: the snapshot decides whether it still mattered
    database_file, revision, keys = database_snapshot(kind, partial)
    missing = []
    if roots.storage is not None:
        for key in sorted(keys):  # second pass: files the snapshot refers to that appeared after the first
            name = f"{STORAGE_DIR}/{key}"
            if name in copied:
                continue
            try:
                copied[name] = copy_file(stored_path(roots.storage, key), partial / name)
            except (FileNotFoundError, ValueError):  # ValueError: not a key at all, so no file either
                missing.append(key)
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": utcnow().isoformat(),
        "alembic_revision": revision,
        "database": {
            "kind": kind,
            "file": database_file,
            "size": (partial / database_file).stat().st_size,
            "sha256": sha256_of(partial / database_file),
        },
        "storage": {"kind": roots.location.kind, "bucket": roots.location.bucket, "prefix": roots.location.prefix},
        "files": [{"path": name, **entry} for name, entry in sorted(copied.items())],
        "missing_files": missing,
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def report_created(manifest: dict, path: Path, roots: FileRoots, echo: Echo) -> None:
    database = manifest["database"]
    total = sum(entry["size"] for entry in manifest["files"])
    echo(f"Database ({database['kind']}): {database['file']}, {database['size']} bytes.")
    echo(f"Files: {len(manifest['files'])} ({total} bytes).")
    if roots.location.kind == "s3":
        echo(
            f"Uploaded CVs are in the S3 bucket {roots.location.bucket!r} and are NOT in this backup: the bucket's own"
            " versioning or replication keeps them. Only the database and files under UPLOAD_DIR were copied."
        )
    for key in manifest["missing_files"]:
        echo(f"Warning: the database refers to stored file {key}, which is missing from the storage directory.")
    echo(f"Backup complete: {path} (revision {manifest['alembic_revision'] or 'unknown'}).")


# Restore -----------------------------------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict:
    """The backup's manifest after checking every file it lists; raises BackupError naming the first file whose
    size or checksum differs, or that is missing."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BackupError(f"{path} has no {MANIFEST}: it is not a complete backup.") from error
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError(f"{path / MANIFEST} is not a readable manifest: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"{path / MANIFEST} is not a backup manifest this portal understands.")
    database = manifest["database"]
    for entry in [{"path": database["file"], **database}, *manifest["files"]]:
        file = path / entry["path"]
        if Path(entry["path"]).is_absolute() or ".." in Path(entry["path"]).parts:
            raise BackupError(f"The manifest names a file outside the backup: {entry['path']}")
        if not file.is_file():
            raise BackupError(f"{entry['path']} is missing from the backup.")
        if file.stat().st_size != entry["size"] or sha256_of(file) != entry["sha256"]:
            raise BackupError(f"{entry['path']} does not match its checksum in the manifest: the backup is damaged.")
    return manifest


def target_has_accounts(kind: str) -> bool:
    if kind == "sqlite" and not sqlite_path().exists():
        return False
    with db.engine.connect() as connection:
        if "users" not in sa.inspect(connection).get_table_names():
            return False
        return connection.exec_driver_sql("SELECT 1 FROM users LIMIT 1").first() is not None


def target_revision() -> str | None:
    with db.engine.connect() as connection:
        if "alembic_version" not in sa.inspect(connection).get_table_names():
            return None
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def check_target_is_empty(manifest: dict, kind: str, roots: FileRoots) -> None:
    """Raise BackupError unless this instance is empty: no accounts in its database, no files in its directories."""
    if manifest["database"]["kind"] != kind:
        raise BackupError(
            f"The backup holds a {manifest['database']['kind']} database but this instance uses {kind}:"
            " restore it into an instance of the same kind."
        )
    if target_has_accounts(kind):
        raise BackupError(
            "This instance is not empty: its database has accounts. Restore only into a new database (PostgreSQL:"
            " createdb; SQLite: a new file), with or without `flask db upgrade` run on it."
        )
    existing = next(roots.files(), None)
    if existing is not None:
        raise BackupError(f"This instance is not empty: {existing[1]} exists. Restore into empty file directories.")
    if kind == "postgresql":
        revision = target_revision()
        if revision is not None and revision != manifest["alembic_revision"]:
            raise BackupError(
                f"The target database holds the schema of revision {revision}, the backup revision"
                f" {manifest['alembic_revision']}: restore into a new database (createdb) instead."
            )


def restore_database(kind: str, backup_file: Path) -> None:
    db.session.remove()
    db.engine.dispose()  # no pooled connection of ours holds a lock on what is about to be replaced
    if kind == "sqlite":
        target = sqlite_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        sqlite_copy(backup_file, target)
        return
    pg_restore = postgres_tool("pg_restore")
    conninfo, environment = libpq_connection()
    run_tool(
        [pg_restore, "--no-owner", "--no-acl", "--clean", "--if-exists", "--single-transaction", "--exit-on-error"]
        + ["--no-password", "--dbname", conninfo, str(backup_file)],
        environment,
    )


def restore_backup(app: Flask, path: Path, echo: Echo = click.echo) -> dict:
    """Restore the backup at `path` into this instance, which must be empty; returns the manifest.

    Raises BackupError, before changing anything, when a file of the backup does not match its checksum, when the
    instance is not empty, or when the backup's database is of the other kind. The files are copied first, so that a
    database restore that fails removes them again and leaves the instance empty.
    """
    path = path.resolve()
    manifest = read_manifest(path)
    kind = database_kind()
    roots = FileRoots.of(app)
    if kind == "postgresql":
        postgres_tool("pg_restore")
    check_target_is_empty(manifest, kind, roots)
    written: list[Path] = []
    try:
        for entry in manifest["files"]:
            target = roots.target_of(entry["path"])
            if copy_file(path / entry["path"], target)["sha256"] != entry["sha256"]:
                raise BackupError(f"{target} does not match its checksum after copying: the disk may be failing.")
            written.append(target)
        restore_database(kind, path / manifest["database"]["file"])
    except BaseException:
        for target in written:
            target.unlink(missing_ok=True)
        raise
    report_restored(manifest, roots, echo)
    return manifest


def code_revisions() -> tuple[set[str], set[str]]:
    """(heads, every revision) of the migrations this code ships."""
    scripts = ScriptDirectory.from_config(migrate.get_config())
    return set(scripts.get_heads()), {script.revision for script in scripts.walk_revisions()}


def report_restored(manifest: dict, roots: FileRoots, echo: Echo) -> None:
    echo(f"Database restored ({manifest['database']['kind']}); {len(manifest['files'])} files restored and checked.")
    if manifest["storage"]["kind"] == "s3":
        echo(
            f"The backed-up instance kept uploaded CVs in the S3 bucket {manifest['storage']['bucket']!r}: point"
            " STORAGE_URL at that bucket (or its replica) so that the CVs can be downloaded."
        )
    revision = target_revision()
    heads, known = code_revisions()
    if revision in heads:
        echo(f"The database is at revision {revision}, the newest this code knows: ready.")
    elif revision in known:
        echo(f"The database is at revision {revision}, older than this code's: run `flask db upgrade` now.")
    elif revision is None:
        echo("The backup records no migration revision: check the schema before starting the portal.")
    else:
        echo(
            f"The database is at revision {revision}, which this code does not know: it comes from a newer version"
            " of the portal. Install that version before starting it."
        )


# Commands ----------------------------------------------------------------------------------------------------------

backup_commands = AppGroup("backup", help="Back up the database and uploaded files, or restore a backup.")


@backup_commands.command("create")
@click.argument("path", type=click.Path(path_type=Path))
def create_command(path: Path) -> None:
    """Write a consistent backup into the new directory PATH, while the portal keeps running."""
    try:
        create_backup(current_app, path)
    except (BackupError, OSError) as error:
        raise click.ClickException(str(error)) from error


@backup_commands.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(path: Path) -> None:
    """Restore the backup in PATH into this instance, whose database and file directories must be empty."""
    try:
        restore_backup(current_app, path)
    except (BackupError, OSError) as error:
        raise click.ClickException(str(error)) from error
