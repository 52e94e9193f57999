"""The load benchmark of issue #16: the portal's key pages at 100, 1,000 and 10,000
operations, on SQLite and on PostgreSQL.

Data: the demo (every role, every step of an operation, French names, designs with their
history, conventions with versions and signatures, immersions, debriefs, follow-ups,
committees) is loaded through the services, then its rows are replicated in bulk until
the database holds the number of operations asked — every row that depends on an
operation (participants, needs, designs, revisions, conventions, versions, signatures,
promises, trainees, immersions, debriefs, follow-ups…) is copied with new identifiers
(``replicate``), so each copy is a whole, consistent operation of the same people. The
trainees of the operations in training and in follow-up are then multiplied so that these
operations have about 20 trainees each. Minutes, not hours.

Measured, for each size (``measure_pages``): per key page and role, the SQL queries of one
request, the median and 95th percentile server time over ``RUNS`` requests (Flask test
client, no network), the bytes of the full page and of its htmx fragment where it has one;
the key actions (a section saved, an unchanged co-design poll); the convention's DOCX,
built and downloaded; the operations export of the dashboard. Under gunicorn (2 sync
workers, as ``make run``) with wrk on loopback (``measure_load``, when wrk is installed):
requests per second of each key page as a ratio to a hello-world route served by the same
gunicorn in the same run, interleaved.

Writes ``bench/results-<database>.json`` and ``bench/results-<database>.md`` and prints the
markdown table. ``python -m tests.bench_scale [--sizes 100,1000] [--no-load]``;
``BENCH_DATABASE_URL`` selects PostgreSQL (a database is created and dropped).
``--keep DIR`` seeds each size once and reuses it on the next runs (SQLite: the file
``DIR/bench-<size>.db``; PostgreSQL: the database ``portal_bench_keep_<size>``, kept;
migrations are applied to a reused one); ``--only TEXT`` measures only the pages whose
label contains TEXT (``--only accueil``: the homes), without the actions and documents.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import psycopg
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.conventions.documents import convention_docx
from portal.conventions.models import ConventionVersion
from portal.demo import DEMO_PASSWORD, load_demo
from portal.design.models import Design, DesignSection
from portal.extensions import db
from portal.operations.models import Operation, Status
from portal.recruitment.models import Trainee
from portal.reporting.summary import refresh_all
from tests.bench import database_for
from tests.support import CsrfClient, advance_sequences, app_config, count_queries, login_as

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench"
SIZES = (100, 1_000, 10_000)
RUNS = 15
TRAINEES_PER_OPERATION = 20
BATCH = 2000
DOMAIN = "demo.defi.test"


# --- Replicating rows ----------------------------------------------------------------------


def dependants(root: str) -> list:
    """The tables whose rows depend on ``root``'s (``root`` included): a foreign key leads
    from them to ``root``, directly or through other such tables; parents first."""
    tables = db.metadata.tables
    scoped = {root}
    changed = True
    while changed:
        changed = False
        for table in tables.values():
            if table.name in scoped:
                continue
            if any(fk.column.table.name in scoped for fk in table.foreign_keys):
                scoped.add(table.name)
                changed = True
    return [t for t in db.metadata.sorted_tables if t.name in scoped]


def rows_under(conn, root: str, root_ids: set[int]) -> dict[str, list[dict]]:
    """The rows of ``root`` with ``root_ids`` and every row depending on them."""
    selected: dict[str, list[dict]] = {}
    ids: dict[str, set] = {root: set(root_ids)}
    for table in dependants(root):
        key = list(table.primary_key.columns)[0]
        if table.name == root:
            rows = conn.execute(select(table).where(key.in_(root_ids))).mappings().all()
        else:
            links = [fk for fk in table.foreign_keys if fk.column.table.name in ids]
            rows = [
                row
                for row in conn.execute(select(table)).mappings()
                if any(row[fk.parent.name] in ids[fk.column.table.name] for fk in links)
            ]
        selected[table.name] = [dict(row) for row in rows]
        ids[table.name] = {row[key.name] for row in rows}
    return selected


def _unique_groups(table, remapped: set[str]) -> list[list]:
    """The column groups a unique constraint or index holds without any identifier we
    remap: a copy must change them."""
    groups = [[c] for c in table.columns if c.unique]
    groups += [
        list(c.columns)
        for c in table.constraints
        if type(c).__name__ == "UniqueConstraint" and len(c.columns)
    ]
    groups += [list(i.columns) for i in table.indexes if i.unique and len(i.columns)]
    return [g for g in groups if not {c.name for c in g} & remapped]


def _changed_columns(table, shifted: set[str]) -> tuple[set[str], set[str]]:
    """(text columns to suffix, other columns to empty) so that copies keep the unique
    keys: a convention's reference or a token's hash gets a suffix; a link to something
    that is not copied (the job promise a trainee was matched to) is dropped."""
    remapped = {c.name for c in table.primary_key.columns} | {
        fk.parent.name for fk in table.foreign_keys if fk.column.table.name in shifted
    }
    texts, emptied = set(), set()
    for group in _unique_groups(table, remapped):
        strings = [c for c in group if c.type.python_type is str]
        if strings:
            texts |= {c.name for c in strings}
        else:
            emptied |= {c.name for c in group if c.nullable}
    return texts, emptied


def _suffixed(value: str, suffix: str, length: int | None) -> str:
    if length and len(value) + len(suffix) > length:
        return value[: length - len(suffix)] + suffix
    return value + suffix


def replicate(conn, template: dict[str, list[dict]], copies: int) -> int:
    """Insert ``copies`` copies of ``template`` (``rows_under``) with new identifiers:
    primary keys and the foreign keys to copied tables shifted past the current maximum;
    the other foreign keys (people, organisations, territories) kept. Returns the rows
    written."""
    tables = {t.name: t for t in db.metadata.sorted_tables if t.name in template}
    shift, span = {}, {}
    for name, rows in template.items():
        if not rows:
            continue
        key = list(tables[name].primary_key.columns)[0].name
        low = min(r[key] for r in rows)
        top = conn.execute(select(func.max(tables[name].primary_key.columns[key]))).scalar()
        shift[name] = (top or 0) + 1 - low
        span[name] = max(r[key] for r in rows) - low + 1
    written = 0
    for name, table in tables.items():
        rows = template[name]
        if not rows:
            continue
        key = list(table.primary_key.columns)[0].name
        links = [
            (fk.parent.name, fk.column.table.name)
            for fk in table.foreign_keys
            if fk.column.table.name in shift
        ]
        texts, emptied = _changed_columns(table, set(shift))
        batch = []
        for k in range(copies):
            for row in rows:
                new = dict(row)
                new[key] = row[key] + shift[name] + k * span[name]
                for column, target in links:
                    if row[column] is not None:
                        new[column] = row[column] + shift[target] + k * span[target]
                for column in texts:
                    if row[column]:  # empty stays empty (partial unique indexes)
                        length = table.c[column].type.length
                        new[column] = _suffixed(row[column], f"-{new[key]}", length)
                for column in emptied:
                    new[column] = None
                batch.append(new)
                if len(batch) >= BATCH:
                    conn.execute(table.insert(), batch)
                    written += len(batch)
                    batch = []
        if batch:
            conn.execute(table.insert(), batch)
            written += len(batch)
    advance_sequences(conn, list(tables))
    return written


# --- Seeding ------------------------------------------------------------------------------

RUNNING = "Préparateur·rice de commandes — session de Saran"
FOLLOW_UP = "Préparateur·rice de commandes — session d'Ingré"


def seed(operations: int) -> dict:
    """The demo, its trainees multiplied to about 20 per operation in training or after,
    then its operations replicated up to ``operations``. Returns what was written."""
    started = time.perf_counter()
    load_demo()
    db.session.commit()
    conn = db.session.connection()
    grown = 0
    for operation in db.session.scalars(
        select(Operation).where(Operation.status.in_([Status.TRAINING, Status.FOLLOW_UP]))
    ):
        ids = set(
            db.session.scalars(select(Trainee.id).where(Trainee.operation_id == operation.id))
        )
        if ids and len(ids) < TRAINEES_PER_OPERATION:
            copies = -(-(TRAINEES_PER_OPERATION - len(ids)) // len(ids))
            grown += replicate(conn, rows_under(conn, "trainees", ids), copies)
    demo_operations = set(db.session.scalars(select(Operation.id)))
    copies = max(0, -(-operations // len(demo_operations)) - 1)
    written = replicate(conn, rows_under(conn, "operations", demo_operations), copies)
    refresh_all(conn)  # the dashboard's kept counts: bulk inserts bypass the session
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does within a minute of a bulk load in production: without planner
        # statistics the first plans are those of empty tables (seconds, not milliseconds).
        # SQLite is measured as deployed, without ANALYZE.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return {
        "operations": db.session.scalar(select(func.count()).select_from(Operation)),
        "trainees": db.session.scalar(select(func.count()).select_from(Trainee)),
        "rows_written": grown + written,
        "seconds": round(time.perf_counter() - started, 1),
    }


def designing_operation() -> int:
    """The demo operation whose design is being written (the first demo one in co-design
    with a design, else the first with a design)."""
    query = select(Design.operation_id).join(Operation, Operation.id == Design.operation_id)
    return db.session.scalars(
        query.order_by((Operation.status != Status.CO_DESIGN), Design.operation_id)
    ).first()


def _id(model, **where) -> int:
    query = select(model.id)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalars(query.order_by(model.id)).first()


def key_pages() -> list[tuple[str, str, str, dict | None]]:
    """(label, demo login, path, htmx headers or None) of each key page, on the demo's own
    operations (the first of each copy family)."""
    running = _id(Operation, title=RUNNING)
    followed = _id(Operation, title=FOLLOW_UP)
    designing = designing_operation()
    version = db.session.scalars(
        select(ConventionVersion.number)
        .join(ConventionVersion.convention)
        .where(ConventionVersion.convention.has(operation_id=running))
        .order_by(ConventionVersion.number)
    ).first()
    trainee = _id(Trainee, operation_id=running)
    convention = f"/operations/{running}/convention"
    hx = {"HX-Request": "true"}
    return [
        ("accueil (Région)", "region", "/", None),
        ("accueil (organisme)", "of", "/", None),
        ("accueil (employeur)", "employeur", "/", None),
        ("accueil (tuteur)", "tuteur", "/", None),
        ("accueil (partenaire)", "partenaire", "/", None),
        ("mon compte (gabarit seul)", "of", "/compte", None),
        ("compteur « À faire » (fragment)", "of", "/a-faire/compte", hx),
        ("liste des opérations", "of", "/operations/", None),
        ("liste filtrée (fragment)", "region", "/operations/?statut=training", hx),
        ("page d'une opération", "of", f"/operations/{running}", None),
        ("co-conception", "of", f"/operations/{designing}/conception", None),
        ("convention", "of", f"/operations/{running}/convention", None),
        ("version de la convention", "of", f"{convention}/versions/{version}", None),
        ("recrutement", "of", f"/operations/{running}/recrutement", None),
        ("immersions", "of", f"/operations/{running}/immersions", None),
        ("retours d'immersion", "of", f"/operations/{running}/retours", None),
        ("espace tuteur", "tuteur", "/tutorat", None),
        ("fiche stagiaire", "of", f"/operations/{running}/recrutement/stagiaires/{trainee}", None),
        ("suivi dans l'emploi", "of", f"/operations/{followed}/suivi-emploi", None),
        ("tableau de bord Région", "region", "/pilotage/", None),
    ]  # fmt: skip


def _timed(call, runs: int, budget_s: float = 10.0) -> tuple[int, float, float, int]:
    """(queries of one request, median ms, p95 ms, bytes) of ``call()`` over ``runs``, or
    fewer (at least three) once ``budget_s`` is spent: a page of seconds at 10,000
    operations would otherwise hold the run for minutes."""
    call()  # warm-up
    timings, size, spent = [], 0, 0.0
    while len(timings) < runs and (len(timings) < 3 or spent < budget_s):
        start = time.perf_counter()
        response = call()
        elapsed = time.perf_counter() - start
        spent += elapsed
        timings.append(elapsed * 1000)
        assert response.status_code in (200, 204), (response.status_code, response.data[:200])
        size = len(response.data)
    timings.sort()
    return 0, statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)], size


def measure_pages(app: Flask, runs: int = RUNS, only: str | None = None) -> dict:
    """Queries, median and p95 server time and bytes of each key page and action (of the
    pages whose label contains ``only``, without the actions, when given)."""
    app.test_client_class = CsrfClient
    clients: dict[str, CsrfClient] = {}
    results = {}
    with app.test_request_context():
        pages = [p for p in key_pages() if not only or only in p[0]]
    for label, who, path, headers in pages:
        if who not in clients:
            clients[who] = app.test_client()
            with app.test_request_context():
                login_as(clients[who], f"{who}@{DOMAIN}")
        client = clients[who]
        client.get(path, headers=headers)
        with count_queries(app) as statements:
            response = client.get(path, headers=headers)
        assert response.status_code == 200, (label, path, response.status_code)
        _q, median, p95, size = _timed(
            lambda c=client, p=path, h=headers: c.get(p, headers=h), runs
        )
        results[label] = {"queries": len(statements), "median_ms": round(median, 1),
                          "p95_ms": round(p95, 1), "bytes": size, "path": path}  # fmt: skip
    if only:
        return results
    results.update(measure_actions(app, clients["of"], runs))
    results.update(measure_documents(app, runs))
    results.update(measure_download(app, clients["of"], runs))
    return results


def measure_actions(app: Flask, client: CsrfClient, runs: int) -> dict:
    """A co-design section saved (htmx) and the unchanged poll every open page sends."""
    with app.test_request_context():
        designing = designing_operation()
        design = db.session.scalar(select(Design).where(Design.operation_id == designing))
        section = db.session.scalar(
            select(DesignSection).where(
                DesignSection.design_id == design.id, DesignSection.key == "objectives"
            )
        )
        state = {"version": section.version}
        versions = ",".join(
            f"{s.key.value}:{s.version}"
            for s in db.session.scalars(
                select(DesignSection).where(DesignSection.design_id == design.id)
            )
        )
    save_url = f"/operations/{designing}/conception/objectives"
    poll_url = f"/operations/{designing}/conception/etat"
    hx = {"HX-Request": "true"}
    counter = {"n": 0}

    def save():
        counter["n"] += 1
        data = {"base_version": state["version"], "objectives-text": f"Objectif {counter['n']}"}
        response = client.post(save_url, data=data, headers=hx)
        state["version"] += 1
        return response

    results = {}
    with count_queries(app) as statements:
        assert save().status_code == 200
    _q, median, p95, size = _timed(save, runs)
    results["enregistrement d'une section (htmx)"] = {
        "queries": len(statements), "median_ms": round(median, 1), "p95_ms": round(p95, 1),
        "bytes": size, "path": save_url,
    }  # fmt: skip
    with app.test_request_context():
        versions = ",".join(
            f"{s.key.value}:{s.version}"
            for s in db.session.scalars(
                select(DesignSection).where(DesignSection.design_id == design.id)
            )
        )
    first = client.post(poll_url, data={"token": "", "versions": versions, "seen": versions,
                                        "editing": ""}, headers=hx)  # fmt: skip
    token = re.search(r'name="token" value="([^"]*)"', first.get_data(as_text=True))
    data = {"token": token.group(1) if token else "", "versions": versions, "seen": versions,
            "editing": ""}  # fmt: skip
    with count_queries(app) as statements:
        client.post(poll_url, data=data, headers=hx)
    _q, median, p95, size = _timed(lambda: client.post(poll_url, data=data, headers=hx), runs)
    results["poll de co-conception sans changement"] = {
        "queries": len(statements), "median_ms": round(median, 1), "p95_ms": round(p95, 1),
        "bytes": size, "path": poll_url,
    }  # fmt: skip
    return results


def measure_documents(app: Flask, runs: int) -> dict:
    """The convention's DOCX (built, not served from the kept copy) and the dashboard's
    operations export, with the peak Python memory of one run."""
    results = {}
    with app.test_request_context():
        running = _id(Operation, title=RUNNING)
        version = db.session.scalars(
            select(ConventionVersion)
            .where(ConventionVersion.convention.has(operation_id=running))
            .order_by(ConventionVersion.number)
        ).first()
        timings = []
        for _ in range(max(3, runs // 3)):
            db.session.expire_all()
            start = time.perf_counter()
            convention_docx(version)
            timings.append((time.perf_counter() - start) * 1000)
        tracemalloc.start()
        convention_docx(version)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    results["DOCX d'une convention"] = {
        "queries": None, "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(max(timings), 1), "bytes": None, "peak_mib": round(peak / 2**20, 1),
        "path": "conventions.documents.convention_docx",
    }  # fmt: skip
    return results


def measure_download(app: Flask, client: CsrfClient, runs: int) -> dict:
    """The convention's DOCX as a participant downloads it: read from the copy kept for
    the version's state (built by the first download), the download recorded and audited."""
    with app.test_request_context():
        running = _id(Operation, title=RUNNING)
        number = db.session.scalars(
            select(ConventionVersion.number)
            .where(ConventionVersion.convention.has(operation_id=running))
            .order_by(ConventionVersion.number)
        ).first()
    path = f"/operations/{running}/convention/versions/{number}/convention.docx"
    client.get(path)
    with count_queries(app) as statements:
        client.get(path)
    _q, median, p95, size = _timed(lambda: client.get(path), runs)
    return {
        "DOCX d'une convention (téléchargement, copie gardée)": {
            "queries": len(statements), "median_ms": round(median, 1), "p95_ms": round(p95, 1),
            "bytes": size, "path": path,
        }
    }  # fmt: skip


