"""The Alembic migrations build exactly the models' schema on an empty database, and undo it."""

import importlib.util
import json
import warnings
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, Table, insert, inspect, select, text
from sqlalchemy.exc import SAWarning

from portal.conventions.models import signing_party_rows
from portal.extensions import db
from tests.support import another_app, load_demo_copy, temporary_database


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new database: a SQLite file, or a PostgreSQL database created and dropped here."""
    with temporary_database("portal_migrations", tmp_path) as url:
        yield url


@pytest.fixture
def fresh_app(empty_database_url):
    with another_app(empty_database_url) as application:
        yield application


@pytest.fixture
def app_at_head(database_at_head, tmp_path):
    """An app on a database of its own, already at head: a copy of the process's template
    (the full chain from base is what ``test_upgrade_builds…`` tests, once)."""
    with (
        temporary_database("portal_migrations", tmp_path, template=database_at_head) as url,
        another_app(url) as application,
    ):
        yield application


def migration_module(revision: str):
    """The migration file of ``revision``, imported as a module."""
    (path,) = (Path(__file__).parents[2] / "migrations" / "versions").glob(f"{revision}_*.py")
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def _copy(conn, name: str, where: str, **overrides) -> tuple[int, int]:
    """Insert a copy of the first row of ``name`` matching ``where``: (copy id, its id)."""
    table = Table(name, MetaData(), autoload_with=conn, resolve_fks=False)
    row = conn.execute(select(table).where(text(where)).order_by(table.c.id).limit(1)).one()
    values = {**row._asdict(), **overrides}
    source = values.pop("id")
    return conn.execute(insert(table).values(**values)).inserted_primary_key[0], source


def _row(conn, name: str, ident: int):
    table = Table(name, MetaData(), autoload_with=conn, resolve_fks=False)
    return conn.execute(select(table).where(table.c.id == ident)).one()


def test_unique_keys_migration_keeps_the_rows_races_repeated(app_at_head):
    """Issue #11: the migration adding the unique keys runs on a database where races and
    double submits already repeated rows (here the demo, with one repeat of each kind):
    every row is kept, moved out of the new key."""
    with app_at_head.app_context():
        # The demo is written by today's models, so it is loaded at head, then the schema is
        # taken back to the revision before the keys (dropping what later revisions added).
        load_demo_copy(app_at_head)
        db.session.remove()
        downgrade(revision="047cca648fab")
        with db.engine.begin() as conn:
            revision, _ = _copy(conn, "section_revisions", "version IS NOT NULL")
            immersion, _ = _copy(conn, "immersions", "period_id <> ''")
            debrief, _ = _copy(conn, "debriefs", "1 = 1")
            line, _ = _copy(
                conn, "debrief_trainees", "immersion_id IS NOT NULL", debrief_id=debrief
            )
            trainee, _ = _copy(conn, "trainees", "email <> ''", promise_id=None, last_name="Bis")
            evaluation, first = _copy(conn, "evaluations", "1 = 1")
        upgrade()
        assert schema_differences() == []
        with db.engine.connect() as conn:
            moved = _row(conn, "section_revisions", revision)
            assert (moved.version, moved.kind) == (None, "draft")
            assert moved.resolved_at is not None
            assert _row(conn, "immersions", immersion).period_id == ""
            assert _row(conn, "debrief_trainees", line).immersion_id is None
            assert _row(conn, "trainees", trainee).email == ""
            shift = (
                _row(conn, "evaluations", evaluation).held_at
                - _row(conn, "evaluations", first).held_at
            )
            assert shift == timedelta(seconds=1)


def test_amendments_migration_puts_in_force_what_the_validated_versions_froze(app_at_head):
    """Issue #12 §3: conventions validated before the migration get their design in force
    (read from the validated version's frozen text) and the date from which parties and
    promises change through an amendment."""
    with app_at_head.app_context():
        load_demo_copy(app_at_head)
        db.session.remove()
        with db.engine.connect() as conn:
            expected = conn.execute(
                text(
                    "SELECT d.operation_id, d.in_force_number, o.convention_in_force_since "
                    "FROM designs d JOIN operations o ON o.id = d.operation_id "
                    "WHERE d.in_force IS NOT NULL ORDER BY d.operation_id"
                )
            ).all()
            in_force = dict(
                conn.execute(
                    text("SELECT operation_id, in_force FROM designs WHERE in_force IS NOT NULL")
                ).all()
            )
        assert len(expected) >= 3  # the running, follow-up and closed demo operations
        downgrade(revision="7f6ca049417c")
        upgrade()
        assert schema_differences() == []
        with db.engine.connect() as conn:
            again = conn.execute(
                text(
                    "SELECT d.operation_id, d.in_force_number, o.convention_in_force_since "
                    "FROM designs d JOIN operations o ON o.id = d.operation_id "
                    "WHERE d.in_force IS NOT NULL ORDER BY d.operation_id"
                )
            ).all()
            backfilled = dict(
                conn.execute(
                    text("SELECT operation_id, in_force FROM designs WHERE in_force IS NOT NULL")
                ).all()
            )
        assert again == expected
        assert {k: _json(v) for k, v in backfilled.items()} == {
            k: _json(v) for k, v in in_force.items()
        }


def _json(value):
    """A JSON column as read by a raw query: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def test_promised_contracts_migrate_to_types_with_durations(app_at_head):
    """Issue #12: the five contract types of positions and promises become a type with a
    duration; what counted as lasting still does and nothing else starts to. The demo is
    loaded at head, taken back before the change (its CDD of 12 and 4 months become « 6
    mois ou plus » and « moins de 6 mois »), given one row of each old type, and upgraded."""
    with app_at_head.app_context():
        load_demo_copy(app_at_head)
        db.session.remove()
        downgrade(revision="119098836edc")
        copies = {}
        with db.engine.begin() as conn:
            kinds = set(conn.scalars(text("SELECT DISTINCT contract_type FROM need_positions")))
            assert kinds == {"cdi", "cdd_long", "cdd_short", "interim"}
            for old in ("cdi", "cdd_long", "cdd_short", "interim", "alternance"):
                copies[old] = _copy(conn, "need_positions", "1 = 1", contract_type=old)[0]
            promise, _ = _copy(
                conn, "job_promises", "contract_type = 'cdd_long'", rank=99, position_id=None
            )
        upgrade()
        assert schema_differences() == []
        with db.engine.connect() as conn:
            migrated = {
                old: (_row(conn, "need_positions", ident).contract_type,
                      _row(conn, "need_positions", ident).duration_months)
                for old, ident in copies.items()
            }  # fmt: skip
            assert migrated == {
                "cdi": ("cdi", None),
                "cdd_long": ("cdd", 6),
                "cdd_short": ("cdd", None),
                "interim": ("interim", None),
                "alternance": ("alternance", None),
            }
            row = _row(conn, "job_promises", promise)
            assert (row.contract_type, row.duration_months) == ("cdd", 6)


def test_dashboard_figures_migration_backfills_a_database_holding_operations(app_at_head):
    """Issue #16: the migration that adds the dashboard's per-operation figures counts the
    operations already there (an empty database skips the count: see the migration)."""
    query = text(
        "SELECT operation_id, recruited, in_training, exited, promises, promises_kept "
        "FROM operation_figures ORDER BY operation_id"
    )
    with app_at_head.app_context():
        load_demo_copy(app_at_head)
        db.session.remove()
        with db.engine.connect() as conn:
            expected = conn.execute(query).all()
        assert len(expected) >= 5 and any(row.recruited for row in expected)
        downgrade(revision="c3a9e5d17b42")
        assert "operation_figures" not in inspect(db.engine).get_table_names()
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(query).all() == expected


def test_dashboard_groups_migration_adds_up_the_operations_already_there(app_at_head):
    """Issue #16: the migration that adds the dashboard's groups fills them, and places each
    operation in its group, from the per-operation counts alone: the same rows as the
    session keeps (reporting.groups)."""
    groups = text(
        "SELECT year, territory_id, category, lot_id, provider_id, status, operations, "
        "target_headcount, recruited, promises, employed_m6 FROM dashboard_groups "
        "WHERE operations > 0 ORDER BY year, territory_id, category, lot_id, provider_id, status"
    )
    placed = text(
        "SELECT f.operation_id, g.year, g.territory_id, g.status, f.target_headcount "
        "FROM operation_figures f JOIN dashboard_groups g ON g.id = f.group_id "
        "ORDER BY f.operation_id"
    )
    years = text(
        "SELECT g.year, g.territory_id, g.status, y.exit_year, y.kind, y.followed, y.employed "
        "FROM dashboard_group_years y JOIN dashboard_groups g ON g.id = y.group_id "
        "WHERE y.followed > 0 ORDER BY 1, 2, 3, 4, 5"
    )
    with app_at_head.app_context():
        load_demo_copy(app_at_head)
        db.session.remove()
        with db.engine.connect() as conn:
            expected = [conn.execute(q).all() for q in (groups, placed, years)]
            # Read on this connection, closed before the downgrade: a session's read would
            # leave its transaction open, holding a lock on operations that the downgrade's
            # DROP TABLE of a table referencing it (operation_signatories) waits for, forever,
            # on PostgreSQL (a CI run hung here).
            operations = conn.scalar(text("SELECT count(*) FROM operations"))
        assert len(expected[0]) >= 5 and expected[2]
        assert len(expected[1]) == operations
        downgrade(revision="d5e8a3c1f0b9")
        assert "dashboard_groups" not in inspect(db.engine).get_table_names()
        upgrade()
        with db.engine.connect() as conn:
            assert [conn.execute(q).all() for q in (groups, placed, years)] == expected


def test_dashboard_tallies_migration_counts_the_signatures_and_followups_there(app_at_head):
    """Issue #16: the migration that adds the dashboard's tallies (standing signatures per
    organisation, awaited follow-ups per due date, per operation and per group) fills them
    from the rows already there: the same rows as the session keeps (reporting.groups).
    The later migration of each version's signing parties (downgraded and upgraded with
    it) fills them as the versions' flush does, with its frozen copy of the model's rule."""
    tallies = [
        text("SELECT version_id, organisation_id FROM convention_signing_parties ORDER BY 1, 2"),
        text("SELECT operation_id, organisation_id, signatures FROM operation_signatories "
             "ORDER BY 1, 2"),
        text("SELECT operation_id, due_on, milestones FROM operation_awaiting ORDER BY 1, 2"),
        text("SELECT g.year, g.territory_id, g.status, g.provider_id, t.organisation_id, "
             "t.signatures FROM dashboard_group_signatories t "
             "JOIN dashboard_groups g ON g.id = t.group_id WHERE t.signatures > 0 "
             "ORDER BY 1, 2, 3, 4, 5"),
        text("SELECT g.year, g.territory_id, g.status, g.provider_id, t.due_on, t.milestones "
             "FROM dashboard_group_awaiting t JOIN dashboard_groups g ON g.id = t.group_id "
             "WHERE t.milestones > 0 ORDER BY 1, 2, 3, 4, 5"),
    ]  # fmt: skip
    with app_at_head.app_context():
        load_demo_copy(app_at_head)
        db.session.remove()
        with db.engine.connect() as conn:
            expected = [conn.execute(q).all() for q in tallies]
            texts = conn.execute(text("SELECT id, canonical FROM convention_versions")).all()
        assert all(expected), expected
        frozen = migration_module("8b4f2d6e1a37").signing_party_rows
        assert [frozen(*t) for t in texts] == [signing_party_rows(*t) for t in texts]
        downgrade(revision="3ccf208db3f6")
        tables = inspect(db.engine).get_table_names()
        assert "operation_signatories" not in tables
        assert "convention_signing_parties" not in tables
        upgrade()
        with db.engine.connect() as conn:
            assert [conn.execute(q).all() for q in tallies] == expected
