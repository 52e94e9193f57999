"""Each rule of « À faire » (portal/todo/duties.py), on the Market factory: what it asks of
whom, and that it goes away once done."""

from flask import g
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.services import active_membership
from portal.core.time import utcnow
from portal.design.comments import add_comment
from portal.design.models import SectionKey
from portal.extensions import db
from portal.operations import dual_memberships, needs
from portal.operations import services as operations
from portal.operations.dual_models import DualDecision, DualMembershipApproval
from portal.operations.models import ContractType, Funding, Operation, Status
from portal.recruitment.models import TraineeStatus
from portal.todo.duties import BLOCKING, duties_for, grouped
from tests.conventions.factories import make_convention_ready, sign_all, sign_as
from tests.factories import make_user
from tests.immersions.factories import Running, generate
from tests.immersions.factories import make_trainee as make_immersion_trainee
from tests.operations.factories import Market
from tests.recruitment.factories import make_recruiting_operation, make_trainee


def duties_of(user, org, operation=None):
    """The duties ``user`` sees acting for ``org`` (as the request's membership)."""
    g.membership = active_membership(user, org)
    return duties_for(user, org, membership=g.membership, operation=operation)


def first(user, org, kind: str):
    return next(d for d in duties_of(user, org) if d.kind == kind)


def kinds(user, org, operation=None) -> list[str]:
    return [d.kind for d in duties_of(user, org, operation)]


def labels(user, org, operation=None) -> list[str]:
    return [d.label for d in duties_of(user, org, operation)]


def test_region_acknowledges_a_reported_need_then_nothing(ctx):
    market = Market()
    operation = market.report()
    duty = next(d for d in duties_of(market.referent, market.region) if d.kind == "acknowledge")
    assert duty.label == "Accuser réception du besoin signalé."
    assert duty.operation is operation
    assert duty.url.endswith(f"/operations/{operation.id}")
    operations.acknowledge_need(operation, by=market.referent, org=market.region)
    assert "acknowledge" not in kinds(market.referent, market.region)


def test_employer_fills_its_needs_until_it_names_positions(ctx):
    market = Market()
    operation = market.report()
    duty = next(d for d in duties_of(market.employer_user, market.employer) if d.kind == "needs")
    assert duty.url.endswith(f"/operations/{operation.id}/besoins/{market.employer.id}")
    needs.add_position(
        needs.need_for(operation, market.employer),
        {"job_title": "Agent·e", "count": 2, "contract_type": ContractType.CDI},
        by=market.employer_user,
        org=market.employer,
    )
    assert "needs" not in kinds(market.employer_user, market.employer)


def test_signature_awaited_from_my_organisation_until_it_signs_and_again_for_version_2(ctx):
    ready = make_convention_ready()
    market = ready.market
    version = ready.submit()
    duty = next(
        d for d in duties_of(market.employer_user, market.employer) if d.kind == "signature"
    )
    assert duty.label == "Signer la version 1 de la convention."
    assert duty.urgency == BLOCKING
    assert duty.url.endswith("/convention/versions/1")
    sign_as(version, market.employer_user, market.employer)
    assert "signature" not in kinds(market.employer_user, market.employer)
    ready.edit_clause("Un nouvel objet.")
    ready.submit()  # version 2 voids version 1 and its signatures
    assert "Signer la version 2 de la convention." in labels(market.employer_user, market.employer)


def test_another_member_is_told_who_signs_for_the_organisation(ctx):
    ready = make_convention_ready()
    market = ready.market
    ready.submit()
    colleague = make_user(market.employer, email="colleague@example.fr")
    assert (
        "La version 1 de la convention attend la signature de "
        f"{market.employer_user.full_name} pour votre organisation."
    ) in labels(colleague, market.employer)


