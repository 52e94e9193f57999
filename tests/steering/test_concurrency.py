"""Read-then-write verbs of the committee served at once (SQLite file or PostgreSQL, each
attempt in its own thread, context, session and connection): attendance recorded twice,
the minutes approved twice, an action marked done twice. A refusal is a ``RuleError`` in
French (a form error for the views), never a 500; the state is one of a serial order."""

from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.steering import minutes
from portal.steering.models import (
    Presence,
    SteeringAction,
    SteeringAttendance,
    SteeringMeeting,
)
from portal.steering.rules import paris
from tests.design.concurrency_helpers import BASE_URL, acting, race
from tests.steering.factories import Committee


def _world(app, *, ready=False) -> dict:
    with app.test_request_context(base_url=BASE_URL):
        world = Committee()
        meeting = world.ready() if ready else world.held()
        m = world.market
        action = minutes.add_action(
            meeting,
            {
                "title": "Envoyer les fiches de poste",
                "owner_org_id": m.employer.id,
                "owner_user_id": None,
                "due_on": paris(meeting.starts_at).date(),
            },
            **world.region,
        )
        ids = {
            "meeting": meeting.id,
            "action": action.id,
            "members": [x.id for x in meeting.committee.active_members()],
            "carrier": (m.a_user.id, m.of_a.id),
            "region": (m.referent.id, m.region.id),
            "employer": (m.employer_user.id, m.employer.id),
            "version": (minutes.minutes_section(meeting).version if ready else None),
        }
        db.session.commit()
        db.session.remove()
    return ids


def _audited(app, action: str) -> int:
    with app.app_context():
        found = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )
        db.session.remove()
    return found


def test_attendance_recorded_at_once_keeps_one_row_per_member(app):
    ids = _world(app)

    def record(presence, who):
        def work():
            meeting = db.session.get(SteeringMeeting, ids["meeting"])
            chosen = {member: presence for member in ids["members"]}
            minutes.record_attendance(meeting, chosen, **acting(ids[who]))

        return work

    outcomes = race(
        app,
        record(Presence.PRESENT, "carrier"),
        record(Presence.EXCUSED, "region"),
        record(Presence.ABSENT, "carrier"),
        record(Presence.PRESENT, "region"),
    )
    assert outcomes == ["done"] * 4
    with app.app_context():
        rows = db.session.scalars(
            select(SteeringAttendance).where(SteeringAttendance.meeting_id == ids["meeting"])
        ).all()
        assert sorted(r.member_id for r in rows) == sorted(ids["members"])
        assert len({r.presence for r in rows}) == 1  # one request's choice, not a mix
        db.session.remove()
    assert _audited(app, "operation.steering_attendance_recorded") == 4


def test_minutes_approved_twice_at_once_are_approved_once(app):
    ids = _world(app, ready=True)

    def approve():
        meeting = db.session.get(SteeringMeeting, ids["meeting"])
        minutes.approve_minutes(meeting, ids["version"], **acting(ids["carrier"]))

    outcomes = race(app, approve, approve, approve)
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("done") == 1
    assert (
        sorted(o for o in outcomes if o != "done")
        == ["refused: Le compte rendu est approuvé : la réunion ne se modifie plus."] * 2
    )
    assert _audited(app, "operation.steering_minutes_approved") == 1


def test_a_decision_racing_the_approval_is_in_the_approved_minutes_or_refused(app):
    ids = _world(app, ready=True)

    def approve():
        meeting = db.session.get(SteeringMeeting, ids["meeting"])
        minutes.approve_minutes(meeting, ids["version"], **acting(ids["carrier"]))

    def decide():
        meeting = db.session.get(SteeringMeeting, ids["meeting"])
        minutes.add_decision(meeting, "Décision de dernière minute.", **acting(ids["region"]))

    outcomes = race(app, approve, decide)
    assert outcomes[0] == "done"
    assert outcomes[1] in (
        "done",
        "refused: Le compte rendu est approuvé : la réunion ne se modifie plus.",
    )


def test_an_action_marked_done_at_once_is_done_once(app):
    ids = _world(app)

    def mark(who):
        def work():
            action = db.session.get(SteeringAction, ids["action"])
            minutes.mark_action_done(action, **acting(ids[who]))

        return work

    outcomes = race(app, mark("employer"), mark("carrier"), mark("employer"), mark("region"))
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("done") == 1
    assert all("déjà faite" in o for o in outcomes if o != "done")
    assert _audited(app, "operation.steering_action_done") == 1
