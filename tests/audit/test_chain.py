"""The audit hash chain: every event links to the previous one, and ``verify_chain`` (and
``flask --app portal audit verify``) reports any event altered or deleted behind the ORM's
back, including the last one. The migration that introduced the chain backfills the
events written before it."""

import json
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select, text

from portal import create_app
from portal.audit.chain import GENESIS, canonical_event, event_hash
from portal.audit.models import AuditChainHead, AuditEvent
from portal.audit.services import record, verify_chain
from portal.extensions import db
from tests.support import app_config, temporary_database


def events() -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()


def raw(sql: str, **params) -> None:
    """Run SQL on a connection of its own: no ORM guard, as a person with DB access would."""
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


@pytest.fixture
def chain(app):
    """Five committed events (seq 1..5) in an app context."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.7"}):
        for n in range(1, 6):
            record("test.event", n=n, text=f"Évènement n°{n}")
        db.session.commit()
        yield
        db.session.rollback()


# --- Chaining ----------------------------------------------------------------------------


def test_record_chains_events_in_sequence(chain):
    found = events()
    assert [e.seq for e in found] == [1, 2, 3, 4, 5]
    assert found[0].prev_hash == GENESIS
    for before, after in zip(found, found[1:], strict=False):
        assert after.prev_hash == before.hash
    for event in found:
        fields = {
            "at": event.at,
            "actor_id": event.actor_id,
            "organisation_id": event.organisation_id,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "detail": event.detail,
            "ip": event.ip,
            "user_agent": event.user_agent,
        }
        assert event.hash == event_hash(event.prev_hash, canonical_event(seq=event.seq, **fields))
    head = db.session.get(AuditChainHead, 1)
    assert (head.seq, head.hash) == (5, found[-1].hash)


def test_an_untouched_chain_verifies(chain):
    assert verify_chain() == []
    # Small batches walk the same chain.
    assert verify_chain(batch=2) == []


def test_an_empty_log_verifies(ctx):
    assert verify_chain() == []


def test_a_rolled_back_event_leaves_no_gap(chain):
    record("test.abandoned")
    db.session.rollback()
    record("test.kept")
    db.session.commit()
    assert [e.seq for e in events()] == [1, 2, 3, 4, 5, 6]
    assert verify_chain() == []


# --- Tampering ---------------------------------------------------------------------------


def test_an_altered_detail_is_reported(chain):
    raw("UPDATE audit_events SET detail = :d WHERE seq = 3", d=json.dumps({"n": 99}))
    assert verify_chain() == [f"event 3 (id {events()[2].id}): content was altered"]


def test_an_altered_action_is_reported(chain):
    raw("UPDATE audit_events SET action = 'test.innocent' WHERE seq = 2")
    problems = verify_chain()
    assert len(problems) == 1 and problems[0].startswith("event 2 ")
    assert "content was altered" in problems[0]


def test_an_altered_time_or_ip_is_reported(chain):
    raw("UPDATE audit_events SET ip = '10.0.0.1' WHERE seq = 4")
    raw("UPDATE audit_events SET at = :at WHERE seq = 1", at=datetime(2020, 1, 1, 12, 0))
    problems = verify_chain()
    assert [p.split(" (")[0] for p in problems] == ["event 1", "event 4"]


def test_a_deleted_middle_event_is_reported(chain):
    raw("DELETE FROM audit_events WHERE seq = 3")
    problems = verify_chain()
    assert "events 3..3 are missing (deleted?)" in problems
    assert any(p.startswith("event 4 ") and "previous hash" in p for p in problems)


def test_a_deleted_last_event_is_reported_by_the_head(chain):
    raw("DELETE FROM audit_events WHERE seq = 5")
    assert verify_chain() == [
        "the chain head says 5 events but 4 were found "
        "(the last events were deleted or the head was altered)"
    ]


def test_a_forger_who_rehashes_the_rest_of_the_chain_is_caught_by_the_head(chain):
    """Rewriting an event and recomputing every later hash still leaves the head behind."""
    found = events()
    prev = found[1].hash
    for event in found[2:]:
        detail = {"n": 0, "text": "réécrit"} if event.seq == 3 else event.detail
        fields = {
            "at": event.at,
            "actor_id": event.actor_id,
            "organisation_id": event.organisation_id,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "detail": detail,
            "ip": event.ip,
            "user_agent": event.user_agent,
        }
        digest = event_hash(prev, canonical_event(seq=event.seq, **fields))
        raw(
            "UPDATE audit_events SET detail = :d, prev_hash = :p, hash = :h WHERE seq = :s",
            d=json.dumps(detail),
            p=prev,
            h=digest,
            s=event.seq,
        )
        prev = digest
    assert len(verify_chain()) == 1
    assert "chain head" in verify_chain()[0]


# --- The command -------------------------------------------------------------------------


def test_the_command_says_an_intact_chain_is_intact(app, chain):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Journal d'audit intact : 5 événement(s) chaîné(s) vérifié(s)." in result.output


def test_the_command_lists_the_problems_and_fails(app, chain):
    raw("UPDATE audit_events SET detail = :d WHERE seq = 2", d=json.dumps({"n": 0}))
    raw("DELETE FROM audit_events WHERE seq = 4")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "Journal d'audit altéré : 3 problème(s) sur 4 événement(s)." in result.output
    assert "  - event 2 " in result.output
    assert "  - events 4..4 are missing (deleted?)" in result.output
    assert "previous hash does not match" in result.output


# --- The migration that introduced the chain ---------------------------------------------


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new database: a SQLite file, or a PostgreSQL database created and dropped."""
    with temporary_database("portal_chain", tmp_path) as url:
        yield url


