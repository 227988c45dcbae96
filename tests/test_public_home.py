"""The public pages explain the service: how it works in three steps, who the mentors are, a guide with contents
and a call to action; mentors describe their focus areas on their account page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from portal.auth.models import User
from portal.extensions import db
from tests.conftest import logged_in as as_user
from tests.factories import make_user

NOW = datetime(2026, 10, 20, 9, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("clock")


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_home_page_explains_three_steps_and_shows_the_mentors_with_initials_and_focus_areas(app, client):
    with app.app_context():
        priya = make_user("mentor", email="priya@example.org", name="Priya Shah")
        priya.focus_areas = "Computer vision, MLOps"
        make_user("mentor", email="tom@example.org", name="tom o'neill-okafor")
        make_user("mentor", email="gone@example.org", name="Gone Mentor").active = False
        make_user(email="sam@example.org", name="Sam Taylor")
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    words = text(page)
    steps = re.findall(r'<h3 class="h5">([^<]+)</h3>', page[page.index('id="steps-title"') :])[:3]
    assert steps == [
        "Create an account and upload your CV",
        "Book a mock interview",
        "Get scored feedback and improve",
    ]
    mentors = page[page.index('id="mentors-title"') : page.index("</section>", page.index('id="mentors-title"'))]
    assert re.findall(r'<span class="avatar" aria-hidden="true">(\w+)</span>', mentors) == ["PS", "TO"]
    assert "Computer vision, MLOps" in mentors and "Gone Mentor" not in words and "Sam Taylor" not in words
    assert "<img" not in mentors


def test_a_new_mentor_changes_the_cached_home_page(app, client):
    with app.app_context():
        make_user("mentor", email="priya@example.org", name="Priya Shah")
    first = client.get("/")
    assert "Priya Shah" in first.get_data(as_text=True)
    assert client.get("/", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    with app.app_context():
        make_user("mentor", email="tom@example.org", name="Tom Okafor")
    second = client.get("/", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and "Tom Okafor" in second.get_data(as_text=True)


def test_no_mentors_no_mentor_section(client):
    assert 'id="mentors-title"' not in client.get("/").get_data(as_text=True)


def test_the_guide_has_a_contents_list_linking_to_each_section_and_a_call_to_action(app, client):
    page = client.get("/guide").get_data(as_text=True)
    contents = page[page.index('id="contents-title"') : page.index("</nav>", page.index('id="contents-title"'))]
    links = re.findall(r'<a href="#([a-z0-9-]+)">([^<]+)</a>', contents)
    assert len(links) >= 8
    assert links[0] == (
        "machine-learning-engineers-and-data-scientists",
        "Machine learning engineers and data scientists",
    )
    for anchor, heading in links:
        assert f'<h2 id="{anchor}">{heading}</h2>' in page
    cta = page[page.index('class="call-to-action"') :]
    assert "Create a free account" in cta and 'href="/register"' in cta
    with app.app_context():
        make_user(email="sam@example.org", name="Sam Taylor")
        make_user("mentor", email="priya@example.org", name="Priya Shah")
    assert 'href="/interviews/slots"' in as_user(app, "sam@example.org").get("/guide").get_data(as_text=True)
    assert 'class="call-to-action"' not in as_user(app, "priya@example.org").get("/guide").get_data(as_text=True)


def test_mentors_save_focus_areas_and_each_role_reads_the_right_name_hint(app):
    with app.app_context():
        make_user("mentor", email="priya@example.org", name="Priya Shah")
        make_user(email="sam@example.org", name="Sam Taylor")
        make_user("admin", email="alex@example.org", name="Alex Morgan")
    mentor = as_user(app, "priya@example.org")
    page = mentor.get("/account").get_data(as_text=True)
    assert "The name candidates see when they book with you" in page and "The name mentors will see" not in page
    refused = mentor.post(
        "/account",
        data={"name": "Priya Shah", "timezone": "Europe/London", "focus_areas": "NLP,\nrecommender systems"},
    )
    assert "Remove the control characters" in refused.get_data(as_text=True)  # one line: no line breaks
    mentor.post(
        "/account",
        data={"name": "Priya Shah", "timezone": "Europe/London", "focus_areas": "  NLP,   recommender systems "},
    )
    with app.app_context():
        assert db.session.scalar(db.select(User.focus_areas).filter_by(email="priya@example.org")) == (
            "NLP, recommender systems"
        )
    too_long = mentor.post(
        "/account", data={"name": "Priya Shah", "timezone": "Europe/London", "focus_areas": "x" * 201}
    )
    assert "At most 200 characters." in too_long.get_data(as_text=True)

    candidate = as_user(app, "sam@example.org")
    page = candidate.get("/account").get_data(as_text=True)
    assert "The name mentors will see." in page and "Focus areas" not in page
    candidate.post("/account", data={"name": "Sam Taylor", "timezone": "Europe/London", "focus_areas": "Sneaky"})
    with app.app_context():
        assert db.session.scalar(db.select(User.focus_areas).filter_by(email="sam@example.org")) == ""
    admin_page = as_user(app, "alex@example.org").get("/account").get_data(as_text=True)
    assert "in the audit log" in admin_page and "The name mentors will see" not in admin_page


@pytest.mark.parametrize(
    ("name", "initials"), [("Priya Shah", "PS"), ("Cher", "C"), ("jean-luc de la tour", "JT"), ("  ", "?")]
)
def test_initials(name, initials):
    assert User(name=name).initials == initials
