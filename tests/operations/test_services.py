"""Rules of operations: exclusivity of lots, the need reported at once, lifecycle guards,
cancellation and participants — tested on the services, without HTTP."""

import pytest
from sqlalchemy import select

from portal.core.errors import RuleError
from portal.extensions import db
from portal.lots.models import Category
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.operations import lifecycle, needs, services
from portal.operations.models import (
    ContractType,
    Funding,
    Operation,
    OperationEvent,
    ParticipantRole,
    Status,
)
from tests.operations.factories import Market


@pytest.fixture
def market(ctx):
    return Market()


def notes_for(user):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all()


# --- Exclusivity -------------------------------------------------------------------------


def test_holder_of_the_covering_lot_runs_the_operation_under_it(market):
    operation = market.report()
    assert operation.funding == Funding.LOT
    assert operation.lot is market.lot
    assert operation.provider is market.of_a
    assert operation.status == Status.NEED_REPORTED


def test_another_organisme_is_refused_naming_the_lot_and_holder(market):
    with pytest.raises(services.ExclusivityError) as refused:
        market.report(org=market.of_b, user=market.b_user)
    assert market.lot.number in refused.value.message
    assert "Organisme A" in refused.value.message
    assert "exclusivité" in refused.value.message
    assert db.session.scalar(select(Operation)) is None
    # The Région (the bassin's referent) is told of the refused attempt.
    told = notes_for(market.referent)
    assert len(told) == 1 and told[0].kind == "exclusivity_refused"
    assert "Organisme B" in told[0].message


def test_no_covering_lot_marks_the_need_out_of_market(market):
    operation = market.report(rome_code="H2102", title="Opérateur·rice de production")
    assert operation.funding == Funding.PENDING
    assert operation.lot is None
    assert operation.provider is market.of_a


@pytest.mark.parametrize(
    "change",
    [
        {"category": Category.PREPA_METIERS},
        {"rome_code": "N1103"},
        {"territory": "orleans"},
    ],
)
def test_a_lot_covers_only_its_category_bassin_and_trade(market, change):
    if change.get("territory") == "orleans":
        change = {"territory": market.orleans}
    operation = market.report(org=market.of_b, user=market.b_user, **change)
    assert operation.funding == Funding.PENDING


def test_inactive_or_expired_lot_does_not_cover(market):
    market.lot.active = False
    assert market.report(org=market.of_b, user=market.b_user).funding == Funding.PENDING


def test_region_reporting_a_covered_need_gives_it_to_the_holder(market):
    operation = market.report(org=market.region, user=market.region_admin)
    assert operation.provider is market.of_a and operation.funding == Funding.LOT


def test_employers_and_partners_cannot_report_a_need(market):
    with pytest.raises(RuleError):
        market.report(org=market.employer, user=market.employer_user)


# --- The need, reported at once ----------------------------------------------------------


def test_reporting_notifies_the_referent_in_app_and_by_email(market):
    operation = market.report()
    notes = notes_for(market.referent)
    assert [n.kind for n in notes] == ["need_reported"]
    assert notes[0].operation_id == operation.id
    assert f"/operations/{operation.id}" in notes[0].link
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == market.referent.email)
    ).all()
    assert len(mails) == 1 and operation.title in mails[0].subject


def test_without_referent_the_region_admins_are_told(market):
    market.tours.referent = None
    market.report()
    assert [n.kind for n in notes_for(market.region_admin)] == ["need_reported"]


def test_participants_by_right_and_new_employer_invited(market):
    operation = market.report(
        new_employers=[("Propreté Services", "chef@proprete.example", "90000000008012")]
    )
    roles = {p.organisation.name: (p.role, p.by_right) for p in operation.active_participants()}
    assert roles["Région Centre-Val de Loire"] == (ParticipantRole.REGION, True)
    assert roles["Organisme A"] == (ParticipantRole.PROVIDER, True)
    assert roles["Entreprise E"] == (ParticipantRole.EMPLOYER, False)
    assert roles["Propreté Services"] == (ParticipantRole.EMPLOYER, False)
    invitation = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "chef@proprete.example")
    ).one()
    assert "Propreté Services" in invitation.subject


