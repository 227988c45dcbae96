"""Public content: the guide, the FAQ, the offer and the legal pages, read from Markdown in the package."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from markupsafe import Markup

from portal.content import parse_faq, render_markdown, slugify, split_title


@dataclass(frozen=True)
class PageContent:
    slug: str
    title: str
    description: str
    html: Markup
    word_count: int


@dataclass(frozen=True)
class FaqItem:
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
def page(slug: str) -> PageContent:
    """A Markdown page rendered once per process (content changes ship with a deploy)."""
    title, body = split_title(_read(f"{slug}.md"))
    meta = page_meta().get(slug, {})
    return PageContent(
        slug=slug,
        title=meta.get("title") or title,
        description=meta.get("description", ""),
        html=render_markdown(body),
        word_count=len(re.findall(r"\S+", body)),
    )


def _plain_text(markdown_text: str) -> str:
    """The words of a Markdown snippet, for structured data."""
    return re.sub(r"\s+", " ", re.sub(r"[*_`>#\[\]]", "", markdown_text)).strip()


@cache
def faq_items() -> tuple[FaqItem, ...]:
    return tuple(
        FaqItem(anchor=slugify(question), question=question, answer_html=render_markdown(answer),
                answer_text=_plain_text(answer))
        for question, answer in parse_faq(_read("faq.md"))
    )


def faq_structured_data() -> dict:
    """schema.org FAQPage for the FAQ page's JSON-LD."""
    return {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": item.question,
             "acceptedAnswer": {"@type": "Answer", "text": item.answer_text}}
            for item in faq_items()
        ],
    }
