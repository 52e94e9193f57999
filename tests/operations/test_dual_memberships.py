"""One person in two parties of one operation needs the Région's approval (issue #11 M6).

Where the situation arises (an invitation accepted, a participant added at the report, by
hand, as a prescriber, after a FREF consultation) a request is opened and the Région is
told; until the Région approves, that person is designated signer of neither party nor
signs, and the convention is neither submitted nor validated; once approved, the
convention (its snapshot, page and DOCX) carries the mention. Service level, no HTTP.
"""

import pytest
from sqlalchemy import func, select

from portal.accounts import invitations
from portal.accounts import services as accounts
from portal.conventions import services as conventions
from portal.conventions.documents import convention_docx
from portal.core.errors import RuleError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.operations import dual_approvals, dual_memberships, lifecycle
from portal.operations import services as operations
from portal.operations.dual_memberships import Situation
from portal.operations.dual_models import DualDecision, DualMembershipApproval
from portal.operations.models import OperationEvent, ParticipantRole, Status
from tests.conventions.factories import make_convention_ready, sign_all, sign_as
from tests.conventions.helpers_documents import all_text, read_docx
from tests.factories import make_user
from tests.operations.factories import Market
from tests.support import PASSWORD


@pytest.fixture
def market(ctx):
    return Market()


def requests_of(operation) -> list[DualMembershipApproval]:
    return list(
        db.session.scalars(
            select(DualMembershipApproval)
            .where(DualMembershipApproval.operation_id == operation.id)
            .order_by(DualMembershipApproval.id)
        )
    )


def told(kind: str) -> set[int]:
    return set(db.session.scalars(select(Notification.user_id).where(Notification.kind == kind)))


def situation_of(operation, user, *organisations) -> Situation:
    first, second = sorted(o.id for o in organisations)
    return Situation(operation.id, user.id, first, second)


def approve(operation, situation, market, **kwargs):
    return dual_approvals.decide(
        operation, situation, approve=True, reason="", by=market.referent, org=market.region,
        **kwargs,
    )  # fmt: skip


# --- Where the situation arises --------------------------------------------------------------


def test_accepting_an_invitation_into_a_second_party_opens_a_request(market):
    """#11 M6: the employer's manager accepts an invitation to join the organisme of the
    same operation: a request waits for the Région, whose referent is told, and so is she."""
    operation = market.report()  # Organisme A and Entreprise E take part
    invitation, _token = invitations.invite(
        market.employer_user.email, market.of_a, by=market.a_user
    )
    invitations.accept_invitation(invitation, password=PASSWORD)
    [request] = requests_of(operation)
    assert (request.user_id, request.is_pending, request.requested_by_id) == (
        market.employer_user.id,
        True,
        market.employer_user.id,
    )
    assert {request.first_organisation_id, request.second_organisation_id} == {
        market.of_a.id,
        market.employer.id,
    }
    assert told("dual_membership_requested") == {market.referent.id, market.employer_user.id}
    kinds = db.session.scalars(
        select(OperationEvent.kind).where(OperationEvent.operation_id == operation.id)
    ).all()
    assert "dual_membership_requested" in kinds


def test_adding_a_participant_one_of_whose_members_is_in_another_party_opens_a_request(market):
    """#11 M6: Partenaire P's admin is also a member of Entreprise E; associating P with the
    operation makes the situation: a request."""
    operation = market.report()
    accounts.add_membership(market.partner_user, market.employer)
    assert requests_of(operation) == []  # P does not take part yet
    operations.add_participant(
        operation, market.partner, ParticipantRole.PARTNER_EMPLOYMENT,
        by=market.a_user, org=market.of_a,
    )  # fmt: skip
    [request] = requests_of(operation)
    assert request.user_id == market.partner_user.id
    assert request.requested_by_id == market.a_user.id


def test_reporting_a_need_with_an_employer_of_a_member_of_the_organisme_opens_a_request(market):
    """#11 M6: the report itself brings the parties together (Organisme A, Entreprise E)."""
    accounts.add_membership(market.a_user, market.employer)
    operation = market.report()
    [request] = requests_of(operation)
    assert request.user_id == market.a_user.id


def test_a_prescriber_enlisted_or_an_organisme_retained_after_fref_opens_a_request(market):
    """#11 M6: the other two ways an organisation joins an operation."""
    accounts.add_membership(market.partner_user, market.employer)
    operation = market.report()
    dual_approvals.lock_parties(operation, [market.partner])
    operations.enlist_prescriber(operation, market.partner, by=market.a_user, org=market.of_a)
    assert [r.user_id for r in requests_of(operation)] == [market.partner_user.id]
    accounts.add_membership(market.b_user, market.employer2)
    out_of_market = market.report(
        org=market.region, user=market.region_admin, territory=market.orleans,
        employers=[market.employer2],
    )  # fmt: skip
    operations.launch_fref(
        out_of_market, reference="FREF-1", provider=market.of_b,
        by=market.region_admin, org=market.region,
    )  # fmt: skip
    assert [r.user_id for r in requests_of(out_of_market)] == [market.b_user.id]


