"""Command-line tools an operator runs."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.auth.models import User
from portal.cli import DEMO_PASSWORD, DEMO_TOTP_SECRET, DEMO_USERS
from portal.extensions import db
from portal.feedback.services import awaiting_feedback_query
from portal.interviews.models import InterviewType, Slot
from tests.conftest import pass_second_step


def users(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(u.email, u.role) for u in db.session.scalars(sa.select(User).order_by(User.id))]


def test_create_user_with_password(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "Boss@Example.org",
            "--name",
            "The Boss",
            "--role",
            "admin",
            "--password",
            "long enough passphrase",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.org" in result.output
    assert users(app) == [("boss@example.org", "admin")]


def test_create_user_prompts_for_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-user", "mentor@example.org", "--name", "M", "--role", "mentor"],
        input="long enough passphrase\nlong enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert users(app) == [("mentor@example.org", "mentor")]


def test_create_user_refuses_common_password_and_duplicates(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "a@example.org", "--name", "A", "--password", "qwerty123"])
    assert result.exit_code != 0 and "most commonly used" in result.output
    runner.invoke(args=["create-user", "a@example.org", "--name", "A", "--password", "long enough passphrase"])
    result = runner.invoke(args=["create-user", "A@example.org", "--name", "A", "--password", "long enough passphrase"])
    assert result.exit_code != 0 and "already exists" in result.output


def test_seed_demo_is_idempotent_and_prints_logins(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and DEMO_PASSWORD in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert sorted(users(app)) == sorted((email, role) for email, _, role in DEMO_USERS)
    roles = [role for _, role in users(app)]
    assert roles.count("admin") == 1 and roles.count("mentor") == 2 and roles.count("candidate") == 3
    if_empty = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "no demo data added" in if_empty.output and "admin@demo.example" in if_empty.output


def test_seed_demo_refuses_production(app):
    app.config["PORTAL_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "refuses" in result.output
    assert users(app) == []


def test_demo_logins_work(app, client, auth):
    app.test_cli_runner().invoke(args=["seed-demo"])
    assert auth.login("admin@demo.example", DEMO_PASSWORD, totp_secret=DEMO_TOTP_SECRET).status_code == 302


def test_demo_staff_log_in_with_the_printed_authenticator_key_and_candidates_without(app, client, auth):
    output = app.test_cli_runner().invoke(args=["seed-demo"]).output
    printed = re.search(r"authenticator app.*\n  ([A-Z2-7 ]{39})\n", output)
    assert printed and printed.group(1).replace(" ", "") == DEMO_TOTP_SECRET
    assert "otpauth://totp/" in output
    for email in ("admin@demo.example", "priya.shah@demo.example", "tom.okafor@demo.example"):
        password_step = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert password_step.headers["Location"] == "/login/code"
        assert pass_second_step(client, password_step, email, DEMO_TOTP_SECRET).headers["Location"] == "/"
        auth.logout()
    assert auth.login("sam.taylor@demo.example", DEMO_PASSWORD).headers["Location"] == "/"
    rerun = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"]).output
    assert DEMO_TOTP_SECRET[:4] + " " in rerun


def test_the_demo_shows_every_interview_format_a_session_awaiting_feedback_and_mentors_focus_areas(app):
    app.test_cli_runner().invoke(args=["seed-demo"])
    with app.app_context():
        formats = db.session.scalars(
            sa.select(InterviewType.name).where(InterviewType.id.in_(sa.select(Slot.interview_type_id)))
        ).all()
        assert len(set(formats)) == 3
        waiting = db.session.scalars(awaiting_feedback_query()).unique().all()
        assert any(booking.status == "booked" for booking in waiting)  # outcome and feedback both still to write
        focus = db.session.scalars(sa.select(User.focus_areas).where(User.role == "mentor")).all()
        assert all(focus) and len(focus) == 2
    home = app.test_client().get("/").get_data(as_text=True)
    assert "ML system design, MLOps and monitoring" in home


def test_seed_demo_publishes_six_articles_by_the_mentors_and_two_upcoming_live_sessions(app):
    from pathlib import Path

    from portal.insights.models import InsightArticle
    from portal.live.services import upcoming_query
    from portal.statuses import ArticleStatus

    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # idempotent: nothing added twice
    guide = (Path(app.root_path) / "pages" / "content" / "faq.md").read_text(encoding="utf-8")
    with app.app_context():
        articles = list(db.session.scalars(sa.select(InsightArticle)))
        published = [a for a in articles if a.status == ArticleStatus.PUBLISHED]
        assert len(published) >= 6 and len({a.title for a in articles}) == len(articles)
        assert {a.author.role for a in published} == {"mentor"} and len({a.author_id for a in published}) == 2
        assert all(a.tags for a in published)
        for article in published:  # no figure the guide does not give (list numbering aside)
            text = re.sub(r"(?m)^\d+\. ", "", f"{article.title} {article.summary} {article.body}")
            for number in re.findall(r"\d+", text):
                assert re.search(rf"\b{number}\b", guide), (article.title, number)
        assert len(list(db.session.scalars(upcoming_query()))) >= 2
