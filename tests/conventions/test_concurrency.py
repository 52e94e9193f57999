"""Racing signatures on the real database of the run (SQLite file or PostgreSQL).

Each attempt runs in its own thread (or process) with its own application context,
session and connection, released together by a barrier: the database, not the Python
code, decides who wins. Whatever the interleaving, one organisation signs a version
once, every party's signature lands, the version's status counts them all, nothing
escapes as an exception and the audit chain stays intact.
"""

import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.accounts.models import Organisation, OrgKind, User
from portal.audit.models import AuditEvent
from portal.audit.services import record, verify_chain
from portal.conventions import services
from portal.conventions.models import ConventionVersion, Signature, VersionStatus
from portal.extensions import db
from portal.operations import services as operations
from portal.operations.models import ParticipantRole
from tests.conventions.factories import make_convention_ready, sign_as
from tests.factories import make_org, make_user
from tests.support import app_config

BASE_URL = "http://portail.test"
ATTEMPTS = 50
EXTRA_EMPLOYERS = 6  # with Organisme A, Entreprise E and Partenaire P: 9 parties
TIMINGS: dict[str, float] = {}


def _submitted(app, extra_employers: int = 0) -> dict:
    """Commit a submitted version; return its id and the parties' (user id, org id)."""
    with app.test_request_context(base_url=BASE_URL):
        ready = make_convention_ready()
        market = ready.market
        for n in range(extra_employers):
            employer = make_org(OrgKind.EMPLOYER, f"Employeur {n:02d}")
            boss = make_user(employer, admin=True, email=f"boss{n:02d}@example.fr")
            operations.add_participant(
                ready.operation, employer, ParticipantRole.EMPLOYER,
                by=market.a_user, org=market.of_a,
            )  # fmt: skip
            services.designate_signer(
                ready.convention, employer, boss, "gérant", by=boss, by_org=employer
            )
            ready.signers.append((boss, employer))
        version = ready.submit()
        db.session.commit()
        data = {
            "version": version.id,
            "parties": [(user.id, org.id) for user, org in ready.signers],
        }
        db.session.remove()
    return data


def _attempt(app, version_id: int, user_id: int, org_id: int, barrier) -> str:
    """One signing attempt in a fresh context; returns what happened, never raises."""
    with app.test_request_context(base_url=BASE_URL):
        try:
            # Before any query: a thread waiting here must not hold a pooled connection.
            barrier.wait()
            version = db.session.get(ConventionVersion, version_id)
            user = db.session.get(User, user_id)
            organisation = db.session.get(Organisation, org_id)
            sign_as(version, user, organisation)
            db.session.commit()
            return "signed"
        except services.AlreadySigned:
            db.session.rollback()
            return "already"
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            db.session.rollback()
            return f"error: {type(exc).__name__}: {exc}"
        finally:
            db.session.remove()


def _race(app, version_id: int, attempts: list[tuple[int, int]]) -> tuple[list[str], float]:
    barrier = threading.Barrier(len(attempts), timeout=60)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        futures = [
            pool.submit(_attempt, app, version_id, user_id, org_id, barrier)
            for user_id, org_id in attempts
        ]
        outcomes = [f.result(timeout=120) for f in futures]
    return outcomes, time.perf_counter() - started


def _status_and_signatures(app, version_id: int) -> tuple[VersionStatus, list[int]]:
    with app.app_context():
        version = db.session.get(ConventionVersion, version_id)
        organisations = db.session.scalars(
            select(Signature.organisation_id).where(Signature.version_id == version_id)
        ).all()
        result = (version.status, sorted(organisations))
        db.session.remove()
    return result


def _chain_problems(app) -> tuple[list[str], list[int]]:
    with app.app_context():
        problems = verify_chain()
        seqs = db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
        db.session.remove()
    return problems, seqs


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def test_fifty_simultaneous_signatures_for_one_party_give_exactly_one(app):
    data = _submitted(app)
    user_id, org_id = data["parties"][1]  # Entreprise E
    outcomes, elapsed = _race(app, data["version"], [(user_id, org_id)] * ATTEMPTS)
    TIMINGS[f"{_dialect(app)}: {ATTEMPTS} threads, one party"] = elapsed
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("signed") == 1
    assert outcomes.count("already") == ATTEMPTS - 1
    status, organisations = _status_and_signatures(app, data["version"])
    assert (status, organisations) == (VersionStatus.PARTIALLY_SIGNED, [org_id])
    problems, seqs = _chain_problems(app)
    assert problems == [] and seqs == list(range(1, len(seqs) + 1))
    with app.app_context():
        signed = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "convention.signed")
        )
        assert signed == 1


