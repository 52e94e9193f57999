"""The operations list and the operation page run a fixed number of SQL queries, whatever
the number of operations (10 or 500), participants or timeline events.

Run with ``-s`` to print the server time of both pages at 500 operations (median of 10).
"""

import statistics
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.operations.models import Operation, Status
from tests.operations.test_views import (
    EMPLOYER,
    OF_A,
    REGION_ADMIN,
    add_events,
    build_market,
    bulk_operations,
    login,
    report,
)

VIEWERS = [REGION_ADMIN, OF_A, EMPLOYER]


@contextmanager
def counting(app):
    """Collects the SQL statements the block sends to the database."""
    statements = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def queries(app, client, path: str) -> list[str]:
    response = client.get(path)  # warm-up: the first request may load what later ones reuse
    assert response.status_code == 200, path
    with counting(app) as statements:
        assert client.get(path).status_code == 200
    return list(statements)


def server_time(client, path: str, runs: int = 10) -> float:
    """Median time of ``runs`` requests, in milliseconds."""
    client.get(path)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        assert client.get(path).status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def add_operations(app, market, n: int) -> list[int]:
    return bulk_operations(
        app,
        n,
        provider_id=market.of_a,
        territory_id=market.tours,
        region_id=market.region,
        user_id=market.referent,
        employer_id=market.employer,
        lot_id=market.lot,
    )


@pytest.fixture
def market(app):
    return build_market(app)


@pytest.fixture
def page_op(app, market) -> int:
    """An operation reported through the service (so it has its real shape), in analysis."""
    operation_id = report(app)
    with app.app_context():
        db.session.get(Operation, operation_id).status = Status.ANALYSIS
        db.session.commit()
    return operation_id


def _explain(small: list[str], large: list[str]) -> str:
    extra = [s.split("\n")[0][:120] for s in large[len(small) :]]
    return f"{len(small)} queries with few rows, {len(large)} with many; extra: {extra}"


@pytest.mark.parametrize("email", VIEWERS)
@pytest.mark.parametrize("path", ["/operations/", "/operations/?statut=analysis&q=s%C3%A9rie"])
def test_list_queries_do_not_grow_with_operations(app, client, market, email, path):
    add_operations(app, market, 10)
    login(client, email)
    small = queries(app, client, path)
    add_operations(app, market, 490)
    large = queries(app, client, path)
    assert len(small) == len(large), _explain(small, large)


@pytest.mark.parametrize("email", VIEWERS)
def test_operation_page_queries_do_not_grow_with_operations(app, client, market, page_op, email):
    add_operations(app, market, 9)
    login(client, email)
    path = f"/operations/{page_op}"
    small = queries(app, client, path)
    add_operations(app, market, 490)
    large = queries(app, client, path)
    assert len(small) == len(large), _explain(small, large)


def test_operation_page_queries_do_not_grow_with_its_events(app, client, market, page_op):
    login(client, OF_A)
    path = f"/operations/{page_op}"
    small = queries(app, client, path)
    add_events(app, page_op, 300)
    large = queries(app, client, path)
    assert len(small) == len(large), _explain(small, large)


def test_participants_widget_queries_do_not_grow_with_operations(app, client, market, page_op):
    add_operations(app, market, 9)
    login(client, OF_A)
    path = f"/operations/{page_op}/participants"
    small = queries(app, client, path)
    add_operations(app, market, 490)
    large = queries(app, client, path)
    assert len(small) == len(large), _explain(small, large)


def test_server_time_at_500_operations(app, client, market, page_op):
    """Prints the figures for the closing note (``pytest -s``); asserts only a loose bound."""
    add_operations(app, market, 499)
    add_events(app, page_op, 40)
    login(client, REGION_ADMIN)
    pages = {
        "operation page": f"/operations/{page_op}",
        "list (Région admin, 500 visible)": "/operations/",
        "list, filtered": "/operations/?statut=analysis&q=s%C3%A9rie",
    }
    with app.app_context():
        dialect = db.engine.dialect.name
    timings = {}
    for name, path in pages.items():
        timings[name] = server_time(client, path)
        print(f"\n[{dialect}] {name} at 500 operations: median {timings[name]:.1f} ms")
    client_of = app.test_client()
    login(client_of, OF_A)
    timings["list (OF)"] = server_time(client_of, "/operations/")
    print(f"[{dialect}] list (OF, 500 visible) at 500 operations: {timings['list (OF)']:.1f} ms")
    assert all(ms < 2000 for ms in timings.values()), timings