# --- Under gunicorn, with wrk -------------------------------------------------------------

LOAD_PAGES = (
    "mon compte (gabarit seul)",
    "accueil (organisme)",
    "liste des opérations",
    "page d'une opération",
    "co-conception",
    "convention",
    "recrutement",
    "tableau de bord Région",
)
UA = "portail-bench/1.0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _login_cookie(base: str, email: str) -> str:
    """Log in through the real form over HTTP; the ``Cookie`` header wrk sends."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", UA)]
    page = opener.open(base + "/connexion").read().decode()  # noqa: S310 - loopback
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrf_token": token, "email": email, "password": os.environ["BENCH_PASSWORD"]}
    ).encode()
    opener.open(base + "/connexion", data=data).read()  # noqa: S310 - loopback
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def _check_page(url: str, cookie: str) -> None:
    """The page answers 200 to this cookie (not a redirect to the login page, which wrk
    would count as a success)."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": cookie, "User-Agent": UA})  # noqa: S310 - loopback
    with opener.open(request) as response:  # noqa: S310 - our own server on loopback
        assert response.status == 200, (url, response.status)


def _wrk(url: str, cookie: str, seconds: int) -> tuple[float, int]:
    """(requests per second, non-2xx/3xx answers) of wrk, 2 threads, 16 connections."""
    command = [
        "wrk", "-t2", "-c16", f"-d{seconds}s", "-H", f"User-Agent: {UA}", "-H",
        f"Cookie: {cookie}", url,
    ]  # fmt: skip
    # The system's wrk (make bench installs it), on our own server.
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, int(errors.group(1)) if errors else 0


