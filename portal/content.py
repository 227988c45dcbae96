"""Safe Markdown: markdown-it-py renders, nh3 removes anything that could run or load from elsewhere."""

from __future__ import annotations

import re
import unicodedata

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "del",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align", "data-label"}}
# A table written in Markdown looks and stacks on a phone like every other table of the portal.
TABLE_CLASSES = {"table": {"class": "table table-stack"}}


def _label_table_cells(state) -> None:
    """Give each body cell of a Markdown table its column's name (`data-label`), which a phone shows above it."""
    headers: list[str] = []
    column = 0
    for index, token in enumerate(state.tokens):
        if token.type == "thead_open":
            headers = []
        elif token.type == "th_open":
            inline = state.tokens[index + 1]
            words = "".join(child.content for child in inline.children or () if child.type in ("text", "code_inline"))
            headers.append(re.sub(r"[<>\s]+", " ", words).strip())
        elif token.type == "tr_open":
            column = 0
        elif token.type == "td_open":
            if column < len(headers):
                token.attrSet("data-label", headers[column])
            column += 1


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_markdown.core.ruler.push("label_table_cells", _label_table_cells)


def render_markdown(text: str) -> Markup:
    """Markdown to sanitized HTML: no raw HTML, no scripts or event handlers, only http(s)/mailto links."""
    html = _markdown.render(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        set_tag_attribute_values=TABLE_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitized by nh3 above


def slugify(text: str) -> str:
    """A URL fragment made of lower-case ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "section"


def split_title(markdown_text: str) -> tuple[str, str]:
    """The first `# ` heading and the Markdown after it."""
    lines = markdown_text.strip().splitlines()
    if lines and lines[0].startswith("# "):
        return lines[0][2:].strip(), "\n".join(lines[1:]).strip()
    return "", markdown_text.strip()


def parse_faq(markdown_text: str) -> list[tuple[str, str]]:
    """Question/answer pairs from Markdown where each `## ` heading is a question and what follows its answer."""
    return [(question, answer) for _, question, answer in parse_faq_sections(markdown_text)]


def parse_faq_sections(markdown_text: str) -> list[tuple[str, str, str]]:
    """(section, question, answer) from the FAQ's Markdown: after the title, a `# ` heading starts a section
    ("" until the first), each `## ` heading is a question and what follows it is the answer."""
    _, body = split_title(markdown_text)
    entries: list[tuple[str, str, str]] = []
    section = ""
    question: str | None = None
    answer: list[str] = []

    def finish() -> None:
        if question is not None:
            entries.append((section, question, "\n".join(answer).strip()))

    for line in body.splitlines():
        if line.startswith("# "):
            finish()
            section, question, answer = line[2:].strip(), None, []
        elif line.startswith("## "):
            finish()
            question, answer = line[3:].strip(), []
        elif question is not None:
            answer.append(line)
    finish()
    return entries
