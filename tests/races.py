"""Racing two transactions deterministically: the first holds what it locked, the second is started in a thread and
seen waiting for a lock (PostgreSQL: in pg_stat_activity; SQLite: asking for the write lock with BEGIN IMMEDIATE) or
finishing without waiting, and only then does the first commit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from portal.extensions import db
from tests.conftest import ON_POSTGRES


def in_thread(app: Flask, work: Callable[[], object]) -> tuple[threading.Thread, list]:
    """Run `work` and commit in a thread with its own session; the outcome list receives "committed" or the error."""
    outcome: list = []

    def run() -> None:
        with app.app_context():
            try:
                work()
                db.session.commit()
                outcome.append("committed")
            except Exception as error:  # noqa: BLE001 - the test reads what happened
                db.session.rollback()
                outcome.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


class LockWatch:
    """Notices a second transaction waiting for a lock the test's transaction holds. Use inside an app context:
    `with LockWatch() as watch: ...; watch.wait_for(thread)`."""

    def __init__(self) -> None:
        self._asked = threading.Event()
        self._test_thread = threading.get_ident()

    def _note(self, conn, cursor, statement, *args) -> None:
        if statement == "BEGIN IMMEDIATE" and threading.get_ident() != self._test_thread:
            self._asked.set()

    def __enter__(self) -> LockWatch:
        sa.event.listen(db.engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(db.engine, "before_cursor_execute", self._note)

    def wait_for(self, thread: threading.Thread, seconds: float = 10) -> str:
        """Until `thread` waits for a lock ("waiting") or ends without waiting ("finished"); fails after `seconds`."""
        deadline = time.monotonic() + seconds
        if not ON_POSTGRES:
            while time.monotonic() < deadline:
                if self._asked.wait(0.02):
                    self._asked.clear()
                    return "waiting"
                if not thread.is_alive():
                    return "finished"
            raise AssertionError("the second transaction neither asked for the write lock nor finished")
        with db.engine.connect() as connection:
            while time.monotonic() < deadline:
                waiting = connection.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                ).scalar()
                connection.rollback()  # pg_stat_activity is read once per transaction
                if waiting:
                    return "waiting"
                if not thread.is_alive():
                    return "finished"
                time.sleep(0.02)
        raise AssertionError("the second transaction neither waited for the first nor finished")
