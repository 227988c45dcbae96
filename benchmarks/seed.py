"""Benchmark data sets, built on databases created by the real migrations.

- small: the demo data of `make run` (`flask seed-demo`) in a fresh SQLite file, rebuilt on every run.
- large: a bootcamp at full size, deterministic (`random.Random(SEED)`, dates relative to the day it was seeded):
  10,000 candidates, 60 mentors, 1 admin; ~50,000 slots from 180 days ago to 60 days ahead; 20,000 bookings;
  5,000 CV versions with a few KB of extracted text each; ~3,000 CV reviews (500 waiting in the queue);
  15,000 published session feedback rows; ratings, notifications and waitlist entries.

A seeded large database is kept (SQLite: `instance/bench/sqlite-large.db`; PostgreSQL: the database named in the
URL, dropped and created again when reseeding, so its name must contain "bench") with a stamp in a
`benchmark_seed` table. It is reseeded when the stamp's seed version or Alembic head differs from the code's, when
it is older than a week (upcoming sessions would have drifted into the past), or with `--reseed`.

    python -m benchmarks.seed sqlite-large [--reseed]
    python -m benchmarks.seed postgres-large --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_large

Every benchmark user shares one password (PASSWORD); the users the benchmark logs in as are in BENCH_USERS.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import string
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from benchmarks.app import create_bench_app

SEED = 20261126
SEED_VERSION = 1
MAX_AGE_DAYS = 7
PASSWORD = "bench-passphrase-2026"  # noqa: S105 - a benchmark-only account password
BENCH_USERS = {
    "candidate": "sam.okoro@bench.example",
    "mentor": "priya.raman@bench.example",
    "admin": "alex.morgan@bench.example",
}
ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "instance" / "bench"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_large"
CHUNK = 5_000

CANDIDATES = 10_000
MENTORS = 60
SLOTS_DAYS_BACK = 180
SLOTS_DAYS_AHEAD = 60
PAST_BOOKINGS = 17_500
UPCOMING_BOOKINGS = 2_500
CV_VERSIONS = 5_000
CV_HOLDERS = 2_100
WAITING_REVIEWS = 500
PUBLISHED_FEEDBACK = 15_000


@dataclass
class Dataset:
    """A database ready to benchmark and the users to log in as."""

    name: str
    url: str
    users: dict[str, str]
    password: str
    seed: dict[str, Any] = field(default_factory=dict)


def bench_config(url: str) -> dict[str, Any]:
    """The app settings for the benchmark, in-process; gunicorn gets the same through the environment."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "benchmark-" + "k" * 40,
        "RATELIMIT_ENABLED": False,
        "PORTAL_ENV": "development",
        "MAIL_BACKEND": "console",
        "UPLOAD_DIR": str(BENCH_DIR / "uploads"),
    }


def alembic_head(app: Flask) -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config).get_current_head() or ""


def migrate(app: Flask) -> None:
    """`flask db upgrade` on the app's database."""
    import flask_migrate

    with app.app_context():
        flask_migrate.upgrade()


# Small: the demo data ----------------------------------------------------------------------------------------


def prepare_small() -> Dataset:
    """A fresh SQLite file with the demo data of `make run`."""
    from portal.cli import DEMO_PASSWORD, seed_demo_data
    from portal.extensions import db

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / "sqlite-small.db"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    began = time.perf_counter()
    app = create_bench_app(bench_config(url))
    migrate(app)
    with app.app_context():
        seed_demo_data()
        db.session.commit()
        db.engine.dispose()
    users = {"candidate": "sam.taylor@demo.example", "mentor": "priya.shah@demo.example", "admin": "admin@demo.example"}
    return Dataset("sqlite-small", url, users, DEMO_PASSWORD, {"seconds": round(time.perf_counter() - began, 1)})


# Large: cache and stamp -------------------------------------------------------------------------------------


def read_stamp(url: str) -> dict[str, Any] | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            value = connection.execute(sa.text("SELECT value FROM benchmark_seed WHERE key = 'stamp'")).scalar()
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return json.loads(value) if value else None


