"""Every table of the portal stacks on a phone: the templates' tables carry .table-stack and a column name on each
cell, and Markdown tables (articles, the guide, the FAQ, feedback) are given both when they are rendered."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from portal.content import render_markdown

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Tables that do not stack, and what they do instead at 360 px.
OTHER_LAYOUTS = {
    "week-table": "the admin's week grid: a list of days replaces it on a phone (interviews/admin_week.html)",
    "calendar-grid": "the slot browser's month calendar: seven narrow columns that fit a phone as they are",
}


def portal_tables() -> list[tuple[str, str]]:
    """(template, source of one <table> element) for every table in the pages' templates (emails excluded)."""
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.relative_to(TEMPLATES).parts[0] == "email":
            continue
        for match in re.finditer(r"<table\b.*?</table>", path.read_text(), re.S):
            found.append((str(path.relative_to(TEMPLATES)), match.group(0)))
    return found


def test_the_templates_have_tables_to_check():
    assert len(portal_tables()) >= 30


def test_every_table_stacks_on_a_phone_or_says_what_it_does_instead():
    unstacked = []
    for template, table in portal_tables():
        classes = re.match(r'<table[^>]*\bclass="([^"]*)"', table)
        names = set(classes.group(1).split()) if classes else set()
        if "table-stack" not in names and not names & OTHER_LAYOUTS.keys():
            unstacked.append(f"{template}: {table.splitlines()[0]}")
    assert unstacked == [], "tables without .table-stack:\n" + "\n".join(unstacked)


def test_every_cell_of_a_stacked_table_names_its_column():
    """A body cell says its column's name in data-label (empty only where the column header is hidden on every
    screen, as for buttons); a cell spanning the whole row (a "nothing here" message) needs none."""
    unlabelled = []
    for template, table in portal_tables():
        if "table-stack" not in table.split(">", 1)[0]:
            continue
        for cell in re.findall(r"<td\b[^>]*>", table):
            if "data-label=" not in cell and "colspan=" not in cell:
                unlabelled.append(f"{template}: {cell}")
    assert unlabelled == [], "cells without data-label:\n" + "\n".join(unlabelled)


class Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, str | None]] = []
        self.labels: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(dict(attrs))
        elif tag == "td":
            self.labels.append(dict(attrs).get("data-label"))


def test_a_markdown_table_stacks_with_its_column_names():
    html = render_markdown(
        "| Skill | Where **it** comes up |\n|---|---|\n| Python | Everywhere |\n| SQL | Almost every role |\n"
    )
    cells = Cells()
    cells.feed(str(html))
    assert cells.tables == [{"class": "table table-stack"}]
    assert cells.labels == ["Skill", "Where it comes up", "Skill", "Where it comes up"]


def test_a_column_name_cannot_carry_markup_into_the_page():
    html = str(render_markdown('| a"<b onclick=x>" |\n|---|\n| cell |\n'))
    cells = Cells()
    cells.feed(html)
    assert cells.labels == ['a" b onclick=x "']
    assert "onclick=x>" not in html and "<b" not in html
