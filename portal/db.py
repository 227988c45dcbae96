"""Declarative base with a naming convention and the UTC-aware datetime column type."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask import g, has_app_context, request
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def transaction_writes() -> bool:
    """Whether the transaction about to begin may write: anything but the handling of a request that only reads.

    Requests mark themselves (see `mark_read_only_requests`); the worker, the command line and tests may write.
    """
    return not (has_app_context() and g.get("read_only_request", False))


@contextmanager
def reading(session: sa.orm.Session, snapshot: bool = False) -> Iterator[None]:
    """What follows only reads, whoever runs it (a worker, a command): on SQLite a plain BEGIN, so no write lock is
    taken; with `snapshot`, every statement sees one consistent view (REPEATABLE READ on PostgreSQL; SQLite's WAL
    snapshot already is one). The transaction ends with the block."""
    before = g.get("read_only_request")
    g.read_only_request = True
    try:
        if snapshot and session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield
    finally:
        session.rollback()
        if before is None:
            g.pop("read_only_request", None)
        else:
            g.read_only_request = before


def write_from_here(session: sa.orm.Session) -> None:
    """The rest of this request may write (a GET that records what it did): its read-only transaction ends, and the
    next one takes the write lock."""
    session.rollback()
    g.read_only_request = False


def mark_read_only_requests(app) -> None:
    """A GET or HEAD request only reads: its transactions need no write lock."""

    @app.before_request
    def mark() -> None:
        g.read_only_request = request.method in READ_ONLY_METHODS

    @app.teardown_request
    def unmark(error: BaseException | None = None) -> None:
        g.pop("read_only_request", None)


def configure_sqlite(engine: sa.Engine) -> None:
    """SQLite: enforce foreign keys, wait for locks, write-ahead logging, and the write lock only where it is needed.

    A transaction that may write starts with BEGIN IMMEDIATE, taking the write lock up front: writers queue, so a
    check-then-insert (overlapping slots, the booking rules) cannot interleave with another one. A request that only
    reads (GET, HEAD) starts a plain BEGIN and reads a snapshot: with WAL, readers never wait for a writer and never
    hold one up.
    """

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if transaction_writes() else "BEGIN")


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware instant stored in UTC.

    Refuses naive datetimes on the way in and re-attaches UTC on the way out (SQLite keeps no offset).
    """

    impl = sa.DateTime
    cache_ok = True

    def __init__(self, timezone: bool = True) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime expects a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("UTCDateTime refuses a naive datetime; attach a time zone first")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def sql_in(column: str, values) -> str:
    """`column IN ('a', 'b')` for CHECK constraints and partial indexes (values are our own enum members)."""
    return f"{column} IN ({', '.join(repr(str(value)) for value in values)})"


def status_check(statuses: type[StrEnum], column: str = "status", name: str = "status_known") -> sa.CheckConstraint:
    """The CHECK constraint that keeps a status column to the members of its enum."""
    return sa.CheckConstraint(sql_in(column, statuses), name=name)


def lock(instance: object) -> None:
    """Read `instance`'s row again under a row lock held to the end of the transaction, so that the checks that
    follow see what nobody else can change meanwhile. PostgreSQL: SELECT ... FOR UPDATE. SQLite: nothing to do, as
    a transaction that may write holds the database's write lock from its first statement (see configure_sqlite).

    Call it before changing the instance: pending changes to it would be overwritten by the row as stored.
    """
    if hasattr(instance, "_get_current_object"):  # flask_login's current_user is a proxy for the User
        instance = instance._get_current_object()
    session = sa.orm.object_session(instance)
    if session is None or session.get_bind().dialect.name != "postgresql":
        return
    mapper = sa.inspect(type(instance))
    identity = sa.inspect(instance).identity
    statement = sa.select(type(instance)).where(
        *(column == key for column, key in zip(mapper.primary_key, identity, strict=True))
    )
    session.execute(statement.with_for_update().execution_options(populate_existing=True)).one()


def claim_next(session, model: type, *conditions, order_by: tuple) -> object | None:
    """The first row of `model` matching `conditions` in `order_by` order, for a worker to handle in its own
    transaction: locked with SKIP LOCKED on PostgreSQL, so that another worker passes over it and takes the next;
    on SQLite the write transaction already keeps a second worker out."""
    statement = sa.select(model).where(*conditions).order_by(*order_by).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return session.scalar(statement)