def test_one_request_per_situation_and_a_refused_one_is_asked_again_when_it_arises(market):
    """#11 M6: nothing is asked twice while a request waits or once approved; refused, the
    situation is asked again only when it arises anew (here, the party re-added)."""
    accounts.add_membership(market.partner_user, market.employer)
    operation = market.report()
    role = ParticipantRole.PARTNER_EMPLOYMENT
    carrier = {"by": market.a_user, "org": market.of_a}
    participant = operations.add_participant(operation, market.partner, role, **carrier)
    dual_approvals.request_approvals(by=market.a_user, operation_id=operation.id)
    assert len(requests_of(operation)) == 1
    situation = situation_of(operation, market.partner_user, market.partner, market.employer)
    dual_approvals.decide(
        operation, situation, approve=False, reason="Conflit d'intérêts.",
        by=market.referent, org=market.region,
    )  # fmt: skip
    operations.add_participant(operation, market.employer2, ParticipantRole.EMPLOYER, **carrier)
    assert len(requests_of(operation)) == 1  # refused and still there: not asked again
    operations.withdraw_participant(participant, reason="Cumul refusé.", **carrier)
    assert dual_memberships.situations(operation_id=operation.id) == []
    operations.add_participant(operation, market.partner, role, **carrier)
    assert [r.decision for r in requests_of(operation)] == [DualDecision.REFUSED, None]


def test_a_closed_or_cancelled_operation_has_no_situation(market):
    """#11 M6: the rule guards open operations (nothing is signed any more after)."""
    accounts.add_membership(market.a_user, market.employer)
    operation = market.report()
    lifecycle.cancel(operation, reason="Plus de besoin.", by=market.region_admin, org=market.region)
    assert dual_memberships.situations(operation_id=operation.id) == []


# --- Blocked until approved --------------------------------------------------------------------


@pytest.fixture
def ready(ctx):
    """A convention ready to submit (each party's admin its signer) whose employer's
    manager, Entreprise E's signer, then joined Partenaire P."""
    ready = make_convention_ready()
    accounts.add_membership(ready.market.employer_user, ready.market.partner)
    return ready


def test_a_member_of_two_parties_is_designated_signer_of_neither_until_approved(ready):
    """#11 M6: Inès, of Entreprise E, also joined Partenaire P: she may be designated signer
    of neither party, with the reason in French under the field, until the Région approves.
    (Entreprise E's signer, in the same case, keeps her designation but signs nothing and
    the convention waits: tests below.)"""
    market = ready.market
    ines = make_user(market.employer, email="ines@example.fr", first_name="Inès")
    accounts.add_membership(ines, market.partner)
    admins = ((market.employer, market.employer_user), (market.partner, market.partner_user))
    for organisation, admin in admins:
        with pytest.raises(RuleError, match="tant que la Région n'a pas approuvé") as refused:
            conventions.designate_signer(
                ready.convention, organisation, ines, "directrice", by=admin, by_org=organisation
            )
        assert refused.value.field == "user_id"
    approve(ready.operation, situation_of(ready.operation, ines, *[o for o, _a in admins]), market)
    conventions.designate_signer(
        ready.convention, market.partner, ines, "directrice",
        by=market.partner_user, by_org=market.partner,
    )  # fmt: skip


def test_the_convention_is_neither_submitted_nor_signed_nor_validated_until_approved(ready):
    """#11 M6: submission lists the cumul; a version already out for signature (the
    situation arose after it) is signed by her for neither party, nor validated."""
    market = ready.market
    problems = conventions.submission_problems(ready.convention)
    assert (
        "Cumul d'appartenance à faire approuver par la Région (une personne membre de deux "
        "parties) : Camille Martin (Entreprise E et Partenaire P)." in problems
    )
    with pytest.raises(RuleError, match="Cumul d'appartenance à faire approuver"):
        ready.submit()
    # The same situation arising after submission: the version is out, she may not sign.
    membership = accounts.active_membership(market.employer_user, market.partner)
    accounts.deactivate_membership(membership, by=market.partner_user)
    version = ready.submit()
    accounts.add_membership(market.employer_user, market.partner)
    assert conventions.signing_problems(version, market.employer_user, market.employer) == [
        "Camille Martin est membre d'Entreprise E et de Partenaire P, deux parties de "
        "l'opération : tant que la Région n'a pas approuvé ce cumul, il ou elle ne signe pour "
        "aucune des deux."
    ]
    for user, organisation in ready.signers:
        if user != market.employer_user:
            sign_as(version, user, organisation)
    situation = situation_of(ready.operation, market.employer_user, market.employer, market.partner)
    refusal = conventions.signing_problems(version, market.employer_user, market.employer)
    assert refusal  # still waiting
    approve(ready.operation, situation, market)
    sign_as(version, market.employer_user, market.employer)
    ready.validate(version)


