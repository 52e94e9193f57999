"""The « À faire » page and the header's count.

The header shows the count on every page: it is a fragment loaded after the page
(``hx-trigger="load"``) so that the pages themselves run no query for it. Across
operations both read through ``across.py``: the count is one query of ``COUNT``s, the page
reads and labels only its own duties (issue #16); their costs are measured in
``tests/todo/test_query_counts.py``.
"""

from flask import render_template
from flask_login import current_user, login_required

from portal.accounts.access import current_membership, current_org
from portal.core.pagination import requested_page
from portal.todo import across, bp
from portal.todo.context import duties_page
from portal.todo.duties import grouped


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