def measure_load(url: str, secret: str, paths: dict[str, str], seconds: int = 4) -> dict:
    """Requests per second of each page as a ratio to ``/bonjour``, under gunicorn with two
    sync workers: page and reference alternate, twice, so that noise hits both."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secret, PUBLIC_URL=base,
               RATELIMIT_ENABLED="false")  # fmt: skip
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "tests.bench_wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        cookie = _login_cookie(base, f"of@{DOMAIN}")
        region = _login_cookie(base, f"region@{DOMAIN}")
        results = {}
        for label, path in paths.items():
            jar = region if "Région" in label else cookie
            _check_page(base + path, jar)
            rates, hellos, errors = [], [], 0
            for _ in range(2):
                hellos.append(_wrk(base + "/bonjour/", jar, seconds)[0])
                rate, failed = _wrk(base + path, jar, seconds)
                rates.append(rate)
                errors += failed
            page, hello = statistics.mean(rates), statistics.mean(hellos)
            results[label] = {
                "rps": round(page, 1),
                "hello_rps": round(hello, 1),
                "ratio_pct": round(100 * page / hello, 1),
                "errors": errors,
            }
        return results
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


# --- Running and reporting ------------------------------------------------------------------


def kept_database(size: int, keep: Path) -> str:
    """The URL of the database kept for ``size`` in ``keep`` (SQLite) or on
    ``BENCH_DATABASE_URL``'s server (PostgreSQL), created empty when missing."""
    base = os.environ.get("BENCH_DATABASE_URL")
    if not base:
        keep.mkdir(parents=True, exist_ok=True)
        return "sqlite:///" + str((keep / f"bench-{size}.db").resolve())
    url = make_url(base)
    name = f"portal_bench_keep_{size}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def _seeded(size: int) -> bool:
    """A kept database already holds its ``size`` operations (seeding commits them last);
    one left half-seeded by an interrupted run is refused rather than seeded twice."""
    operations = db.session.scalar(select(func.count()).select_from(Operation))
    if operations and operations < size:
        raise SystemExit(f"{db.engine.url}: {operations} opérations sur {size}, "
                         "seeding interrompu — supprimez cette base.")  # fmt: skip
    return bool(operations)


