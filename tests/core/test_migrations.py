"""The Alembic migrations build exactly the models' schema on an empty database, and undo it."""

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy.exc import SAWarning

from portal import create_app
from portal.extensions import db
from tests.support import app_config, temporary_database


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new database: a SQLite file, or a PostgreSQL database created and dropped here."""
    with temporary_database("portal_migrations", tmp_path) as url:
        yield url


@pytest.fixture
def fresh_app(empty_database_url):
    application = create_app(app_config(empty_database_url))
    yield application
    with application.app_context():
        db.engine.dispose()


def schema_differences() -> list:
    """What ``flask db migrate`` would generate now: the models against the database."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        with warnings.catch_warnings():
            # SQLite cannot reflect the expression index uq_users_email_lower (lower(email)),
            # so SQLAlchemy and Alembic warn that they skip it (PostgreSQL compares it). The
            # migration creates it by hand; test_services checks that it refuses case variants.
            warnings.filterwarnings(
                "ignore",
                r"Skipped unsupported reflection of expression-based index uq_users_email_lower",
                SAWarning,
            )
            warnings.filterwarnings(
                "ignore",
                r"autogenerate skipping metadata-specified expression-based index "
                r"'uq_users_email_lower'",
                UserWarning,
            )
            return compare_metadata(context, db.metadata)


def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(fresh_app):
    with fresh_app.app_context():
        assert inspect(db.engine).get_table_names() == []
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert tables == {t.name for t in db.metadata.sorted_tables} | {"alembic_version"}
        assert schema_differences() == []

        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        # And up again: the downgrade left nothing behind that would get in the way.
        upgrade()
        assert schema_differences() == []
