"""Helpers shared by the tests: configuration, databases, the CSRF-aware client, logging in,
committing, counting queries and reading responses.

Test modules import from here (and from the ``factories`` modules), never from another test
module or a ``conftest.py``; tests/core/test_layout.py checks it.
"""

import html
import os
import re
import secrets
import shutil
import statistics
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import fields as dataclass_fields
from dataclasses import is_dataclass
from datetime import timedelta
from functools import cache

import psycopg
import pytest
import redis
from flask import session
from flask.testing import FlaskClient
from hypothesis import settings
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import column, event, func, inspect, select
from sqlalchemy import table as table_clause
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url

from portal import create_app
from portal.accounts import invitations, services
from portal.accounts.models import EmailChange, Organisation, PasswordReset, User
from portal.accounts.views import _start_session
from portal.core.time import utcnow
from portal.demo import load_demo
from portal.extensions import db
from portal.reporting import jobs as report_jobs
from portal.reporting.models import ExportJob
from portal.reporting.summary import refresh_all
from portal.resources import services as resources
from portal.resources.models import ReferenceDocument

PASSWORD = "correct horse battery staple"
SECRET_KEY = "test-secret-key-" + "x" * 32
HTMX = {"HX-Request": "true"}
REQUIRED = "Ce champ est obligatoire."  # WTForms' message for an empty required field


