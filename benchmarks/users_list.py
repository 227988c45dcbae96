"""How long the admin's people page takes with 10,000 users: search, filter, sort and paginate.

Run: `.venv/bin/python -m benchmarks.users_list [--users N] [--rounds N]` (`make bench` runs benchmarks/run.py).
Uses a throw-away SQLite file, or DATABASE_URL when set to a PostgreSQL database you can write to. Prints the
median and the 95th percentile per URL, and the number of SQL statements each page sends.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks.second_factor import fresh_code, staff_columns
from portal import create_app
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.security import hash_password

URLS = [
    "/admin/users",
    "/admin/users?q=learner 99",
    "/admin/users?role=candidate&status=active&sort=joined&order=desc",
    "/admin/users?page=150",
    "/admin/users?q=example.org&sort=email",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    uri = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'bench.db'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "b" * 40,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "UPLOAD_DIR": str(folder),
        }
    )
    with app.app_context():
        db.drop_all()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
            db.session.commit()
        db.create_all()
        password = hash_password("benchmark passphrase")
        db.session.add(
            User(
                email="admin@bench.example",
                name="Bench Admin",
                role="admin",
                password_hash=password,
                **staff_columns(utcnow()),
            )
        )
        db.session.execute(
            sa.insert(User),
            [
                {
                    "email": f"learner{n}@example.org",
                    "name": f"Learner {n}",
                    "role": "candidate" if n % 9 else "mentor",
                    "password_hash": "x",
                    "active": n % 13 != 0,
                    "timezone": "Europe/London",
                    "session_version": 1,
                }
                for n in range(options.users)
            ],
        )
        db.session.commit()
        engine = db.engine
    client = app.test_client()
    client.post("/login", data={"email": "admin@bench.example", "password": "benchmark passphrase"})
    client.post("/login/code", data={"code": fresh_code(uri, "admin@bench.example")})
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    print(f"{options.users} users, {options.rounds} rounds, {engine.dialect.name}")
    for url in URLS:
        timings = []
        for _ in range(options.rounds):
            statements.clear()
            began = time.perf_counter()
            assert client.get(url).status_code == 200
            timings.append((time.perf_counter() - began) * 1000)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"{url:<70} median {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms  {len(statements)} queries")


if __name__ == "__main__":
    main()