def test_every_party_signing_at_once_lands_and_the_version_ends_signed(app):
    data = _submitted(app, extra_employers=EXTRA_EMPLOYERS)
    parties = data["parties"]
    assert len(parties) == 3 + EXTRA_EMPLOYERS
    # Each party's signer tries five times at once: duplicates and distinct parties mixed.
    attempts = [party for party in parties for _ in range(5)]
    outcomes, elapsed = _race(app, data["version"], attempts)
    TIMINGS[f"{_dialect(app)}: {len(attempts)} threads, {len(parties)} parties"] = elapsed
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("signed") == len(parties)
    status, organisations = _status_and_signatures(app, data["version"])
    assert status == VersionStatus.SIGNED
    assert organisations == sorted(org_id for _user, org_id in parties)
    assert _chain_problems(app)[0] == []


def _write_events(app, barrier, n: int) -> str:
    with app.test_request_context(base_url=BASE_URL):
        try:
            barrier.wait()
            for i in range(n):
                record("test.concurrent", i=i)
                db.session.commit()
            return "ok"
        except Exception as exc:  # noqa: BLE001 - reported to the test
            db.session.rollback()
            return f"error: {type(exc).__name__}: {exc}"
        finally:
            db.session.remove()


def test_concurrent_audit_writers_keep_the_chain_intact(app):
    writers, per_writer = 20, 5
    barrier = threading.Barrier(writers, timeout=60)
    with ThreadPoolExecutor(max_workers=writers) as pool:
        futures = [pool.submit(_write_events, app, barrier, per_writer) for _ in range(writers)]
        outcomes = [f.result(timeout=120) for f in futures]
    assert outcomes == ["ok"] * writers
    problems, seqs = _chain_problems(app)
    assert problems == []
    assert seqs == list(range(1, writers * per_writer + 1))


# --- Separate processes ------------------------------------------------------------------

PROCESSES = 4


def _process_attempt(database_url: str, version_id, user_id, org_id, barrier, results) -> None:
    """Entry point of a child process: its own app, engine and connection."""
    application = create_app(app_config(database_url))
    try:
        results.put(_attempt(application, version_id, user_id, org_id, barrier))
    finally:
        with application.app_context():
            db.engine.dispose()


def test_simultaneous_signatures_from_separate_processes_give_exactly_one(app, database_url):
    data = _submitted(app)
    user_id, org_id = data["parties"][2]  # Partenaire P
    # A fork server imports this module once, then forks a clean child per attempt: no
    # inherited connections (unlike "fork") and no 5-second import per child ("spawn").
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    barrier, results = context.Barrier(PROCESSES, timeout=300), context.Queue()
    args = (database_url, data["version"], user_id, org_id, barrier, results)
    children = [context.Process(target=_process_attempt, args=args) for _ in range(PROCESSES)]
    started = time.perf_counter()
    for child in children:
        child.start()
    outcomes = [results.get(timeout=400) for _ in children]
    for child in children:
        child.join(timeout=30)
    TIMINGS[f"{_dialect(app)}: {PROCESSES} processes, one party"] = time.perf_counter() - started
    assert [child.exitcode for child in children] == [0] * PROCESSES
    assert sorted(outcomes) == ["already"] * (PROCESSES - 1) + ["signed"]
    status, organisations = _status_and_signatures(app, data["version"])
    assert (status, organisations) == (VersionStatus.PARTIALLY_SIGNED, [org_id])
    assert _chain_problems(app)[0] == []


@pytest.fixture(scope="module", autouse=True)
def _report_timings():
    """Print how long the races took (run pytest with -s to see them)."""
    yield
    for label, seconds in TIMINGS.items():
        print(f"\n[concurrency] {label}: {seconds:.2f} s")  # noqa: T201
