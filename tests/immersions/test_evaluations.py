"""Evaluations on the services: invitations (in the portal and by e-mail), attendance after
the event and its count on the operation page, results by kind, a jury's certification."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db
from portal.immersions import evaluations, queries
from portal.immersions.models import EvaluationKind, Outcome
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.recruitment.models import ExitReason, TraineeStatus, TraineeStatusChange
from tests.immersions.factories import Running, make_trainee


@pytest.fixture
def running(ctx):
    return Running()


def plan(running, kind=EvaluationKind.INTERMEDIATE, *, days=-1, invitees=None):
    """An evaluation ``days`` from now (past by default) inviting the given users."""
    invitees = invitees if invitees is not None else [running.tutor_e, running.employer_member]
    return evaluations.create_evaluation(
        running.operation,
        {
            "kind": kind,
            "held_at": utcnow() + timedelta(days=days),
            "place": "Centre de Tours, salle 2",
            "notes": "Prévoir une heure.",
            "invitee_ids": [u.id for u in invitees],
        },
        **running.carrier,
    )


def test_invitable_people_are_the_signatory_employers_members_tutors_first(running):
    people = evaluations.invitable_people(running.operation)
    names = {
        employer.name: [(u.email, tutor) for u, tutor in members] for employer, members in people
    }
    assert list(names) == ["Entreprise E", "Entreprise F"]
    assert names["Entreprise E"][:2] == [
        ("tutrice.e@example.fr", True),
        ("tuteur.e@example.fr", True),
    ]
    assert ("e.admin@example.fr", False) in names["Entreprise E"]
    assert "dehors@example.fr" not in str(names)


def test_planning_invites_in_the_portal_and_by_email(running):
    evaluation = plan(running, EvaluationKind.JURY, days=10)
    assert {i.user_id for i in evaluation.invitations} == {
        running.tutor_e.id,
        running.employer_member.id,
    }
    assert all(i.attended is None for i in evaluation.invitations)
    notes = db.session.scalars(
        select(Notification).where(Notification.kind == "evaluation_invitation")
    ).all()
    assert {n.user_id for n in notes} == {running.tutor_e.id, running.employer_member.id}
    assert "jury de certification" in notes[0].message
    assert f"/evaluations/{evaluation.id}" in notes[0].link
    subjects = db.session.scalars(select(OutboxMessage.subject)).all()
    assert (
        subjects.count("Invitation : Jury de certification — Agent·e de propreté et d'hygiène") == 2
    )


def test_only_members_of_signatory_employers_are_invited(running):
    for outsider in (running.outsider, running.market.partner_user, running.of_staff):
        with pytest.raises(RuleError, match="entreprises signataires") as exc:
            plan(running, invitees=[outsider])
        assert exc.value.field == "invitee_ids"
    with pytest.raises(RuleError, match="Seul l'organisme"):
        evaluations.create_evaluation(
            running.operation,
            {"kind": EvaluationKind.FINAL, "held_at": utcnow(), "place": "Ici"},
            by=running.market.employer_user,
            org=running.market.employer,
        )


def test_attendance_is_recorded_after_the_event_and_counted(running):
    coming = plan(running, days=5)
    with pytest.raises(RuleError, match="pas encore eu lieu"):
        evaluations.record_attendance(coming, [running.tutor_e.id], **running.carrier)
    held = plan(running, days=-2)
    with pytest.raises(RuleError, match="personnes invitées"):
        evaluations.record_attendance(held, [running.tutor_f.id], **running.carrier)
    assert evaluations.record_attendance(held, [running.tutor_e.id], **running.carrier) == 1
    assert {i.user_id: i.attended for i in held.invitations} == {
        running.tutor_e.id: True,
        running.employer_member.id: False,
    }
    nobody = plan(running, days=-1)
    evaluations.record_attendance(nobody, [], **running.carrier)
    figures = queries.figures(running.operation)
    assert (figures.evaluations_held, figures.evaluations_attended, figures.people_attended) == (
        2,
        1,
        1,
    )


def test_results_follow_the_kind_of_evaluation(running):
    alice = make_trainee(running, "Alice", "Durand")
    review = plan(running, EvaluationKind.INTERMEDIATE)
    with pytest.raises(RuleError, match="impossible pour : Bilan intermédiaire") as exc:
        evaluations.record_results(
            review, [{"trainee": alice, "outcome": Outcome.FULL}], **running.carrier
        )
    assert exc.value.field == f"outcome-{alice.id}"
    assert (
        evaluations.record_results(
            review,
            [{"trainee": alice, "outcome": Outcome.TO_IMPROVE, "comment": "Rythme"}],
            **running.carrier,
        )
        == 1
    )
    assert review.results[0].outcome == Outcome.TO_IMPROVE
    # A blank outcome removes the result.
    assert (
        evaluations.record_results(review, [{"trainee": alice, "outcome": None}], **running.carrier)
        == 0
    )
    assert alice.status == TraineeStatus.IN_TRAINING


def test_a_jury_certifies_fully_or_partly_by_blocks(running):
    alice = make_trainee(running, "Alice", "Durand")
    bob = make_trainee(running, "Bob", "Petit")
    chloe = make_trainee(running, "Chloé", "Roux")
    jury = plan(running, EvaluationKind.JURY)
    with pytest.raises(RuleError, match="blocs de compétences obtenus par Bob Petit"):
        evaluations.record_results(
            jury, [{"trainee": bob, "outcome": Outcome.PARTIAL, "blocks": " "}], **running.carrier
        )
    rows = [
        {"trainee": alice, "outcome": Outcome.FULL},
        {"trainee": bob, "outcome": Outcome.PARTIAL, "blocks": "BC01, BC03"},
        {"trainee": chloe, "outcome": Outcome.NOT_OBTAINED},
    ]
    assert evaluations.record_results(jury, rows, **running.carrier) == 3
    assert alice.status == TraineeStatus.CERTIFIED
    assert (bob.status, chloe.status) == (TraineeStatus.IN_TRAINING, TraineeStatus.IN_TRAINING)
    assert {r.trainee_id: r.blocks for r in jury.results}[bob.id] == "BC01, BC03"
    change = db.session.scalar(
        select(TraineeStatusChange).where(TraineeStatusChange.trainee_id == alice.id)
    )
    assert change.to_status == TraineeStatus.CERTIFIED and "jury" in change.reason
    # Recorded again: no second status change.
    evaluations.record_results(jury, rows, **running.carrier)
    changes = db.session.scalars(
        select(TraineeStatusChange).where(TraineeStatusChange.trainee_id == alice.id)
    ).all()
    assert len(changes) == 1


def test_a_trainee_who_dropped_out_cannot_be_certified(running):
    dan = make_trainee(running, "Dan", "Parti", status=TraineeStatus.EXITED)
    dan.exit_reason = ExitReason.DROPOUT
    jury = plan(running, EvaluationKind.JURY)
    with pytest.raises(RuleError, match="Dan Parti : Après une sortie") as exc:
        evaluations.record_results(
            jury, [{"trainee": dan, "outcome": Outcome.FULL}], **running.carrier
        )
    assert exc.value.field == f"outcome-{dan.id}"
    assert dan.status == TraineeStatus.EXITED
