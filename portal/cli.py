"""Command-line tools: create-user, seed-demo, worker, backup, retention."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask import Flask, current_app

from portal.auth.models import ROLES, User
from portal.auth.services import create_user, find_user_by_email, store_second_factor
from portal.auth.totp import grouped, provisioning_uri
from portal.backup import backup_commands
from portal.cvs.demo import seed_cvs
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.feedback.demo import seed_feedback
from portal.insights.demo import seed_insights
from portal.insights.services import publish_due_articles
from portal.interviews.demo import seed_interviews
from portal.live.demo import seed_live
from portal.mail import deliver_due
from portal.notifications.reminders import send_due_reminders
from portal.privacy.exports import build_due_exports
from portal.retention.commands import retention_cli
from portal.retention.services import run_retention_if_due, summary
from portal.waitlist.services import expire_holds

DEMO_PASSWORD = "career-demo-2026"  # noqa: S105 - printed for demo logins, refused in production
# Demo admins and mentors log in with a second factor from this secret (add it to any authenticator app).
DEMO_TOTP_SECRET = "CAREERSDEMOTOTPSECRETFORSTAFF234"  # noqa: S105 - printed for demo logins, refused in production
DEMO_USERS = (
    ("admin@demo.example", "Alex Morgan", "admin"),
    ("priya.shah@demo.example", "Priya Shah", "mentor"),
    ("tom.okafor@demo.example", "Tom Okafor", "mentor"),
    ("sam.taylor@demo.example", "Sam Taylor", "candidate"),
    ("jordan.lee@demo.example", "Jordan Lee", "candidate"),
    ("maya.patel@demo.example", "Maya Patel", "candidate"),
)


DEMO_FOCUS_AREAS = {
    "priya.shah@demo.example": "Python and ML fundamentals, recommender systems",
    "tom.okafor@demo.example": "ML system design, MLOps and monitoring",
}


def seed_demo_data() -> list[tuple[str, str, str, bool]]:
    """Demo accounts (idempotent); returns (email, name, role, created) for each."""
    rows = []
    users = []
    for email, name, role in DEMO_USERS:
        user = find_user_by_email(email)
        created = user is None
        if created:
            user = create_user(email, name, DEMO_PASSWORD, role)
            if role in ("admin", "mentor"):
                store_second_factor(user, DEMO_TOTP_SECRET)
            user.focus_areas = DEMO_FOCUS_AREAS.get(email, "")
        users.append(user)
        rows.append((email, name, role, created))
    mentors = [u for u in users if u.is_mentor]
    candidates = [u for u in users if u.is_candidate]
    seed_interviews(mentors, candidates)
    seed_feedback()
    seed_cvs(candidates[0], mentors[0])
    seed_live(next(u for u in users if u.is_admin), candidates)
    seed_insights(mentors, next(u for u in users if u.is_admin))
    db.session.commit()
    return rows


def database_is_empty() -> bool:
    return not db.session.scalar(sa.select(sa.func.count(User.id)))


def register_commands(app: Flask) -> None:
    app.cli.add_command(retention_cli)
    app.cli.add_command(backup_commands)

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--name", required=True, help="Full name.")
    @click.option("--role", type=click.Choice(ROLES), default="candidate", show_default=True)
    @click.option("--password", help="Prompted for (hidden, twice) when not given.")
    def create_user_command(email: str, name: str, role: str, password: str | None) -> None:
        """Create an account, for example the first admin."""
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = create_user(email, name, password, role)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from error
        click.echo(f"Created {user.role} {user.email} (id {user.id}).")

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no users yet.")
    def seed_demo_command(if_empty: bool) -> None:
        """Add demo accounts with a known password (refused in production)."""
        if current_app.config["PORTAL_ENV"] == "production":
            raise click.ClickException("seed-demo refuses to run with PORTAL_ENV=production.")
        if if_empty and not database_is_empty():
            click.echo("The database already has users: no demo data added.")
            rows = [(email, name, role, False) for email, name, role in DEMO_USERS if find_user_by_email(email)]
        else:
            rows = seed_demo_data()
        if rows:
            click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for email, name, role, created in rows:
            click.echo(f"  {role:<9} {email:<28} {name}{'  (new)' if created else ''}")
        if any(role != "candidate" for _, _, role, _ in rows):
            click.echo(
                "The admin and the mentors also enter a code from an authenticator app. Add this key to one"
                f" (time-based, 6 digits, 30 seconds):\n  {grouped(DEMO_TOTP_SECRET)}\n"
                f"  or open {provisioning_uri(DEMO_TOTP_SECRET, 'Career Services demo')}"
            )

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
    @click.option("--interval", default=5.0, show_default=True, help="Seconds between polls.")
    def worker_command(once: bool, interval: float) -> None:
        """End waitlist holds that ran out, publish articles whose scheduled time has come, queue due reminders,
        build the data exports people asked for, deliver the email outbox (with retries and back-off), and once a day
        remove data past its retention period."""
        while True:
            expired = expire_holds()
            articles = publish_due_articles()
            db.session.commit()
            reminders = send_due_reminders()
            exports = build_due_exports()
            report = deliver_due()
            if report.handled or reminders or expired or articles or exports or once:
                click.echo(
                    f"holds expired: {expired}; articles published: {articles}; reminders queued: {reminders}; "
                    f"data exports ready: {exports}; "
                    f"outbox: {report.sent} sent, {report.retried} to retry, {report.failed} failed"
                )
            retention = run_retention_if_due(utcnow())
            if retention is not None:
                click.echo(f"retention: {summary(retention)}")
            if once:
                return
            db.session.remove()
            time.sleep(interval)
