"""Uploaded files on disk, under random keys, behind a small interface another backend could replace."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import Flask

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
CHUNK_SIZE = 64 * 1024
TEMP_PREFIX = ".upload-"  # the dot keeps temporary names from ever matching KEY_PATTERN


class StorageError(Exception):
    """A file could not be stored; nothing was left behind."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class LocalStorage:
    """Files in one private directory, named only by random keys: no extension, no original name."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(self, stream: BinaryIO, max_bytes: int | None = None) -> StoredFile:
        """Copy `stream` to a new file under a random key, hashing as it goes.

        Raises StorageError when the stream is longer than `max_bytes`; on any failure the partial file is removed.
        """
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as temp:
                while chunk := stream.read(CHUNK_SIZE):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise StorageError(f"The file is larger than {max_bytes} bytes.")
                    digest.update(chunk)
                    temp.write(chunk)
                temp.flush()
                os.fsync(temp.fileno())
            key = secrets.token_urlsafe(24)
            os.replace(temp_name, self.path(key))
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        self._sync_directory()
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        """The stored file for reading; raises FileNotFoundError for an unknown key, ValueError for a malformed one."""
        return self.path(key).open("rb")

    def delete(self, key: str) -> None:
        """Remove the stored file; a file that is already gone is not an error."""
        self.path(key).unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        """Where `key` lives on disk; raises ValueError for anything but a plain token (no dots, no separators)."""
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
            raise ValueError(f"Not a storage key: {key!r}")
        return self.root / key

    def _sync_directory(self) -> None:
        """Make the rename itself durable, where the platform allows opening a directory."""
        try:
            fd = os.open(self.root, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def storage_for(app: Flask) -> LocalStorage:
    """The CV store under UPLOAD_DIR/cvs, created private to this user (0o700) when missing.

    Raises RuntimeError when UPLOAD_DIR points inside the static folder, where files would be served to anyone.
    """
    root = (Path(app.config["UPLOAD_DIR"]) / "cvs").resolve()
    if app.static_folder and root.is_relative_to(Path(app.static_folder).resolve()):
        raise RuntimeError("UPLOAD_DIR must not be inside the static folder.")
    if not root.is_dir():
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        root.chmod(0o700)  # mkdir's mode is narrowed by the umask, never widened; make it exact
    return LocalStorage(root)
