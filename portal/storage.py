"""Uploaded files under random keys, on local disk or in an S3-compatible object store (STORAGE_URL).

Both backends keep one contract: `save` returns the key, size and sha256 and leaves nothing behind when it fails;
`open` streams; `delete` is idempotent; a missing file raises FileMissing.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import tempfile
import threading
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask
from werkzeug.datastructures import Headers

from portal.config import storage_location

if TYPE_CHECKING:
    from portal.config import StorageLocation

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
CHUNK_SIZE = 64 * 1024
TEMP_PREFIX = ".upload-"  # the dot keeps temporary names from ever matching KEY_PATTERN
SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024  # an S3 upload is staged in memory up to this size, then on disk
EXTENSION_KEY = "portal.storage"
_build_lock = threading.Lock()


class StorageError(Exception):
    """A file could not be stored (or the store could not be reached); nothing was left behind."""


class FileMissing(FileNotFoundError):
    """No file is stored under this key (deleted, or never written)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"No stored file under key {key!r}")
        self.key = key


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


def checked_key(key: str) -> str:
    """`key` itself when it is a plain token (no dots, no separators); raises ValueError otherwise."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"Not a storage key: {key!r}")
    return key


def new_key() -> str:
    return secrets.token_urlsafe(24)


def attachment_disposition(filename: str) -> str:
    """The Content-Disposition of a download (RFC 6266): an ASCII `filename` and, for other names, `filename*`.

    Built exactly as Flask's send_file builds it, so a presigned S3 download names the file the same way.
    """
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        names = {"filename": simple, "filename*": f"UTF-8''{quote(filename, safe='!#$&+-.^_`|~')}"}
    else:
        names = {"filename": filename}
    headers = Headers()
    headers.set("Content-Disposition", "attachment", **names)
    return headers["Content-Disposition"]


class Storage(ABC):
    """Files named only by random keys: no extension, no original name."""

    @abstractmethod
    def save(self, stream: BinaryIO, max_bytes: int | None = None) -> StoredFile:
        """Store `stream` under a new random key, hashing as it goes.

        Raises StorageError when the stream is longer than `max_bytes` or the store refuses it; on any failure
        nothing is left behind.
        """

    @abstractmethod
    def save_as(self, key: str, stream: BinaryIO, max_bytes: int | None = None) -> StoredFile:
        """Store `stream` under `key`, replacing whatever is stored there (a file built again from the start).

        The old file stays whole until the new one is complete. Raises StorageError like `save`, ValueError for a
        malformed key; on a failure the old file, if any, is left as it was.
        """

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """The stored file as a stream; raises FileMissing for an unknown key, ValueError for a malformed one."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the stored file; a file that is already gone is not an error."""

    @abstractmethod
    def check(self) -> None:
        """Raise if files cannot be stored right now (directory not writable, bucket unreachable)."""

    def download_url(self, key: str, filename: str, media_type: str) -> str | None:
        """A short-lived address the browser may fetch the file from directly, or None to stream it through us.

        Raises FileMissing when there is nothing to fetch.
        """
        return None


class LocalStorage(Storage):
    """Files in one private directory: a temporary file, then renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(self, stream: BinaryIO, max_bytes: int | None = None) -> StoredFile:
        return self.save_as(new_key(), stream, max_bytes)

    def save_as(self, key: str, stream: BinaryIO, max_bytes: int | None = None) -> StoredFile:
        target = self.path(key)
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as temp:
                size, sha256, _ = copy_and_hash(stream, temp, max_bytes)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        self._sync_directory()
        return StoredFile(key=key, size=size, sha256=sha256)

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError as error:
            raise FileMissing(key) from error

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def check(self) -> None:
        """Write and remove a small temporary file: proves the directory exists, is writable and has room."""
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX)
        try:
            os.write(fd, b"ready")
        finally:
            os.close(fd)
            Path(temp_name).unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        """Where `key` lives on disk; raises ValueError for anything but a plain token."""
        return self.root / checked_key(key)

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


class S3Storage(Storage):
    """Objects in a bucket of any S3-compatible store, under `prefix/`; `client` is a boto3 S3 client."""

    def __init__(self, client, bucket: str, prefix: str = "", presigned_seconds: int = 0) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.presigned_seconds = presigned_seconds

    def object_name(self, key: str) -> str:
        """The object's name in the bucket; raises ValueError for anything but a plain token."""
        key = checked_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def save(self, stream: BinaryIO, max_bytes: int | None = None) -> StoredFile:
        return self._put(new_key(), stream, max_bytes, remove_on_failure=True)

    def save_as(self, key: str, stream: BinaryIO, max_bytes: int | None = None) -> StoredFile:
        # A PUT replaces the object whole or not at all; on a failure the object under `key` is left alone.
        return self._put(key, stream, max_bytes, remove_on_failure=False)

    def _put(self, key: str, stream: BinaryIO, max_bytes: int | None, remove_on_failure: bool) -> StoredFile:
        name = self.object_name(key)
        # Staged first, so a stream that fails or runs over the limit never reaches the store, and the store
        # can check the body against its MD5 (Content-MD5 works on every S3-compatible store).
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES, prefix=TEMP_PREFIX) as staged:
            size, sha256, md5 = copy_and_hash(stream, staged, max_bytes)
            staged.seek(0)
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=name,
                    Body=staged,
                    ContentLength=size,
                    ContentMD5=base64.b64encode(md5).decode("ascii"),
                    ContentType="application/octet-stream",
                )
            except BaseException as error:
                # The store may have kept the object even though the answer never arrived.
                if remove_on_failure:
                    with suppress(BotoCoreError, ClientError):
                        self.client.delete_object(Bucket=self.bucket, Key=name)
                if isinstance(error, BotoCoreError | ClientError):
                    raise StorageError(f"The object store refused the file: {error}") from error
                raise
        return StoredFile(key=key, size=size, sha256=sha256)

    def open(self, key: str) -> BinaryIO:
        name = self.object_name(key)
        with _reading(key, name):
            return self.client.get_object(Bucket=self.bucket, Key=name)["Body"]

    def delete(self, key: str) -> None:
        name = self.object_name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)  # 204 whether or not the object existed
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"The object store could not delete {name}: {error}") from error

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)

    def download_url(self, key: str, filename: str, media_type: str) -> str | None:
        """A presigned GET (when S3_PRESIGNED_SECONDS is set) that makes the store answer with our headers.

        The store sets Content-Disposition, Content-Type and Cache-Control from the URL; it cannot be made to send
        X-Content-Type-Options. Raises FileMissing when the object is not there.
        """
        if not self.presigned_seconds:
            return None
        name = self.object_name(key)
        with _reading(key, name):
            self.client.head_object(Bucket=self.bucket, Key=name)
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": name,
                "ResponseContentDisposition": attachment_disposition(filename),
                "ResponseContentType": media_type,
                "ResponseCacheControl": "private, no-store",
            },
            ExpiresIn=self.presigned_seconds,
        )


