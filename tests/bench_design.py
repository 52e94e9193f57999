"""Benchmark of the co-design page: server time and SQL queries of a section save and of a
poll, median over many runs.

Run with ``python -m tests.bench_design``. Uses a throw-away SQLite file, or the
PostgreSQL server given by ``BENCH_DATABASE_URL`` (a database is created and dropped).
The requests go through the whole application (login, CSRF, access, templates), in
process: the time is the server's, without network. The unchanged poll — what every open
page sends every 3 seconds — must stay a handful of queries and a fraction of the save.
"""

import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
from flask import url_for
from flask_migrate import upgrade

from portal import create_app
from portal.design.models import SectionKey
from portal.design.queries import load_design
from portal.design.start import start_design
from portal.extensions import db
from portal.operations.models import Status
from portal.operations.services import report_need
from tests.bench import database_for
from tests.operations.factories import Market
from tests.support import HTMX, PASSWORD, CsrfClient, app_config, count_queries

RUNS = int(os.environ.get("BENCH_RUNS", "300"))
SECTION = "objectives"
TOKEN = re.compile(r'<input type="hidden" name="token" value="([^"]*)">')


def seed() -> dict:
    """A market, one operation in co-design with its design started; the URLs to hit."""
    market = Market()
    operation = report_need(market.need(), by=market.a_user, org=market.of_a)
    operation.status = Status.CO_DESIGN
    start_design(operation, by=market.a_user, org=market.of_a)
    db.session.commit()
    return {
        "operation_id": operation.id,
        "of": market.a_user.email,
        "employer": market.employer_user.email,
        "poll": url_for("design.poll", operation_id=operation.id),
        "save": url_for("design.save_section", operation_id=operation.id, key=SECTION),
    }


def timed(request, app, expect: int, prepare=None) -> tuple[int, float, float]:
    """(most queries of a run, median ms, 95th percentile ms) of ``request(i)`` over ``RUNS``.

    ``prepare(i)``, if given, runs before each request, outside the timing and the count.
    """
    timings, queries = [], None
    for i in range(RUNS + 1):
        if prepare:
            prepare(i)
        with count_queries(app) as statements:
            start = time.perf_counter()
            response = request(i)
            elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == expect, (response.status_code, response.data[:300])
        if i == 0:  # warm-up: the first request may fill caches that later ones reuse
            continue
        queries = len(statements) if queries is None else max(queries, len(statements))
        timings.append(elapsed)
    timings.sort()
    return queries, statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def logged_in(app, email: str) -> CsrfClient:
    app.test_client_class = CsrfClient
    client = app.test_client()
    response = client.post("/connexion", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, "login failed"
    return client


def measure(app, ids: dict) -> dict:
    """The three figures: unchanged poll, a section save, a poll that brings a change."""
    of, employer = logged_in(app, ids["of"]), logged_in(app, ids["employer"])
    with app.app_context():
        design = load_design(ids["operation_id"])
        version = design.section(SectionKey(SECTION)).version

    def shown() -> str:
        with app.app_context():
            return ",".join(
                f"{s.key.value}:{s.version}" for s in load_design(ids["operation_id"]).sections
            )

    def poll(client, token: str, versions: str):
        data = {"token": token, "versions": versions, "seen": versions, "editing": ""}
        return client.post(ids["poll"], data=data, headers=HTMX)

    first = poll(of, "", shown())
    token = TOKEN.search(first.get_data(as_text=True)).group(1)
    versions = shown()
    results = {"poll sans changement (204)": timed(lambda _i: poll(of, token, versions), app, 204)}

    state = {"version": version}

    def save(i: int):
        data = {"base_version": state["version"], f"{SECTION}-text": f"Objectif, version {i}"}
        response = employer.post(ids["save"], data=data, headers=HTMX)
        assert response.status_code == 200, response.status_code
        state["version"] += 1
        return response

    results["enregistrement d'une section"] = timed(save, app, 200)
    # Each poll sees one fresh change (saved just before, outside the timing).
    results["poll avec une section modifiée (200)"] = timed(
        lambda _i: poll(of, token, versions), app, 200, prepare=save
    )
    return results


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database_for("design", Path(tmp))  # tests/bench.py: SQLite or PostgreSQL
        app = create_app(app_config(url, TESTING=False))
        try:
            with app.test_request_context(base_url="http://portail.test"):
                upgrade()
                ids = seed()
            results = measure(app, ids)
        finally:
            with app.app_context():
                db.engine.dispose()
            if drop:
                with psycopg.connect(drop[0], autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE "{drop[1]}" WITH (FORCE)')
    dialect = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print(f"\nCo-conception : temps serveur médian ({dialect}, {RUNS} requêtes par mesure)")
    print(
        "mesure".ljust(40)
        + "requêtes SQL".rjust(14)
        + "médiane".rjust(12)
        + "95e centile".rjust(14)
    )
    for label, (queries, median, p95) in results.items():
        print(label.ljust(40) + f"{queries:>14}" + f"{median:>9.2f} ms" + f"{p95:>11.2f} ms")


if __name__ == "__main__":
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    main()
