"""Benchmark of the piloting dashboard and its exports at 100 and 10,000 operations: SQL
queries, median server time and peak Python memory (tracemalloc) per request.

Run with ``python -m tests.bench_reporting`` (``make bench``). Uses a throw-away SQLite
file, or the PostgreSQL server given by ``BENCH_DATABASE_URL`` (see
``tests.bench.database_for``). The data is inserted in bulk (not through the services):
each operation has three participants, four job promises (two kept), four trainees who
left the training (three on their promise, one after an abandon), and their twelve
follow-ups with a retained answer; statuses, bassins, categories and years vary. The
number of queries of each measure must not depend on the size: exit code 1 otherwise.
"""

import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from sqlalchemy import insert

from portal import create_app
from portal.accounts.models import Membership, Organisation, OrgKind, Territory, User
from portal.accounts.passwords import hash_password
from portal.extensions import db
from portal.followup.models import (
    Answer,
    Milestone,
    PromiseOutcome,
    RetainedAnswer,
)
from portal.lots.models import Category
from portal.operations.models import Operation, Participant
from portal.recruitment.models import JobPromise, Trainee
from portal.reporting.summary import refresh_all
from tests.bench import database_for
from tests.bench_design import logged_in
from tests.support import PASSWORD, app_config, count_queries

SIZES = (100, 10_000)
RUNS = 5
PAGES = {
    "tableau de bord": "/pilotage/",
    "tableau de bord filtré (bassin, catégorie)": "/pilotage/?bassin=2&categorie=prepa_metiers",
    "export opérations CSV": "/pilotage/exports/operations.csv",
    "export opérations XLSX": "/pilotage/exports/operations.xlsx",
    "export opérations ODS": "/pilotage/exports/operations.ods",
    "export stagiaires CSV": "/pilotage/exports/stagiaires.csv",
    "export suivis XLSX": "/pilotage/exports/suivis.xlsx",
}
STATUSES = ("closed", "follow_up", "training", "recruitment", "co_design", "need_reported")
CATEGORIES = [c.value for c in Category]
SITUATIONS = (("cdi", None), ("cdd", 12), ("interim", 2), ("job_seeking", None))
BATCH = 5000


def _bulk(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[start : start + BATCH])


def seed(size: int) -> str:
    """``size`` operations with their people, as described in the module's docstring."""
    admin = User(
        email="bench.region@example.fr",
        first_name="Bench",
        last_name="Région",
        password_hash=hash_password(PASSWORD),
    )
    region = Organisation(kind=OrgKind.REGION, name="Région Centre-Val de Loire")
    db.session.add_all([admin, region, Membership(user=admin, organisation=region, is_admin=True)])
    territories = [Territory(code=f"B{i}", name=f"Bassin {i}") for i in range(8)]
    providers = [Organisation(kind=OrgKind.PROVIDER, name=f"Organisme {i}") for i in range(4)]
    employers = [Organisation(kind=OrgKind.EMPLOYER, name=f"Entreprise {i}") for i in range(20)]
    db.session.add_all(territories + providers + employers)
    db.session.flush()
    today = date.today()
    operations, participants, promises, trainees = [], [], [], []
    outcomes, milestones, answers, retained = [], [], [], []
    for op in range(1, size + 1):
        start = today - timedelta(days=30 + (op * 7) % 1000)
        status = STATUSES[op % len(STATUSES)]
        provider = providers[op % 4]
        employer = employers[op % 20]
        operations.append(
            {
                "id": op,
                "title": f"Opération {op:05d}",
                "category": CATEGORIES[op % len(CATEGORIES)],
                "territory_id": territories[op % 8].id,
                "rome_code": "N1103",
                "status": status,
                "funding": "fref",
                "provider_id": provider.id,
                "reported_by_id": admin.id,
                "reported_by_org_id": provider.id,
                "reported_at": datetime.combine(start - timedelta(days=120), datetime.min.time()),
                "session_start": start,
                "session_end": start + timedelta(days=140),
                "target_headcount": 4,
            }
        )
        for org in (region, provider, employer):
            role = {OrgKind.REGION: "region", OrgKind.PROVIDER: "provider"}.get(org.kind)
            participants.append(
                {"operation_id": op, "organisation_id": org.id, "role": role or "employer"}
            )
        if status not in ("closed", "follow_up", "training"):
            continue
        exit_date = start + timedelta(days=140)
        for rank in range(1, 5):
            ident = (op - 1) * 4 + rank
            promises.append(
                {
                    "id": ident,
                    "operation_id": op,
                    "organisation_id": employer.id,
                    "rank": rank,
                    "job_title": "Préparateur·rice",
                    "contract_type": "cdi",
                }
            )
            if rank <= 2:
                outcomes.append(
                    {
                        "promise_id": ident,
                        "kept": True,
                        "contract": "cdi",
                        "start_date": exit_date,
                    }
                )
            left = status != "training"
            trainees.append(
                {
                    "id": ident,
                    "operation_id": op,
                    "first_name": "Alex",
                    "last_name": f"Stagiaire {ident}",
                    "status": "exited" if left else "in_training",
                    "exit_date": exit_date if left else None,
                    "exit_reason": ("dropout" if rank == 4 else "end_of_training")
                    if left
                    else None,
                    "promise_id": ident if rank < 4 else None,
                }
            )
            if not left:
                continue
            for k, (kind, months) in enumerate((("exit", 0), ("m3", 3), ("m6", 6))):
                mid = (ident - 1) * 3 + k + 1
                milestones.append(
                    {
                        "id": mid,
                        "operation_id": op,
                        "trainee_id": ident,
                        "kind": kind,
                        "due_on": exit_date + timedelta(days=30 * months),
                        "status": "retained",
                    }
                )
                situation, duration = SITUATIONS[(ident + k) % 4]
                salaried = situation != "job_seeking"
                answers.append(
                    {
                        "id": mid,
                        "milestone_id": mid,
                        "party": "provider",
                        "organisation_id": provider.id,
                        "user_id": admin.id,
                        "situation": situation,
                        "duration_months": duration,
                        "employer_id": employer.id if salaried else None,
                        "contacted_on": exit_date,
                        "channel": "phone",
                    }
                )
                retained.append({"milestone_id": mid, "answer_id": mid, "basis": "single"})
    for model, rows in (
        (Operation, operations),
        (Participant, participants),
        (JobPromise, promises),
        (PromiseOutcome, outcomes),
        (Trainee, trainees),
        (Milestone, milestones),
        (Answer, answers),
        (RetainedAnswer, retained),
    ):
        _bulk(model, rows)
    refresh_all(db.session.connection())  # bulk inserts bypass the session's bookkeeping
    db.session.commit()
    return admin.email


