"""Benchmark of the convention, recruitment, immersions and tutor pages: SQL queries and
median server time at two data sizes, the Word export of a convention and a signature.

Run with ``python -m tests.bench_running`` (``make bench``). Uses a throw-away SQLite file,
or the PostgreSQL server given by ``BENCH_DATABASE_URL`` (a database is created and
dropped per size, see ``tests.bench.database_for``). The requests go through the whole
application in process (login, CSRF, access, templates): the time is the server's,
without network. Two sizes: one running operation with 10 or 1,000 trainees (their
promises, two immersions each, debriefs, tutor assessments) and, in the same market, a
convention with 3 or 12 parties (version 1 signed by all but the organisme porteur).
The number of queries of each measure must not depend on the size: exit code 1 otherwise.
"""

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg
from flask import url_for
from flask_migrate import upgrade
from sqlalchemy import select

from portal import create_app
from portal.accounts.models import Organisation, OrgKind, User
from portal.accounts.passwords import hash_password, verify_password
from portal.config import load_config
from portal.conventions import services as conventions
from portal.conventions.documents import convention_docx
from portal.conventions.models import Convention, ConventionVersion
from portal.design import services as design_services
from portal.design.models import SectionKey
from portal.extensions import db
from portal.immersions import assessments, debriefs
from portal.immersions.models import DebriefKind, Immersion, Presence, SkillLevel, WouldHire
from portal.operations import services as operations
from portal.operations.models import ParticipantRole
from portal.recruitment.models import TraineeStatus
from tests.bench import database_for
from tests.bench_design import logged_in
from tests.conventions.factories import make_convention_ready, sign_as
from tests.factories import make_org, make_user
from tests.immersions.factories import PAST, TODAY, Running, generate, make_trainee
from tests.recruitment.factories import add_positions
from tests.support import HTMX, PASSWORD, app_config, count_queries

BASE_URL = "http://portail.test"
# (label, trainees in the running operation, parties of the convention, Région included)
SIZES = (("10 stagiaires · 3 parties", 10, 3), ("1000 stagiaires · 12 parties", 1000, 12))
# 20 runs per page, not more: at 1,000 trainees some pages take close to a second, and
# the whole script must stay within about three minutes per database.
PAGE_RUNS, DOCX_RUNS, SIGN_RUNS = 20, 20, 5
DEBRIEF_GROUP, DEBRIEF_EVERY = 5, 25  # a collective debrief of 5 per 25 past immersions
SIGNATURE = "signature (POST htmx)"
PAGES = {  # label -> (endpoint, who opens it, URL arguments)
    "convention (parties)": ("conventions.show_convention", "carrier", "convention_op"),
    "version 1 de la convention": ("conventions.show_version", "carrier", "version"),
    "opération à l'étape convention": ("operations.show_operation", "carrier", "convention_op"),
    "recrutement + liste des stagiaires": ("recruitment.show_recruitment", "carrier", "running"),
    "immersions": ("immersions.list_immersions", "carrier", "running"),
    "retours d'expérience": ("immersions.list_debriefs", "carrier", "running"),
    "espace tuteur (tuteur de F)": ("tutoring.tutor_home", "tutor", None),
    "opération en formation": ("operations.show_operation", "carrier", "running"),
}


# --- Data --------------------------------------------------------------------------------


