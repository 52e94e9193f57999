"""Pagination of list pages: a fixed page size keeps each page's cost flat as data grows."""

import math
from collections.abc import Callable
from dataclasses import dataclass

from flask import request
from sqlalchemy import Select, func, select

from portal.extensions import db

PER_PAGE = 50


@dataclass
class Page:
    """One page of rows, with what the pager macro needs."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def requested_page(arg: str = "page") -> int:
    """The ``arg`` query argument (``page``), 1 when absent or not a positive number; a page
    with two lists pages the second by an argument of its own."""
    page = request.args.get(arg, type=int) or 1
    return max(page, 1)


def _page_number(total: int, per_page: int, arg: str) -> int:
    return min(requested_page(arg), max(1, math.ceil(total / per_page)))


def paginate(
    query: Select,
    *,
    scalars: bool = True,
    per_page: int = PER_PAGE,
    arg: str = "page",
    total: int | None = None,
) -> Page:
    """Run ``query`` for the requested page; ``scalars=False`` keeps whole rows (tuples).
    ``total``: the number of rows when the caller has it already (read with other counts)."""
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = _page_number(total, per_page, arg)
    paged = query.limit(per_page).offset((page - 1) * per_page)
    result = db.session.scalars(paged) if scalars else db.session.execute(paged)
    return Page(items=list(result.all()), page=page, per_page=per_page, total=total)


def paginate_keys(
    keys: Select,
    rows: Callable[[Select], Select],
    *,
    total: int | None = None,
    per_page: int = PER_PAGE,
    arg: str = "page",
) -> Page:
    """A page of the rows whose keys ``keys`` selects, in its order: the page's keys are
    chosen by the filters and the order alone, then ``rows(page_keys)`` reads only those
    rows, with their joins, in one statement (``WHERE id IN (… LIMIT …)``, ordered as
    ``keys``). For rows with eager joins: SQLite joined every matching row before sorting
    and keeping a page (issue #16: the tutor space, 22,000 immersions for 50 shown).
    ``total``: the count when the caller has it already (read with other counts)."""
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(keys.order_by(None).subquery()))
    page = _page_number(total, per_page, arg)
    chosen = keys.limit(per_page).offset((page - 1) * per_page)
    items = list(db.session.scalars(rows(chosen)).unique().all())
    return Page(items=items, page=page, per_page=per_page, total=total)
