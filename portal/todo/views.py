"""The « À faire » page and the header's count.

The header shows the count on every page: it is a fragment loaded after the page
(``hx-trigger="load"``) so that the pages themselves run no query for it. Across
operations both read through ``across.py``: the count is one query of ``COUNT``s, the page
reads and labels only its own duties (issue #16); their costs are measured in
``tests/todo/test_query_counts.py``.
"""

import math

from flask import render_template
from flask_login import current_user, login_required

from portal.accounts.access import current_membership, current_org
from portal.core.pagination import PER_PAGE, Page, requested_page
from portal.todo import across, bp
from portal.todo.duties import grouped


def duties_page(per_page: int = PER_PAGE, number: int = 1) -> Page:
    """Page ``number`` of the current organisation's and user's duties (the last one when
    past it), with their total."""
    user, org, membership = current_user, current_org(), current_membership()
    # The page asked is known before the count: past the last, the last is read again.
    total, items = across.count_and_page(
        user, org, membership, limit=per_page, offset=(number - 1) * per_page
    )
    last = max(1, math.ceil(total / per_page))
    if number > last:
        number = last
        items = across.page(user, org, membership, limit=per_page, offset=(last - 1) * per_page)
    return Page(items=items, page=number, per_page=per_page, total=total)


@bp.get("")
@login_required
def list_duties():
    """The pending duties of the current organisation and user, grouped by operation, the
    most urgent first, a page at a time."""
    pagination = duties_page(number=requested_page())
    return render_template(
        "todo/list.html", pagination=pagination, groups=grouped(pagination.items)
    )


@bp.get("/compte")
@login_required
def count_duties():
    """The header's count of pending duties (a fragment, loaded by htmx after the page)."""
    count = across.count(current_user, current_org(), current_membership())
    return render_template("todo/_count.html", count=count)