def test_acknowledgement_by_the_region_only_and_once(market):
    operation = market.report()
    with pytest.raises(RuleError):
        services.acknowledge_need(operation, by=market.a_user, org=market.of_a)
    services.acknowledge_need(operation, by=market.referent, org=market.region, comment="Vu")
    assert operation.acknowledged_by is market.referent
    with pytest.raises(RuleError):
        services.acknowledge_need(operation, by=market.referent, org=market.region)
    assert any(n.kind == "acknowledged" for n in notes_for(market.a_user))


def test_fref_consultation_records_reference_and_chosen_organisme(market):
    operation = market.report(rome_code="H2102")
    services.launch_fref(
        operation,
        reference="FREF-2026-014",
        provider=market.of_b,
        by=market.region_admin,
        org=market.region,
    )
    assert operation.funding == Funding.FREF
    assert operation.provider is market.of_b
    carriers = [
        p.organisation.name
        for p in operation.active_participants()
        if p.role == ParticipantRole.PROVIDER
    ]
    assert carriers == ["Organisme B"]  # the reporter, not chosen, is withdrawn
    with pytest.raises(RuleError):
        services.launch_fref(
            operation,
            reference="X",
            provider=market.of_b,
            by=market.region_admin,
            org=market.region,
        )


def test_decline_needs_a_reason(market):
    operation = market.report(rome_code="H2102")
    with pytest.raises(RuleError):
        services.decline_need(operation, reason="  ", by=market.region_admin, org=market.region)
    services.decline_need(
        operation,
        reason="Besoin déjà couvert par une autre action",
        by=market.region_admin,
        org=market.region,
    )
    assert operation.funding == Funding.DECLINED
    assert lifecycle.unmet_conditions(operation, Status.ANALYSIS)


# --- Lifecycle guards --------------------------------------------------------------------


def test_to_analysis_needs_acknowledgement_and_settled_funding(market):
    operation = market.report(rome_code="H2102")
    unmet = lifecycle.unmet_conditions(operation, Status.ANALYSIS)
    assert any("accusé réception" in u for u in unmet)
    assert any("hors marché" in u for u in unmet)
    with pytest.raises(RuleError):
        lifecycle.advance(operation, Status.ANALYSIS, by=market.a_user, org=market.of_a)
    services.acknowledge_need(operation, by=market.referent, org=market.region)
    services.launch_fref(
        operation,
        reference="FREF-1",
        provider=market.of_a,
        by=market.region_admin,
        org=market.region,
    )
    assert lifecycle.unmet_conditions(operation, Status.ANALYSIS) == []
    lifecycle.advance(operation, Status.ANALYSIS, by=market.a_user, org=market.of_a)
    assert operation.status == Status.ANALYSIS


def _to_analysis(market):
    operation = market.report()
    services.acknowledge_need(operation, by=market.referent, org=market.region)
    lifecycle.advance(operation, Status.ANALYSIS, by=market.a_user, org=market.of_a)
    return operation


def test_to_co_design_needs_positions_and_the_answered_analysis(market):
    operation = _to_analysis(market)
    unmet = lifecycle.unmet_conditions(operation, Status.CO_DESIGN)
    assert len(unmet) == 3  # no position, no publics, analysis not sent
    need = needs.need_for(operation, market.employer)
    needs.add_position(
        need,
        {"job_title": "Agent·e d'entretien", "count": 3, "contract_type": ContractType.CDI},
        by=market.employer_user,
        org=market.employer,
    )
    analysis = needs.analysis_for(operation)
    needs.save_analysis(
        analysis,
        {"target_publics": ["job_seekers"], "adaptations": "Module"},
        by=market.a_user,
        org=market.of_a,
    )
    needs.send_analysis(analysis, by=market.a_user, org=market.of_a)
    assert lifecycle.unmet_conditions(operation, Status.CO_DESIGN) == [
        "La Région n'a pas encore répondu à l'analyse des besoins transmise."
    ]
    needs.answer_analysis(analysis, "Accord", by=market.referent, org=market.region)
    lifecycle.advance(operation, Status.CO_DESIGN, by=market.a_user, org=market.of_a)
    assert operation.status == Status.CO_DESIGN


