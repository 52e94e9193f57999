"""Rules of the needs analysis, on the services of ``portal.operations.needs`` (no HTTP):
who fills in what, until when, what the Région receives and answers, and the totals."""

from datetime import date

import pytest
from flask import g
from sqlalchemy import select

from portal.core.errors import RuleError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.operations import lifecycle, needs, services
from portal.operations.models import (
    ContractType,
    DiagnosisFigure,
    EmployerNeed,
    OperationEvent,
    ParticipantRole,
    Position,
    Status,
)
from portal.operations.timeline import describe
from tests.operations.factories import Market


@pytest.fixture
def market(ctx):
    return Market()


@pytest.fixture
def operation(market):
    """Under Organisme A's lot, with Entreprise E and Entreprise F, in analysis."""
    operation = market.report(employers=[market.employer, market.employer2])
    operation.status = Status.ANALYSIS
    db.session.flush()
    return operation


def position(**overrides) -> dict:
    data = {
        "job_title": "Agent·e d'entretien",
        "rome_code": "k2204 ",
        "count": 2,
        "contract_type": ContractType.CDI,
        "planned_start": date(2026, 9, 1),
    }
    data.update(overrides)
    return data


def events(operation) -> list[OperationEvent]:
    return db.session.scalars(
        select(OperationEvent)
        .where(OperationEvent.operation_id == operation.id)
        .order_by(OperationEvent.id)
    ).all()


def ready_analysis(market, operation):
    """An analysis with publics and adaptations, as the organisme porteur records it."""
    analysis = needs.analysis_for(operation)
    needs.save_analysis(
        analysis,
        {"target_publics": ["job_seekers", "youth"], "adaptations": "Module FLE de 35 h"},
        by=market.a_user,
        org=market.of_a,
    )
    return analysis


# --- Employers' needs --------------------------------------------------------------------


def test_need_is_created_once_per_employer(market, operation):
    need = needs.need_for(operation, market.employer)
    assert need.id is not None and need.positions == []
    assert needs.need_for(operation, market.employer) is need
    assert needs.need_for(operation, market.employer2) is not need


def test_employer_not_in_the_operation_is_refused(market, operation):
    with pytest.raises(RuleError) as refused:
        needs.need_for(operation, market.of_b)
    assert refused.value.message == "Organisme B n'est pas employeur de cette opération."
    # Taking part with another role is not enough: the carrier has no employer need.
    with pytest.raises(RuleError):
        needs.need_for(operation, market.of_a)
    assert (
        db.session.scalar(
            select(EmployerNeed).where(EmployerNeed.organisation_id == market.of_b.id)
        )
        is None
    )


def test_withdrawn_employer_can_no_longer_fill_in_its_need(market, operation):
    need = needs.need_for(operation, market.employer)
    needs.add_position(need, position(), by=market.employer_user, org=market.employer)
    participant = next(
        p for p in operation.active_participants() if p.organisation is market.employer
    )
    services.withdraw_participant(
        participant, reason="Ne recrute plus", by=market.a_user, org=market.of_a
    )
    with pytest.raises(RuleError):
        needs.need_for(operation, market.employer)
    # Its positions no longer count in the totals.
    assert [(o.name, n, d) for o, n, d in needs.positions_by_employer(operation)] == [
        ("Entreprise F", 0, 0)
    ]


def test_employer_records_skills_and_constraints(market, operation):
    need = needs.need_for(operation, market.employer)
    data = {name: f"  {name} à préciser  " for name in needs.NEED_FIELDS}
    needs.save_employer_need(need, data, by=market.employer_user, org=market.employer)
    assert need.skills == "skills à préciser"
    assert need.technical_platform == "technical_platform à préciser"
    assert need.updated_by is market.employer_user
    event = events(operation)[-1]
    assert event.kind == "employer_need_updated"
    assert (event.actor_id, event.organisation_id) == (market.employer_user.id, market.employer.id)
    g.membership = market.employer_user.memberships[0]  # the employer reads its own need
    assert describe(event) == "Besoins d'Entreprise E mis à jour"


def test_positions_are_added_and_removed_with_timeline_events(market, operation):
    need = needs.need_for(operation, market.employer)
    added = needs.add_position(
        need, position(count=3), by=market.employer_user, org=market.employer
    )
    assert (added.rome_code, added.count, added.planned_start) == ("K2204", 3, date(2026, 9, 1))
    assert need.positions_count == 3
    needs.remove_position(added, by=market.employer_user, org=market.employer)
    assert db.session.scalar(select(Position)) is None
    last_two = events(operation)[-2:]
    assert [e.kind for e in last_two] == ["position_added", "position_removed"]
    g.membership = market.employer_user.memberships[0]
    assert [describe(e) for e in last_two] == [
        "Entreprise E : 3 poste(s) d'Agent·e d'entretien ajouté(s)",
        "Entreprise E : 3 poste(s) d'Agent·e d'entretien retiré(s)",
    ]


