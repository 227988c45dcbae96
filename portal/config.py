"""Configuration read from environment variables (documented in README.md)."""

from __future__ import annotations

import math
import os
import re
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _names(name: str) -> list[str]:
    """A comma-separated list of names, without blanks."""
    return [part.strip().lower() for part in os.environ.get(name, "").split(",") if part.strip()]


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain PostgreSQL URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _development_secret_key(instance_path: Path) -> str:
    """A random key generated once and kept in the instance folder."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def development_public_url() -> str:
    """Outside production, links follow where `make run` serves (HOST and PORT, 127.0.0.1:5000 by default); a
    server listening on every address is reached from this machine as 127.0.0.1."""
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):  # noqa: S104 - not a binding: where to reach a server bound so
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    port = os.environ.get("PORT", "").strip()
    return f"http://{host}:{port if port.isdigit() and 0 < int(port) < 65536 else 5000}"


# Retention periods (portal.retention) and their defaults; each must be a positive whole number.
RETENTION_PERIODS: dict[str, int] = {
    "RETENTION_CV_MONTHS": 24,  # CV files, after the candidate's last activity
    "RETENTION_OUTBOX_DAYS": 90,  # sent or failed emails
    "RETENTION_AUDIT_YEARS": 6,  # audit log entries
    "RETENTION_NOTIFICATIONS_MONTHS": 12,  # in-app notifications
    "EXPORT_RETENTION_DAYS": 7,  # a data export is downloadable this long, then deleted
    "ACCOUNT_ERASURE_GRACE_DAYS": 30,  # a closed account is erased this long after closing (reopening possible until)
}
# Outside production the portal also answers on this machine's own names (the dev server, the tests' client).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def settings_from_env(instance_path: Path) -> dict[str, Any]:
    """Every setting the portal reads from the environment, with its default."""
    environment = os.environ.get("PORTAL_ENV", "development").strip().lower()
    production = environment == "production"
    settings: dict[str, Any] = {
        "PORTAL_ENV": environment,
        "DEBUG": _bool("FLASK_DEBUG", False),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'portal.db'}"
        ),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR") or str(instance_path / "uploads"),
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "console"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Career Services <careers@example.org>"),
        # Where people are told to write when the portal cannot do something for them (a change after the cutoff).
        "CONTACT_EMAIL": os.environ.get("CONTACT_EMAIL", "careers@example.org").strip(),
        "SMTP_HOST": os.environ.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", False),
        "SMTP_SSL": _bool("SMTP_SSL", False),
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 10),
        "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", 8),
        "CV_MAX_BYTES": _int("CV_MAX_BYTES", 5 * 1024 * 1024),
        "CV_MAX_VERSIONS": _int("CV_MAX_VERSIONS", 20),
        "REMINDER_OFFSETS_HOURS": os.environ.get("REMINDER_OFFSETS_HOURS", "24,1"),
        "WAITLIST_HOLD_MINUTES": _int("WAITLIST_HOLD_MINUTES", 30),
        "EXPORT_REQUESTS_PER_DAY": _int("EXPORT_REQUESTS_PER_DAY", 3),  # self-service export requests per 24 hours
        # How long data is kept (see check_retention_periods): read as text here, checked and made numbers at start-up.
        **{name: os.environ.get(name) or default for name, default in RETENTION_PERIODS.items()},
        # The one public address: links in emails, and the host requests must name. Production sets it explicitly.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL") or (None if production else development_public_url()),
        "TRUSTED_HOSTS": _names("TRUSTED_HOSTS"),  # more host names besides PUBLIC_URL's; see trusted_hosts()
        "MEETING_BASE_URL": os.environ.get("MEETING_BASE_URL", "https://meet.jit.si"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", ""),
        "WEB_CONCURRENCY": _int("WEB_CONCURRENCY", 0),  # web processes, as gunicorn reads it; 0: not declared
        "STORAGE_URL": os.environ.get("STORAGE_URL") or None,
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL") or None,
        "S3_REGION": os.environ.get("S3_REGION") or None,
        "S3_PRESIGNED_SECONDS": _int("S3_PRESIGNED_SECONDS", 0),
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text").strip().lower(),
        "PORTAL_TIMEZONE": os.environ.get("PORTAL_TIMEZONE", "Europe/London"),
        "PREFERRED_URL_SCHEME": os.environ.get("PREFERRED_URL_SCHEME", "https" if production else "http"),
        "PROXY_FIX_X_FOR": _int("PROXY_FIX_X_FOR", 0),
        "PROXY_FIX_X_PROTO": _int("PROXY_FIX_X_PROTO", 0),
        "PROXY_FIX_X_HOST": _int("PROXY_FIX_X_HOST", 0),
        "PROXY_FIX_X_PREFIX": _int("PROXY_FIX_X_PREFIX", 0),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
    }
    if not production and not settings["SECRET_KEY"]:
        instance_path.mkdir(parents=True, exist_ok=True)
        settings["SECRET_KEY"] = _development_secret_key(instance_path)
    return settings


# Settings that do not come from the environment.
FIXED_SETTINGS: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
    "WTF_CSRF_TIME_LIMIT": None,
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_STRATEGY": "moving-window",
    "PASSWORD_RESET_HOURS": 1,
    "REGISTRATION_HOURS": 24,
    "INVITATION_DAYS": 7,
    "PUBLIC_PAGES_RECHECK_SECONDS": 1.0,  # how stale a visitor's public page may be after an edit elsewhere
    "CALENDAR_FIGURES_SECONDS": 30,  # how old the slot calendar's marks and "next available" may be
    "RETENTION_BATCH_SIZE": 1000,  # rows removed per statement (and transaction) by a retention run
    "SITE_NAME": "Career Services",
    "SITE_ADDRESS": "Career Services, ML Engineering Bootcamp, London, United Kingdom",
}


# SigV4 presigned URLs are valid for at most seven days.
MAX_PRESIGNED_SECONDS = 7 * 24 * 60 * 60


@dataclass(frozen=True)
class StorageLocation:
    """Where uploaded files live: a local directory (`path`) or an S3 bucket and key prefix."""

    kind: str  # "file" or "s3"
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""

    def child(self, name: str) -> StorageLocation:
        """A folder (or key prefix) of its own inside this location."""
        if self.kind == "s3":
            return replace(self, prefix=f"{self.prefix}/{name}".strip("/"))
        assert self.path is not None
        return replace(self, path=self.path / name)


def storage_location(config: dict[str, Any]) -> StorageLocation:
    """Read STORAGE_URL (`file:///abs/path` or `s3://bucket/prefix`); without it, UPLOAD_DIR/cvs on local disk.

    Raises ConfigError for any other scheme, a relative path, an s3 URL without a bucket, or presigned
    downloads longer than S3 allows.
    """
    url = (config.get("STORAGE_URL") or "").strip()
    seconds = int(config.get("S3_PRESIGNED_SECONDS") or 0)
    if not 0 <= seconds <= MAX_PRESIGNED_SECONDS:
        raise ConfigError(f"S3_PRESIGNED_SECONDS must be between 0 (off) and {MAX_PRESIGNED_SECONDS}.")
    if not url:
        return StorageLocation("file", path=Path(config["UPLOAD_DIR"]) / "cvs")
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ConfigError("STORAGE_URL takes no query string or fragment.")
    if parts.scheme == "file":
        path = unquote(parts.path)
        if parts.netloc not in ("", "localhost") or not path.startswith("/"):
            raise ConfigError("STORAGE_URL for local files must be an absolute path: file:///srv/portal/cvs")
        return StorageLocation("file", path=Path(path))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ConfigError("STORAGE_URL for S3 must name the bucket: s3://bucket/prefix")
        return StorageLocation("s3", bucket=parts.netloc, prefix=unquote(parts.path).strip("/"))
    raise ConfigError("STORAGE_URL must start with file:/// (local disk) or s3:// (an S3-compatible store).")


def check_meeting_base_url(config: dict[str, Any]) -> None:
    """MEETING_BASE_URL must be an http(s) address with a host (rooms are made below it), https in production."""
    parts = urlsplit(str(config.get("MEETING_BASE_URL") or ""))
    schemes = ("https",) if config.get("PORTAL_ENV") == "production" else ("https", "http")
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.query or parts.fragment:
        raise ConfigError(
            "MEETING_BASE_URL must be the address of a video meeting server, like https://meet.jit.si"
            + (" (https in production)." if "http" not in schemes else ".")
        )


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")


def check_contact_email(config: dict[str, Any]) -> None:
    """CONTACT_EMAIL is shown on pages and in emails: one plain address, nothing else."""
    if not _PLAIN_ADDRESS.fullmatch(str(config.get("CONTACT_EMAIL") or "")):
        raise ConfigError("CONTACT_EMAIL must be one plain email address, like careers@example.org.")


# The longest period each unit accepts: a hundred years.
RETENTION_MAXIMUM = {"DAYS": 36_500, "MONTHS": 1_200, "YEARS": 100}


def check_retention_periods(config: dict[str, Any]) -> None:
    """Each retention period must be a positive whole number (text from the environment, or a number) of at most a
    hundred years; stores it as an int. Raises ConfigError naming the setting otherwise."""
    for name in RETENTION_PERIODS:
        value = config.get(name)
        text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
        unit = name.rpartition("_")[2]
        maximum = RETENTION_MAXIMUM[unit]
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= maximum:
            raise ConfigError(
                f"{name} must be a whole number of {unit.lower()} from 1 to {maximum}, like "
                f"{RETENTION_PERIODS[name]}; got {value!r}."
            )
        config[name] = int(text)


def trusted_hosts(config: dict[str, Any]) -> list[str]:
    """The host names a request may carry (Flask answers any other with 400): PUBLIC_URL's, the extra TRUSTED_HOSTS
    names, and outside production this machine's loopback names."""
    names = [urlsplit(str(config.get("PUBLIC_URL") or "")).hostname or "", *(config.get("TRUSTED_HOSTS") or [])]
    if config.get("PORTAL_ENV") != "production":
        names += LOOPBACK_HOSTS
    return list(dict.fromkeys(name.lower() for name in names if name))


