"""Shared fixtures: the app on a database of its own (SQLite file or a fresh PostgreSQL
database, one per xdist worker), a test client that carries CSRF tokens, a small world and a
live server. Helpers live in tests/support.py, factories in tests/factories.py."""

import os
import secrets
import threading
import time

import pytest
from flask_migrate import upgrade
from hypothesis import HealthCheck, settings
from werkzeug.serving import make_server

from portal import create_app
from portal.core import jobs
from portal.extensions import db
from tests.factories import make_world
from tests.support import (
    CsrfClient,
    ServingGate,
    another_app,
    app_config,
    empty_database,
    require_redis,
    temporary_database,
    without_fsync,
)

# The portal's "today" is Paris's (``rules.today()``); the tests' ``date.today()`` and
# ``datetime.now()`` must be the same day, or between 22:00/23:00 and midnight UTC a meeting
# held "today" falls the day after its action's due date (tests failed in that hour only).
# Set before the test modules compute their dates at import.
os.environ["TZ"] = "Europe/Paris"
time.tzset()

# Property tests: the full count of examples in CI (.ci/run sets CI=true), a fifth locally;
# tests that ask for their own count pass it through ``support.examples``.
# Hypothesis' own timing checks (an example's deadline, "input generation is slow") measure
# the machine, not the portal: on two CPUs shared with a browser they failed correct tests
# (test_html_params_renders_what_wtforms_renders, 1 run in 3 under load). Speed is measured
# by the benchmarks, never by timed tests.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=100, **_UNTIMED)
settings.register_profile("dev", max_examples=20, **_UNTIMED)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


# --- Database --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, database_at_head):
    """SQLite in a temp folder, or a PostgreSQL database created for this run and dropped after
    (each xdist worker is a process with its own session, hence its own database); a copy of
    the process's database at head, so the migrations run once per process."""
    folder = tmp_path_factory.mktemp("db")
    with temporary_database("portal_test", folder, template=database_at_head) as url:
        yield url


@pytest.fixture(scope="session")
def database_at_head(tmp_path_factory):
    """The URL of a database the migrations took to head once in this process, with no
    connection left open: a template for ``temporary_database(…, template=…)``, for the tests
    that need a database of their own at head (migrations, drills) without paying the whole
    chain of migrations each time."""
    with temporary_database("portal_head", tmp_path_factory.mktemp("head")) as url:
        with another_app(url) as application, application.app_context():
            upgrade()
        yield url


@pytest.fixture(scope="session")
def app(database_url):
    """One application for the session; the schema comes from the Alembic migrations."""
    application = create_app(app_config(database_url))
    application.test_client_class = CsrfClient
    with application.app_context():
        without_fsync(db.engine)
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()  # close pooled connections before the database is dropped


@pytest.fixture(autouse=True)
def _clean_database(app):
    """Every test starts with empty tables and leaves none of its rows behind."""
    yield
    empty_database(app)


@pytest.fixture
def ctx(app):
    """An application context for service-level tests (no HTTP)."""
    with app.test_request_context(base_url="http://portail.test"):
        yield
        db.session.rollback()


# --- Clients ---------------------------------------------------------------------------


@pytest.fixture
def client(app):
    """A browser: a test client that sends CSRF tokens (see ``support.CsrfClient``)."""
    return app.test_client()


@pytest.fixture
def other_client(app):
    """A second browser, for two people (or two sessions) at once."""
    return app.test_client()


# --- A small world ---------------------------------------------------------------------


@pytest.fixture
def world(app):
    """A small committed world: the Région, two OF, an employer, a partner, with admins
    (``factories.make_world``: built once per process, then copied)."""
    return make_world(app)


# --- Live server (browser tests) -------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over HTTP on a free local port, in a thread, behind a ``ServingGate``
    (the browser fixtures open it for a test and close it, drained, before the cleanup)."""
    gate = ServingGate(app)
    server = make_server("127.0.0.1", 0, gate, threaded=True)
    server.gate = gate
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(timeout=5)


# --- Order -----------------------------------------------------------------------------

# The journeys are the longest tests (the convention journey alone takes a quarter of a
# minute); started last, one of them would run on after the other worker is done. They go
# first, the longest first, and the thousands of short tests fill in behind them. Then the
# other tests of several seconds each: the drills (a gunicorn of their own), the access
# matrix (a role's walk over every route) and the fuzz (an area's routes).
LONGEST_FIRST = (
    "tests/browser/test_convention_journey.py",
    "tests/browser/test_recruitment_journey.py",
    "tests/browser/test_closing_journey.py",
    "tests/browser/",
    "tests/drills/",
    "tests/access/test_matrix.py",
    "tests/core/test_fuzz_forms.py",
    "tests/core/test_routes.py",
    "tests/core/test_cli.py",
)


def pytest_collection_modifyitems(items):
    """Run the longest tests first (stable otherwise), so the workers finish together."""

    def rank(item) -> int:
        path = item.nodeid
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if path.startswith(prefix)), 99)

    items.sort(key=rank)


# --- Background jobs -----------------------------------------------------------------------


@pytest.fixture
def rq_app(app, monkeypatch):
    """The app with its jobs on RQ: ``REDIS_URL`` the tests' Redis (skipped, or failed in
    CI, when it does not answer), ``JOBS_QUEUE`` a name of this test alone, whose queue
    and job keys are deleted afterwards (RQ's records of the workers expire on their own
    within a minute). Run the jobs with ``jobs.work(burst=True,
    simple=True)`` inside an app context."""
    monkeypatch.setitem(app.config, "REDIS_URL", require_redis())
    monkeypatch.setitem(
        app.config, "JOBS_QUEUE", f"portal-test-{os.getpid()}-{secrets.token_hex(4)}"
    )
    yield app
    with app.app_context():
        redis = jobs.connection()
        try:
            queue = jobs.queue(redis)
            ids = {*queue.finished_job_registry.get_job_ids()}
            ids |= {*queue.failed_job_registry.get_job_ids()}
            for job_id in ids:
                redis.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")
            queue.delete(delete_jobs=True)  # its waiting jobs, and its name in rq:queues
            for key in redis.scan_iter(f"*{queue.name}*"):
                redis.delete(key)
        finally:
            redis.close()