def test_validation_waits_for_the_region_s_decision(ready):
    """#11 M6: a situation arising once every party signed holds the validation."""
    market = ready.market
    membership = accounts.active_membership(market.employer_user, market.partner)
    accounts.deactivate_membership(membership, by=market.partner_user)
    version = ready.submit()
    sign_all(ready, version)
    accounts.add_membership(market.employer_user, market.partner)
    with pytest.raises(RuleError, match="Cumul d'appartenance à faire approuver"):
        ready.validate(version)


def test_approved_the_convention_carries_the_mention_in_its_text_and_document(ready):
    """#11 M6: « X est membre de A et de B ; cumul approuvé par la Région le … » in the
    snapshot (hence the signed hash), the version's DOCX; a change before that."""
    market = ready.market
    situation = situation_of(ready.operation, market.employer_user, market.employer, market.partner)
    request = approve(ready.operation, situation, market)
    day = dual_memberships.paris_day(request.decided_at)
    expected = dual_memberships.mention("Camille Martin", "Entreprise E", "Partenaire P", day)
    assert expected.startswith(
        "Camille Martin est membre d'Entreprise E et de Partenaire P ; cumul approuvé par "
        "la Région le "
    )
    snapshot = conventions.current_snapshot(ready.convention)
    assert [entry["text"] for entry in snapshot["dual_memberships"]] == [expected]
    version = ready.submit()
    assert conventions.snapshot_of(version)["dual_memberships"] == snapshot["dual_memberships"]
    assert expected in all_text(read_docx(convention_docx(version)))


def test_refused_it_stays_blocked_until_the_person_leaves_one_party(ready):
    """#11 M6: a refusal needs a reason; it keeps the convention blocked with a message
    saying how it ends; the person leaving one organisation ends it."""
    market = ready.market
    situation = situation_of(ready.operation, market.employer_user, market.employer, market.partner)
    with pytest.raises(RuleError, match="Indiquez le motif du refus") as refused:
        dual_approvals.decide(
            ready.operation, situation, approve=False, reason=" ",
            by=market.referent, org=market.region,
        )  # fmt: skip
    assert refused.value.field == "reason"
    dual_approvals.decide(
        ready.operation, situation, approve=False, reason="Elle dirige les deux.",
        by=market.referent, org=market.region,
    )  # fmt: skip
    assert any(
        "Cumul d'appartenance refusé par la Région : Camille Martin (Entreprise E et "
        "Partenaire P) ; la personne quitte" in p
        for p in conventions.submission_problems(ready.convention)
    )
    told_people = told("dual_membership_decided")
    assert market.employer_user.id in told_people and market.a_user.id in told_people
    membership = accounts.active_membership(market.employer_user, market.partner)
    accounts.deactivate_membership(membership, by=market.partner_user)
    assert dual_memberships.blocking_problems(ready.operation) == []


def test_who_decides_and_what_is_left_to_decide(ready):
    """#11 M6: only the Région; never the person concerned; once; a situation that ended
    has nothing left to decide."""
    market = ready.market
    operation = ready.operation
    situation = situation_of(operation, market.employer_user, market.employer, market.partner)
    with pytest.raises(RuleError, match="Seule la Région"):
        dual_approvals.decide(
            operation, situation, approve=True, reason="", by=market.a_user, org=market.of_a
        )
    colleague = make_user(market.region, email="region.collegue@example.fr")
    accounts.add_membership(colleague, market.employer)
    colleague_situation = situation_of(operation, colleague, market.region, market.employer)
    with pytest.raises(RuleError, match="propre cumul"):
        dual_approvals.decide(
            operation, colleague_situation, approve=True, reason="", by=colleague,
            org=market.region,
        )  # fmt: skip
    approve(operation, situation, market)
    with pytest.raises(RuleError, match="La Région a déjà décidé de ce cumul le .* approuvé"):
        approve(operation, situation, market)
    gone = Situation(operation.id, market.a_user.id, market.of_a.id, market.employer.id)
    with pytest.raises(RuleError, match="plus rien à décider"):
        approve(operation, gone, market)


def test_a_situation_from_before_the_rule_is_blocked_and_decided_the_same_way(ready):
    """#11 M6: a situation no request was made for (data from before the rule) blocks too;
    the Région's decision records the request with it."""
    market = ready.market
    operation = ready.operation
    db.session.execute(db.delete(DualMembershipApproval))
    [standing] = dual_memberships.unapproved(operation)
    assert standing.request is None and standing.pending
    assert dual_memberships.blocking_problems(operation)
    approve(operation, standing.situation, market)
    [request] = requests_of(operation)
    assert request.requested_by_id is None and request.is_approved
    assert dual_memberships.blocking_problems(operation) == []
    assert db.session.scalar(select(func.count(DualMembershipApproval.id))) == 1
    assert operation.status == Status.CONVENTION
