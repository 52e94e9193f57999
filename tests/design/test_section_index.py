"""How the database reaches a design's sections and their comments (issue #16).

The unique index on ``design_sections.meeting_id`` holds only the minutes (``meeting_id IS
NOT NULL``): a unique index holding every section led SQLite, for « meeting_id IS NULL »
(a design's own sections and clauses), to read every section of no meeting — all of them
but the minutes — instead of one design's by ``design_id``; likewise the index on
``design_comments.parent_id`` holds only the replies, or « parent_id IS NULL » (a page's
threads) read every thread of every design. The co-design and convention pages cost twice
as much at 10,000 operations as at 100 with the same queries.
"""

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError

from portal.design.models import DesignSection, SectionKey
from portal.extensions import db
from tests.bench_scale import DOMAIN, key_pages
from tests.support import CsrfClient, load_demo_copy, login_as

PAGES = ("co-conception", "convention", "version de la convention")


def _statements(app, client, path: str) -> list[tuple[str, tuple]]:
    """The SELECT statements (with their parameters) of one GET of ``path``."""
    found = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            found.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200, path
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return found


def test_the_pages_read_a_designs_sections_by_design_not_by_meeting(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's plans (PostgreSQL plans from its statistics)")
    load_demo_copy(app)
    app.test_client_class = CsrfClient
    client = app.test_client()
    login_as(client, f"of@{DOMAIN}")
    with app.test_request_context():
        paths = {label: path for label, _who, path, _headers in key_pages()}
    plans = []
    for label in PAGES:
        client.get(paths[label])  # warm-up: the first request may load what others reuse
        for statement, parameters in _statements(app, client, paths[label]):
            if "design_sections" not in statement:
                continue
            with app.app_context():
                rows = db.session.connection().exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                )
                plans.append((label, [row[-1] for row in rows]))
    assert plans
    for label, plan in plans:
        on_sections = [line for line in plan if "design_sections" in line]
        assert not [line for line in on_sections if "meeting_id" in line], (label, plan)
        assert not [line for line in on_sections if line.startswith("SCAN")], (label, plan)
        # The replies of the threads found are joined by parent_id (a LEFT JOIN): the
        # threads themselves are found through their sections.
        by_parent = [line for line in plan if "(parent_id=?)" in line]
        assert all(line.endswith("LEFT-JOIN") for line in by_parent), (label, plan)


def test_a_meeting_has_one_minutes_section_and_a_design_many_of_no_meeting(app):
    load_demo_copy(app)  # its committee's meetings have their minutes
    with app.app_context():
        indexes = {i["name"]: i for i in inspect(db.engine).get_indexes("design_sections")}
        assert indexes["uq_design_sections_meeting_id"]["unique"]
        assert indexes["uq_design_sections_meeting_id"]["column_names"] == ["meeting_id"]
        replies = inspect(db.engine).get_indexes("design_comments")
        assert "ix_design_comments_parent_id" in {i["name"] for i in replies}
        minutes = db.session.scalars(
            select(DesignSection).where(DesignSection.meeting_id.is_not(None))
        ).first()
        design = minutes.design
        assert sum(1 for s in design.parts if s.meeting_id is None) > 1
        db.session.add(
            DesignSection(
                design_id=design.id,
                key=SectionKey.MINUTES,
                meeting_id=minutes.meeting_id,
                version=1,
                content={"text": ""},
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
