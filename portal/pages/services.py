"""Public content: the guide, the FAQ, the offer and the legal pages.

Each page is the newest saved revision (admins edit them), or the Markdown shipped in the package until a first
edit. Rendered pages are cached per revision, so a page is rendered once after each edit, in every process.
"""

from __future__ import annotations

import re
import threading
import time
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from html import unescape
from importlib import resources
from itertools import groupby

import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup

from portal.auth.models import User
from portal.content import parse_faq_sections, render_markdown, slugify, split_title
from portal.extensions import db
from portal.memo import forget, remember, remembered, shared_for
from portal.pages.models import PageRevision


@dataclass(frozen=True)
class PageSource:
    slug: str
    title: str
    description: str
    body: str  # Markdown, without the title
    revision_id: int | None


@dataclass(frozen=True)
class PageContent:
    slug: str
    title: str
    description: str
    html: Markup
    word_count: int
    contents: tuple[tuple[str, str], ...] = ()  # (anchor, heading) of each section, for a contents list


@dataclass(frozen=True)
class FaqItem:
    section: str
    anchor: str
    question: str
    answer_html: Markup
    answer_text: str


def _read(name: str) -> str:
    return resources.files("portal.pages").joinpath(f"content/{name}").read_text(encoding="utf-8")


@cache
def page_meta() -> dict[str, dict[str, str]]:
    return tomllib.loads(_read("meta.toml"))


@cache
def shipped_source(slug: str) -> PageSource:
    """The page as shipped in the package."""
    title, body = split_title(_read(f"{slug}.md"))
    meta = page_meta().get(slug, {})
    return PageSource(slug, meta.get("title") or title, meta.get("description", ""), body, None)


def _newest_revisions() -> dict[str, tuple[int, datetime]]:
    rows = db.session.execute(
        sa.select(PageRevision.slug, sa.func.max(PageRevision.id), sa.func.max(PageRevision.created_at)).group_by(
            PageRevision.slug
        )
    )
    return {slug: (revision_id, saved_at) for slug, revision_id, saved_at in rows}


def current_revisions() -> dict[str, tuple[int, datetime]]:
    """The newest revision of every page that has one, with when it was saved (one query, remembered for the rest
    of the request)."""
    return remembered("page_revisions", _newest_revisions)


def _store() -> dict:
    """This app's rendered pages and the revisions its public pages last saw (each process keeps its own)."""
    return current_app.extensions.setdefault("pages", {"rendered": {}, "public_revisions": None})


def use_public_revisions() -> None:
    """For visitors' public pages: the newest revisions as this process saw them at most
    PUBLIC_PAGES_RECHECK_SECONDS ago (one second), so that a burst of visitors costs one query a second. An edit
    made in this process shows at once, one made elsewhere within that time."""
    store = _store()
    known = store["public_revisions"]
    if known is None or time.monotonic() - known[0] >= current_app.config["PUBLIC_PAGES_RECHECK_SECONDS"]:
        known = store["public_revisions"] = (time.monotonic(), _newest_revisions())
    remember("page_revisions", known[1])


def forget_current_revisions() -> None:
    """After saving a revision: the next lookup reads the newest ones again."""
    _store()["public_revisions"] = None
    forget("page_revisions")


def latest_revision_id(slug: str) -> int | None:
    revision = current_revisions().get(slug)
    return revision[0] if revision else None


def page_source(slug: str, revision_id: int | None = None) -> PageSource:
    """The newest saved version of a page (or a given revision), else the shipped one."""
    revision_id = revision_id if revision_id is not None else latest_revision_id(slug)
    revision = db.session.get(PageRevision, revision_id) if revision_id else None
    if revision is None:
        return shipped_source(slug)
    return PageSource(slug, revision.title, revision.description, revision.body, revision.id)


_cache_lock = threading.Lock()


def _cached(kind: str, slug: str, build):
    """Build a rendered page once per (page, revision), in every process; the newest revision is looked up once
    per request."""
    revision_id = latest_revision_id(slug)
    key = (kind, slug, revision_id)
    cache = _store()["rendered"]
    with _cache_lock:
        if key in cache:
            return cache[key]
    value = build(page_source(slug, revision_id) if revision_id else shipped_source(slug))
    with _cache_lock:
        for stale in [k for k in cache if k[:2] == (kind, slug)]:
            del cache[stale]
        cache[key] = value
    return value


def made_of(*slugs: str) -> tuple[tuple[str, ...], datetime | None]:
    """What a public page built from these pages depends on (each page's revision, or the shipped text) and when
    the newest of those revisions was saved."""
    revisions = current_revisions()
    parts = tuple(f"{slug}:{revisions[slug][0] if slug in revisions else 'shipped'}" for slug in slugs)
    saved = [revisions[slug][1] for slug in slugs if slug in revisions]
    return parts, max(saved) if saved else None


