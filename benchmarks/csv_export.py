"""Memory of the admin's bookings CSV export at 100,000 rows: it must stream, not build the file in memory.

On a copy of a large data set (so the cached one stays as seeded) extra cancelled bookings are added until the
export's date range holds the rows wanted; cancelled bookings are not live, so they never clash with the one
live booking a slot may have. Then gunicorn runs with one sync worker; the worker's VmRSS is read from
/proc/<pid>/status before the download (after a warm-up export, and after resetting the peak through
/proc/<pid>/clear_refs when the kernel allows it) and its VmHWM (peak) after the whole CSV has been read.
Growth = peak after - resident before; the target is under 50 MB.

    python -m benchmarks.run --datasets sqlite-large --csv-on sqlite-large --pages home --duration 1
"""

from __future__ import annotations

import csv
import io
import random
import shutil
import time as clock
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.seed import CANCEL_REASONS, FOCUS_NOTES, SEED, Dataset, bench_config

TARGET_MB = 50


def export_range() -> tuple[date, date]:
    """Two years back to three months ahead: every booking of the large data set."""
    today = datetime.now(UTC).date()
    return today - timedelta(days=730), today + timedelta(days=90)


def copy_database(dataset: Dataset) -> str:
    """A copy of the data set's database to add rows to; returns its URL."""
    url = sa.make_url(dataset.url)
    if url.get_backend_name() == "sqlite":
        copy = Path(url.database).with_name(f"{dataset.name}-export.db")
        shutil.copyfile(url.database, copy)
        return f"sqlite:///{copy}"
    copy_url = url.set(database=f"{url.database}_export")
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        quote = connection.dialect.identifier_preparer.quote
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quote(copy_url.database)} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {quote(copy_url.database)} TEMPLATE {quote(url.database)}"))
    engine.dispose()
    return copy_url.render_as_string(hide_password=False)


def drop_copy(url: str) -> None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database).unlink(missing_ok=True)
        return
    engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        quoted = connection.dialect.identifier_preparer.quote(parsed.database)
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    engine.dispose()


def add_cancelled_bookings(url: str, rows_wanted: int) -> int:
    """Cancelled bookings on the range's slots until the export holds `rows_wanted`; returns the rows it holds."""
    from benchmarks.app import create_bench_app
    from portal.auth.models import User
    from portal.extensions import db
    from portal.interviews.models import Booking, Slot

    rng = random.Random(SEED + 1)
    first, last = export_range()
    start = datetime.combine(first, time.min, UTC) + timedelta(hours=12)  # well inside the local days exported
    end = datetime.combine(last, time.min, UTC)
    app = create_bench_app(bench_config(url))
    with app.app_context():
        in_range = (
            sa.select(sa.func.count(Booking.id))
            .join(Slot, Slot.id == Booking.slot_id)
            .where(Slot.starts_at >= start, Slot.starts_at < end)
        )
        existing = db.session.scalar(in_range)
        missing = rows_wanted - existing
        if missing > 0:
            slots = db.session.execute(
                sa.select(Slot.id, Slot.starts_at).where(Slot.starts_at >= start, Slot.starts_at < end)
            ).all()
            candidates = db.session.scalars(sa.select(User.id).where(User.role == "candidate")).all()
            now = datetime.now(UTC)
            rows = []
            for _ in range(missing):
                slot_id, starts_at = rng.choice(slots)
                created_at = min(starts_at - timedelta(days=rng.randint(2, 30)), now)
                cancelled_at = min(created_at + timedelta(hours=rng.randint(1, 40)), now)
                candidate_id = rng.choice(candidates)
                rows.append(
                    {
                        "slot_id": slot_id,
                        "candidate_id": candidate_id,
                        "status": "cancelled",
                        "focus_note": rng.choice(FOCUS_NOTES),
                        "uid": f"booking-{uuid.UUID(int=rng.getrandbits(128), version=4)}@career-portal",
                        "cancel_reason": rng.choice(CANCEL_REASONS),
                        "cancelled_at": cancelled_at,
                        "cancelled_by_id": candidate_id,
                        "late_cancellation": rng.random() < 0.15,
                        "created_at": created_at,
                        "updated_at": cancelled_at,
                    }
                )
            for chunk in range(0, len(rows), 5_000):
                db.session.execute(sa.insert(Booking), rows[chunk : chunk + 5_000])
            db.session.commit()
        total = db.session.scalar(in_range)
        db.engine.dispose()
    return total


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def reset_peak(pid: int) -> bool:
    """Make VmHWM start again from the current resident size (Linux: write 5 to clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class CountingReader(io.RawIOBase):
    """Reads a response and counts its bytes."""

    def __init__(self, response) -> None:
        self.response = response
        self.bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.response.readinto(buffer)
        self.bytes += count
        return count


def download_csv(port: int, cookie: str, path: str) -> tuple[int, int, float]:
    """Stream the export and parse it as CSV without keeping it; returns (data rows, bytes, seconds)."""
    from http.client import HTTPConnection

    from benchmarks.run import USER_AGENT

    connection = HTTPConnection("127.0.0.1", port, timeout=600)
    began = clock.perf_counter()
    connection.request("GET", path, headers={"Cookie": cookie, "User-Agent": USER_AGENT})
    response = connection.getresponse()
    if response.status != 200 or not response.getheader("Content-Type", "").startswith("text/csv"):
        raise RuntimeError(f"the export answered HTTP {response.status} {response.getheader('Content-Type')}")
    counter = CountingReader(response)
    text = io.TextIOWrapper(io.BufferedReader(counter, 64 * 1024), encoding="utf-8", newline="")
    rows = sum(1 for _ in csv.reader(text)) - 1
    connection.close()
    return rows, counter.bytes, clock.perf_counter() - began


def measure_export(dataset: Dataset, rows_wanted: int, log=print) -> dict[str, Any]:
    """Rows, size, time and worker memory growth of the bookings export over `rows_wanted` rows."""
    from benchmarks.run import Browser, Server

    log(f"{dataset.name}: CSV export memory, copying the database and adding cancelled bookings")
    url = copy_database(dataset)
    server = None
    try:
        rows_in_range = add_cancelled_bookings(url, rows_wanted)
        server = Server(url, 1, f"{dataset.name}-export", timeout=600)
        server.wait_until_ready()
        admin = Browser(server.port)
        admin.log_in(dataset.users["admin"], dataset.password, url)
        first, last = export_range()
        download_csv(server.port, admin.cookie_header, f"/admin/reports/bookings.csv?from={last}&to={last}")
        (worker,) = server.worker_pids()
        peak_reset = reset_peak(worker)
        before = memory_kb(worker)
        rows, size, seconds = download_csv(
            server.port, admin.cookie_header, f"/admin/reports/bookings.csv?from={first}&to={last}"
        )
        after = memory_kb(worker)
    finally:
        if server:
            server.stop()
        drop_copy(url)
    growth_mb = (after["VmHWM"] - before["VmRSS"]) / 1024
    return {
        "dataset": dataset.name,
        "rows_in_database_range": rows_in_range,
        "rows": rows,
        "bytes": size,
        "seconds": round(seconds, 2),
        "rss_before_mb": round(before["VmRSS"] / 1024, 1),
        "peak_before_mb": round(before["VmHWM"] / 1024, 1),
        "peak_mb": round(after["VmHWM"] / 1024, 1),
        "rss_after_mb": round(after["VmRSS"] / 1024, 1),
        "peak_reset": peak_reset,
        "growth_mb": round(growth_mb, 1),
        "target_mb": TARGET_MB,
        "meets_target": growth_mb < TARGET_MB and rows >= rows_wanted,
    }