def test_region_validates_a_version_signed_by_every_party(ctx):
    ready = make_convention_ready()
    version = ready.submit()
    market = ready.market
    assert "validation" not in kinds(market.referent, market.region)
    sign_all(ready, version)
    assert "validation" in kinds(market.referent, market.region)
    ready.validate(version)
    assert "validation" not in kinds(market.referent, market.region)


def test_a_signer_to_designate_for_the_party_and_for_the_carrier(ctx):
    ready = make_convention_ready(designate=False)
    market = ready.market
    assert "signer" in kinds(market.employer_user, market.employer)
    carrier = [d.label for d in duties_of(*ready.carrier) if d.kind == "signer"]
    assert carrier[0].startswith("Désigner la personne qui signera")  # its own
    assert "(2 partie(s))" in carrier[1]  # Entreprise E and Partenaire P


def test_a_comment_mentioning_me_until_its_thread_is_resolved(ctx):
    ready = make_convention_ready()
    market = ready.market
    section = ready.design.section(SectionKey.OBJECTIVES)
    comment = add_comment(
        section,
        "Pouvez-vous préciser ?",
        by=market.a_user,
        org=market.of_a,
        mention_users=[market.employer_user],
    )
    duty = next(d for d in duties_of(market.employer_user, market.employer) if d.kind == "mention")
    assert "1 commentaire(s) vous mentionnent" in duty.label
    assert duty.url.endswith(f"#section-{SectionKey.OBJECTIVES.value}")
    assert "mention" not in kinds(market.a_user, market.of_a)  # its author
    assert "mention" not in kinds(market.employer2_user, market.employer2)
    comment.resolved_at = comment.created_at
    assert "mention" not in kinds(market.employer_user, market.employer)


def test_over_recruitment_for_the_carrier_and_the_region_not_the_employers(ctx):
    market = Market()
    operation = make_recruiting_operation(market, counts=(2, 1))  # 3 promises
    for _ in range(3):
        make_trainee(operation, status=TraineeStatus.RETAINED)
    assert "over_recruitment" not in kinds(market.a_user, market.of_a)
    make_trainee(operation, status=TraineeStatus.RETAINED)
    duty = next(d for d in duties_of(market.a_user, market.of_a) if d.kind == "over_recruitment")
    assert "4 stagiaire(s) retenu·e(s) pour 3 promesse(s)" in duty.label
    assert duty.url.endswith(f"/operations/{operation.id}/recrutement")
    assert "over_recruitment" in kinds(market.region_admin, market.region)
    assert "over_recruitment" not in kinds(market.employer_user, market.employer)


def test_assessment_and_debrief_due_after_an_immersion(ctx):
    running = Running()
    make_immersion_trainee(running, employer=running.market.employer)
    generate(running)
    market = running.market
    employer = [d for d in duties_of(market.employer_user, market.employer)]
    assert "assessment" in [d.kind for d in employer]
    assert "debrief" in kinds(market.a_user, market.of_a)
    assert "debrief" not in [d.kind for d in employer]


def test_operation_page_scope_and_the_next_step(ctx):
    market = Market()
    first, second = market.report(), market.report()
    mine = duties_of(market.referent, market.region, operation=first)
    assert {d.operation.id for d in mine} == {first.id}
    assert {d.operation.id for d in duties_of(market.referent, market.region)} == {
        first.id,
        second.id,
    }
    operations.acknowledge_need(first, by=market.referent, org=market.region)
    steps = [d.label for d in duties_of(market.a_user, market.of_a, operation=first)]
    assert "Passer à l'étape « Analyse des besoins »." in steps


def test_other_organisations_duties_never_show(ctx):
    market = Market()
    market.report()  # Organisme A with Entreprise E; Entreprise F and Organisme B apart
    assert duties_of(market.employer2_user, market.employer2) == []
    assert duties_of(market.b_user, market.of_b) == []


