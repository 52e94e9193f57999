"""Issue #11, finding 11: double submits created duplicates of immersions, debriefs,
evaluations and assessments.

The same request is served twice at once (a double click, two tabs), each in its own
thread, session and connection (``race``), on the run's database. One row must result,
both requests answer as the first did, and the database's unique keys refuse what a
request taking no lock would still write.
"""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.core.time import utcnow
from portal.extensions import db
from portal.immersions import assessments, debriefs, evaluations, services
from portal.immersions.models import (
    Debrief,
    DebriefKind,
    DebriefTrainee,
    Evaluation,
    EvaluationInvitation,
    EvaluationKind,
    Immersion,
    Presence,
    SkillLevel,
    TutorAssessment,
    WouldHire,
)
from portal.operations.models import Operation
from tests.design.concurrency_helpers import BASE_URL, acting, race
from tests.immersions.factories import TODAY, Running, make_trainee


@pytest.fixture
def site(app):
    """A committed running operation with Alice and Bob placed at Entreprise E."""
    with app.test_request_context(base_url=BASE_URL):
        running = Running()
        employer = running.market.employer
        trainees = [
            make_trainee(running, "Alice", "Durand", employer=employer),
            make_trainee(running, "Bob", "Petit", employer=employer),
        ]
        ids = {
            "operation": running.operation.id,
            "carrier": (running.market.a_user.id, running.market.of_a.id),
            "tutor": (running.tutor_e.id, employer.id),
            "invitees": [running.tutor_e.id, running.employer_member.id],
            "skill": running.skill_ids[0],
            "trainees": [t.id for t in trainees],
        }
        db.session.commit()
        db.session.remove()
    return ids


def _operation(site) -> Operation:
    return db.session.get(Operation, site["operation"])


def _count(app, model) -> int:
    with app.app_context():
        value = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return value


def _generated(app, site) -> list[Immersion]:
    """Generate the immersions once (committed); the finished ones."""
    with app.test_request_context(base_url=BASE_URL):
        services.generate_from_rhythm(_operation(site), **acting(site["carrier"]))
        db.session.commit()
        past = db.session.scalars(
            select(Immersion.id).where(Immersion.ends_on < TODAY).order_by(Immersion.id)
        ).all()
        db.session.remove()
    return past


def test_generating_twice_at_once_creates_each_immersion_once(app, site):
    """Issue #11 finding 11: double submits create duplicates (immersion generation)."""

    def generate_now():
        services.generate_from_rhythm(_operation(site), **acting(site["carrier"]))

    assert race(app, generate_now, generate_now) == ["done", "done"]
    with app.app_context():
        pairs = db.session.execute(select(Immersion.trainee_id, Immersion.period_id)).all()
        db.session.remove()
    assert len(pairs) == len(set(pairs)) == 2 * 2  # two trainees, two company periods


def test_the_same_debrief_submitted_twice_at_once_is_recorded_once(app, site):
    """Issue #11 finding 11: double submits create duplicates (debriefs); the second submit
    answers the debrief recorded."""
    immersion_id = _generated(app, site)[0]
    recorded = []

    def record():
        data = {
            "kind": DebriefKind.INDIVIDUAL,
            "held_on": TODAY - timedelta(days=2),
            "immersions": [db.session.get(Immersion, immersion_id)],
            "went_well": "Bonne intégration.",
        }
        debrief = debriefs.record_debrief(_operation(site), data, **acting(site["carrier"]))
        recorded.append(debrief.id)

    assert race(app, record, record) == ["done", "done"]
    assert len(set(recorded)) == 1
    assert _count(app, Debrief) == 1 and _count(app, DebriefTrainee) == 1


def test_the_same_evaluation_planned_twice_at_once_is_planned_once(app, site):
    """Issue #11 finding 11: double submits create duplicates (evaluations); nobody is
    invited twice."""
    held_at = (utcnow() + timedelta(days=7)).replace(microsecond=0)
    planned = []

    def plan():
        data = {
            "kind": EvaluationKind.INTERMEDIATE,
            "held_at": held_at,
            "place": "Centre de Tours, salle 2",
            "invitee_ids": site["invitees"],
        }
        carrier = acting(site["carrier"])
        evaluation = evaluations.create_evaluation(_operation(site), data, **carrier)
        planned.append(evaluation.id)

    assert race(app, plan, plan) == ["done", "done"]
    assert len(set(planned)) == 1
    assert _count(app, Evaluation) == 1 and _count(app, EvaluationInvitation) == 2


def test_an_assessment_submitted_twice_at_once_is_recorded_once(app, site):
    """Issue #11 finding 11: two submits of the tutor's assessment at once gave two rows
    for one immersion (refused by its unique key: a 500); the second now updates the first."""
    immersion_id = _generated(app, site)[0]
    with app.app_context():
        db.session.get(Immersion, immersion_id).tutor_id = site["tutor"][0]
        db.session.commit()
        db.session.remove()

    def assess():
        data = {
            "presence": Presence.FULL,
            "would_hire": WouldHire.YES,
            "feedback": "Ponctuelle.",
            "ratings": [{"skill_id": site["skill"], "level": SkillLevel.ACQUIRED, "comment": ""}],
        }
        immersion = db.session.get(Immersion, immersion_id)
        assessments.record_assessment(immersion, data, **acting(site["tutor"]))

    assert race(app, assess, assess) == ["done", "done"]
    assert _count(app, TutorAssessment) == 1


def _refused_by_the_database(*rows) -> None:
    db.session.add_all(rows)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_database_refuses_repeated_immersions_debrief_lines_and_evaluations(app, site):
    """Issue #11 finding 11: the unique keys behind the rules (one immersion per trainee
    per rhythm period, one debrief line per immersion, one evaluation of a kind at a time)."""
    immersion_id = _generated(app, site)[0]
    with app.app_context():
        immersion = db.session.get(Immersion, immersion_id)
        fields = {
            c.key: getattr(immersion, c.key)
            for c in Immersion.__table__.columns
            if c.key not in ("id", "period_id")
        }
        db.session.add(Immersion(**fields, period_id=""))  # added by hand: no period
        db.session.flush()
        db.session.rollback()
        _refused_by_the_database(Immersion(**fields, period_id=immersion.period_id))

        def debrief(immersion_id):
            line = DebriefTrainee(trainee_id=fields["trainee_id"], immersion_id=immersion_id)
            return Debrief(
                operation_id=fields["operation_id"],
                kind=DebriefKind.INDIVIDUAL,
                held_on=TODAY,
                trainees=[line],
            )

        db.session.add_all([debrief(None), debrief(None)])  # lines without an immersion
        db.session.flush()
        db.session.rollback()
        _refused_by_the_database(debrief(immersion_id), debrief(immersion_id))
        when = utcnow().replace(microsecond=0)
        _refused_by_the_database(
            *[
                Evaluation(
                    operation_id=fields["operation_id"],
                    kind=EvaluationKind.FINAL,
                    held_at=when,
                    place="Tours",
                )
                for _n in range(2)
            ]
        )
        db.session.remove()