def _running(trainees: int) -> Running:
    """The running operation: 9 in 10 trainees in training with a promise (E and F in
    turn), 1 in 10 still a candidate; immersions from the rhythm, debriefs, assessments."""
    running = Running()
    market = running.market
    for i in range(trainees):
        if i % 10 == 9:
            make_trainee(running, "Cand", f"Stagiaire-{i:04d}", status=TraineeStatus.CANDIDATE)
        else:
            employer = market.employer if i % 2 == 0 else market.employer2
            make_trainee(running, "Alex", f"Stagiaire-{i:04d}", employer=employer)
    generate(running)
    past = list(
        db.session.scalars(
            select(Immersion)
            .where(Immersion.operation_id == running.operation.id, Immersion.ends_on == PAST[1])
            .order_by(Immersion.id)
        )
    )
    groups = max(1, len(past) // DEBRIEF_EVERY)
    for g in range(groups):
        group = past[g * DEBRIEF_GROUP : (g + 1) * DEBRIEF_GROUP]
        data = {
            "kind": DebriefKind.COLLECTIVE,
            "held_on": TODAY - timedelta(days=20),
            "immersions": group,
            "attendee_ids": [market.a_user.id],
            "went_well": "Bonne intégration dans les équipes.",
            "difficulties": "Horaires décalés.",
            "skills": [],
        }
        debriefs.record_debrief(running.operation, data, **running.carrier)
    rated = running.skill_ids[2]  # F asked for no skill: its tutors rate every skill
    for immersion in [i for i in past if i.employer_id == market.employer2.id][::2]:
        assessment = {
            "presence": Presence.FULL,
            "would_hire": WouldHire.YES,
            "feedback": "Stagiaire motivé·e.",
            "ratings": [{"skill_id": rated, "level": SkillLevel.ACQUIRED, "comment": ""}],
        }
        assessments.record_assessment(
            immersion, assessment, by=running.tutor_f, org=market.employer2
        )
    return running


def _convention(running: Running, parties: int):
    """An operation of the same market at the convention step with ``parties`` parties
    (extra employers added, each with a position and a designated signer); version 1
    submitted and signed by every party but the organisme porteur."""
    market = running.market
    ready = make_convention_ready(market, partner=parties > 3, second_employer=parties > 4)
    a_user, of_a = ready.carrier
    for i in range(parties - len(conventions.current_snapshot(ready.convention)["parties"])):
        employer = make_org(OrgKind.EMPLOYER, f"Entreprise {i + 1:02d}")
        admin = make_user(employer, admin=True, email=f"employeur{i + 1:02d}@example.fr")
        operations.add_participant(
            ready.operation, employer, ParticipantRole.EMPLOYER, by=a_user, org=of_a
        )
        add_positions(ready.operation, employer, "Agent·e d'entretien", 1)
        conventions.designate_signer(
            ready.convention, employer, admin, "gérant", by=admin, by_org=employer
        )
        ready.signers.append((admin, employer))
    snapshot = conventions.current_snapshot(ready.convention)
    assert len(snapshot["parties"]) == parties, len(snapshot["parties"])
    version = ready.submit()
    for user, organisation in ready.signers[1:]:  # the porteur signs in the benchmark
        sign_as(version, user, organisation)
    return ready, version


def seed(trainees: int, parties: int) -> dict:
    """Both operations, committed; the ids and e-mails the measures need."""
    running = _running(trainees)
    ready, version = _convention(running, parties)
    db.session.commit()
    return {
        "running": {"operation_id": running.operation.id},
        "convention_op": {"operation_id": ready.operation.id},
        "version": {"operation_id": ready.operation.id, "number": version.number},
        "carrier": running.market.a_user.email,
        "carrier_id": running.market.a_user.id,
        "of_a": running.market.of_a.id,
        "tutor": running.tutor_f.email,
        "convention": ready.convention.id,
        "version_id": version.id,
        "sign": {"operation_id": ready.operation.id},
    }


# --- Measures ------------------------------------------------------------------------------


def timed(request, app, runs: int, prepare=None) -> tuple[int, float, object]:
    """(most queries of a run, median ms, last result) of ``request(i)`` over ``runs``,
    after one warm-up run. ``prepare(i)`` runs before each, outside timing and count."""
    timings, queries, result = [], None, None
    for i in range(runs + 1):
        if prepare:
            prepare(i)
        with count_queries(app) as statements:
            start = time.perf_counter()
            result = request(i)
            elapsed = (time.perf_counter() - start) * 1000
        if i == 0:  # warm-up: the first run fills caches (and records a first opening)
            continue
        queries = len(statements) if queries is None else max(queries, len(statements))
        timings.append(elapsed)
    return queries, statistics.median(timings), result


def _get(client, url: str):
    def request(_i):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return request


def measure_pages(app, ids: dict) -> dict:
    """Each page, opened by the organisme porteur (or the tutor) ``PAGE_RUNS`` times."""
    clients = {"carrier": logged_in(app, ids["carrier"]), "tutor": logged_in(app, ids["tutor"])}
    results = {}
    for label, (endpoint, who, args) in PAGES.items():
        with app.test_request_context(base_url=BASE_URL):
            url = url_for(endpoint, **(ids[args] if args else {}))
        queries, median, _response = timed(_get(clients[who], url), app, PAGE_RUNS)
        results[label] = (queries, median, None)
    return results


def measure_docx(app, ids: dict) -> tuple:
    """The Word file of version 1, built in a fresh session each time (nothing cached)."""

    def build(_i):
        with app.test_request_context(base_url=BASE_URL):
            return convention_docx(db.session.get(ConventionVersion, ids["version_id"]))

    queries, median, data = timed(build, app, DOCX_RUNS)
    return queries, median, len(data) / 1024


def measure_signature(app, ids: dict) -> tuple:
    """The porteur signs (htmx POST, answered with the signatures block) a fresh version
    each run: a clause is edited and a new version submitted before, outside the timing.
    With the production Argon2 cost, which the re-authentication pays once per signature."""
    argon2 = {k: v for k, v in load_config(app.instance_path).items() if k.startswith("ARGON2_")}
    app.config.update(argon2)
    with app.app_context():
        carrier = db.session.get(User, ids["carrier_id"])
        carrier.password_hash = hash_password(PASSWORD)
        db.session.commit()
        argon2_ms = statistics.median(_verify_ms(carrier.password_hash) for _ in range(SIGN_RUNS))
    client = logged_in(app, ids["carrier"])
    state = {}

    def new_version(i: int):
        with app.test_request_context(base_url=BASE_URL):
            convention = db.session.get(Convention, ids["convention"])
            carrier = db.session.get(User, ids["carrier_id"])
            of_a = db.session.get(Organisation, ids["of_a"])
            section = design_services.design_for(convention.operation).section(
                SectionKey.CONV_OBJECT
            )
            design_services.save_section(
                section,
                {"text": f"Objet de la convention, rédaction {i}."},
                base_version=section.version,
                by=carrier,
                org=of_a,
                steering=True,
            )
            version = conventions.submit(convention, by=carrier, org=of_a)
            capacity = conventions.signer_for(convention, of_a.id).capacity
            state["consent"] = conventions.consent_text(version, of_a, capacity)
            state["url"] = url_for("conventions.sign_version", number=version.number, **ids["sign"])
            db.session.commit()

    def sign(_i):
        data = {"sign-consent": "y", "sign-consent_text": state["consent"]}
        response = client.post(state["url"], data={**data, "sign-password": PASSWORD}, headers=HTMX)
        assert response.status_code == 200, (response.status_code, response.data[:300])
        return response

    queries, median, _response = timed(sign, app, SIGN_RUNS, prepare=new_version)
    return queries, median, argon2_ms, argon2


def _verify_ms(password_hash: str) -> float:
    start = time.perf_counter()
    ok, _new = verify_password(password_hash, PASSWORD)
    assert ok
    return (time.perf_counter() - start) * 1000


def run_size(trainees: int, parties: int, workdir: Path) -> dict:
    """Seed a database of its own, take every measure, drop the database."""
    url, drop = database_for(f"running-{trainees}", workdir)
    app = create_app(app_config(url, TESTING=False))
    try:
        with app.test_request_context(base_url=BASE_URL):
            upgrade()
            start = time.perf_counter()
            ids = seed(trainees, parties)
            seeded = time.perf_counter() - start
        results = measure_pages(app, ids)
        results["DOCX de la version 1"] = measure_docx(app, ids)
        queries, median, argon2_ms, argon2 = measure_signature(app, ids)
        results[SIGNATURE] = (queries, median, argon2_ms)
        results["_argon2"] = argon2
        print(
            f"{trainees} stagiaires, {parties} parties : données {seeded:.0f} s, "
            f"mesures {time.perf_counter() - start - seeded:.0f} s",
            file=sys.stderr,
        )
    finally:
        with app.app_context():
            db.engine.dispose()
        if drop:
            with psycopg.connect(drop[0], autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{drop[1]}" WITH (FORCE)')
    return results


def main() -> None:
    table = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, trainees, parties in SIZES:
            table[label] = run_size(trainees, parties, Path(tmp))
    labels = [label for label, _t, _p in SIZES]
    argon2 = table[labels[0]].pop("_argon2")
    table[labels[1]].pop("_argon2")
    dialect = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    load = os.getloadavg()[0]
    print(
        f"\nConvention, recrutement, immersions : requêtes SQL et temps serveur médian "
        f"({dialect} ; pages {PAGE_RUNS} requêtes, DOCX {DOCX_RUNS}, signature {SIGN_RUNS} ; "
        f"{os.cpu_count()} CPU, charge moyenne {load:.1f})"
    )
    print("mesure".ljust(36) + "".join(label.ljust(34) for label in labels))
    measures = list(table[labels[0]])
    for measure in measures:
        cells = []
        for label in labels:
            queries, median, extra = table[label][measure]
            cell = f"{queries:>3} req {median:>8.1f} ms"
            if measure.startswith("DOCX"):
                cell += f" {extra:>5.0f} Ko"
            elif measure.startswith("signature"):
                cell += f" (Argon2 {extra:.0f} ms)"
            cells.append(cell.ljust(34))
        print(measure.ljust(36) + "".join(cells))
    signing = [table[label][SIGNATURE] for label in labels]
    shares = " et ".join(f"{100 * argon2_ms / ms:.0f} %" for _q, ms, argon2_ms in signing)
    print(
        "Signature : entre parenthèses, la seule vérification Argon2id de la ré-authentification, "
        f"au coût de production (t={argon2['ARGON2_TIME_COST']}, "
        f"{argon2['ARGON2_MEMORY_COST'] // 1024} Mio, p={argon2['ARGON2_PARALLELISM']}) : "
        f"{shares} du temps de la signature."
    )
    constant = all(len({table[label][m][0] for label in labels}) == 1 for m in measures)
    print("Nombre de requêtes identique aux deux tailles :", "oui" if constant else "NON")
    if not constant:
        raise SystemExit(1)


if __name__ == "__main__":
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    main()
