"""Configuration from the environment, production safety checks and SQLite connection pragmas."""

import pytest
from sqlalchemy.exc import IntegrityError

from portal import create_app
from portal.accounts.models import Membership
from portal.config import load_config
from portal.extensions import db
from tests.support import load_demo_copy

REAL_KEY = "a-real-production-secret-" + "k" * 40
PUBLISHED_KEY = "dev-only-secret-key-change-me"  # shipped with the code until issue #11
PUBLIC_URL = "https://portail.example.fr"


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """A clean environment: none of the portal's variables set, an instance folder of its own."""
    for name in (
        "PORTAL_ENV",
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "MAIL_SERVER",
        "PUBLIC_URL",
        "TRUSTED_HOSTS",
        "TRUSTED_PROXIES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    return monkeypatch


@pytest.fixture
def production(environment, database_url):
    """PORTAL_ENV=production on the test database, with its address (no SECRET_KEY yet)."""
    environment.setenv("PORTAL_ENV", "production")
    environment.setenv("PUBLIC_URL", PUBLIC_URL)
    environment.setenv("DATABASE_URL", database_url)
    return environment


@pytest.fixture
def built_apps(monkeypatch):
    """Apps built by the test, even those whose ``create_app`` raised: their pools get closed."""
    apps = []
    init_app = db.init_app

    def recording_init_app(application):
        apps.append(application)
        init_app(application)

    monkeypatch.setattr(db, "init_app", recording_init_app)
    yield apps
    for application in apps:
        with application.app_context():
            db.engine.dispose()


# --- Production ----------------------------------------------------------------------------


@pytest.mark.parametrize("secret_key", [None, "", PUBLISHED_KEY])
def test_production_refuses_the_default_secret_key(production, built_apps, secret_key):
    if secret_key is not None:
        production.setenv("SECRET_KEY", secret_key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_refuses_a_database_holding_the_demo_data(app, production, built_apps):
    load_demo_copy(app)
    production.setenv("SECRET_KEY", REAL_KEY)
    with pytest.raises(RuntimeError, match="demo data"):
        create_app()


def test_production_starts_with_a_real_key_and_no_demo_data(production, built_apps, database_url):
    production.setenv("SECRET_KEY", REAL_KEY)
    application = create_app()
    assert application.config["SQLALCHEMY_DATABASE_URI"] == database_url
    assert application.config["SECRET_KEY"] == REAL_KEY
    assert application.config["SESSION_COOKIE_SECURE"] is True
    assert application.config["SESSION_COOKIE_NAME"] == "__Host-portail"
    client = application.test_client()
    for path in (f"{PUBLIC_URL}/connexion", f"{PUBLIC_URL}/healthz"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Strict-Transport-Security"] == (
            "max-age=63072000; includeSubDomains"
        )


def test_outside_production_there_is_no_hsts_nor_secure_cookie(app, client):
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert "Strict-Transport-Security" not in client.get("/connexion").headers


# --- Reading the environment ---------------------------------------------------------------


def test_defaults_without_environment(environment, tmp_path):
    config = load_config(str(tmp_path))
    assert config["PORTAL_ENV"] == "development"
    assert config["SECRET_KEY"] is None and config["PUBLIC_URL"] is None
    assert (config["TRUSTED_HOSTS"], config["TRUSTED_PROXIES"]) == ([], 0)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/portal.db"
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["REDIS_URL"] is None and config["MAIL_SERVER"] is None
    assert (config["LOGIN_MAX_PER_ACCOUNT_IP"], config["LOGIN_MAX_PER_IP"]) == (5, 30)


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://portail@db/defi", "postgresql+psycopg://portail@db/defi"),
        ("postgresql://portail@db/defi", "postgresql+psycopg://portail@db/defi"),
        ("postgresql+psycopg://portail@db/defi", "postgresql+psycopg://portail@db/defi"),
        ("sqlite:////srv/portail/portal.db", "sqlite:////srv/portail/portal.db"),
    ],
)
def test_database_url_selects_psycopg(environment, tmp_path, given, used):
    environment.setenv("DATABASE_URL", given)
    assert load_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == used


def test_settings_come_from_the_environment(environment, tmp_path):
    environment.setenv("MAIL_SERVER", "smtp.example.fr")
    environment.setenv("MAIL_PORT", "587")
    environment.setenv("MAIL_USE_TLS", "yes")
    environment.setenv("LOGIN_MAX_PER_ACCOUNT_IP", "3")
    environment.setenv("REDIS_URL", "redis://cache:6379/0")
    config = load_config(str(tmp_path))
    assert (config["MAIL_SERVER"], config["MAIL_PORT"]) == ("smtp.example.fr", 587)
    assert config["MAIL_USE_TLS"] is True and config["MAIL_USE_SSL"] is False
    assert config["LOGIN_MAX_PER_ACCOUNT_IP"] == 3
    assert config["REDIS_URL"] == "redis://cache:6379/0"


# --- Database connections ------------------------------------------------------------------


def test_sqlite_connections_get_their_pragmas(app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("PRAGMAs are SQLite's: this run uses PostgreSQL (TEST_DATABASE_URL)")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_postgresql_connections_run_without_jit(app, database_url):
    """PostgreSQL's JIT compiled the « À faire » count for 1.5 s to run it for 0.2 s."""
    if not database_url.startswith("postgresql"):
        pytest.skip("JIT is PostgreSQL's: this run uses SQLite")
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
            conn.rollback()  # the setting outlives a transaction rolled back
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
        db.engine.dispose()  # a new connection gets it too
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"


def test_foreign_keys_are_enforced(ctx):
    db.session.add(Membership(user_id=999_999, organisation_id=999_999))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