SECRET_KEY_MIN_LENGTH = 32
SECRET_KEY_MIN_BITS = 128
MAKE_SECRET_KEY_COMMAND = "python -c 'import secrets; print(secrets.token_hex(32))'"  # noqa: S105 - a command to run, not a key


def estimated_key_bits(key: str) -> float:
    """A rough, generous upper bound on a key's entropy: the length of its shortest repeating unit times log2 of the
    number of distinct characters. "s" * 40 scores 0 and "abcd" * 8 scores 8; token_hex(32) scores about 256."""
    period = next(p for p in range(1, len(key) + 1) if all(key[i] == key[i - p] for i in range(p, len(key))))
    distinct = len(set(key))
    return period * math.log2(distinct) if distinct > 1 else 0.0


def check_production_safety(config: dict[str, Any]) -> None:
    """Refuse to start a production app whose configuration is unsafe: a missing or guessable secret key, debug on,
    rate limits off or counted per process with several processes, or no explicit https PUBLIC_URL."""
    if config.get("PORTAL_ENV") != "production":
        return
    key = str(config.get("SECRET_KEY") or "")
    if len(key) < SECRET_KEY_MIN_LENGTH:
        raise ConfigError(
            f"SECRET_KEY must be set (at least {SECRET_KEY_MIN_LENGTH} random characters) when PORTAL_ENV=production. "
            f"Make one with: {MAKE_SECRET_KEY_COMMAND}"
        )
    bits = estimated_key_bits(key)
    if bits < SECRET_KEY_MIN_BITS:
        raise ConfigError(
            f"SECRET_KEY is guessable: about {bits:.0f} bits of entropy (its repeating part's length times log2 of "
            f"its distinct characters), at least {SECRET_KEY_MIN_BITS} needed. Use a random key, like the output of: "
            f"{MAKE_SECRET_KEY_COMMAND}"
        )
    if config.get("DEBUG") or config.get("TESTING"):
        raise ConfigError("Debug and testing modes must be off when PORTAL_ENV=production.")
    if not config.get("RATELIMIT_ENABLED", True):
        raise ConfigError(
            "RATELIMIT_ENABLED=0 is refused when PORTAL_ENV=production: rate limits protect logins, registration, "
            "password resets, bookings and uploads."
        )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory://") and int(config.get("WEB_CONCURRENCY") or 0) != 1:
        raise ConfigError(
            "RATELIMIT_STORAGE_URI is memory:// (the default), which counts in each process on its own: with several "
            "web processes every limit is multiplied. Set RATELIMIT_STORAGE_URI=redis://host:6379/0, or declare a "
            "single web process with WEB_CONCURRENCY=1."
        )
    public = urlsplit(str(config.get("PUBLIC_URL") or ""))
    if public.scheme != "https" or not public.hostname or public.query or public.fragment or public.username:
        raise ConfigError(
            "PUBLIC_URL must be set to the portal's https address, like https://careers.example.org, when "
            "PORTAL_ENV=production: links in emails use it and requests for any other host are refused."
        )
