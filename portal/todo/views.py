"""The « À faire » page and the header's count.

The header shows the count on every page: it is a fragment loaded after the page
(``hx-trigger="load"``) so that the pages themselves run no query for it; its cost is the
service's, measured in ``tests/todo/test_query_counts.py``.
"""

from flask import render_template
from flask_login import current_user, login_required

from portal.accounts.access import current_membership, current_org
from portal.todo import bp
from portal.todo.duties import duties_for, grouped


def _mine():
    return duties_for(current_user, current_org(), membership=current_membership())


@bp.get("")
@login_required
def list_duties():
    """Every pending duty of the current organisation and user, grouped by operation."""
    duties = _mine()
    return render_template("todo/list.html", duties=duties, groups=grouped(duties))


@bp.get("/compte")
@login_required
def count_duties():
    """The header's count of pending duties (a fragment, loaded by htmx after the page)."""
    return render_template("todo/_count.html", count=len(_mine()))
