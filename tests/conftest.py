"""Shared fixtures: the app on a database of its own (SQLite file or a fresh PostgreSQL
database), a test client that carries CSRF tokens, factories and a live server."""

import os
import secrets
import tempfile
import threading
import uuid

import psycopg
import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from portal import create_app
from portal.accounts import services
from portal.accounts.models import Organisation, OrgKind, Territory
from portal.extensions import db

PASSWORD = "correct horse battery staple"
SECRET_KEY = "test-secret-key-" + "x" * 32


# --- Database --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """SQLite in a temp folder, or a PostgreSQL database created for this run and dropped after."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "portal-test.db")
        return
    url = make_url(base)
    name = f"portal_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_config(database_url: str, **extra) -> dict:
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
    }
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def app(database_url):
    """One application for the session; the schema comes from the Alembic migrations."""
    application = create_app(test_config(database_url))
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()  # close pooled connections before the database is dropped


@pytest.fixture(autouse=True)
def _clean_database(app):
    """Every test starts with empty tables and leaves none of its rows behind."""
    yield
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        # DELETE, child tables first: on tables this small it is several times faster than
        # PostgreSQL's TRUNCATE (measured: 24 s against 102 s for tests/accounts).
        with db.engine.begin() as conn:
            for name in reversed(tables):
                conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - our own table names


@pytest.fixture
def ctx(app):
    """An application context for service-level tests (no HTTP)."""
    with app.test_request_context(base_url="http://portail.test"):
        yield
        db.session.rollback()


# --- Client ----------------------------------------------------------------------------


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


@pytest.fixture
def client(app):
    app.test_client_class = CsrfClient
    return app.test_client()


@pytest.fixture
def other_client(app):
    """A second browser, for two people (or two sessions) at once."""
    app.test_client_class = CsrfClient
    return app.test_client()


HTMX = {"HX-Request": "true"}


def login(client, user_or_email, password: str = PASSWORD):
    """Log in through the real form; returns the response."""
    email = getattr(user_or_email, "email", user_or_email)
    return client.post("/connexion", data={"email": email, "password": password})


# --- Factories -------------------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_territory(name: str | None = None, code: str | None = None) -> Territory:
    territory = Territory(code=code or unique("T").upper(), name=name or unique("Bassin"))
    db.session.add(territory)
    db.session.flush()
    return territory


def make_org(kind: OrgKind = OrgKind.PROVIDER, name: str | None = None, **fields) -> Organisation:
    organisation = Organisation(kind=kind, name=name or unique(kind.value), **fields)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def make_user(
    org: Organisation | None = None,
    *,
    email: str | None = None,
    admin: bool = False,
    tutor: bool = False,
    password: str = PASSWORD,
    first_name: str = "Camille",
    last_name: str = "Martin",
):
    user = services.create_user(
        email or f"{unique('user')}@example.fr", first_name, last_name, password
    )
    if org is not None:
        services.add_membership(user, org, is_admin=admin, is_tutor=tutor)
    return user


@pytest.fixture
def world(app):
    """A small committed world: the Région, two OF, an employer, a partner, with admins."""
    with app.app_context():
        region = make_org(OrgKind.REGION, "Région Centre-Val de Loire")
        of_a = make_org(OrgKind.PROVIDER, "Organisme A")
        of_b = make_org(OrgKind.PROVIDER, "Organisme B")
        employer = make_org(OrgKind.EMPLOYER, "Entreprise E")
        partner = make_org(OrgKind.PARTNER, "Partenaire P")
        people = {
            "region_admin": make_user(region, admin=True, email="region.admin@example.fr"),
            "region_member": make_user(region, email="region.member@example.fr"),
            "a_admin": make_user(of_a, admin=True, email="a.admin@example.fr"),
            "a_member": make_user(of_a, email="a.member@example.fr"),
            "b_admin": make_user(of_b, admin=True, email="b.admin@example.fr"),
            "employer_admin": make_user(employer, admin=True, email="e.admin@example.fr"),
            "partner_admin": make_user(partner, admin=True, email="p.admin@example.fr"),
        }
        db.session.commit()
        ids = {
            "region": region.id,
            "of_a": of_a.id,
            "of_b": of_b.id,
            "employer": employer.id,
            "partner": partner.id,
        }
        ids.update({key: user.id for key, user in people.items()})
        emails = {key: user.email for key, user in people.items()}
    return type("World", (), {"ids": ids, "emails": emails, **ids})


# --- Live server (browser tests) -------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over HTTP on a free local port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(timeout=5)