def test_closed_operations_ask_nothing_and_duties_group_by_operation(ctx):
    market = Market()
    first, second = market.report(), market.report()
    duties = duties_of(market.referent, market.region)
    assert [op.id for op, _items in grouped(duties)] == [first.id, second.id]
    first.status = second.status = Status.CANCELLED
    db.session.flush()
    assert duties_of(market.referent, market.region) == []


def test_region_decides_a_need_outside_any_lot(ctx):
    market = Market()
    operation = market.report(
        org=market.of_b, user=market.b_user, territory=market.orleans, rome_code="H2102"
    )
    assert operation.funding == Funding.PENDING
    fref = first(market.region_admin, market.region, "fref")
    assert fref.label == "Décider : consultation FREF ou refus motivé (besoin hors marché)."
    operations.launch_fref(
        operation, reference="FREF-1", provider=market.of_b, by=market.region_admin,
        org=market.region,
    )  # fmt: skip
    assert "fref" not in kinds(market.region_admin, market.region)


def test_region_answers_an_analysis_sent_again(ctx):
    ready = make_convention_ready()  # its analysis was sent and answered
    market, operation = ready.market, ready.operation
    assert "analysis" not in kinds(market.referent, market.region)
    analysis = needs.analysis_for(operation)
    operation.status = Status.ANALYSIS
    needs.send_analysis(analysis, by=market.a_user, org=market.of_a)
    duty = first(market.referent, market.region, "analysis")
    assert duty.label == "Répondre à l'analyse des besoins transmise par l'organisme."


def _python_pending() -> set[int]:
    """The operations with a dual membership waiting, as the Région's page decides it."""
    found = dual_memberships.pending_by_operation(select(Operation.id))
    return {operation.id for operation, standings in found if any(s.pending for s in standings)}


def test_dual_memberships_waiting_are_found_by_the_database_as_by_python(ctx):
    """The Région's cumuls in « À faire » are said in SQL (issue #16): same verdict as its
    page's, whatever the latest request says."""
    market = Market()
    accounts.add_membership(market.a_user, market.employer)
    operation = market.report()  # a request waits
    region = (market.referent, market.region)

    def verdicts():
        db.session.flush()
        sql = set(db.session.scalars(dual_memberships.pending_operation_ids()))
        return sql, _python_pending(), "cumul" in kinds(*region)

    assert verdicts() == ({operation.id}, {operation.id}, True)
    request = db.session.scalars(select(DualMembershipApproval)).one()
    request.decision, request.decided_at = DualDecision.APPROVED, utcnow()
    assert verdicts() == (set(), set(), False)
    request.decision, request.reason = DualDecision.REFUSED, "Conflit d'intérêts"
    assert verdicts() == (set(), set(), False)
    # asked again after the refusal: the latest request waits
    db.session.add(DualMembershipApproval(
        operation_id=request.operation_id, user_id=request.user_id,
        first_organisation_id=request.first_organisation_id,
        second_organisation_id=request.second_organisation_id,
    ))  # fmt: skip
    assert verdicts() == ({operation.id}, {operation.id}, True)
    # no request at all (a situation from before the rule) waits too
    for row in db.session.scalars(select(DualMembershipApproval)):
        db.session.delete(row)
    assert verdicts() == ({operation.id}, {operation.id}, True)


def test_a_decided_dual_membership_stays_decided_when_another_one_is_asked_later(ctx):
    """The latest request is that of its own situation: a request asked later for another
    operation does not reopen a decided one (the « later » request was once read from any
    situation)."""
    market = Market()
    accounts.add_membership(market.a_user, market.employer)
    decided = market.report()
    request = db.session.scalars(select(DualMembershipApproval)).one()
    request.decision, request.decided_at = DualDecision.APPROVED, utcnow()
    waiting = market.report()  # a second operation: its request comes later
    db.session.flush()
    assert len(db.session.scalars(select(DualMembershipApproval)).all()) == 2
    sql = set(db.session.scalars(dual_memberships.pending_operation_ids()))
    assert sql == _python_pending() == {waiting.id}
    assert decided.id not in sql
