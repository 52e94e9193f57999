"""Benchmark: SQL queries and response time per page as the data grows.

Run with ``make bench`` (or ``python -m tests.bench``). Uses a throw-away SQLite file,
or the PostgreSQL server given by ``BENCH_DATABASE_URL`` (a database is created and
dropped). Query counts must stay constant across sizes (no N+1).
"""

import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from portal import create_app
from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.accounts.passwords import hash_password
from portal.extensions import db
from tests.support import PASSWORD, CsrfClient, app_config, count_queries

SIZES = (10, 100, 1000)
PAGES = {
    "accueil Région": "/",
    "membres (organisation de N membres)": "/organisations/{big_org}/membres",
    "admin organisations": "/administration/organisations",
    "admin utilisateurs": "/administration/utilisateurs",
    "admin territoires": "/administration/territoires",
}
REPEAT = 15


def seed(size: int) -> dict:
    """A Région admin, ``size`` organisations and one organisation of ``size`` members."""
    password_hash = hash_password(PASSWORD)
    region = Organisation(kind=OrgKind.REGION, name="Région Centre-Val de Loire")
    big = Organisation(kind=OrgKind.EMPLOYER, name="Grande entreprise")
    db.session.add_all([region, big])
    admin = User(
        email="bench.admin@example.fr",
        first_name="Bench",
        last_name="Admin",
        password_hash=password_hash,
    )
    db.session.add(admin)
    db.session.add(Membership(user=admin, organisation=region, is_admin=True))
    for i in range(size):
        org = Organisation(kind=OrgKind.PROVIDER, name=f"Organisme {i:04d}")
        user = User(
            email=f"membre{i}@example.fr",
            first_name="Membre",
            last_name=f"{i:04d}",
            password_hash=password_hash,
        )
        db.session.add_all([org, user])
        db.session.add(Membership(user=user, organisation=big))
        db.session.add(Membership(user=user, organisation=org, is_admin=True))
    db.session.commit()
    return {"big_org": big.id}


def measure(app, ids: dict) -> dict:
    app.test_client_class = CsrfClient
    client = app.test_client()
    client.post("/connexion", data={"email": "bench.admin@example.fr", "password": PASSWORD})
    results = {}
    for label, path in PAGES.items():
        url = path.format(**ids)
        with count_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        timings = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        results[label] = (len(statements), statistics.median(timings))
    return results


def database_for(size: int, workdir: Path):
    base = os.environ.get("BENCH_DATABASE_URL")
    if not base:
        return "sqlite:///" + str(workdir / f"bench-{size}.db"), None
    url = make_url(base)
    name = f"portal_bench_{secrets.token_hex(3)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False), (admin, name)


def main() -> None:
    table = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            url, drop = database_for(size, Path(tmp))
            app = create_app(app_config(url, TESTING=False))
            with app.app_context():
                upgrade()
                ids = seed(size)
            table[size] = measure(app, ids)
            with app.app_context():
                db.engine.dispose()
            if drop:
                with psycopg.connect(drop[0], autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE "{drop[1]}" WITH (FORCE)')
    dialect = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print(f"\nRequêtes SQL et temps médian par page ({dialect}, {REPEAT} requêtes)")
    header = "page".ljust(40) + "".join(f"N={size:<18}" for size in SIZES)
    print(header)
    for label in PAGES:
        cells = "".join(
            f"{table[s][label][0]:>3} req {table[s][label][1]:>7.1f} ms   " for s in SIZES
        )
        print(label.ljust(40) + cells)
    constant = all(len({table[s][label][0] for s in SIZES}) == 1 for label in PAGES)
    print("Nombre de requêtes constant quand les données croissent :", "oui" if constant else "NON")
    if not constant:
        raise SystemExit(1)


if __name__ == "__main__":
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    main()