def examples(n: int) -> int:
    """Hypothesis examples for a property that asks for ``n`` (in CI), scaled by the profile
    tests/conftest.py loads: a fifth locally."""
    return max(3, n * settings().max_examples // 100)


# --- Configuration and databases ---------------------------------------------------------


def app_config(database_url: str, **extra) -> dict:
    """Configuration for a test app: cheap Argon2, no SMTP, our own database."""
    config = {
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PORTAL_ENV": "test",
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8 * 1024,
        "ARGON2_PARALLELISM": 1,
        "MAIL_SERVER": None,
        "REDIS_URL": None,
        "PUBLIC_URL": "http://portail.test",
        # Reference documents of the demo and the tests: never in the worktree's instance/.
        "DOCUMENTS_DIR": os.path.join(tempfile.gettempdir(), f"portal-documents-{os.getpid()}"),
        "EXPORTS_DIR": os.path.join(tempfile.gettempdir(), f"portal-exports-{os.getpid()}"),
    }
    config.update(extra)
    return config


@contextmanager
def another_app(database_url: str, **extra):
    """A second app on the same database (a restart, another worker), its pool closed after.

    An engine dropped with its connections open leaks them: on PostgreSQL the driver warns
    when the garbage collector meets them, and that warning fails whichever test runs then.
    """
    application = create_app(app_config(database_url, **extra))
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()


@contextmanager
def temporary_database(prefix: str, sqlite_folder, template: str | None = None):
    """A brand-new empty database, dropped afterwards: a SQLite file in ``sqlite_folder``, or,
    when TEST_DATABASE_URL is set, a PostgreSQL database created on that server.

    With ``template`` (the URL of another such database, with no connection open to it), the
    new database starts as a copy of it: the SQLite file copied, or PostgreSQL's ``CREATE
    DATABASE … TEMPLATE``. Copying a schema already at head costs milliseconds where the
    migrations from base cost seconds (``database_at_head`` in tests/conftest.py).

    Tests may lose their data on a crash, never their durability: PostgreSQL skips waiting
    for the WAL flush at commit (``synchronous_commit``), a per-database setting.
    """
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        path = sqlite_folder / f"{prefix}.db"
        if template:
            shutil.copyfile(make_url(template).database, path)
        yield "sqlite:///" + str(path)
        return
    url = make_url(base)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def without_fsync(engine) -> None:
    """Make the engine's SQLite connections skip fsync (test data need not survive a crash)."""

    @event.listens_for(engine, "connect")
    def _synchronous_off(dbapi_connection, _record):
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.close()


def empty_database(app) -> None:
    """Delete every row, child tables first, from the tables that hold any.

    One query finds the tables with rows (a test fills a handful of the ~50), so the cleanup
    does not send a DELETE to each table after each test (measured per test: 0.3 ms against
    2.6 ms on SQLite, 2 ms against 9 ms on PostgreSQL, when nothing was written). It looks at
    the tables themselves, so it also sees rows written by other processes.
    """
    tables = [table.name for table in db.metadata.sorted_tables]
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            filled = set(conn.scalars(_filled_tables_query(tuple(tables))))
            for name in reversed(tables):
                if name in filled:
                    conn.execute(sql(f"DELETE FROM {name}"))  # noqa: S608 - our own tables


@cache
def _filled_tables_query(tables: tuple[str, ...]):
    """``SELECT 'name' WHERE EXISTS (SELECT 1 FROM name) UNION ALL …``, built once."""
    probes = (f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in tables)  # noqa: S608
    return sql(" UNION ALL ".join(probes))


_DEMO_ROWS: dict[str, dict[str, list[dict]]] = {}
_DEMO_FILES: dict[str, dict[tuple[str, str], bytes]] = {}


def load_demo_copy(app, base_url: str = "http://portail.test") -> None:
    """The demo data, committed, in an empty database: ``load_demo`` itself the first time in
    this process (per ``base_url``, which the links of its e-mails carry), then a copy of the
    rows it wrote, in place of whatever the database holds (a database just built by the
    migrations holds the audit chain's genesis head, which the copy's head replaces).

    A real load costs about two seconds (eight operations, their designs, conventions,
    signatures, trainees and follow-ups) and a dozen modules need it; the copy is one INSERT
    per table. Identifiers, hashes and the audit chain are the same rows, so they hold. In
    the database of the real load the sequences already went past those identifiers; in
    another one (a brand-new database of tests/core/test_migrations.py) they are moved past
    them (``advance_sequences``).
    tests/core/test_demo_copy.py checks that a copy equals a load.
    """
    rows = _DEMO_ROWS.get(base_url)
    if rows is None:
        with app.test_request_context(base_url=base_url):
            load_demo()
            db.session.commit()
        _DEMO_ROWS[base_url] = all_rows(app)
        _DEMO_FILES[base_url] = _reference_files(app)
        return
    put_back_rows(app, rows)
    _put_back_files(app, _DEMO_FILES[base_url])


def _reference_files(app) -> dict[tuple[str, str], bytes]:
    """The files the demo writes, by folder setting and stored name: its reference documents
    (``DOCUMENTS_DIR``) and its ready export (``EXPORTS_DIR``). A copy must find them in the
    folders of the moment: a test may have pointed a folder elsewhere while the real load ran
    (tests/core/test_fuzz_uploads.py), or emptied it since (the exports' purge)."""
    with app.app_context():
        documents = {
            ("DOCUMENTS_DIR", d.stored_name): resources.path_of(d).read_bytes()
            for d in db.session.scalars(select(ReferenceDocument))
        }
        exports = {
            ("EXPORTS_DIR", job.stored): report_jobs.path_of(job).read_bytes()
            for job in db.session.scalars(select(ExportJob).where(ExportJob.stored != ""))
            if report_jobs.path_of(job).is_file()
        }
        return documents | exports


def _put_back_files(app, files: dict[tuple[str, str], bytes]) -> None:
    with app.app_context():
        folders = {"DOCUMENTS_DIR": resources.storage_dir(), "EXPORTS_DIR": report_jobs.folder()}
    for (setting, name), data in files.items():
        folders[setting].mkdir(parents=True, exist_ok=True)
        if not (folders[setting] / name).is_file():
            (folders[setting] / name).write_bytes(data)


def put_back_rows(app, rows: dict[str, list[dict]]) -> None:
    """Make the database hold exactly ``rows`` (read by ``all_rows``), and nothing else."""
    empty_database(app)
    with app.app_context(), db.engine.begin() as conn:
        write_rows(conn, rows)
        advance_sequences(conn, [name for name, table_rows in rows.items() if table_rows])


def all_rows(app) -> dict[str, list[dict]]:
    """Every row of every table, as dicts, in primary-key order."""
    with app.app_context(), db.engine.connect() as conn:
        return read_rows(conn)


def read_rows(conn) -> dict[str, list[dict]]:
    """Every row of every table that ``conn`` sees, as dicts, in primary-key order."""
    return {
        table.name: [
            dict(row)
            for row in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        ]
        for table in db.metadata.sorted_tables
    }


def write_rows(conn, rows: dict[str, list[dict]]) -> None:
    """Insert rows read by ``read_rows`` (parents first), identifiers included. Rows read
    before their commit (a build) lack the dashboard's kept counts, which the session
    writes at the commit (``reporting.summary``): they are counted here."""
    for table in db.metadata.sorted_tables:
        if rows.get(table.name):
            conn.execute(table.insert(), rows[table.name])
    if len(rows.get("operation_figures", [])) != len(rows.get("operations", [])):
        refresh_all(conn)


def advance_sequences(conn, table_names) -> None:
    """On PostgreSQL, move the identifier sequence of each table past the identifiers written
    by hand (never back); SQLite picks the next rowid from the rows themselves."""
    if conn.dialect.name != "postgresql":
        return
    pg_sequences = table_clause(
        "pg_sequences", column("schemaname"), column("sequencename"), column("last_value")
    )
    for name in table_names:
        key = db.metadata.tables[name].autoincrement_column
        if key is None:
            continue
        sequence = func.pg_get_serial_sequence(name, key.name)
        top = select(func.max(key)).scalar_subquery()
        last = (
            select(pg_sequences.c.last_value)
            .where(
                func.format("%I.%I", pg_sequences.c.schemaname, pg_sequences.c.sequencename)
                == sequence
            )
            .scalar_subquery()
        )
        conn.execute(select(func.setval(sequence, top)).where(top > func.coalesce(last, 0)))


# Per (class, database): the rows and attributes of the first build in an empty database.
_BUILD_COPIES: dict[tuple[str, str], dict] = {}


class CopiedBuild(ABC):
    """A factory of a whole scene (``_build`` makes it through the services, in the
    current app context) built for real the first time in a process; after that, in an
    empty database, the rows that first build wrote are copied back — same identifiers,
    same timestamps — and its attributes (model objects, dicts and lists of them, plain
    values) loaded from them. A build costs tens to hundreds of milliseconds (accounts,
    audited memberships, notifications), a copy a few. Next to other rows it is built for
    real. tests/operations/test_market_copy.py checks a copy equals a build.
    """

    def __init__(self):
        conn = db.session.connection()
        empty = is_empty(conn)
        key = (type(self).__qualname__, str(db.engine.url))
        copy = _BUILD_COPIES.get(key)
        if empty and copy:
            write_rows(conn, copy["rows"])
            for name, ref in copy["attributes"].items():
                setattr(self, name, _load_ref(ref))
            return
        self._build()
        if empty:
            db.session.flush()
            _BUILD_COPIES[key] = {
                "rows": read_rows(conn),
                "attributes": {name: _ref(value) for name, value in vars(self).items()},
            }

    @abstractmethod
    def _build(self) -> None:
        """Make the scene through the services, setting its attributes."""


def copy_rows_or_build(key: tuple, build: Callable[[], object]):
    """``build()`` (it returns model objects, builds, dicts, lists or tuples of them, or
    plain values) the first time in an empty database; later, in an empty database, its
    rows copied back and its result loaded from them. Elsewhere, ``build()``."""
    conn = db.session.connection()
    if not is_empty(conn):
        return build()
    key = (*key, str(db.engine.url))
    copy = _BUILD_COPIES.get(key)
    if copy:
        write_rows(conn, copy["rows"])
        return _load_ref(copy["result"])
    result = build()
    db.session.flush()
    _BUILD_COPIES[key] = {"rows": read_rows(conn), "result": _ref(result)}
    return result


def _ref(value):
    if isinstance(value, db.Model):
        return ("model", type(value), value.id)
    if isinstance(value, CopiedBuild):
        return ("build", type(value), {name: _ref(item) for name, item in vars(value).items()})
    if is_dataclass(value) and not isinstance(value, type):
        fields_ = {f.name: _ref(getattr(value, f.name)) for f in dataclass_fields(value)}
        return ("dataclass", type(value), fields_)
    if isinstance(value, dict):
        return ("dict", {key: _ref(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_ref(item) for item in value])
    return ("value", value)


def _load_ref(ref):
    kind = ref[0]
    if kind == "model":
        return db.session.get(ref[1], ref[2])
    if kind == "build":
        built = ref[1].__new__(ref[1])
        for name, item in ref[2].items():
            setattr(built, name, _load_ref(item))
        return built
    if kind == "dataclass":
        return ref[1](**{name: _load_ref(item) for name, item in ref[2].items()})
    if kind == "dict":
        return {key: _load_ref(item) for key, item in ref[1].items()}
    if kind in ("list", "tuple"):
        items = [_load_ref(item) for item in ref[1]]
        return items if kind == "list" else tuple(items)
    return ref[1]


def is_empty(conn) -> bool:
    """No table holds a row (one query)."""
    tables = tuple(table.name for table in db.metadata.sorted_tables)
    return conn.execute(_filled_tables_query(tables)).first() is None


def require_soffice() -> str:
    """The LibreOffice command; missing, fail under REQUIRE_BROWSER=1 (CI), else skip.

    The one place tests look for LibreOffice, so that CI never passes a conversion test
    by skipping it."""
    soffice = shutil.which("soffice")
    if soffice is None:
        message = "LibreOffice (soffice) absent : installez libreoffice-writer-nogui"
        if os.environ.get("REQUIRE_BROWSER") == "1":  # CI installs it: missing is a failure
            pytest.fail(message)
        pytest.skip(message)
    return soffice


REDIS_URL = "redis://127.0.0.1:6379/14"


def require_redis() -> str:
    """The tests' Redis (database 14 at 127.0.0.1:6379), checked to answer; unreachable,
    fail under REQUIRE_REDIS=1 (CI), else skip with the reason."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        message = f"Redis injoignable à 127.0.0.1:6379 ({exc}) : lancez redis-server"
        if os.environ.get("REQUIRE_REDIS") == "1":  # CI runs Redis: missing is a failure
            pytest.fail(message)
        pytest.skip(message)
    finally:
        client.close()
    return REDIS_URL


def fetch_pdf(client, url: str, *, headers=None, timeout: float = 60.0):
    """GET a PDF link as a browser does: the page « en préparation », then its htmx polls
    until the job is done (``204`` meanwhile), then the link again. The last answer: the
    file, or the page saying why it failed."""
    first = client.get(url, headers=headers)
    if first.mimetype == "application/pdf" or first.status_code != 200:
        return first
    assert "Le PDF est en préparation" in text(first), text(first)
    status = re.search(r'<div id="pdf-status"[^>]*hx-get="([^"]+)"', text(first))
    poll_url = html.unescape(status.group(1))
    deadline = time.monotonic() + timeout
    while (poll := client.get(poll_url, headers=HTMX)).status_code == 204:
        assert time.monotonic() < deadline, "the PDF job did not end in time"
        time.sleep(0.05)
    assert poll.status_code == 200, text(poll)
    return client.get(url, headers=headers)


# Where a route's argument finds a real row in the demo data (tests/core/test_routes.py,
# the fuzz of tests/fuzz_demo.py): a row of this table.
ARGUMENT_TABLES = {
    "org_id": "organisations",
    "user_id": "users",
    "membership_id": "memberships",
    "invitation_id": "invitations",
    "territory_id": "territories",
    "operation_id": "operations",
    "lot_id": "market_lots",
    "participant_id": "operation_participants",
    "position_id": "need_positions",
    "figure_id": "diagnosis_figures",
    "notification_id": "notifications",
    "comment_id": "design_comments",
    "revision_id": "section_revisions",
    "draft_id": "section_revisions",
    "trainee_id": "trainees",
    "immersion_id": "immersions",
    "debrief_id": "debriefs",
    "evaluation_id": "evaluations",
    "template_id": "clause_templates",
    "document_id": "reference_documents",
    "milestone_id": "followup_milestones",
    "promise_id": "job_promises",
    # The demo's job dating is in the operation of the first trainee (Saran).
    "session_id": "recruitment_sessions",
    "member_id": "steering_members",
    "meeting_id": "steering_meetings",
    "decision_id": "steering_decisions",
    "action_id": "steering_actions",
    "job_id": "export_jobs",
    "user_session_id": "user_sessions",
}


def live_token_links(inviter: User | None = None) -> dict[str, str]:
    """A live invitation, password-reset and e-mail-change link of ``inviter`` (the first
    user by default; committed, in the current request context): the token of each, by the
    endpoint its link opens."""
    if inviter is None:
        organisation = db.session.scalars(select(Organisation).order_by(Organisation.id)).first()
        inviter = db.session.scalars(select(User).order_by(User.id)).first()
    else:
        organisation = inviter.active_memberships()[0].organisation
    _invitation, invitation_token = invitations.invite(
        "lien.valide@example.fr", organisation, by=inviter
    )
    expires_at = utcnow() + timedelta(days=1)
    reset_token, reset_hash = services.new_token()
    db.session.add(PasswordReset(user=inviter, token_hash=reset_hash, expires_at=expires_at))
    change_token, change_hash = services.new_token()
    db.session.add(
        EmailChange(
            user=inviter,
            new_email="adresse.nouvelle@example.fr",
            token_hash=change_hash,
            expires_at=expires_at,
        )
    )
    db.session.commit()
    return {
        "accounts.accept_invitation": invitation_token,
        "accounts.reset_password": reset_token,
        "accounts.confirm_email_change": change_token,
    }


# --- Client and logging in ---------------------------------------------------------------


class ServingGate:
    """WSGI middleware in front of the live server: requests are served only while the gate
    is open; ``close`` turns new ones away (503) and waits for those in flight to finish,
    their response bodies included, so nothing writes while a test's cleanup runs."""

    def __init__(self, app, drain_timeout: float = 10.0):
        self.app = app
        self.drain_timeout = drain_timeout
        self._lock = threading.Condition()
        self._open = False
        self._in_flight: dict[int, str] = {}

    def open(self) -> None:
        with self._lock:
            self._open = True

    def close(self) -> None:
        with self._lock:
            self._open = False
            if not self._lock.wait_for(lambda: not self._in_flight, self.drain_timeout):
                still = ", ".join(sorted(self._in_flight.values()))
                raise RuntimeError(f"requests still served after the test: {still}")

    def __call__(self, environ, start_response):
        with self._lock:
            if not self._open:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"between tests"]
            key = id(environ)
            self._in_flight[key] = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"

        def done() -> None:
            with self._lock:
                self._in_flight.pop(key, None)
                self._lock.notify_all()

        try:
            body = self.app(environ, start_response)
        except BaseException:
            done()
            raise
        return _ServedBody(body, done)


class _ServedBody:
    """A response body that calls ``done`` once, as soon as its last bytes are handed to the
    server (or it is closed). Not only on ``close``: werkzeug's server skips ``close`` when the
    client resets the connection while it discards an unread request body (a browser that
    got its 303 after a POST), and such a request would count as served forever."""

    def __init__(self, body, done):
        self._body = body
        self._done = done

    def __iter__(self):
        yield from self._body
        self._finish()

    def close(self) -> None:
        try:
            if hasattr(self._body, "close"):
                self._body.close()
        finally:
            self._finish()

    def _finish(self) -> None:
        done, self._done = self._done, None
        if done:
            done()


class CsrfClient(FlaskClient):
    """A test client that sends a valid CSRF token on state-changing requests.

    Pass ``csrf=False`` to send none (to check that the app refuses it).
    """

    def csrf_token(self) -> str:
        app = self.application
        with self.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                raw = sess["csrf_token"] = secrets.token_hex(20)
        return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)

    def open(self, *args, csrf: bool = True, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method in {"POST", "PUT", "PATCH", "DELETE"}:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def form_login(client, user_or_email, password: str = PASSWORD):
    """Log in through the real form; returns the response. For the tests of logging in
    (tests/accounts) and of what a login does; other tests use ``login_as``."""
    email = getattr(user_or_email, "email", user_or_email)
    return client.post("/connexion", data={"email": email, "password": password})


def login_as(client, who: User | str | int) -> None:
    """Give ``client`` the session a successful form login gives, without the form.

    ``who`` is a user, an e-mail or a user id. The session is built by the login view's own
    ``_start_session`` (the previous session cleared but its language kept, then
    flask-login's ``login_user``: ``id:generation``, fresh, and the identifier of the
    client's address and User-Agent that session protection checks; the committed row of
    « Mes sessions » and its token; the time of authentication). Like the form, it
    refuses a disabled account or one without an active membership. It skips what only the
    form does: checking the password (Argon2), the throttle, ``last_login_at``, the
    ``login.succeeded`` audit event and the welcome flash. tests/accounts/test_login_as.py
    checks that both give the same session.
    """
    app = client.application
    with client.session_transaction() as sess:
        with app.test_request_context(environ_base=dict(client.environ_base)):
            session.update(sess)
            if isinstance(who, str):
                user = db.session.scalar(select(User).where(User.email == who.lower()))
            else:
                ident = inspect(who).identity[0] if isinstance(who, User) else who
                user = db.session.get(User, ident)
            assert user is not None, f"no user {who!r} to log in as"
            # The form would refuse them: a test must not act as someone who cannot log in.
            assert user.is_enabled and user.active_memberships(), f"{who!r} cannot log in"
            _start_session(user)
            produced = dict(session)
        sess.clear()
        sess.update(produced)


def age_authentication(client, minutes: float) -> None:
    """Make the client's last authentication ``minutes`` older (re-authentication tests)."""
    with client.session_transaction() as sess:
        sess["auth_at"] = sess["auth_at"] - minutes * 60


def client_as(app, who: User | str | int) -> CsrfClient:
    """A new client (one browser per person) logged in as ``who`` (see ``login_as``)."""
    client = app.test_client()
    login_as(client, who)
    return client


def flashes(client) -> list[tuple[str, str]]:
    """The flash messages waiting in the client's session."""
    with client.session_transaction() as sess:
        return list(sess.get("_flashes", []))


# --- Data --------------------------------------------------------------------------------


@contextmanager
def committed(app):
    """A request context (notifications build absolute links) whose work is committed."""
    with app.test_request_context(base_url="http://portail.test"):
        yield
        db.session.commit()


def org_named(name: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


def user_with(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def count(app, model, *where) -> int:
    """Rows of ``model`` matching ``where``, read in a fresh session."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def load(app, model, ident):
    """A detached copy of a row, read in a fresh session."""
    with app.app_context():
        row = db.session.get(model, ident)
        db.session.expunge(row)
        return row


# Evidence written by reading, on purpose: opening a convention version or downloading it
# is itself a fact to keep (issue 5: "opened" and "downloaded" are audited — since #11 M9
# only on the user's own navigation — and each issued file's hash is recorded; issue 6 and
# #11 M8: every page or export showing trainees is logged, one row per request; issue 14:
# an operation's archive is recorded once per distinct archive, for the public page, and
# its download audited). Nothing else may change on a GET: other audit actions are still
# compared.
READ_EVIDENCE_TABLES = {
    "audit_chain_head",
    "convention_readings",
    "convention_documents",
    "issued_archives",
}
READ_EVIDENCE_ACTIONS = (
    "convention.opened",
    "convention.downloaded",
    "archive.downloaded",
    "trainee.exported",  # a trainee's personal data exported (issue #17)
)
# A logged-in request notes its session's activity (at most once a minute, issue #17):
# bookkeeping of the login itself, not a change made by reading.
READ_LOG_TABLES = {"trainee_accesses", "user_sessions"}


class Snapshot:
    """What ``snapshot`` returns: how many writes had been committed, and which.

    Two snapshots are equal when no write was committed between them; when one was, the
    assertion's diff names the statements (table and first line)."""

    def __init__(self, writes: list[str]):
        self.count = len(writes)
        self.writes = writes

    def __eq__(self, other) -> bool:
        return isinstance(other, Snapshot) and self.count == other.count

    def __repr__(self) -> str:
        return f"Snapshot({self.writes[: self.count]!r})"


def snapshot(app) -> Snapshot:
    """A mark to prove that a request changed nothing: ``before = snapshot(app)``, the request,
    then ``assert snapshot(app) == before``.

    Every INSERT, UPDATE or DELETE the application's engine commits is recorded (any thread,
    so the live server's too), except the evidence that reading writes on purpose (above).
    A write rolled back is not a change. Comparing marks costs nothing, where reading every
    row of every table before and after each request cost 70 ms on the demo data (most of
    tests/core/test_routes.py's time); tests/core/test_snapshot.py checks the recorder.
    """
    with app.app_context():
        engine = db.engine
    return Snapshot(_committed_writes(engine))


_WRITE = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


def _committed_writes(engine) -> list[str]:
    """The engine's list of committed writes, recording from the first call on."""
    if hasattr(engine, "committed_writes"):
        return engine.committed_writes
    committed: list[str] = []
    pending: dict[int, list[str]] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn, _cursor, statement, parameters, _context, _executemany):
        match = _WRITE.match(statement)
        if match is None or _is_read_evidence(match.group(1), parameters):
            return
        pending.setdefault(id(conn), []).append(f"{match.group(1)}: {statement.split(chr(10))[0]}")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        pending[id(conn)] = []  # a connection object's id may be reused once it is gone

    @event.listens_for(engine, "commit")
    def _commit(conn):
        committed.extend(pending.pop(id(conn), []))

    @event.listens_for(engine, "rollback")
    def _rollback(conn):
        pending.pop(id(conn), None)

    engine.committed_writes = committed
    return committed


def _is_read_evidence(table: str, parameters) -> bool:
    if table in READ_EVIDENCE_TABLES | READ_LOG_TABLES:
        return True
    if table != "audit_events":
        return False
    rows = parameters if isinstance(parameters, list) else [parameters]
    values = [v for row in rows for v in (row.values() if isinstance(row, dict) else row)]
    return any(value in READ_EVIDENCE_ACTIONS for value in values if isinstance(value, str))


# --- Queries and timings -----------------------------------------------------------------


@contextmanager
def count_queries(app):
    """Collect the SQL statements the block sends: ``with count_queries(app) as statements``."""
    statements = []

    def before_cursor_execute(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def queries(app, client, path: str, headers=None) -> list[str]:
    """The SQL statements of one GET of ``path`` (after a warm-up GET)."""
    response = client.get(path, headers=headers)  # the first request may load what others reuse
    assert response.status_code == 200, path
    with count_queries(app) as statements:
        assert client.get(path, headers=headers).status_code == 200
    return list(statements)


def explain(small: list[str], large: list[str]) -> str:
    """Why two query lists differ, for an assertion message."""
    extra = [s.split("\n")[0][:120] for s in large[len(small) :]]
    return f"{len(small)} queries with few rows, {len(large)} with many; extra: {extra}"


def server_time(client, path: str, runs: int = 10) -> float:
    """Median time of ``runs`` requests, in milliseconds."""
    client.get(path)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        assert client.get(path).status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# --- Responses ---------------------------------------------------------------------------


def text(response) -> str:
    """The response's body, HTML entities decoded."""
    return html.unescape(response.get_data(as_text=True))