def test_closing_waits_for_the_evaluation(market):
    operation = market.report()
    # Co-design → convention is guarded by the design (tests/design), convention →
    # recruitment by the convention (tests/conventions), recruitment → training by the
    # trainees (tests/recruitment), training → follow-up by the exits (tests/followup),
    # follow-up → closed by the +6 months follow-ups, the evaluation and the prime
    # (tests/assessment).
    operation.status = Status.FOLLOW_UP
    assert lifecycle.unmet_conditions(operation, Status.CLOSED) == [
        "L'évaluation de l'opération n'est pas commencée."
    ]


def test_skipping_a_step_is_refused(market):
    operation = market.report()
    assert lifecycle.unmet_conditions(operation, Status.CO_DESIGN) == [
        "Cette étape ne suit pas l'étape actuelle de l'opération."
    ]


def test_advancing_writes_the_timeline(market):
    operation = _to_analysis(market)
    kinds = db.session.scalars(
        select(OperationEvent.kind)
        .where(OperationEvent.operation_id == operation.id)
        .order_by(OperationEvent.id)
    ).all()
    assert kinds == ["need_reported", "acknowledged", "advanced"]


# --- Cancellation ------------------------------------------------------------------------


def test_cancel_from_any_open_state_with_a_reason(market):
    operation = _to_analysis(market)
    with pytest.raises(RuleError):
        lifecycle.cancel(operation, reason="", by=market.a_user, org=market.of_a)
    lifecycle.cancel(
        operation, reason="Entreprise en redressement", by=market.a_user, org=market.of_a
    )
    assert operation.status == Status.CANCELLED
    assert operation.cancel_reason == "Entreprise en redressement"
    with pytest.raises(RuleError):
        lifecycle.cancel(operation, reason="encore", by=market.a_user, org=market.of_a)


def test_closed_operation_cannot_be_cancelled(market):
    operation = market.report()
    operation.status = Status.CLOSED
    with pytest.raises(RuleError):
        lifecycle.cancel(operation, reason="trop tard", by=market.a_user, org=market.of_a)


# --- Participants ------------------------------------------------------------------------


def test_add_participant_checks_role_against_kind_and_duplicates(market):
    operation = market.report(employers=[])
    with pytest.raises(RuleError):
        services.add_participant(
            operation, market.partner, ParticipantRole.EMPLOYER, by=market.a_user, org=market.of_a
        )
    services.add_participant(
        operation,
        market.partner,
        ParticipantRole.PARTNER_EMPLOYMENT,
        by=market.a_user,
        org=market.of_a,
    )
    with pytest.raises(RuleError):
        services.add_participant(
            operation,
            market.partner,
            ParticipantRole.PARTNER_EMPLOYMENT,
            by=market.a_user,
            org=market.of_a,
        )
    assert any(n.kind == "participant_added" for n in notes_for(market.partner_user))


def test_withdraw_keeps_history_and_refuses_by_right(market):
    operation = market.report()
    employer = next(p for p in operation.active_participants() if p.organisation is market.employer)
    services.withdraw_participant(
        employer, reason="Ne recrute plus", by=market.a_user, org=market.of_a
    )
    assert employer.withdrawn_at is not None and employer in operation.participants
    assert employer not in operation.active_participants()
    region = next(p for p in operation.active_participants() if p.role == ParticipantRole.REGION)
    with pytest.raises(RuleError):
        services.withdraw_participant(region, reason="x", by=market.a_user, org=market.of_a)


def test_participants_are_frozen_once_the_operation_is_closed(market):
    operation = market.report()
    operation.status = Status.CLOSED
    with pytest.raises(RuleError, match="L'opération est close"):
        services.add_participant(
            operation,
            market.partner,
            ParticipantRole.PARTNER_EMPLOYMENT,
            by=market.a_user,
            org=market.of_a,
        )