@contextmanager
def _reading(key: str, name: str) -> Iterator[None]:
    """Turn the store's answers into ours: FileMissing for no such object, StorageError for any other failure."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in {"NoSuchKey", "NotFound", "404"}:  # GET says NoSuchKey; HEAD has no body, only the 404
            raise FileMissing(key) from error
        raise StorageError(f"The object store could not read {name}: {error}") from error
    except BotoCoreError as error:
        raise StorageError(f"The object store could not read {name}: {error}") from error


def copy_and_hash(stream: BinaryIO, target, max_bytes: int | None) -> tuple[int, str, bytes]:
    """Copy `stream` into `target`; returns (size, sha256 hex, md5 digest). Raises StorageError over `max_bytes`."""
    sha256 = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    while chunk := stream.read(CHUNK_SIZE):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise StorageError(f"The file is larger than {max_bytes} bytes.")
        sha256.update(chunk)
        md5.update(chunk)
        target.write(chunk)
    return size, sha256.hexdigest(), md5.digest()


def s3_client(config):
    """A boto3 S3 client for S3_ENDPOINT_URL and S3_REGION; credentials come from boto3's usual sources
    (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance or task role)."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=config.get("S3_ENDPOINT_URL") or None,
        region_name=config.get("S3_REGION") or None,
        config=Config(
            signature_version="s3v4",
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            # Only the checksums S3-compatible stores all understand (we send Content-MD5 ourselves).
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def _local_root(app: Flask, path: Path) -> Path:
    """`path` as a private directory (0o700, created when missing); refuses one inside the static folder."""
    root = path.resolve()
    if app.static_folder and root.is_relative_to(Path(app.static_folder).resolve()):
        raise RuntimeError("UPLOAD_DIR must not be inside the static folder.")
    if not root.is_dir():
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        root.chmod(0o700)  # mkdir's mode is narrowed by the umask, never widened; make it exact
    return root


def build_storage(app: Flask, location: StorageLocation | None = None) -> Storage:
    """A new store for the app's settings (see storage_for for the one the app keeps)."""
    location = location or storage_location(app.config)
    if location.kind == "s3":
        return S3Storage(
            s3_client(app.config),
            location.bucket,
            location.prefix,
            presigned_seconds=int(app.config.get("S3_PRESIGNED_SECONDS") or 0),
        )
    assert location.path is not None
    return LocalStorage(_local_root(app, location.path))


def init_storage(app: Flask) -> None:
    """Check STORAGE_URL when the app starts (raises ConfigError); the store itself is built on first use."""
    storage_location(app.config)


def storage_for(app: Flask, area: str | None = None) -> Storage:
    """The app's file store, built once and kept for the app's lifetime (one S3 client per app, not per request);
    with `area`, a store of its own in that folder (or key prefix) of the location, such as the data exports'.

    Raises RuntimeError when the local directory is inside the static folder, where files would be served to anyone.
    """
    key = EXTENSION_KEY if area is None else f"{EXTENSION_KEY}:{area}"
    storage = app.extensions.get(key)
    if storage is None:
        with _build_lock:
            storage = app.extensions.get(key)
            if storage is None:
                location = storage_location(app.config)
                storage = app.extensions[key] = build_storage(app, location.child(area) if area else location)
    return storage
