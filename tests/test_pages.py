"""Public pages: home, guide, FAQ, legal pages, health check."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from portal.content import render_markdown


class Outline(HTMLParser):
    """Collects headings, the title, the meta description and JSON-LD blocks of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.title = ""
        self.description = None
        self.json_ld: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "title":
            self._in = "title"
        if tag == "meta" and attributes.get("name") == "description":
            self.description = attributes.get("content")
        if tag == "script" and attributes.get("type") == "application/ld+json":
            self._in = "json"
            self.json_ld.append("")

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "json":
            self.json_ld[-1] += data


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("path", ["/", "/guide", "/faq", "/privacy", "/accessibility"])
def test_public_page_has_title_description_and_ordered_headings(client, path):
    response = client.get(path)
    assert response.status_code == 200
    page = outline(response.get_data(as_text=True))
    assert page.title.strip() and "Career Services" in page.title
    assert page.description and 100 <= len(page.description) <= 170
    assert page.headings.count(1) == 1 and page.headings[0] == 1
    for previous, current in zip(page.headings, page.headings[1:], strict=False):
        assert current <= previous + 1, f"heading level jumps from h{previous} to h{current} on {path}"


def test_guide_is_an_original_article_of_the_right_length(client):
    html = client.get("/guide").get_data(as_text=True)
    assert '<h1 class="mb-2">What does a machine learning engineer actually do?</h1>' in html
    article = re.search(r"<article.*?</article>", html, re.S).group(0)
    words = len(re.sub(r"<[^>]+>", " ", article).split())
    assert 900 <= words <= 1400
    for topic in ("data scientist", "pipeline", "API", "monitoring", "deploy", "Python", "SQL", "bootcamp"):
        assert topic.lower() in article.lower(), topic


def test_faq_has_two_sections_of_disclosures_with_anchors_and_faqpage_json_ld(client):
    html = client.get("/faq").get_data(as_text=True)
    questions = re.findall(r'<details class="faq-item" id="([a-z0-9-]+)">', html)
    assert len(questions) == 13 and len(set(questions)) == 13
    sections = re.findall(r'<h2 class="h4 mt-4" id="(section-[a-z-]+)">([^<]+)</h2>', html)
    assert [title for _, title in sections] == ["Becoming a machine learning engineer", "Using our career service"]
    for anchor, _ in sections:
        assert f'href="#{anchor}"' in html
    service = html[html.index("Using our career service</h2>") :]
    for question in (
        "Who can use the career service?",
        "How much does it cost?",
        "What kinds of mock interview can I book, and how long do they last?",
        "How do I join my session?",
        "How long does a CV review take?",
        "Can I cancel or reschedule?",
        "What information do you keep about me?",
    ):
        assert f">{question}</h3>" in service, question
    for anchor in questions:
        assert f'href="#{anchor}"' in html
    data = json.loads(outline(html).json_ld[0])
    assert data["@type"] == "FAQPage" and len(data["mainEntity"]) == 13
    first = data["mainEntity"][0]
    assert first["name"] == "What qualifications do you need to become a machine learning engineer in the UK?"
    assert "Python" in first["acceptedAnswer"]["text"]


def test_home_shows_offer_and_calls_to_action_for_visitors(client):
    html = client.get("/").get_data(as_text=True)
    for heading in ("CV reviews", "Mock interviews", "Industry insights"):
        assert heading in html
    assert 'href="/register"' in html and "Create a free account" in html


def test_home_shows_next_steps_by_role(make, client, auth):
    make.user("admin", email="admin@example.org")
    auth.login("admin@example.org")
    html = client.get("/").get_data(as_text=True)
    assert "Your next steps" in html and "invite a mentor" in html


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {name: value or "" for name, value in attrs}))


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "<img src=x onerror=alert(1)>",
    "![x](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<a href='https://x' onclick='steal()'>x</a>",
    "<iframe src='https://evil.example'></iframe>",
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
    "[x](vbscript:msgbox(1))",
    '<a href="&#106;avascript:alert(1)">x</a>',
]


@pytest.mark.parametrize("markdown", XSS_PAYLOADS)
def test_markdown_output_is_sanitized(markdown):
    parser = Elements()
    parser.feed(str(render_markdown(markdown)))
    for tag, attributes in parser.found:
        assert tag not in {"script", "iframe", "img", "svg", "style", "object", "embed"}, tag
        assert not any(name.startswith("on") for name in attributes), attributes
        href = attributes.get("href", "").strip().lower()
        scheme = re.match(r"^([a-z][a-z0-9+.-]*):", href)
        assert scheme is None or scheme.group(1) in {"http", "https", "mailto"}, href


def test_markdown_keeps_safe_formatting():
    html = str(render_markdown("## Title\n\nSome **bold** and [a link](https://example.org).\n\n- one\n- two"))
    assert "<h2>Title</h2>" in html and "<strong>bold</strong>" in html
    assert 'href="https://example.org"' in html and "<li>one</li>" in html


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_503_when_the_database_is_unreachable(app, client, monkeypatch):
    from portal.extensions import db

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
