"""Editing the public pages: every save is a revision with its author; any revision can be restored."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.audit.services import record
from portal.auth.models import User
from portal.content import parse_faq, parse_faq_sections
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.pages.models import CONTENT_SLUGS, PageRevision
from portal.pages.services import PageSource, forget_current_revisions, page_source


def faq_markdown(entries: list[tuple[str, str, str]]) -> str:
    """(section, question, answer) entries as the FAQ's Markdown: `# section` where the section changes, then
    `## question` and the answer. Entries of one section are kept together, in the order the section first
    appears; questions without a section come first, since Markdown cannot close a section."""
    order: dict[str, int] = {"": -1}
    for section, _, _ in entries:
        order.setdefault(section.strip(), len(order))
    blocks, current = [], None
    for section, question, answer in sorted(entries, key=lambda entry: order[entry[0].strip()]):
        if section.strip() != current:
            current = section.strip()
            if current:
                blocks.append(f"# {current}")
        blocks.append(f"## {question.strip()}\n\n{answer.strip()}")
    return "\n\n".join(blocks).strip() + "\n"


def faq_entries(source: PageSource) -> list[tuple[str, str, str]]:
    return parse_faq_sections("# FAQ\n" + source.body)


def save_page(slug: str, title: str, description: str, body: str, by: User) -> PageRevision:
    """Save a new revision of a page; the public page shows it from the next request on."""
    if slug not in CONTENT_SLUGS:
        raise NotFound("No such page.")
    title, description, body = (title or "").strip(), (description or "").strip(), (body or "").strip()
    if not title:
        raise DomainError("Enter a title.", field="title")
    if not body:
        raise DomainError("The page cannot be empty.", field="body")
    if slug == "faq":
        pairs = parse_faq("# FAQ\n" + body)
        if not pairs or any(not answer for _, answer in pairs):
            raise DomainError("Every question needs an answer.", field="body")
    before = page_source(slug)
    revision = PageRevision(
        slug=slug, title=title[:200], description=description[:300], body=body + "\n", author_id=by.id
    )
    db.session.add(revision)
    db.session.flush()
    forget_current_revisions()
    record(
        by,
        "content.edited",
        "page",
        slug,
        f"{CONTENT_SLUGS[slug]} edited (revision {revision.id})",
        {"revision_id": before.revision_id, "title": before.title},
        {"revision_id": revision.id, "title": revision.title},
    )
    return revision


def restore_revision(revision: PageRevision, by: User) -> PageRevision:
    """Make an earlier revision current again, as a new revision."""
    current = page_source(revision.slug)
    restored = PageRevision(
        slug=revision.slug,
        title=revision.title,
        description=revision.description,
        body=revision.body,
        author_id=by.id,
        restored_from_id=revision.id,
    )
    db.session.add(restored)
    db.session.flush()
    forget_current_revisions()
    record(
        by,
        "content.restored",
        "page",
        revision.slug,
        f"{CONTENT_SLUGS[revision.slug]}: revision {revision.id} restored as {restored.id}",
        {"revision_id": current.revision_id},
        {"revision_id": restored.id, "restored_from": revision.id},
    )
    return restored


def revisions(slug: str) -> list[PageRevision]:
    return list(
        db.session.scalars(
            sa.select(PageRevision)
            .options(joinedload(PageRevision.author))
            .where(PageRevision.slug == slug)
            .order_by(PageRevision.id.desc())
        )
    )


def last_edits() -> dict[str, PageRevision]:
    """The newest revision of each page (one query)."""
    newest = sa.select(sa.func.max(PageRevision.id)).group_by(PageRevision.slug).scalar_subquery()
    rows = db.session.scalars(
        sa.select(PageRevision).options(joinedload(PageRevision.author)).where(PageRevision.id.in_(newest))
    )
    return {row.slug: row for row in rows}
