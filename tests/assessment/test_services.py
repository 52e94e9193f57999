"""The evaluation's states, the prime DEFI's rules, the closing guard and the read-only
closed operation, without HTTP."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.assessment import services
from portal.assessment.models import AssessmentStatus, Bonus, BonusStatus
from portal.audit.models import AuditEvent
from portal.core.errors import RuleError
from portal.design import comments as design_comments
from portal.design import services as design_services
from portal.design.models import SectionKey
from portal.design.services import design_for
from portal.extensions import db
from portal.followup import services as followup_services
from portal.notifications.models import Notification
from portal.operations import lifecycle
from portal.operations.models import Status
from tests.assessment.factories import Evaluated
from tests.followup.factories import TODAY, milestone_of


@pytest.fixture
def world(ctx):
    return Evaluated()


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(RuleError) as error:
        call(*args, **kwargs)
    return error.value.message


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def notified(user) -> list[str]:
    query = select(Notification.kind).where(Notification.user_id == user.id)
    return list(db.session.scalars(query))


# --- The evaluation ----------------------------------------------------------------------


def test_opening_adds_the_four_written_parts_to_the_design(world):
    assessment = world.open()
    assert assessment.status == AssessmentStatus.DRAFT
    design = design_for(world.operation)
    assert [s.key for s in design.assessment_sections] == SectionKey.assessment_keys()
    # They are neither design sections nor clauses.
    assert not any(s.key.is_assessment for s in design.sections + design.clauses)
    assert "assessment.started" in actions()
    assert "déjà ouverte" in refused(world.open)


def test_only_the_carrier_or_the_region_opens_it(world):
    user, org = world.employer
    assert "ouvre l'évaluation" in refused(
        services.start_assessment, world.operation, by=user, org=org
    )


def test_it_opens_during_the_follow_up_only(world):
    world.operation.status = Status.TRAINING
    assert "pendant le suivi dans l'emploi" in refused(world.open)


def test_submission_needs_every_part_written(world):
    world.open()
    world.write(keys=[SectionKey.EVAL_WORKED, SectionKey.EVAL_ADAPTATIONS])
    message = refused(world.submit)
    assert "Difficultés rencontrées" in message
    assert "Propositions d'évolution des certifications" in message
    assert "Ce qui a fonctionné" not in message
    world.write()
    world.submit()
    assert services.assessment_for(world.operation).status == AssessmentStatus.SUBMITTED
    assert "assessment_submitted" in notified(world.market.referent)


def test_a_submitted_evaluation_is_no_longer_editable(world):
    world.open()
    world.write()
    world.submit()
    section = design_for(world.operation).section(SectionKey.EVAL_WORKED)
    assert not design_services.is_open_for_edit(
        design_for(world.operation).section(SectionKey.EVAL_WORKED)
    )
    user, org = world.of
    assert "brouillon ou à reprendre" in refused(
        design_services.save_section,
        section,
        {"text": "Autre"},
        base_version=section.version,
        by=user,
        org=org,
        steering=True,
    )


def test_only_the_carrier_submits(world):
    world.open()
    world.write()
    user, org = world.region
    assessment = services.assessment_for(world.operation)
    assert "Seul l'organisme porteur" in refused(
        services.submit_assessment, assessment, by=user, org=org
    )


def test_the_region_sends_it_back_with_a_comment_then_it_is_editable_again(world):
    world.open()
    world.write()
    world.submit()
    user, org = world.region
    assessment = services.assessment_for(world.operation)
    assert "Dites ce qui est à reprendre" in refused(
        services.decide_assessment, assessment, accept=False, comment=" ", by=user, org=org
    )
    services.decide_assessment(
        assessment, accept=False, comment="Chiffrez les adaptations.", by=user, org=org
    )
    assert assessment.status == AssessmentStatus.CHANGES_REQUESTED
    assert assessment.decision_comment == "Chiffrez les adaptations."
    assert design_services.is_open_for_edit(
        design_for(world.operation).section(SectionKey.EVAL_ADAPTATIONS)
    )
    assert "assessment_changes_requested" in notified(world.market.a_user)
    world.submit()
    world.accept()
    assert assessment.status == AssessmentStatus.ACCEPTED


def test_only_the_region_decides_and_only_on_a_submitted_evaluation(world):
    world.open()
    assessment = services.assessment_for(world.operation)
    user, org = world.of
    assert "La Région accepte" in refused(
        services.decide_assessment, assessment, accept=True, comment="", by=user, org=org
    )
    assert "n'est pas soumise" in refused(world.accept)


# --- The prime DEFI ----------------------------------------------------------------------


def test_the_carrier_requests_with_a_justification(world):
    assert "Justifiez" in refused(world.request_bonus, "   ")
    bonus = world.request_bonus()
    assert bonus.status == BonusStatus.REQUESTED
    assert "bonus_requested" in notified(world.market.referent)
    assert "déjà demandée" in refused(world.request_bonus)
    user, org = world.employer
    assert "Seul l'organisme porteur" in refused(
        services.request_bonus, world.operation, "x", by=user, org=org
    )


def test_a_request_may_be_withdrawn_before_the_decision_and_made_again(world):
    bonus = world.request_bonus()
    user, org = world.of
    services.withdraw_bonus(bonus, by=user, org=org)
    assert bonus.status == BonusStatus.WITHDRAWN
    assert "Aucune demande" in refused(world.grant)
    world.request_bonus("Deuxième demande.")
    assert bonus.status == BonusStatus.REQUESTED
    assert bonus.justification == "Deuxième demande."


@pytest.mark.parametrize("amount", [None, 0, -5])
def test_a_grant_needs_a_positive_amount(world, amount):
    world.request_bonus()
    assert "supérieur à zéro" in refused(world.grant, amount)


def test_a_refusal_needs_a_reason_and_the_decision_is_final(world):
    bonus = world.request_bonus()
    user, org = world.region
    assert "motif du refus" in refused(
        services.decide_bonus, bonus, grant=False, reason="", by=user, org=org
    )
    services.decide_bonus(bonus, grant=False, reason="Ingénierie classique.", by=user, org=org)
    assert (bonus.status, bonus.amount_euros) == (BonusStatus.REFUSED, None)
    assert "bonus_refused" in notified(world.market.a_user)
    assert "Aucune demande" in refused(world.grant)
    o_user, o_org = world.of
    assert "en attente de décision" in refused(services.withdraw_bonus, bonus, by=o_user, org=o_org)
    assert "déjà demandée" in refused(world.request_bonus)


def test_the_grant_is_recorded_and_audited(world):
    bonus = world.request_bonus()
    world.grant(4500)
    assert (bonus.status, bonus.amount_euros) == (BonusStatus.GRANTED, 4500)
    assert {"bonus.requested", "bonus.granted"} <= set(actions())
    user, org = world.of
    assert "La Région décide" in refused(
        services.decide_bonus, bonus, grant=True, amount_euros=10, by=user, org=org
    )


def test_the_database_refuses_a_grant_without_an_amount(world):
    bonus = world.request_bonus()
    bonus.status = BonusStatus.GRANTED
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_one_prime_per_operation_in_the_database(world):
    world.request_bonus()
    db.session.add(Bonus(operation_id=world.operation.id, status=BonusStatus.REQUESTED,
                         justification="x"))  # fmt: skip
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- Closing -----------------------------------------------------------------------------


def test_closing_lists_every_unmet_condition(ctx):
    world = Evaluated(m6=False)
    unmet = lifecycle.unmet_conditions(world.operation, Status.CLOSED)
    assert unmet == [
        "Suivi à 6 mois non renseigné pour : Alice Durand, Bob Petit, Chloé Roux.",
        "L'évaluation de l'opération n'est pas commencée.",
    ]
    world.open()
    world.request_bonus()
    unmet = lifecycle.unmet_conditions(world.operation, Status.CLOSED)
    assert "L'évaluation de l'opération n'est pas acceptée par la Région (brouillon)." in unmet
    assert "La Région n'a pas encore décidé de la prime DEFI demandée." in unmet


def test_no_news_after_the_attempts_counts_as_retained(ctx):
    world = Evaluated(m6=False)
    for trainee in world.trainees[:2]:
        world.answer(trainee, "m6", world.of, employer_id=trainee.promise.organisation_id)
    world.attempt(world.chloe, "m6", world.of, n=3)
    world.answer(world.chloe, "m6", world.of, situation="no_news")
    world.evaluated()
    assert lifecycle.unmet_conditions(world.operation, Status.CLOSED) == []


def test_closing_with_a_granted_prime_then_the_operation_is_read_only(world):
    world.evaluated()
    world.request_bonus()
    world.grant()
    user, org = world.of
    lifecycle.advance(world.operation, Status.CLOSED, by=user, org=org)
    assert world.operation.status == Status.CLOSED
    closed = "L'opération est close"
    assert closed in refused(world.request_bonus)
    bonus = services.bonus_for(world.operation)
    r_user, r_org = world.region
    assert closed in refused(
        services.decide_bonus, bonus, grant=False, reason="x", by=r_user, org=r_org
    )
    assessment = services.assessment_for(world.operation)
    assert closed in refused(
        services.decide_assessment, assessment, accept=True, comment="", by=r_user, org=r_org
    )
    assert not design_services.is_open_for_edit(
        design_for(world.operation).section(SectionKey.EVAL_WORKED)
    )
    section = design_for(world.operation).section(SectionKey.EVAL_WORKED)
    assert closed in refused(design_comments.add_comment, section, "Encore ?", by=user, org=org)
    # The follow-up's answers, exits and outcomes are refused too (their own rule).
    milestone = milestone_of(world.alice, "m3")
    values = {"situation": "cdi", "contacted_on": TODAY, "channel": "phone"}
    assert "Sorties, promesses tenues et suivis" in refused(
        followup_services.record_answer, milestone, values, by=user, org=org
    )
    assert "Sorties, promesses tenues et suivis" in refused(world.exit, world.alice, TODAY)


def test_a_withdrawn_request_does_not_hold_the_closing(world):
    world.evaluated()
    bonus = world.request_bonus()
    user, org = world.of
    services.withdraw_bonus(bonus, by=user, org=org)
    assert lifecycle.unmet_conditions(world.operation, Status.CLOSED) == []
