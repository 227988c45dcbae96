"""Revisions of the public pages: every save is kept; the newest is what visitors see."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, sql_in, utcnow
from portal.extensions import db

CONTENT_SLUGS = {
    "guide": "The MLE guide",
    "faq": "FAQ",
    "offer": "Career-services offer (home page)",
    "privacy": "Privacy notice",
    "accessibility": "Accessibility statement",
}


class PageRevision(db.Model):
    """One saved version of a public page's Markdown; the newest is what visitors see."""

    __tablename__ = "page_revisions"
    __table_args__ = (
        sa.Index("ix_page_revisions_slug_id", "slug", "id"),
        sa.CheckConstraint(sql_in("slug", CONTENT_SLUGS), name="slug_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.String(300), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    restored_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("page_revisions.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