# Settings a page may quote as {NAME}, so that the privacy notice states the periods this portal is configured with.
QUOTABLE_SETTINGS = (
    "RETENTION_CV_MONTHS",
    "RETENTION_OUTBOX_DAYS",
    "RETENTION_AUDIT_YEARS",
    "RETENTION_NOTIFICATIONS_MONTHS",
    "EXPORT_RETENTION_DAYS",
    "ACCOUNT_ERASURE_GRACE_DAYS",
    "CONTACT_EMAIL",
)


def fill_settings(markdown_text: str) -> str:
    """`{RETENTION_CV_MONTHS}` and the other QUOTABLE_SETTINGS replaced by their configured values; any other text
    in braces is left as it is."""
    config = current_app.config
    return re.sub(
        r"\{([A-Z_]+)\}",
        lambda match: str(config[match.group(1)]) if match.group(1) in QUOTABLE_SETTINGS else match.group(0),
        markdown_text,
    )


def render_page(source: PageSource) -> PageContent:
    html, contents = _anchor_sections(render_markdown(fill_settings(source.body)))
    return PageContent(
        slug=source.slug,
        title=source.title,
        description=source.description,
        html=html,
        word_count=len(re.findall(r"\S+", source.body)),
        contents=contents,
    )


def _anchor_sections(html: Markup) -> tuple[Markup, tuple[tuple[str, str], ...]]:
    """Give each sanitised `<h2>` an id made from its words, and list them for the contents."""
    contents: list[tuple[str, str]] = []
    taken: set[str] = set()

    def anchor(match: re.Match) -> str:
        inner = match.group(1)
        text = unescape(re.sub(r"<[^>]+>", "", inner))
        slug = base = slugify(text)
        number = 2
        while slug in taken:
            slug, number = f"{base}-{number}", number + 1
        taken.add(slug)
        contents.append((slug, text))
        return f'<h2 id="{slug}">{inner}</h2>'

    anchored = re.sub(r"<h2>(.*?)</h2>", anchor, str(html), flags=re.S)
    return Markup(anchored), tuple(contents)  # noqa: S704 - ids are slugs of sanitised text


def page(slug: str) -> PageContent:
    return _cached("page", slug, render_page)


def _plain_text(markdown_text: str) -> str:
    """The words of a Markdown snippet, for structured data."""
    return re.sub(r"\s+", " ", re.sub(r"[*_`>#\[\]]", "", markdown_text)).strip()


def faq_items_from(body: str) -> tuple[FaqItem, ...]:
    return tuple(
        FaqItem(
            section=section,
            anchor=slugify(question),
            question=question,
            answer_html=render_markdown(answer),
            answer_text=_plain_text(answer),
        )
        for section, question, answer in parse_faq_sections("# FAQ\n" + body)
    )


@dataclass(frozen=True)
class FaqSection:
    title: str  # "" for questions before the first section heading
    anchor: str
    items: list[FaqItem]


def faq_sections(items: tuple[FaqItem, ...]) -> list[FaqSection]:
    """The questions grouped under their sections, in the FAQ's order."""
    return [
        FaqSection(title, f"section-{slugify(title)}" if title else "questions", list(group))
        for title, group in groupby(items, key=lambda item: item.section)
    ]


def faq_items() -> tuple[FaqItem, ...]:
    return _cached("faq", "faq", lambda source: faq_items_from(source.body))


def faq_meta() -> dict[str, str]:
    source = _cached("faq-meta", "faq", lambda s: {"title": s.title, "description": s.description})
    return source


def faq_structured_data() -> dict:
    """schema.org FAQPage for the FAQ page's JSON-LD."""
    return {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {
                "@type": "Question",
                "name": item.question,
                "acceptedAnswer": {"@type": "Answer", "text": item.answer_text},
            }
            for item in faq_items()
        ],
    }


# The mentors on the public home page ---------------------------------------------------------------------------

HOME_MENTORS = 12


@dataclass(frozen=True)
class MentorCard:
    name: str
    initials: str
    focus_areas: str


def mentors_version() -> str:
    """What the home page's mentor list depends on (how many, and the newest change to any of them), looked up at
    most every PUBLIC_PAGES_RECHECK_SECONDS in each process, like the pages' revisions."""

    def look_up() -> str:
        count, changed = db.session.execute(
            sa.select(sa.func.count(User.id), sa.func.max(User.updated_at)).where(User.active_mentor_clause())
        ).one()
        return f"mentors:{count}:{changed.isoformat() if changed else '-'}"

    return shared_for(current_app.config["PUBLIC_PAGES_RECHECK_SECONDS"], ("mentors-version",), look_up)


def home_mentors() -> tuple[list[MentorCard], int]:
    """The first HOME_MENTORS active mentors by name, and how many there are in all."""
    shown = db.session.scalars(User.active_mentors().limit(HOME_MENTORS)).all()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(User.active_mentors().order_by(None).subquery()))
    return [MentorCard(mentor.name, mentor.initials, mentor.focus_areas) for mentor in shown], total or 0
