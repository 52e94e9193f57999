"""The recruitment page (and its htmx list) runs as many SQL queries with 10 trainees as
with 1,000, whoever looks at it; so does the operation page with its recruitment card.

Run with ``-s`` to print the counts and the server time at 1,000 trainees.
"""

import re

import pytest
from sqlalchemy import func, insert, select

from portal.extensions import db
from portal.recruitment.models import Trainee, TraineeStatus
from tests.operations.factories import EMPLOYER, OF_A, PARTNER, REGION_ADMIN
from tests.recruitment.factories import EMPLOYER3
from tests.support import HTMX, client_as, count_queries, explain, queries, server_time, text

STATUSES = list(TraineeStatus)


def add_trainees(app, rec, n: int) -> None:
    """``n`` more trainees, of every status, one in three prescribed by Partenaire P."""
    with app.app_context():
        start = db.session.scalar(select(func.count(Trainee.id)))
        db.session.execute(
            insert(Trainee),
            [
                {
                    "operation_id": rec.op,
                    "first_name": "Prénom",
                    "last_name": f"Stagiaire {start + i:04d}",
                    "status": STATUSES[i % len(STATUSES)],
                    "prescriber_id": rec.partner if i % 3 == 0 else None,
                    "birth_year": 1990 + i % 20,
                }
                for i in range(n)
            ],
        )
        db.session.commit()


PATHS = {
    "page": "/operations/{op}/recrutement",
    "filtered page 2": "/operations/{op}/recrutement?statut=candidate&page=2",
    "operation page": "/operations/{op}",
}


@pytest.mark.parametrize("email", [OF_A, REGION_ADMIN, PARTNER, EMPLOYER, EMPLOYER3])
@pytest.mark.parametrize("name", list(PATHS))
def test_queries_do_not_grow_with_trainees(app, rec, email, name):
    path = PATHS[name].format(op=rec.op)
    client = client_as(app, email)
    add_trainees(app, rec, 7)  # 10 with the world's three
    small = queries(app, client, path)
    add_trainees(app, rec, 990)  # 1,000
    large = queries(app, client, path)
    assert len(small) == len(large), explain(small, large)
    print(f"\n[{name}, {email}] {len(large)} queries at 10 and at 1,000 trainees")


def test_htmx_list_queries_do_not_grow_with_trainees(app, rec):
    client = client_as(app, OF_A)
    path = f"/operations/{rec.op}/recrutement?statut=retained"
    add_trainees(app, rec, 7)
    client.get(path, headers=HTMX)
    small = queries_htmx(app, client, path)
    add_trainees(app, rec, 990)
    large = queries_htmx(app, client, path)
    assert len(small) == len(large), explain(small, large)
    print(f"\n[htmx list] {len(large)} queries at 10 and at 1,000 trainees")


def queries_htmx(app, client, path):
    with count_queries(app) as statements:
        assert client.get(path, headers=HTMX).status_code == 200
    return list(statements)


def test_server_time_at_1000_trainees(app, rec):
    """Prints the figures for the closing note (``pytest -s``); asserts only a loose bound."""
    add_trainees(app, rec, 997)
    timings = {}
    for email in (OF_A, EMPLOYER):
        client = client_as(app, email)
        timings[email] = server_time(client, f"/operations/{rec.op}/recrutement")
    with app.app_context():
        dialect = db.engine.dialect.name
    print(f"\n[{dialect}] recruitment page at 1,000 trainees, median ms: {timings}")
    assert all(ms < 2000 for ms in timings.values()), timings


PAGER = re.compile(r"Page \d+ sur \d+ — \d+ éléments")


@pytest.mark.parametrize("email", [OF_A, REGION_ADMIN, PARTNER, EMPLOYER])
@pytest.mark.parametrize("query", ["", "?statut=candidate", "?statut=retained&page=2"])
def test_the_full_page_counts_the_list_as_its_fragment_does(app, rec, email, query):
    """Issue #16: the full page takes the list's total from its status counts (no count
    query of its own); the htmx fragment still counts: both say the same, whoever looks."""
    add_trainees(app, rec, 400)
    client = client_as(app, email)
    path = f"/operations/{rec.op}/recrutement{query}"
    page = text(client.get(path))
    fragment = text(client.get(path, headers=HTMX))
    assert PAGER.findall(page) == PAGER.findall(fragment)
    if email in (OF_A, REGION_ADMIN):  # they see every trainee: more than one page
        assert len(PAGER.findall(page)) == 1
