"""One search over published articles, the guide and the FAQ: PostgreSQL full-text search or SQLite FTS5.

Both give the same thing: pages of hits {kind, title, url, snippet}, the snippet being safe HTML whose only markup
is the <mark> around matched words. The index holds plain text; articles are indexed when they are published,
changed or archived, the guide and FAQ whenever search finds their revision has changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

import sqlalchemy as sa
from markupsafe import Markup, escape

from portal.content import render_markdown
from portal.extensions import db
from portal.insights.models import InsightArticle, SearchDocument
from portal.pages import services as pages
from portal.pagination import Page, paginate
from portal.statuses import ArticleStatus

# Marks around matched words while the snippet is still plain text: private-use characters, taken out of every
# indexed text, so they cannot come from the content itself.
START, STOP = "\ue000", "\ue001"
MAX_QUERY = 200  # characters searched for; the rest of a longer query is ignored
MAX_TERMS = 12
PER_PAGE = 10
KIND_LABELS = {"article": "Article", "guide": "Guide", "faq": "FAQ"}

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ue000\ue001]")


@dataclass(frozen=True)
class Hit:
    kind: str
    title: str
    url: str
    snippet: Markup

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class Query:
    text: str  # what is searched for: control characters removed, at most MAX_QUERY characters
    terms: tuple[str, ...]  # its words
    shortened: bool  # the query was longer than MAX_QUERY


def parse_query(raw: str | None) -> Query:
    """The words to look for in what someone typed: anything is accepted, nothing can break the search."""
    text = re.sub(r"\s+", " ", _UNSAFE.sub(" ", raw or "")).strip()
    shortened = len(text) > MAX_QUERY
    text = text[:MAX_QUERY]
    terms = tuple(dict.fromkeys(re.findall(r"\w+", text.lower())))[:MAX_TERMS]
    return Query(text, terms, shortened)


def plain_text(markdown_text: str) -> str:
    """The words of Markdown as readers see them, for the index and its snippets."""
    html = str(render_markdown(markdown_text))
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"\s+", " ", _UNSAFE.sub(" ", text)).strip()


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _UNSAFE.sub(" ", text)).strip()


def safe_snippet(raw: str | None) -> Markup:
    """Escape everything, then turn the marks into <mark> elements."""
    html = str(escape(raw or ""))
    return Markup(html.replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S704 - escaped just above


# Keeping the index current ----------------------------------------------------------------------------------


def index_article(article: InsightArticle) -> None:
    """Put a published article in the index (or update it there); take any other one out."""
    ref = str(article.id)
    existing = db.session.scalar(
        sa.select(SearchDocument).where(SearchDocument.kind == "article", SearchDocument.ref == ref)
    )
    if article.status != ArticleStatus.PUBLISHED:
        if existing is not None:
            db.session.delete(existing)
            db.session.flush()
        return
    document = existing or SearchDocument(kind="article", ref=ref)
    document.title = _clean(article.title)
    document.url = f"/insights/{article.slug}"
    document.body = _clean(f"{article.summary} {plain_text(article.body)}")
    document.source = f"article:{article.version}"
    db.session.add(document)
    db.session.flush()


def _page_documents() -> list[dict]:
    """The guide and every FAQ answer as they are now, each with the revision it comes from."""
    (guide_version, faq_version), _ = pages.made_of("guide", "faq")
    guide = pages.page_source("guide")
    documents = [
        {
            "kind": "guide",
            "ref": "guide",
            "source": guide_version,
            "title": _clean(guide.title),
            "url": "/guide",
            "body": _clean(f"{guide.description} {plain_text(guide.body)}"),
        }
    ]
    seen: set[str] = set()
    for item in pages.faq_items():
        if item.anchor in seen:
            continue
        seen.add(item.anchor)
        documents.append(
            {
                "kind": "faq",
                "ref": item.anchor[:120],
                "source": faq_version,
                "title": _clean(item.question),
                "url": f"/faq#{item.anchor}",
                "body": _clean(item.answer_text),
            }
        )
    return documents


def _indexed_page_sources() -> set[str]:
    return set(
        db.session.scalars(sa.select(SearchDocument.source).distinct().where(SearchDocument.kind.in_(("guide", "faq"))))
    )


def refresh_page_index() -> bool:
    """Index the guide and the FAQ again if they changed since they were indexed; True when it did.

    It writes in a transaction of its own (search is a GET, whose transaction only reads), then ends the request's
    transaction so that the search reads what it wrote. Two processes doing it at once: one wins, the other's
    insert meets the unique (kind, ref) and is dropped.
    """
    wanted = set(pages.made_of("guide", "faq")[0])
    if _indexed_page_sources() == wanted:
        return False
    documents = _page_documents()
    db.session.commit()
    table = SearchDocument.__table__
    try:
        with db.engine.begin() as connection:
            connection.execute(table.delete().where(table.c.kind.in_(("guide", "faq"))))
            connection.execute(table.insert(), documents)
    except sa.exc.IntegrityError:
        pass  # another process indexed the same pages a moment ago
    return True


# Searching -------------------------------------------------------------------------------------------------


def _postgres_statement(query: Query) -> sa.Select:
    tsquery = sa.func.websearch_to_tsquery("english", query.text)
    vector = sa.literal_column("search_documents.search_vector")
    options = f'StartSel="{START}", StopSel="{STOP}", MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=" … "'
    return (
        sa.select(
            SearchDocument.kind,
            SearchDocument.title,
            SearchDocument.url,
            sa.func.ts_headline("english", SearchDocument.body, tsquery, options).label("snippet"),
        )
        .where(vector.op("@@")(tsquery))
        .order_by(sa.func.ts_rank(vector, tsquery).desc(), SearchDocument.id)
    )


def _sqlite_statement(query: Query) -> sa.Select:
    # Each word quoted: FTS5's query syntax (AND, OR, NEAR, column filters, quotes) never sees what was typed.
    match = " ".join('"' + term.replace('"', '""') + '"' for term in query.terms)
    fts = sa.literal_column("search_documents_fts")
    return (
        sa.select(
            SearchDocument.kind,
            SearchDocument.title,
            SearchDocument.url,
            sa.func.snippet(fts, -1, START, STOP, " … ", 24).label("snippet"),
        )
        .select_from(sa.table("search_documents_fts"))
        .join(SearchDocument, SearchDocument.id == sa.literal_column("search_documents_fts.rowid"))
        .where(fts.op("MATCH")(match))
        .order_by(sa.func.bm25(fts, 5.0, 1.0), SearchDocument.id)
    )


def search(query: Query) -> Page:
    """A page (from the query string) of hits for the query, best first; an empty page for a query of no words."""
    if not query.terms:
        return Page([], 1, PER_PAGE, False)
    refresh_page_index()
    if db.session.get_bind().dialect.name == "postgresql":
        statement = _postgres_statement(query)
    else:
        statement = _sqlite_statement(query)
    page = paginate(statement, PER_PAGE, rows=True)
    hits = [Hit(row.kind, row.title, row.url, safe_snippet(row.snippet)) for row in page.items]
    return Page(hits, page.page, page.per_page, page.has_next, page.total, page.arg)
