"""The end of training without HTTP: recording exits, the follow-ups they schedule, and the
guard of the step training → follow-up."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.core.errors import RuleError
from portal.extensions import db
from portal.followup import exits
from portal.followup.models import Milestone, MilestoneKind
from portal.immersions.models import Evaluation, EvaluationKind, EvaluationResult, Outcome
from portal.operations import lifecycle
from portal.operations.models import OperationEvent, Status
from portal.recruitment.models import ExitReason, TraineeStatus
from tests.followup.factories import TODAY, Training, milestone_of
from tests.recruitment.factories import make_trainee

EXIT = TODAY - timedelta(days=10)


@pytest.fixture
def world(ctx):
    return Training()


def test_an_exit_moves_the_trainee_out_and_schedules_three_follow_ups(world):
    notes = world.exit(world.alice, EXIT)
    assert notes == []  # the end of the training keeps the promise
    alice = world.alice
    assert (alice.status, alice.exit_date, alice.exit_reason) == (
        TraineeStatus.EXITED,
        EXIT,
        ExitReason.END_OF_TRAINING,
    )
    assert alice.promise is not None
    due = {m.kind: m.due_on for m in db.session.scalars(select(Milestone))}
    assert due == {
        MilestoneKind.EXIT: EXIT,
        MilestoneKind.M3: exits.rules.add_months(EXIT, 3),
        MilestoneKind.M6: exits.rules.add_months(EXIT, 6),
    }
    event = db.session.scalar(select(OperationEvent).where(OperationEvent.kind == "exit_recorded"))
    assert event.detail == {"reason": "end_of_training"}


def test_an_abandon_needs_its_reason_and_frees_the_promise(world):
    with pytest.raises(RuleError) as refused:
        world.exit(world.bob, EXIT, ExitReason.DROPOUT)
    assert (refused.value.field, refused.value.message) == (
        "exit_detail",
        "Précisez le motif « Abandon » en quelques mots.",
    )
    notes = world.exit(world.bob, EXIT, ExitReason.DROPOUT, "Garde d'enfant impossible.")
    assert notes == [
        "La promesse « Agent·e de propreté » d'Entreprise E est de nouveau à pourvoir."
    ]
    assert world.bob.exit_detail == "Garde d'enfant impossible."
    assert world.bob.promise is None


def test_an_exclusion_is_a_reason_of_its_own(world):
    world.exit(world.chloe, EXIT, ExitReason.EXCLUSION, "Manquements répétés au règlement.")
    db.session.flush()
    assert world.chloe.exit_reason == ExitReason.EXCLUSION


@pytest.mark.parametrize(
    ("exit_date", "reason", "field", "message"),
    [
        (None, ExitReason.END_OF_TRAINING, "exit_date", "Indiquez la date de sortie."),
        (
            TODAY + timedelta(days=1),
            ExitReason.END_OF_TRAINING,
            "exit_date",
            "La date de sortie ne peut pas être dans le futur.",
        ),
        (TODAY - timedelta(days=400), ExitReason.END_OF_TRAINING, "exit_date", None),
        (EXIT, None, "exit_reason", "Indiquez le motif de sortie."),
    ],
)
def test_exit_refusals_name_their_field(world, exit_date, reason, field, message):
    with pytest.raises(RuleError) as refused:
        world.exit(world.alice, exit_date, reason)
    assert refused.value.field == field
    if message:
        assert refused.value.message == message
    else:
        assert refused.value.message.startswith("La date de sortie précède le début de la session")
    assert world.alice.status == TraineeStatus.IN_TRAINING


def test_only_the_carrier_records_exits_during_training_or_follow_up(world):
    user, org = world.employer
    with pytest.raises(RuleError, match="Seul l'organisme de formation porteur"):
        exits.record_exit(
            world.alice, exit_date=EXIT, reason=ExitReason.END_OF_TRAINING, by=user, org=org
        )
    world.operation.status = Status.RECRUITMENT
    with pytest.raises(RuleError, match="l'opération est à l'étape « Recrutement »"):
        world.exit(world.alice, EXIT)


def test_a_candidate_has_no_exit(world):
    candidate = make_trainee(world.operation, status=TraineeStatus.RETAINED)
    with pytest.raises(RuleError, match="Seul·e un·e stagiaire entré·e en formation"):
        world.exit(candidate, EXIT)


def _certify(world, trainee):
    jury = Evaluation(
        operation_id=world.operation.id,
        kind=EvaluationKind.JURY,
        held_at=TODAY - timedelta(days=12),
        place="Centre d'examen",
    )
    db.session.add(jury)
    db.session.flush()
    db.session.add(
        EvaluationResult(evaluation_id=jury.id, trainee_id=trainee.id, outcome=Outcome.FULL)
    )
    trainee.status = TraineeStatus.CERTIFIED
    db.session.flush()


def test_a_certified_trainee_keeps_the_status_and_gets_the_exit(world):
    _certify(world, world.alice)
    with pytest.raises(RuleError, match="sort en fin de formation ou par une embauche"):
        world.exit(world.alice, EXIT, ExitReason.DROPOUT, "Parti.")
    world.exit(world.alice, EXIT)
    assert world.alice.status == TraineeStatus.CERTIFIED
    assert world.alice.exit_date == EXIT
    assert exits.certification_results([world.alice.id])[world.alice.id].outcome == Outcome.FULL
    recorded = db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "trainee.exit_recorded")
    )
    assert recorded == 1


def test_a_corrected_exit_moves_the_follow_ups_and_restarts_their_reminders(world):
    world.exit(world.alice, EXIT)
    m3 = milestone_of(world.alice, "m3")
    m3.reminded_at = m3.overdue_reminded_at = TODAY
    db.session.flush()
    version = m3.version
    world.exit(world.alice, EXIT - timedelta(days=3))
    db.session.refresh(m3)
    assert m3.due_on == exits.rules.add_months(EXIT - timedelta(days=3), 3)
    assert (m3.reminded_at, m3.overdue_reminded_at, m3.version) == (None, None, version + 1)
    assert db.session.scalar(select(func.count(Milestone.id))) == 3  # moved, not added
    assert world.alice.status == TraineeStatus.EXITED


def test_a_correction_may_not_switch_between_keeping_and_freeing_the_promise(world):
    world.exit(world.alice, EXIT)
    with pytest.raises(RuleError, match="ne s'échangent pas après coup"):
        world.exit(world.alice, EXIT, ExitReason.DROPOUT, "Finalement un abandon.")
    world.exit(world.alice, EXIT, ExitReason.EARLY_HIRE, "Embauchée avant la fin.")
    assert world.alice.exit_reason == ExitReason.EARLY_HIRE


def test_the_step_to_follow_up_waits_for_every_exit(world):
    retained = make_trainee(
        world.operation, status=TraineeStatus.RETAINED, first_name="Léa", last_name="Martin"
    )
    world.exit(world.alice, EXIT)
    user, org = world.of
    assert lifecycle.unmet_conditions(world.operation, Status.FOLLOW_UP) == [
        "Sortie de formation à enregistrer (page « Fin de formation ») pour : Bob Petit, "
        "Chloé Roux.",
        "Retenu·e(s) sans entrée en formation : Léa Martin — enregistrez l'entrée en "
        "formation puis la sortie, ou le désistement.",
    ]
    with pytest.raises(RuleError, match="Bob Petit, Chloé Roux"):
        lifecycle.advance(world.operation, Status.FOLLOW_UP, by=user, org=org)
    retained.status = TraineeStatus.NOT_RETAINED
    world.exit(world.bob, EXIT)
    world.exit(world.chloe, EXIT)
    assert lifecycle.unmet_conditions(world.operation, Status.FOLLOW_UP) == []
    lifecycle.advance(world.operation, Status.FOLLOW_UP, by=user, org=org)
    assert world.operation.status == Status.FOLLOW_UP
    # Closing waits for the +6 months follow-ups first (then the evaluation: tests/assessment).
    unmet = lifecycle.unmet_conditions(world.operation, Status.CLOSED)
    assert unmet[0] == "Suivi à 6 mois non renseigné pour : Alice Durand, Bob Petit, Chloé Roux."


def test_a_long_list_of_names_is_shortened(world):
    for n in range(12):
        make_trainee(world.operation, status=TraineeStatus.IN_TRAINING, last_name=f"Nom{n:02d}")
    [problem] = exits.exit_problems(world.operation)
    assert problem.endswith("et 5 autre(s).")