@pytest.mark.parametrize("status", [Status.NEED_REPORTED, Status.ANALYSIS, Status.CO_DESIGN])
def test_analysis_is_open_until_co_design(market, operation, status):
    operation.status = status
    need = needs.need_for(operation, market.employer)
    needs.add_position(need, position(), by=market.employer_user, org=market.employer)
    assert need.positions_count == 2


CLOSED = [Status.CONVENTION, Status.RECRUITMENT, Status.CLOSED, Status.CANCELLED]


@pytest.mark.parametrize("status", CLOSED)
def test_editing_is_closed_beyond_co_design(market, operation, status):
    need = needs.need_for(operation, market.employer)
    kept = needs.add_position(need, position(), by=market.employer_user, org=market.employer)
    analysis = ready_analysis(market, operation)
    figure = needs.add_figure(
        analysis,
        {"label": "Demandeurs d'emploi", "value": "312"},
        by=market.a_user,
        org=market.of_a,
    )
    operation.status = status
    by_employer = {"by": market.employer_user, "org": market.employer}
    by_carrier = {"by": market.a_user, "org": market.of_a}
    if not operation.is_open:
        for action in (
            lambda: needs.add_position(need, position(), **by_employer),
            lambda: needs.remove_position(kept, **by_employer),
        ):
            with pytest.raises(RuleError) as error:
                action()
            assert error.value.message == (
                "L'opération est close : ses promesses d'emploi ne changent plus."
            )
    # The promised positions stay open while the operation is: tests/operations/test_pending.py.
    refused = [
        lambda: needs.save_employer_need(need, {"skills": "x"}, **by_employer),
        lambda: needs.save_analysis(analysis, {"target_publics": ["rsa"]}, **by_carrier),
        lambda: needs.add_figure(analysis, {"label": "a", "value": "1"}, **by_carrier),
        lambda: needs.remove_figure(figure, **by_carrier),
        lambda: needs.send_analysis(analysis, **by_carrier),
    ]
    for action in refused:
        with pytest.raises(RuleError) as error:
            action()
        assert error.value.message == "L'analyse des besoins est close pour cette opération."
    assert need.skills == "" and need.positions_count == 2
    assert analysis.target_publics == ["job_seekers", "youth"] and analysis.sent_at is None


# --- Publics and diagnosis ---------------------------------------------------------------


def test_analysis_saves_publics_diagnosis_and_adaptations(market, operation):
    analysis = needs.analysis_for(operation)
    assert needs.analysis_for(operation) is analysis
    needs.save_analysis(
        analysis,
        {
            "target_publics": ["rsa", "qpv"],
            "barriers": ["mobility"],
            "barriers_detail": " Zone mal desservie ",
            "diagnosis": "Tensions fortes",
            "adaptations": "Rythme adapté",
        },
        by=market.region_admin,
        org=market.region,
    )
    assert analysis.target_publics == ["rsa", "qpv"] and analysis.barriers == ["mobility"]
    assert analysis.barriers_detail == "Zone mal desservie"
    assert events(operation)[-1].kind == "analysis_updated"


def test_unknown_public_or_barrier_is_refused(market, operation):
    analysis = needs.analysis_for(operation)
    with pytest.raises(RuleError) as refused:
        needs.save_analysis(
            analysis,
            {"target_publics": ["martians"], "barriers": ["weather"]},
            by=market.a_user,
            org=market.of_a,
        )
    assert refused.value.message == "Valeur inconnue : martians, weather"
    assert analysis.target_publics == []


def test_key_figures_are_added_and_removed(market, operation):
    analysis = needs.analysis_for(operation)
    figure = needs.add_figure(
        analysis,
        {"label": " Demandeurs d'emploi ", "value": "312", "source": "France Travail"},
        by=market.a_user,
        org=market.of_a,
    )
    assert (figure.label, figure.value, figure.source) == (
        "Demandeurs d'emploi",
        "312",
        "France Travail",
    )
    needs.remove_figure(figure, by=market.a_user, org=market.of_a)
    assert db.session.scalar(select(DiagnosisFigure)) is None
    assert [e.kind for e in events(operation)[-2:]] == ["figure_added", "figure_removed"]


