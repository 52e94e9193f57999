"""Review of issue #11: immersion verbs that read then wrote without a row lock.

Each verb is served while another request holds the row it decides on (``while_held``): it
must wait for that request and decide on what it left, on SQLite and on PostgreSQL. Before
the fix, it read the state from before and acted on it.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.core.time import utcnow
from portal.extensions import db
from portal.immersions import assessments, evaluations, services
from portal.immersions.models import (
    Evaluation,
    EvaluationInvitation,
    EvaluationKind,
    Immersion,
    Presence,
    SkillLevel,
    TutorAssessment,
    WouldHire,
)
from tests.design.concurrency_helpers import BASE_URL, acting, while_held
from tests.immersions.factories import TODAY, Running, generate, make_trainee


@pytest.fixture
def site(app) -> dict:
    """A committed running operation: Alice placed at Entreprise E, her past immersion
    tutored by Paul, and an evaluation to which Paul and a member of E are invited."""
    with app.test_request_context(base_url=BASE_URL):
        running = Running()
        market = running.market
        alice = make_trainee(running, "Alice", "Durand", employer=market.employer)
        generate(running)
        immersion = db.session.scalar(
            select(Immersion)
            .where(Immersion.trainee_id == alice.id, Immersion.ends_on < TODAY)
            .order_by(Immersion.id)
        )
        immersion.tutor_id = running.tutor_e.id
        held_at = (utcnow() + timedelta(days=7)).replace(microsecond=0)
        evaluation = evaluations.create_evaluation(
            running.operation,
            {
                "kind": EvaluationKind.INTERMEDIATE,
                "held_at": held_at,
                "place": "Centre de Tours, salle 2",
                "invitee_ids": [running.tutor_e.id, running.employer_member.id],
            },
            **running.carrier,
        )
        ids = {
            "operation": running.operation.id,
            "immersion": immersion.id,
            "evaluation": evaluation.id,
            "after": held_at + timedelta(hours=3),
            "carrier": (market.a_user.id, market.of_a.id),
            "tutor": (running.tutor_e.id, market.employer.id),
            "tutor_id": running.tutor_e.id,
            "member_id": running.employer_member.id,
            "elsewhere": market.employer2.id,
            "skill": running.skill_ids[0],
        }
        db.session.commit()
        db.session.remove()
    return ids


def _assess(site):
    def assess():
        data = {
            "presence": Presence.FULL,
            "would_hire": WouldHire.YES,
            "feedback": "Ponctuelle.",
            "ratings": [{"skill_id": site["skill"], "level": SkillLevel.ACQUIRED, "comment": ""}],
        }
        immersion = db.session.get(Immersion, site["immersion"])
        assessments.record_assessment(immersion, data, **acting(site["tutor"]))

    return assess


def test_an_immersion_moved_while_its_tutor_assesses_it_is_refused(app, site):
    """Review of #11 (row locks): ``update_immersion`` read « not assessed yet » without a
    lock: moved to another employer while the tutor's assessment was being committed, the
    assessed immersion changed host (and lost its tutor). It now waits and refuses."""

    def move():
        immersion = db.session.get(Immersion, site["immersion"])
        services.update_immersion(
            immersion,
            {
                "employer": db.session.get(Organisation, site["elsewhere"]),
                "tutor": None,
                "starts_on": immersion.starts_on,
                "ends_on": immersion.ends_on,
                "objectives": [],
            },
            **acting(site["carrier"]),
        )

    assert while_held(app, _assess(site), move) == [
        "done",
        "refused: Le ou la tuteur·rice a déjà évalué cette immersion : l'entreprise et le "
        "tutorat ne changent plus.",
    ]
    with app.app_context():
        immersion = db.session.get(Immersion, site["immersion"])
        assert (immersion.employer_id, immersion.tutor_id) == (
            site["tutor"][1],
            site["tutor_id"],
        )
        db.session.remove()


def test_an_immersion_deleted_while_its_tutor_assesses_it_is_refused(app, site):
    """Review of #11 (row locks): ``delete_immersion`` read « not assessed » without a lock:
    deleted while the assessment was being committed, it failed on the assessment's foreign
    key (a 500) or removed an assessed immersion. It now waits and refuses in French."""

    def delete():
        immersion = db.session.get(Immersion, site["immersion"])
        services.delete_immersion(immersion, **acting(site["carrier"]))

    assert while_held(app, _assess(site), delete) == [
        "done",
        "refused: Une immersion évaluée ou débriefée reste au parcours du ou de la stagiaire.",
    ]
    with app.app_context():
        assert db.session.get(Immersion, site["immersion"]) is not None
        assert db.session.scalar(select(TutorAssessment.id)) is not None
        db.session.remove()


def test_two_attendance_records_at_once_give_one_of_them(app, site):
    """Review of #11 (row locks): ``record_attendance`` read the invitations without a
    lock: a second record served during the first mixed both (it left the first's
    « present » where it meant « absent »). It now waits and its list is the one kept."""

    def record(present: str):
        def work():
            evaluation = db.session.get(Evaluation, site["evaluation"])
            evaluations.record_attendance(
                evaluation, [site[present]], now=site["after"], **acting(site["carrier"])
            )

        return work

    with app.test_request_context(base_url=BASE_URL):  # everybody noted absent, first
        evaluation = db.session.get(Evaluation, site["evaluation"])
        evaluations.record_attendance(evaluation, [], now=site["after"], **acting(site["carrier"]))
        db.session.commit()
        db.session.remove()
    assert while_held(app, record("tutor_id"), record("member_id")) == ["done", "done"]
    with app.app_context():
        present = db.session.scalars(
            select(EvaluationInvitation.user_id).where(EvaluationInvitation.attended.is_(True))
        ).all()
        db.session.remove()
    assert present == [site["member_id"]]