def seeded_counts() -> dict:
    """What a reused database holds (``seed``'s answer without the writing)."""
    return {
        "operations": db.session.scalar(select(func.count()).select_from(Operation)),
        "trainees": db.session.scalar(select(func.count()).select_from(Trainee)),
        "rows_written": 0,
        "seconds": 0.0,
    }


def run(
    size: int, workdir: Path, load: bool, keep: Path | None = None, only: str | None = None
) -> dict:
    if keep:
        url, drop = kept_database(size, keep), None
    else:
        url, drop = database_for(size, workdir)  # tests/bench.py: SQLite, or PostgreSQL
    secret = os.urandom(24).hex()
    app = create_app(app_config(url, TESTING=False, SECRET_KEY=secret))
    try:
        with app.app_context():
            upgrade()
        with app.test_request_context():
            reused = keep is not None and _seeded(size)
            seeded = seeded_counts() if reused else seed(size)
        print(
            f"  {seeded['operations']} opérations, {seeded['trainees']} stagiaires, "
            + ("base réutilisée" if reused else
               f"{seeded['rows_written']} lignes copiées en {seeded['seconds']} s"),
            flush=True,
        )  # fmt: skip
        pages = measure_pages(app, only=only)
        result = {"seed": seeded, "pages": pages}
        if load and shutil.which("wrk"):
            with app.app_context():
                db.engine.dispose()
            os.environ["BENCH_PASSWORD"] = DEMO_PASSWORD
            paths = {label: pages[label]["path"] for label in LOAD_PAGES}
            result["load"] = measure_load(url, secret, paths)
        return result
    finally:
        with app.app_context():
            db.engine.dispose()
        if drop:
            with psycopg.connect(drop[0], autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{drop[1]}" WITH (FORCE)')


def markdown(results: dict, dialect: str) -> str:
    sizes = list(results)
    lines = [f"### {dialect} — requêtes SQL, temps serveur médian / p95 (ms), octets", ""]
    lines.append("| page ou action | " + " | ".join(f"{int(s):,} opérations".replace(",", " ")
                                                 for s in sizes) + " |")  # fmt: skip
    lines.append("|---|" + "---|" * len(sizes))
    for label in results[sizes[0]]["pages"]:
        cells = []
        for s in sizes:
            m = results[s]["pages"][label]
            q = "—" if m["queries"] is None else f"{m['queries']} req."
            b = "" if m["bytes"] is None else f", {m['bytes'] / 1024:.1f} Kio"
            cells.append(f"{q}, {m['median_ms']} / {m['p95_ms']} ms{b}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if all("load" in results[s] for s in sizes):
        lines += ["", f"### {dialect} — gunicorn (2 workers), wrk 16 connexions : req/s "
                  "et part du « bonjour » servi par les mêmes workers", ""]  # fmt: skip
        lines.append("| page | " + " | ".join(f"{int(s):,}".replace(",", " ") for s in sizes)
                     + " |")  # fmt: skip
        lines.append("|---|" + "---|" * len(sizes))
        for label in results[sizes[0]]["load"]:
            loads = [results[s]["load"][label] for s in sizes]
            cells = [f"{m['rps']} req/s ({m['ratio_pct']} %)" for m in loads]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        hello = [str(results[s]["load"][LOAD_PAGES[0]]["hello_rps"]) for s in sizes]
        lines.append("| *bonjour (référence)* | " + " | ".join(f"{h} req/s" for h in hello) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    import logging

    logging.disable(logging.INFO)  # the migrations' progress
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--no-load", action="store_true", help="sans gunicorn ni wrk")
    parser.add_argument("--keep", type=Path, help="garder les bases (dossier) et les réutiliser")
    parser.add_argument("--only", help="seulement les pages dont le libellé contient ce texte")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    dialect = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            print(f"{dialect}, {size} opérations…", flush=True)
            results[size] = run(
                size,
                Path(tmp),
                load=not args.no_load and not args.only,
                keep=args.keep,
                only=args.only,
            )
    table = markdown(results, dialect)
    if not args.only:  # a partial run does not replace the published results
        RESULTS.mkdir(exist_ok=True)
        stem = RESULTS / f"results-{dialect.lower()}"
        stem.with_suffix(".json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
        stem.with_suffix(".md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