def write_stamp(url: str, stamp: dict[str, Any]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE benchmark_seed (key VARCHAR(40) PRIMARY KEY, value TEXT NOT NULL)"))
        connection.execute(
            sa.text("INSERT INTO benchmark_seed (key, value) VALUES ('stamp', :value)"), {"value": json.dumps(stamp)}
        )
    engine.dispose()


def stale_reason(stamp: dict[str, Any] | None, head: str, today: date) -> str | None:
    """Why a cached database must be seeded again, or None when it can be reused."""
    if stamp is None:
        return "no seeded database yet"
    if stamp.get("seed_version") != SEED_VERSION:
        return f"seed version {stamp.get('seed_version')} != {SEED_VERSION}"
    if stamp.get("alembic_head") != head:
        return f"migrations moved on ({stamp.get('alembic_head')} -> {head})"
    if (today - date.fromisoformat(stamp["anchor"])).days > MAX_AGE_DAYS:
        return f"seeded on {stamp['anchor']}, more than {MAX_AGE_DAYS} days ago"
    return None


def recreate_postgres_database(url: str) -> None:
    """Drop and create the database; only one whose name says it is for benchmarks."""
    target = sa.make_url(url)
    if "bench" not in (target.database or ""):
        raise RuntimeError(f"refusing to drop database {target.database!r}: its name must contain 'bench'")
    engine = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        quoted = connection.dialect.identifier_preparer.quote(target.database)
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
    engine.dispose()


def prepare_large(name: str, url: str, reseed: bool = False, log=print) -> Dataset:
    """The large data set at `url` (SQLite or PostgreSQL), seeded unless a fresh one is cached there."""
    today = datetime.now(UTC).date()
    head = alembic_head(create_bench_app(bench_config("sqlite://")))
    is_sqlite = url.startswith("sqlite")
    stamp = read_stamp(url)
    reason = "--reseed" if reseed else stale_reason(stamp, head, today)
    if reason is None:
        log(f"{name}: reusing the database seeded on {stamp['anchor']} ({url_for_display(url)})")
        return Dataset(name, url, BENCH_USERS, PASSWORD, {**stamp, "seconds": 0, "cached": True})
    log(f"{name}: seeding ({reason}) into {url_for_display(url)} ...")
    began = time.perf_counter()
    if is_sqlite:
        final = Path(sa.make_url(url).database)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        seed_url = f"sqlite:///{partial}"
    else:
        recreate_postgres_database(url)
        seed_url = url
    app = create_bench_app(bench_config(seed_url))
    migrate(app)
    with app.app_context():
        counts = LargeSeeder(today).seed(log)
    seconds = round(time.perf_counter() - began, 1)
    stamp = {"seed_version": SEED_VERSION, "alembic_head": head, "anchor": today.isoformat(), "counts": counts}
    stamp["seeded_in_seconds"] = seconds
    write_stamp(seed_url, stamp)
    if is_sqlite:
        shutil.move(partial, final)
    log(f"{name}: seeded in {seconds:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return Dataset(name, url, BENCH_USERS, PASSWORD, {**stamp, "seconds": seconds, "cached": False})


def url_for_display(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


# Large: the rows ---------------------------------------------------------------------------------------------

FIRST_NAMES = (  # noqa: SIM905 - a dozen names a line reads better than one a line
    "Aisha Ben Chloe Daniel Ella Femi George Hannah Imran Jack Kavya Liam Maya Nathan Olivia Priya "
    "Quentin Rosa Samir Tara Usman Victoria William Xin Yasmin Zoe Ahmed Bethany Callum Deepa Ewan Fatima "
    "Grace Harry Isla Jamal Katie Leo Megan Noah Oscar Poppy Rhys Sophie Tom Uma Vikram Wei Yusuf Zara "
    "Adebayo Niamh Lucia Mateo"
).split()
LAST_NAMES = (  # noqa: SIM905 - a dozen names a line reads better than one a line
    "Khan Smith Patel Jones Williams Brown Taylor Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Chen Okafor Nwosu Murphy "
    "Kelly Singh Ali Hussain Begum Rahman Shah Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee "
    "King Baker Mensah Novak"
).split()
ZONES = ("Europe/London",) * 17 + ("Europe/Dublin", "Europe/Paris", "Asia/Kolkata")
FOCUS_NOTES = (
    "Explaining the bias-variance trade-off with an example from my churn project.",
    "Designing a feature pipeline and model API for fraud detection, including monitoring for drift.",
    "Telling my career-change story from data analyst to ML engineer in under two minutes.",
    "Python coding under time pressure: dictionaries, generators and writing tests first.",
    "SQL window functions and turning a messy dataset into training data.",
    "System design for a recommendation service with a latency budget of 100 ms.",
    "How I evaluate a classifier on imbalanced data, and which metric I would report to the business.",
    "",
)
CANCEL_REASONS = (
    "Clash with a job interview.",
    "Unwell, sorry.",
    "Need more time to prepare the system design topics.",
    "Work commitment came up.",
)
STRENGTHS = (
    "Clear explanations of the basics, with good examples from your own projects.",
    "Structured the design answer well and asked sensible clarifying questions.",
    "Confident, concise and honest about trade-offs.",
    "Clean, tested Python; talked through edge cases unprompted.",
)
IMPROVEMENTS = (
    "Monitoring and drift were thin: say what you would measure and when you would retrain.",
    "Quantify the impact of your projects with numbers.",
    "Slow down on the coding task and check the edge cases before running it.",
    "Structure the behavioural answers with situation, task, action and result.",
)
NEXT_STEPS = (
    "- Sketch a pipeline end to end\n- Practise SQL window functions",
    "- Read about data drift detection\n- Time your answers",
    "- Prepare two stories with numbers\n- Revise evaluation metrics for imbalanced data",
    "- One timed coding exercise a day\n- Write tests before refactoring",
)
CV_SECTIONS = (
    "Data analyst moving into machine learning engineering, comfortable with Python, SQL and cloud tooling.",
    "Built weekly sales dashboards and forecasting notebooks used by the commercial team.",
    "Automated the weekly forecast as an Airflow pipeline, cutting report preparation time by 60%.",
    "Churn prediction service: scikit-learn model served with FastAPI in Docker on AWS, with drift monitoring.",
    "Fine-tuned a transformer for support-ticket routing; 12% more tickets reached the right team first time.",
    "Designed a feature store on BigQuery shared by three models, with data-quality checks in CI.",
    "Led a reading group on MLOps; wrote the team's guide to experiment tracking with MLflow.",
    "Python, SQL (PostgreSQL, BigQuery), pandas, scikit-learn, PyTorch, FastAPI, Airflow, Docker, AWS, Git.",
    "MSc Data Science, 2021. Bootcamp: ML Engineering, 2025, capstone on real-time anomaly detection.",
    "Volunteer: taught Python to secondary-school pupils through Code Club, 2019 to 2023.",
    "Reduced model training cost by 40% by moving batch jobs to spot instances with checkpointing.",
    "Wrote unit and integration tests for the data pipeline, raising coverage from 35% to 85%.",
)
SECTION_TITLES = ("Summary", "Experience", "Projects", "Skills", "Education", "Interests")
TARGET_ROLES = (
    "Junior ML engineer in London",
    "ML engineer, fintech",
    "MLOps engineer",
    "Data scientist moving to ML engineering",
    "Graduate machine learning engineer",
)
REVIEW_QUESTIONS = (
    "Does my analyst background read as relevant for ML engineering roles?",
    "Is the projects section clear enough about what I built myself?",
    "Should I keep my previous career on the first page?",
    "",
)
REVIEW_COMMENTS = (
    "Lead with the engineering you have done, not the analysis.",
    "Say what your work changed, with numbers.",
    "Good core list. Add the tools you use to deploy and monitor.",
    "A notebook alone does not show production skills: serve the model.",
    "Clean and readable. Add links to your GitHub and LinkedIn.",
)
NOTIFICATIONS = (
    ("Your mock interview on {day} is confirmed.", "/interviews/bookings"),
    ("New feedback on your session of {day} is ready.", "/feedback/progress"),
    ("A mentor reviewed your CV.", "/cvs/"),
    ("A session on {day} was cancelled by the mentor.", "/interviews/bookings"),
    ("A slot you were waiting for opened on {day}.", "/interviews/slots"),
)
KEY_ALPHABET = string.ascii_letters + string.digits + "-_"


class LargeSeeder:
    """Rows for every table, made with one random generator and inserted thousands per statement."""

    def __init__(self, today: date) -> None:
        self.rng = random.Random(SEED)
        self.today = today
        self.now = datetime.combine(today, datetime.min.time(), UTC)
        self.counts: dict[str, int] = {}

    # helpers ----------------------------------------------------------------------------------------------
    def insert(self, model, rows: list[dict[str, Any]]) -> None:
        from portal.extensions import db

        for start in range(0, len(rows), CHUNK):
            db.session.execute(sa.insert(model), rows[start : start + CHUNK])
        self.counts[model.__tablename__] = self.counts.get(model.__tablename__, 0) + len(rows)

    def uid(self) -> str:
        return f"booking-{uuid.UUID(int=self.rng.getrandbits(128), version=4)}@career-portal"

    def between(self, first: datetime, last: datetime) -> datetime:
        seconds = max(int((last - first).total_seconds()), 1)
        return first + timedelta(seconds=self.rng.randrange(seconds))

    # the data set -----------------------------------------------------------------------------------------
    def seed(self, log=print) -> dict[str, int]:
        from portal.extensions import db

        began = time.perf_counter()
        self.users()
        self.slots()
        self.cv_documents()
        self.bookings()
        self.feedback()
        self.cv_reviews()
        self.notifications()
        self.waitlist()
        db.session.commit()
        log(f"  rows inserted in {time.perf_counter() - began:.0f} s")
        if db.engine.dialect.name == "postgresql":
            self.finish_postgres()
        db.engine.dispose()
        return self.counts

    def users(self) -> None:
        from benchmarks.second_factor import staff_columns
        from portal.auth.models import User
        from portal.extensions import db
        from portal.interviews.models import InterviewType
        from portal.security import hash_password

        password_hash = hash_password(PASSWORD)
        self.types = {t.id: t.duration_minutes for t in db.session.scalars(sa.select(InterviewType))}
        rows = []

        no_second_factor = {"totp_secret": None, "totp_enabled_at": None, "totp_last_step": None}

        def user(role: str, email: str, name: str, joined: datetime, active: bool = True) -> int:
            rows.append(
                {
                    "id": len(rows) + 1,
                    "email": email,
                    "name": name,
                    "password_hash": password_hash,
                    "role": role,
                    "timezone": "Europe/London" if role != "candidate" else self.rng.choice(ZONES),
                    "active": active,
                    "session_version": 1,
                    "privacy_accepted_at": joined,
                    "created_at": joined,
                    "updated_at": joined,
                    **(staff_columns(joined) if role != "candidate" else no_second_factor),
                }
            )
            return len(rows)

        year_ago = self.now - timedelta(days=365)
        self.admin_id = user("admin", BENCH_USERS["admin"], "Alex Morgan", year_ago)
        self.bench_mentor_id = user("mentor", BENCH_USERS["mentor"], "Priya Raman", year_ago)
        self.mentor_ids = [self.bench_mentor_id]
        for n in range(MENTORS - 1):
            name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            email = f"{name.lower().replace(' ', '.')}.{n}@mentors.example.org"
            self.mentor_ids.append(user("mentor", email, name, self.between(year_ago, self.now - timedelta(days=200))))
        self.bench_candidate_id = user("candidate", BENCH_USERS["candidate"], "Sam Okoro", year_ago)
        self.candidate_ids = [self.bench_candidate_id]
        self.joined: dict[int, datetime] = {self.bench_candidate_id: year_ago}
        for n in range(CANDIDATES - 1):
            name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            joined = self.between(year_ago, self.now - timedelta(days=1))
            email = f"{name.lower().replace(' ', '.')}.{n}@example.org"
            user_id = user("candidate", email, name, joined, active=self.rng.random() > 0.04)
            self.candidate_ids.append(user_id)
            self.joined[user_id] = joined
        self.insert(User, rows)

    def slots(self) -> None:
        """Each mentor works five days a week, four to six sessions a day, back to back with 15-minute gaps."""
        from portal.interviews.models import Slot

        rows = []
        first_day = self.today - timedelta(days=SLOTS_DAYS_BACK)
        type_ids = sorted(self.types)
        for mentor_id in self.mentor_ids:
            weekdays = set(self.rng.sample(range(7), 5))
            preferred = self.rng.sample(type_ids, self.rng.choice((1, 2)))
            first_hour = self.rng.choice((8, 9, 10, 12))
            for offset in range(SLOTS_DAYS_BACK + SLOTS_DAYS_AHEAD):
                day = first_day + timedelta(days=offset)
                if day.weekday() not in weekdays:
                    continue
                starts_at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                    hours=first_hour, minutes=self.rng.choice((0, 30))
                )
                for _ in range(self.rng.randint(4, 6)):
                    type_id = self.rng.choice(preferred)
                    ends_at = starts_at + timedelta(minutes=self.types[type_id])
                    created_at = min(starts_at - timedelta(days=self.rng.randint(7, 40)), self.now)
                    cancelled = self.rng.random() < 0.04
                    rows.append(
                        {
                            "id": len(rows) + 1,
                            "mentor_id": mentor_id,
                            "interview_type_id": type_id,
                            "series_id": None,
                            "starts_at": starts_at,
                            "ends_at": ends_at,
                            "status": "cancelled" if cancelled else "open",
                            "cancel_reason": "Mentor unavailable." if cancelled else None,
                            "cancelled_at": self.between(created_at, starts_at) if cancelled else None,
                            "created_by_id": mentor_id,
                            "created_at": created_at,
                            "updated_at": created_at,
                        }
                    )
                    starts_at = ends_at + timedelta(minutes=15)
        self.slot_rows = rows
        self.insert(Slot, rows)

    def cv_documents(self) -> None:
        """One to four versions for 2,100 candidates (three for the benchmark candidate); the newest is current."""
        from portal.cvs.models import CVDocument

        holders = [self.bench_candidate_id, *self.rng.sample(self.candidate_ids[1:], CV_HOLDERS)]
        versions = {candidate_id: 1 for candidate_id in holders}
        versions[self.bench_candidate_id] = 3
        while sum(versions.values()) < CV_VERSIONS:
            candidate_id = self.rng.choice(holders[1:])
            if versions[candidate_id] < 4:
                versions[candidate_id] += 1
        rows = []
        self.documents: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for candidate_id in holders:
            joined = self.joined[candidate_id]
            moments = sorted(self.between(joined, self.now) for _ in range(versions[candidate_id]))
            for number, created_at in enumerate(moments, start=1):
                pdf = self.rng.random() < 0.6
                text = self.cv_text()
                row = {
                    "id": len(rows) + 1,
                    "candidate_id": candidate_id,
                    "name": f"ML engineer CV, version {number}",
                    "original_filename": f"cv-v{number}.{'pdf' if pdf else 'docx'}",
                    "media_type": "application/pdf"
                    if pdf
                    else "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "size_bytes": self.rng.randint(40_000, 400_000),
                    "sha256": f"{self.rng.getrandbits(256):064x}",
                    "storage_key": "".join(self.rng.choices(KEY_ALPHABET, k=32)),
                    "page_count": self.rng.randint(1, 3) if pdf else None,
                    "word_count": len(text.split()),
                    "extracted_text": text,
                    "links": "https://github.com/example-candidate\nhttps://www.linkedin.com/in/example-candidate",
                    "is_current": number == versions[candidate_id],
                    "created_at": created_at,
                }
                rows.append(row)
                self.documents[candidate_id].append(row)
        self.insert(CVDocument, rows)

    def cv_text(self) -> str:
        """A CV's extracted text: name line, then sections of realistic sentences; 2 to 5 KB."""
        parts = [f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}", "London · 07700 900123"]
        for title in SECTION_TITLES:
            parts.append(title)
            parts.extend(self.rng.choices(CV_SECTIONS, k=self.rng.randint(3, 8)))
        return "\n".join(parts)

    def bookings(self) -> None:
        """17,500 on past slots (mostly completed) and 2,500 on upcoming ones; one booking per slot."""
        from portal.interviews.models import Booking

        past = [s for s in self.slot_rows if s["status"] == "open" and s["ends_at"] <= self.now]
        upcoming = [s for s in self.slot_rows if s["status"] == "open" and s["starts_at"] > self.now]
        chosen = [(s, "past") for s in self.rng.sample(past, PAST_BOOKINGS)]
        chosen += [(s, "upcoming") for s in self.rng.sample(upcoming, UPCOMING_BOOKINGS)]
        chosen.sort(key=lambda pair: pair[0]["starts_at"])
        booking_pool = self.rng.sample(self.candidate_ids[1:], 7_000)
        # The benchmark candidate's history: a session every 12 days from 110 days ago, then three upcoming ones.
        bench_past = ["completed", "completed", "no_show", "completed", "cancelled", "completed", "completed"]
        bench_upcoming = ["booked", "cancelled", "booked"]
        bench_next = {"past": self.now - timedelta(days=110), "upcoming": self.now + timedelta(days=2)}
        rows = []
        for slot, when in chosen:
            draw = self.rng.random()
            if when == "past":
                status = "completed" if draw < 0.89 else "no_show" if draw < 0.93 else "cancelled"
            else:
                status = "booked" if draw < 0.85 else "cancelled"
            plan = bench_past if when == "past" else bench_upcoming
            if plan and slot["starts_at"] >= bench_next[when]:
                status = plan.pop(0)
                bench_next[when] = slot["starts_at"] + timedelta(days=12 if when == "past" else 7)
                candidate_id = self.bench_candidate_id
            else:
                candidate_id = self.rng.choice(booking_pool)
            created_at = min(slot["starts_at"] - timedelta(hours=self.rng.randint(14, 24 * 30)), self.now)
            cancelled = status == "cancelled"
            cancelled_at = self.between(created_at, min(slot["starts_at"], self.now)) if cancelled else None
            documents = [d for d in self.documents.get(candidate_id, ()) if d["created_at"] <= created_at]
            rows.append(
                {
                    "id": len(rows) + 1,
                    "slot_id": slot["id"],
                    "candidate_id": candidate_id,
                    "status": status,
                    "focus_note": self.rng.choice(FOCUS_NOTES),
                    "cv_document_id": documents[-1]["id"] if documents and self.rng.random() < 0.7 else None,
                    "uid": self.uid(),
                    "sequence": 0,
                    "reschedule_count": 1 if self.rng.random() < 0.08 else 0,
                    "cancel_reason": self.rng.choice(CANCEL_REASONS) if cancelled else None,
                    "cancelled_at": cancelled_at,
                    "cancelled_by_id": candidate_id if cancelled else None,
                    "late_cancellation": cancelled and self.rng.random() < 0.15,
                    "outcome_at": slot["ends_at"] + timedelta(hours=1) if status in ("completed", "no_show") else None,
                    "hold_expires_at": None,
                    "waitlist_entry_id": None,
                    "created_at": created_at,
                    "updated_at": cancelled_at or created_at,
                }
            )
        self.booking_rows = rows
        self.slot_by_id = {s["id"]: s for s in self.slot_rows}
        self.insert(Booking, rows)

    def feedback(self) -> None:
        """Published rubric feedback on 15,000 completed sessions (scores rising with practice), a few drafts,
        and the candidate's rating on most of them."""
        from portal.feedback.models import SessionFeedback, SessionRating

        completed = [b for b in self.booking_rows if b["status"] == "completed"]
        bench = [b for b in completed if b["candidate_id"] == self.bench_candidate_id]
        others = [b for b in completed if b["candidate_id"] != self.bench_candidate_id]
        self.rng.shuffle(others)
        published = bench + others[: PUBLISHED_FEEDBACK - len(bench)]
        drafts = others[PUBLISHED_FEEDBACK - len(bench) : PUBLISHED_FEEDBACK - len(bench) + 150]
        published.sort(key=lambda b: b["id"])
        skill = defaultdict(lambda: self.rng.uniform(1.5, 3.8))
        sessions: dict[int, int] = defaultdict(int)
        rows, ratings = [], []
        for booking, status in [(b, "published") for b in published] + [(b, "draft") for b in drafts]:
            slot = self.slot_by_id[booking["slot_id"]]
            level = skill[booking["candidate_id"]] + 0.3 * sessions[booking["candidate_id"]]
            sessions[booking["candidate_id"]] += 1

            def score(level: float = level) -> int:
                return max(1, min(5, round(level + self.rng.uniform(-1, 1))))

            written = slot["ends_at"] + timedelta(hours=self.rng.randint(1, 48))
            readiness = "ready" if level >= 4 else "nearly" if level >= 3 else "not_yet"
            rows.append(
                {
                    "id": len(rows) + 1,
                    "booking_id": booking["id"],
                    "mentor_id": slot["mentor_id"],
                    "status": status,
                    "version": 1,
                    "published_at": written if status == "published" else None,
                    "edited_at": None,
                    "created_at": written,
                    "updated_at": written,
                    "score_python": score(),
                    "score_ml": score(),
                    "score_data": score() if self.rng.random() > 0.15 else None,
                    "score_system_design": score(),
                    "score_communication": score(),
                    "strengths": self.rng.choice(STRENGTHS),
                    "improvements": self.rng.choice(IMPROVEMENTS),
                    "next_steps": self.rng.choice(NEXT_STEPS),
                    "readiness": readiness,
                }
            )
            if status == "published" and self.rng.random() < 0.6:
                ratings.append(
                    {
                        "id": len(ratings) + 1,
                        "booking_id": booking["id"],
                        "candidate_id": booking["candidate_id"],
                        "score": self.rng.choices((5, 4, 3, 2, 1), weights=(45, 35, 12, 5, 3))[0],
                        "comment": self.rng.choice(("Very practical session.", "Useful and friendly.", "")),
                        "created_at": written + timedelta(hours=2),
                    }
                )
        self.insert(SessionFeedback, rows)
        self.insert(SessionRating, ratings)

    def cv_reviews(self) -> None:
        """500 requests waiting in the queue, 15 claimed by the benchmark mentor and 60 by others, 2,400 completed,
        100 withdrawn; at most one open request per CV version."""
        from portal.cvs.models import CVReview

        current = [docs[-1] for candidate_id, docs in self.documents.items() if candidate_id != self.bench_candidate_id]
        self.rng.shuffle(current)
        bench_docs = self.documents[self.bench_candidate_id]
        plan = [(bench_docs[-1], "requested", None)]
        plan += [(doc, "requested", None) for doc in current[: WAITING_REVIEWS - 1]]
        plan += [(doc, "claimed", self.bench_mentor_id) for doc in current[WAITING_REVIEWS - 1 : WAITING_REVIEWS + 14]]
        plan += [(doc, "claimed", self.rng.choice(self.mentor_ids[1:])) for doc in current[515:575]]
        plan += [(doc, "completed", self.bench_mentor_id) for doc in bench_docs[:-1]]
        every_document = [doc for docs in self.documents.values() for doc in docs]
        for doc in self.rng.sample(every_document, 2_400):
            plan.append((doc, "completed", self.rng.choice(self.mentor_ids)))
        plan += [(doc, "withdrawn", None) for doc in self.rng.sample(every_document, 100)]
        rows = []
        for doc, status, reviewer_id in plan:
            if status == "requested":
                created_at = self.now - timedelta(minutes=self.rng.randint(30, 14 * 24 * 60))
            else:
                created_at = self.between(doc["created_at"], self.now - timedelta(days=2))
            claimed_at = created_at + timedelta(hours=self.rng.randint(1, 36)) if reviewer_id else None
            completed_at = claimed_at + timedelta(hours=self.rng.randint(1, 24)) if status == "completed" else None
            done = status == "completed"
            rows.append(
                {
                    "id": len(rows) + 1,
                    "candidate_id": doc["candidate_id"],
                    "cv_document_id": doc["id"],
                    "document_name": doc["name"],
                    "previous_review_id": None,
                    "target_role": self.rng.choice(TARGET_ROLES),
                    "questions": self.rng.choice(REVIEW_QUESTIONS),
                    "status": status,
                    "reviewer_id": reviewer_id,
                    "claimed_at": claimed_at,
                    "verdict": self.rng.choice(("approved", "changes_suggested", "changes_required")) if done else None,
                    "comment_summary": REVIEW_COMMENTS[0] if done else "",
                    "comment_experience": REVIEW_COMMENTS[1] if done else "",
                    "comment_skills": REVIEW_COMMENTS[2] if done else "",
                    "comment_projects": REVIEW_COMMENTS[3] if done else "",
                    "comment_presentation": REVIEW_COMMENTS[4] if done else "",
                    "strengths": "Strong Python and SQL, and a real business problem in the projects." if done else "",
                    "improvement_1": "Deploy one model behind an API and describe it." if done else "",
                    "improvement_2": "Quantify the impact of your work." if done else "",
                    "improvement_3": "",
                    "draft_saved_at": None,
                    "completed_at": completed_at,
                    "created_at": created_at,
                    "updated_at": completed_at or claimed_at or created_at,
                }
            )
        self.insert(CVReview, rows)

    def notifications(self) -> None:
        """30 for each benchmark user (10 unread) and 30,000 spread over other users (a quarter unread)."""
        from portal.notifications.models import Notification

        rows = []
        recipients = [(user_id, 30) for user_id in (self.admin_id, self.bench_mentor_id, self.bench_candidate_id)]
        spread = self.mentor_ids[1:] + self.candidate_ids[1:]
        for _ in range(30_000):
            recipients.append((self.rng.choice(spread), 1))
        for user_id, count in recipients:
            for n in range(count):
                message, link = self.rng.choice(NOTIFICATIONS)
                created_at = self.now - timedelta(minutes=self.rng.randint(10, 90 * 24 * 60))
                unread = n < 10 if count > 1 else self.rng.random() < 0.25
                rows.append(
                    {
                        "id": len(rows) + 1,
                        "user_id": user_id,
                        "message": message.format(day=created_at.strftime("%-d %B")),
                        "link": link,
                        "created_at": created_at,
                        "read_at": None if unread else created_at + timedelta(hours=3),
                    }
                )
        self.insert(Notification, rows)

    def waitlist(self) -> None:
        """1,500 entries, one place in line per candidate and interview type; the benchmark candidate waits for one."""
        from portal.waitlist.models import WaitlistEntry

        pairs = {(self.bench_candidate_id, sorted(self.types)[1])}
        while len(pairs) < 1_500:
            pairs.add((self.rng.choice(self.candidate_ids[1:]), self.rng.choice(sorted(self.types))))
        rows = []
        for candidate_id, type_id in sorted(pairs):
            status = (
                "waiting"
                if candidate_id == self.bench_candidate_id
                else self.rng.choice(("waiting",) * 7 + ("booked", "left", "expired"))
            )
            created_at = self.now - timedelta(hours=self.rng.randint(1, 60 * 24))
            with_dates = self.rng.random() < 0.3
            rows.append(
                {
                    "id": len(rows) + 1,
                    "candidate_id": candidate_id,
                    "interview_type_id": type_id,
                    "mentor_id": self.rng.choice(self.mentor_ids) if self.rng.random() < 0.2 else None,
                    "first_date": self.today if with_dates else None,
                    "last_date": self.today + timedelta(days=21) if with_dates else None,
                    "status": status,
                    "created_at": created_at,
                    "updated_at": created_at,
                }
            )
        self.insert(WaitlistEntry, rows)

    def finish_postgres(self) -> None:
        """Move the id sequences past the inserted ids, then VACUUM ANALYZE (what autovacuum would soon do)."""
        from portal.extensions import db

        with db.engine.connect() as connection:
            for table in self.counts:
                connection.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
                )
            connection.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", choices=("sqlite-small", "sqlite-large", "postgres-large"))
    parser.add_argument("--reseed", action="store_true", help="Seed again even when a fresh seeded database exists.")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    options = parser.parse_args()
    if options.dataset == "sqlite-small":
        dataset = prepare_small()
    elif options.dataset == "sqlite-large":
        dataset = prepare_large(options.dataset, f"sqlite:///{BENCH_DIR / 'sqlite-large.db'}", options.reseed)
    else:
        dataset = prepare_large(options.dataset, options.postgres_url, options.reseed)
    print(json.dumps(dataset.seed, indent=2))


if __name__ == "__main__":
    main()
