"""One way to cut a list into pages: the page number from the query string, a page of rows, and the links.

A page fetches one row more than it shows to know whether a next page exists, so no list has to count every
matching row; lists whose total is cheap and useful ask for it with `count=True`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from math import ceil
from typing import Any

import sqlalchemy as sa
from flask import abort, request

from portal.extensions import db

MAX_PAGE = 100_000  # beyond this a page number is a typing mistake or a probe, not a place in a list


def page_number(arg: str = "page") -> int:
    """The page asked for in the query string: 1 when missing or not a plain number; 404 when absurdly large."""
    text = request.args.get(arg, "").strip()
    if not (text.isascii() and text.isdigit()):
        return 1
    if len(text) > 6 or int(text) > MAX_PAGE:
        abort(404)
    return max(int(text), 1)


@dataclass(frozen=True)
class Page:
    """One page of a list. `total` is None when the list was not counted."""

    items: list[Any]
    page: int
    per_page: int
    has_next: bool
    total: int | None = None
    arg: str = "page"

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def pages(self) -> int | None:
        if self.total is None:
            return None
        return max(ceil(self.total / self.per_page), 1)

    @property
    def first(self) -> int:
        """1-based position of the first item shown (0 for an empty page)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)

    @property
    def complete(self) -> bool:
        """The whole list is on this page, so its length is the total."""
        return self.page == 1 and not self.has_next

    @property
    def known_total(self) -> int | None:
        """The number of items in the whole list when it is known without counting again."""
        if self.total is not None:
            return self.total
        return len(self.items) if self.complete else None

    def iter_pages(self, edge: int = 1, around: int = 2) -> Iterator[int | None]:
        """Page numbers to link to, with None where a run of pages is skipped (only for counted lists)."""
        if self.pages is None:
            return
        previous = 0
        for number in range(1, self.pages + 1):
            near = abs(number - self.page) <= around
            if number <= edge or number > self.pages - edge or near:
                if previous and number - previous > 1:
                    yield None
                yield number
                previous = number


def paginate(
    statement: sa.Select, per_page: int, *, count: bool = False, rows: bool = False, arg: str = "page"
) -> Page:
    """The page of `statement` that the query string asks for (argument `arg`): ORM objects, or plain rows for a
    statement of columns (`rows=True`).

    A page past the end of a counted list shows the last page; past the end of an uncounted one it is a 404.
    """
    number = page_number(arg)
    total = None
    if count:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.order_by(None).subquery()))
        number = min(number, max(ceil(total / per_page), 1))
    window = statement.limit(per_page + 1).offset((number - 1) * per_page)
    found = db.session.execute(window).all() if rows else db.session.scalars(window).unique().all()
    if number > 1 and not found:
        abort(404)
    return Page(list(found[:per_page]), number, per_page, len(found) > per_page, total, arg)
