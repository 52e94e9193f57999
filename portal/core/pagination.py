"""Pagination of list pages: a fixed page size keeps each page's cost flat as data grows."""

import math
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


def requested_page() -> int:
    """The ``page`` query argument, 1 when absent or not a positive number."""
    page = request.args.get("page", type=int) or 1
    return max(page, 1)


def paginate(query: Select, *, scalars: bool = True, per_page: int = PER_PAGE) -> Page:
    """Run ``query`` for the requested page; ``scalars=False`` keeps whole rows (tuples)."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = min(requested_page(), max(1, math.ceil(total / per_page)))
    paged = query.limit(per_page).offset((page - 1) * per_page)
    result = db.session.scalars(paged) if scalars else db.session.execute(paged)
    return Page(items=list(result.all()), page=page, per_page=per_page, total=total)