# --- Exchange with the Région ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"adaptations": "Module FLE"}, "Renseignez les publics visés avant de transmettre"),
        (
            {"target_publics": ["youth"]},
            "Décrivez les adaptations souhaitables avant de transmettre",
        ),
        ({"target_publics": ["youth"], "adaptations": "   "}, "Décrivez les adaptations"),
    ],
)
def test_sending_needs_publics_and_adaptations(market, operation, data, message):
    analysis = needs.analysis_for(operation)
    needs.save_analysis(analysis, data, by=market.a_user, org=market.of_a)
    with pytest.raises(RuleError) as refused:
        needs.send_analysis(analysis, by=market.a_user, org=market.of_a)
    assert refused.value.message.startswith(message)
    assert analysis.sent_at is None


@pytest.mark.parametrize("who", ["region", "of_b", "employer"])
def test_only_the_carrier_sends_the_analysis(market, operation, who):
    analysis = ready_analysis(market, operation)
    org = getattr(market, who)
    with pytest.raises(RuleError) as refused:
        needs.send_analysis(analysis, by=market.region_admin, org=org)
    assert refused.value.message == "Seul l'organisme porteur transmet l'analyse à la Région."
    assert analysis.sent_at is None


def test_carrier_sends_and_the_referent_is_told(market, operation):
    analysis = ready_analysis(market, operation)
    needs.send_analysis(analysis, by=market.a_user, org=market.of_a)
    assert analysis.sent_at is not None and analysis.sent_by is market.a_user
    assert events(operation)[-1].kind == "analysis_sent"
    note = db.session.scalar(select(Notification).where(Notification.kind == "analysis_sent"))
    assert note.user_id == market.referent.id
    assert note.link.endswith(f"/operations/{operation.id}/analyse")


def test_only_the_region_answers_and_only_once_sent(market, operation):
    analysis = ready_analysis(market, operation)
    with pytest.raises(RuleError) as not_sent:
        needs.answer_analysis(analysis, "Accord", by=market.referent, org=market.region)
    assert not_sent.value.message == "L'analyse n'a pas encore été transmise à la Région."
    needs.send_analysis(analysis, by=market.a_user, org=market.of_a)
    with pytest.raises(RuleError) as not_region:
        needs.answer_analysis(analysis, "Accord", by=market.a_user, org=market.of_a)
    assert not_region.value.message == "Seule la Région répond à l'analyse transmise."
    assert analysis.answered_at is None

    needs.answer_analysis(
        analysis, " Accord sur le module FLE ", by=market.referent, org=market.region
    )
    assert analysis.region_answer == "Accord sur le module FLE"
    assert analysis.answered_by is market.referent and analysis.answered_at >= analysis.sent_at
    event = events(operation)[-1]
    assert (event.kind, event.detail) == (
        "analysis_answered",
        {"answer": "Accord sur le module FLE"},
    )
    assert (
        db.session.scalar(
            select(Notification.user_id).where(Notification.kind == "analysis_answered")
        )
        == market.a_user.id
    )


def test_answered_analysis_opens_co_design_once_positions_exist(market, operation):
    analysis = ready_analysis(market, operation)
    needs.send_analysis(analysis, by=market.a_user, org=market.of_a)
    needs.answer_analysis(analysis, "Accord", by=market.referent, org=market.region)
    assert lifecycle.unmet_conditions(operation, Status.CO_DESIGN) == [
        "Aucun employeur n'a encore indiqué de poste à pourvoir."
    ]
    need = needs.need_for(operation, market.employer2)
    needs.add_position(need, position(), by=market.employer2_user, org=market.employer2)
    assert lifecycle.unmet_conditions(operation, Status.CO_DESIGN) == []


# --- Totals ------------------------------------------------------------------------------


def test_totals_per_employer_count_lasting_contracts(market, operation):
    need = needs.need_for(operation, market.employer)
    by = {"by": market.employer_user, "org": market.employer}
    for count, contract, months in [
        (2, ContractType.CDI, None),
        (3, ContractType.CDD, 12),
        (1, ContractType.CDD, 4),
        (4, ContractType.INTERIM, 2),
        (1, ContractType.APPRENTICESHIP, 5),
        (2, ContractType.PROFESSIONALISATION, 6),
        (1, ContractType.BUSINESS_CREATION, None),
    ]:
        data = position(count=count, contract_type=contract, duration_months=months)
        needs.add_position(need, data, **by)
    services.add_participant(
        operation,
        market.partner,
        ParticipantRole.PARTNER_EMPLOYMENT,
        by=market.a_user,
        org=market.of_a,
    )
    rows = [(o.name, n, d) for o, n, d in needs.positions_by_employer(operation)]
    # Every employer has its line, even without a need yet; partners have none.
    assert rows == [("Entreprise E", 14, 8), ("Entreprise F", 0, 0)]