def measure(app, email: str) -> dict:
    """(queries, median ms, peak MiB, response KiB) of each page."""
    client = logged_in(app, email)
    results = {}
    for label, path in PAGES.items():
        timings, queries, size = [], 0, 0
        for run in range(RUNS + 1):
            with count_queries(app) as statements:
                begin = time.perf_counter()
                response = client.get(path)
                body = response.get_data()
                response.close()
                elapsed = (time.perf_counter() - begin) * 1000
            assert response.status_code == 200, (path, response.status_code)
            if run:
                timings.append(elapsed)
                queries = max(queries, len(statements))
                size = len(body)
        # The body is read chunk by chunk and dropped, as a server sends it: the peak is
        # the application's, not a copy of the whole file held by the test client.
        tracemalloc.start()
        response = client.get(path, buffered=False)
        for _chunk in response.iter_encoded():
            pass
        response.close()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results[label] = (queries, statistics.median(timings), peak / 2**20, size / 1024)
    return results


def main() -> None:
    table = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            url, drop = database_for(size, Path(tmp))
            app = create_app(app_config(url, TESTING=False))
            with app.app_context():
                upgrade()
                begin = time.perf_counter()
                email = seed(size)
                print(f"{size} opérations insérées en {time.perf_counter() - begin:.1f} s")
            table[size] = measure(app, email)
            with app.app_context():
                db.engine.dispose()
            if drop:
                with psycopg.connect(drop[0], autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE "{drop[1]}" WITH (FORCE)')
    dialect = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print(f"\nPilotage : requêtes SQL, temps médian ({RUNS} requêtes), mémoire Python crête")
    print(f"({dialect})")
    print("page".ljust(44) + "".join(f"N={size:<30}" for size in SIZES))
    unstable = []
    for label in PAGES:
        cells = []
        for size in SIZES:
            queries, median, peak, kib = table[size][label]
            cells.append(f"{queries:>2} req. {median:>7.0f} ms {peak:>6.1f} Mio {kib:>7.0f} Kio")
        print(label.ljust(44) + "  ".join(cells))
        if len({table[size][label][0] for size in SIZES}) > 1:
            unstable.append(label)
    if unstable:
        print(f"\nLe nombre de requêtes dépend de la taille : {', '.join(unstable)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