OLD_EVENTS = sa.table(
    "audit_events",
    sa.column("at", sa.DateTime),
    sa.column("actor_id", sa.Integer),
    sa.column("organisation_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.Integer),
    sa.column("detail", sa.JSON),
    sa.column("ip", sa.String),
    sa.column("user_agent", sa.String),
)


def test_the_migration_chains_the_events_written_before_it(empty_database_url):
    application = create_app(app_config(empty_database_url))
    try:
        with application.app_context():
            upgrade(revision="acba5e712d10")  # the schema before the chain
            rows = [
                {
                    "at": datetime(2026, 3, 1, 9, 30, 0),  # no microseconds
                    "actor_id": None,
                    "organisation_id": None,
                    "action": "account.login",
                    "object_type": "",
                    "object_id": None,
                    "detail": {},
                    "ip": "203.0.113.1",
                    "user_agent": "Firefox",
                },
                {
                    "at": datetime(2026, 3, 1, 9, 31, 2, 123456),
                    "actor_id": None,
                    "organisation_id": None,
                    "action": "operation.need_reported",
                    "object_type": "Operation",
                    "object_id": 7,
                    "detail": {"title": "Agent·e de propreté", "lot": None, "n": [1, 2]},
                    "ip": "",
                    "user_agent": "",
                },
                {
                    "at": datetime(2026, 3, 2, 17, 0, 0, 5),
                    "actor_id": None,
                    "organisation_id": None,
                    "action": "design.approved",
                    "object_type": "Design",
                    "object_id": 3,
                    "detail": {"comment": "Très bien « merci »"},
                    "ip": "2001:db8::1",
                    "user_agent": "Mozilla/5.0",
                },
            ]
            with db.engine.begin() as conn:
                conn.execute(OLD_EVENTS.insert(), rows)
            upgrade()
            found = events()
            assert [(e.seq, e.action) for e in found] == [
                (1, "account.login"),
                (2, "operation.need_reported"),
                (3, "design.approved"),
            ]
            assert verify_chain() == []
            # New events chain on after the backfilled ones.
            record("test.after_migration", ok=True)
            db.session.commit()
            assert events()[-1].seq == 4 and events()[-1].prev_hash == found[-1].hash
            assert verify_chain() == []
            db.session.remove()
    finally:
        with application.app_context():
            db.engine.dispose()
