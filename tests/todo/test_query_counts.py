"""« À faire » runs a fixed number of SQL queries, whatever the number of operations: its
page, its header count (loaded after every page) and the home page that shows it.

Run with ``-s`` to print the counts for the closing note.
"""

import pytest

from portal.core.pagination import Page
from tests.operations.factories import (
    EMPLOYER,
    OF_A,
    REGION_ADMIN,
    add_operations,
    build_market,
)
from tests.support import HTMX, explain, login_as, queries

VIEWERS = [REGION_ADMIN, OF_A, EMPLOYER]
PATHS = ["/a-faire", "/a-faire/compte", "/"]


# Past 500 visible open operations (7 steps of 9 are open: 712 operations, 553 open): an
# eager load (``selectinload``) splits its IN list of ids in chunks of 500, so a rule that
# read the operations' graph that way would run one more query here than with 12.
LARGE = 700


@pytest.fixture
def market(app):
    return build_market(app)


@pytest.mark.parametrize("email", VIEWERS)
@pytest.mark.parametrize("path", PATHS)
def test_queries_do_not_grow_with_operations(app, client, market, email, path):
    add_operations(app, market, 12)
    login_as(client, email)
    small = queries(app, client, path, headers=HTMX if "compte" in path else None)
    add_operations(app, market, LARGE)
    large = queries(app, client, path, headers=HTMX if "compte" in path else None)
    assert len(small) == len(large), explain(small, large)
    print(f"\n{email} {path}: {len(large)} queries")


def test_pages_do_not_compute_the_header_count(app, client, market, monkeypatch):
    """The header's count is a fragment loaded after the page: a page runs no query of the
    service for it (only the home page, which shows the first duties, does)."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the page computed the duties")

    add_operations(app, market, 12)
    login_as(client, REGION_ADMIN)
    with_service = len(queries(app, client, "/"))
    monkeypatch.setattr("portal.todo.across.count", refuse)
    monkeypatch.setattr("portal.todo.across.page", refuse)
    listed = len(queries(app, client, "/operations/"))
    monkeypatch.setattr("portal.core.views.duties_page", lambda **_kwargs: Page([], 1, 10, 0))
    without = len(queries(app, client, "/"))
    print(f"\nhome page (Région admin): {with_service} queries, {without} without « À faire »")
    print(f"operations list (Région admin): {listed} queries, none of them « À faire »")


# The header's count (issue #16): the layout's reads, then one query of COUNTs for every
# kind said in SQL (the Région's dual memberships among them: 5 before, when they were read
# in Python; its co-designs to approve too: 4 before, when their hours were checked in
# Python); the organisme and the employer's admin add their own follow-ups. Pinned per
# viewer on this fixture (13, 13 and 10 before).
COUNT_QUERIES = {REGION_ADMIN: 2, OF_A: 3, EMPLOYER: 3}


@pytest.mark.parametrize("email", VIEWERS)
def test_the_header_count_query_budget(app, client, market, email):
    add_operations(app, market, 12)
    login_as(client, email)
    found = queries(app, client, "/a-faire/compte", headers=HTMX)
    print(f"\n{email}: {len(found)} queries")
    assert len(found) == COUNT_QUERIES[email], "\n".join(s[:120] for s in found)
