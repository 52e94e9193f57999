"""Issue #12 §3: keeping the training up to date after co-design, through amendments.

After co-design the design, the parties and the promises stay editable; once the Région
has validated a version, what they say is the draft of the next amendment and the
validated version stays in force — for the immersions, the skills a tutor rates and the
job promises — until an amendment carrying the change is validated. A rejected version
goes back to drafting with everything editable. Rules on the services, without HTTP.
"""

from io import BytesIO

import pytest
from docx import Document
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.conventions import diffs, services
from portal.conventions.documents import convention_docx
from portal.conventions.models import VersionStatus
from portal.core.errors import RuleError
from portal.design import drafts, rhythm
from portal.design import services as design_services
from portal.design.models import SectionKey
from portal.extensions import db
from portal.immersions.services import design_skills
from portal.notifications.models import Notification
from portal.operations import dual_approvals, dual_memberships, needs, pending
from portal.operations import services as operations
from portal.operations.dual_memberships import Situation
from portal.operations.models import (
    ContractType,
    OperationEvent,
    ParticipantRole,
    PendingChange,
    Position,
    Status,
)
from portal.recruitment.models import JobPromise
from tests.conventions.factories import in_force, make_convention_ready, sign_as

# CDI: the contract types change with issue #12 §2 (durations); a CDI stays a CDI.
PROMISE = {"job_title": "Agent·e de propreté", "count": 2, "contract_type": ContractType.CDI}


@pytest.fixture
def ready(ctx):
    """Version 1 in force, the operation recruiting; parties: the organisme, Entreprise E
    (3 CDI) and Partenaire P."""
    return in_force(make_convention_ready())


def save(ready, key: SectionKey, content: dict) -> None:
    """The organisme saves a section of the design (or a clause)."""
    section = ready.design.section(key)
    user, org = ready.carrier
    result = design_services.save_section(
        section, content, base_version=section.version, by=user, org=org, steering=True
    )
    assert result.status == "saved"


def relabel_first_period(ready, label: str) -> None:
    items = [dict(item) for item in ready.design.section(SectionKey.RHYTHM).content["items"]]
    items[0]["label"] = label
    save(ready, SectionKey.RHYTHM, {"items": items})


def participant(ready, organisation):
    return next(
        p for p in ready.operation.active_participants() if p.organisation_id == organisation.id
    )


def sign_everyone(ready, version) -> None:
    """Each signing party of ``version`` signs it by its admin (the designated signer)."""
    for party in services.pending_parties(version):
        designation = services.signer_for(ready.convention, party["organisation_id"])
        sign_as(version, designation.user, designation.organisation)
    assert version.status == VersionStatus.SIGNED


def amend(ready):
    """Submit an amendment, have every party sign it and the Région validate it."""
    version = ready.submit()
    assert version.is_amendment
    sign_everyone(ready, version)
    ready.validate(version)
    return version


def designate_employer2(ready) -> None:
    """Entreprise F's admin names itself as its signer."""
    market = ready.market
    services.designate_signer(
        ready.convention,
        market.employer2,
        market.employer2_user,
        "présidente",
        by=market.employer2_user,
        by_org=market.employer2,
    )


def promises_of(operation, organisation) -> list[JobPromise]:
    return db.session.scalars(
        select(JobPromise).where(
            JobPromise.operation_id == operation.id, JobPromise.organisation_id == organisation.id
        )
    ).all()


def notices(kind: str) -> list[str]:
    return db.session.scalars(select(Notification.message).where(Notification.kind == kind)).all()


# --- The design: in force, and the draft of the amendment ------------------------------


def test_validation_puts_the_design_in_force_and_later_edits_are_a_draft(ready):
    design = ready.design
    assert design.in_force_number == 1 and design.in_force_signed_at is not None
    assert ready.operation.convention_in_force_since is not None
    rhythm_section = design.section(SectionKey.RHYTHM)
    assert design.in_force["rhythm"] == rhythm_section.content
    assert not drafts.changed_sections(design)

    relabel_first_period(ready, "Accueil et sécurité, avec les employeurs")
    skills = design.section(SectionKey.SKILLS)
    items = [{**skills.content["items"][0], "label": "Nettoyer les locaux"}]
    save(ready, SectionKey.SKILLS, {"items": items})

    # The draft changed; what runs (immersions, tutors' ratings) reads the version in force.
    assert [s.key for s in drafts.changed_sections(design)] == [
        SectionKey.SKILLS,
        SectionKey.RHYTHM,
    ]
    assert rhythm.periods(design)[0].label == "Accueil et sécurité, avec les employeurs"
    assert rhythm.periods(design, in_force=True)[0].label == ""
    assert [s["label"] for s in design_skills(ready.operation)] == ["Nettoyer"]
    change = drafts.draft_change(design, design.section(SectionKey.RHYTHM), {}, {})
    assert [c.kind for c in change.items.changes] == ["changed"]
    # After co-design, a change no longer withdraws the Région's approval of the design.
    assert design.approved_at is not None


def test_an_amendment_carries_the_draft_and_is_in_force_once_validated(ready):
    relabel_first_period(ready, "Première version de l'avenant")
    version = ready.submit()
    assert version.is_amendment and version.number == 2
    (told,) = notices("amendment_submitted")
    assert "version 2" in told and "annexe : la formation co-conçue" in told
    # Changed after the submission: no part of this amendment, kept for the next one.
    relabel_first_period(ready, "Changée après la soumission")
    sign_everyone(ready, version)
    ready.validate(version)
    design = ready.design
    assert design.in_force_number == 2
    assert design.in_force["rhythm"]["items"][0]["label"] == "Première version de l'avenant"
    assert rhythm.periods(design, in_force=True)[0].label == "Première version de l'avenant"
    assert [s.key for s in drafts.changed_sections(design)] == [SectionKey.RHYTHM]
    statuses = [v.status for v in services.versions(ready.convention)]
    assert statuses == [VersionStatus.SUPERSEDED, VersionStatus.VALIDATED]


# --- Parties ------------------------------------------------------------------------------


def test_parties_added_or_withdrawn_after_signature_wait_for_the_amendment(ready):
    market, operation = ready.market, ready.operation
    user, org = ready.carrier
    joining = operations.add_participant(
        operation, market.employer2, ParticipantRole.EMPLOYER, by=user, org=org
    )
    assert joining.pending_change == PendingChange.ADD and joining.is_joining
    assert any("entrera dans la convention par un avenant" in n for n in notices(
        "participant_added_later"
    ))  # fmt: skip
    partner = participant(ready, market.partner)
    operations.withdraw_participant(partner, reason="Fin du partenariat", by=user, org=org)
    assert partner.is_leaving and partner.withdrawn_at is None
    assert any("prendra effet avec l'avenant" in n for n in notices("participant_withdrawn"))
    with pytest.raises(RuleError, match="attend déjà"):
        operations.withdraw_participant(partner, reason="Encore", by=user, org=org)

    # The draft names the party joining, not the one leaving; what runs still has them.
    draft = services.current_snapshot(ready.convention)
    assert {p["name"] for p in draft["parties"]} == {
        "Région Centre-Val de Loire",
        "Organisme A",
        "Entreprise E",
        "Entreprise F",
    }
    assert market.employer2 not in needs.employer_participants(operation, in_force=True)
    position = needs.add_position(
        needs.need_for(operation, market.employer2),
        PROMISE,
        by=market.employer2_user,
        org=market.employer2,
    )
    assert position.is_joining and promises_of(operation, market.employer2) == []
    designate_employer2(ready)
    version = ready.submit()
    # Promised after the submission: waits for the next amendment.
    later = needs.add_position(
        needs.need_for(operation, market.employer2),
        PROMISE,
        by=market.employer2_user,
        org=market.employer2,
    )
    sign_everyone(ready, version)
    ready.validate(version)

    assert not joining.is_joining and joining.withdrawn_at is None
    assert partner.withdrawn_at is not None and partner.pending_change is None
    assert partner.withdrawn_by_id == user.id
    assert not position.is_joining and later.is_joining
    assert [p.position_id for p in promises_of(operation, market.employer2)] == [position.id] * 2
    applied = db.session.scalar(
        select(OperationEvent).where(OperationEvent.kind == "amendment_applied")
    )
    assert applied.detail["joined"] == ["Entreprise F"]
    assert applied.detail["left"] == ["Partenaire P"]


def test_a_party_joining_leaves_at_once_and_a_withdrawal_can_be_cancelled(ready):
    market, operation = ready.market, ready.operation
    user, org = ready.carrier
    joining = operations.add_participant(
        operation, market.employer2, ParticipantRole.EMPLOYER, by=user, org=org
    )
    operations.withdraw_participant(joining, reason="Erreur", by=user, org=org)
    assert joining.withdrawn_at is not None and joining.pending_change is None
    partner = participant(ready, market.partner)
    with pytest.raises(RuleError, match="Aucun retrait"):
        pending.keep_participant(partner, by=user, org=org)
    operations.withdraw_participant(partner, reason="Fin", by=user, org=org)
    pending.keep_participant(partner, by=user, org=org)
    assert partner.pending_change is None and partner.withdrawal_reason == ""
    assert not services.changes_since(ready.convention, services.in_force(ready.convention))


# --- Promises -----------------------------------------------------------------------------


def test_positions_withdrawn_or_added_after_signature_apply_with_the_amendment(ready):
    market, operation = ready.market, ready.operation
    employer, boss = market.employer, market.employer_user
    (cdi,) = needs.need_for(operation, employer).positions
    assert len(promises_of(operation, employer)) == 3
    needs.remove_position(cdi, by=boss, org=employer)
    assert cdi.is_leaving and len(promises_of(operation, employer)) == 3
    with pytest.raises(RuleError, match="attend déjà"):
        needs.remove_position(cdi, by=boss, org=employer)
    needs.keep_position(cdi, by=boss, org=employer)
    assert cdi.pending_change is None
    needs.remove_position(cdi, by=boss, org=employer)
    added = needs.add_position(needs.need_for(operation, employer), PROMISE, by=boss, org=employer)
    draft = services.current_snapshot(ready.convention)["promises"]
    assert [(p["position_id"], p["count"]) for p in draft] == [(added.id, 2)]
    # Added then withdrawn before any amendment: gone at once.
    extra = needs.add_position(needs.need_for(operation, employer), PROMISE, by=boss, org=employer)
    extra_id = extra.id
    needs.remove_position(extra, by=boss, org=employer)
    assert db.session.get(Position, extra_id) is None

    amend(ready)
    assert db.session.get(Position, cdi.id) is None
    promises = promises_of(operation, employer)
    assert [(p.position_id, p.contract_type) for p in promises] == [
        (added.id, ContractType.CDI)
    ] * 2


def test_promises_and_parties_are_frozen_once_the_operation_is_closed(ready):
    market, operation = ready.market, ready.operation
    operation.status = Status.CLOSED
    need = needs.need_for(operation, market.employer)
    with pytest.raises(RuleError, match="ses promesses d'emploi ne changent plus"):
        needs.add_position(need, PROMISE, by=market.employer_user, org=market.employer)
    with pytest.raises(RuleError, match="ses participants ne changent plus"):
        operations.withdraw_participant(
            participant(ready, market.partner), reason="x", by=market.a_user, org=market.of_a
        )


# --- Rejection: back to drafting ----------------------------------------------------------


def test_a_rejected_version_goes_back_to_drafting_with_everything_editable(ctx):
    ready = make_convention_ready()
    market, operation = ready.market, ready.operation
    first = ready.submit()
    user, org = ready.region
    services.reject(first, by=user, org=org, reason="Le rythme ne prévoit pas de bilan.")
    assert operation.status == Status.CONVENTION
    assert not pending.amending(operation)

    # Everything is editable, directly (nothing is in force).
    relabel_first_period(ready, "Accueil, sécurité et bilan de positionnement")
    ready.edit_clause("Objet revu après le rejet.")
    carrier_user, carrier = ready.carrier
    added = operations.add_participant(
        operation, market.employer2, ParticipantRole.EMPLOYER, by=carrier_user, org=carrier
    )
    assert added.pending_change is None
    position = needs.add_position(
        needs.need_for(operation, market.employer2),
        PROMISE,
        by=market.employer2_user,
        org=market.employer2,
    )
    assert position.pending_change is None
    operations.withdraw_participant(
        participant(ready, market.partner), reason="Se retire", by=carrier_user, org=carrier
    )
    assert participant_withdrawn(ready, market.partner)

    # The next version shows its signers what changed, part by part.
    designate_employer2(ready)
    second = ready.submit()
    assert not second.is_amendment
    parts = diffs.snapshot_diff(services.snapshot_of(first), services.snapshot_of(second))
    assert [p.part for p in parts] == ["parties", "promises", "clauses", "design"]
    design_part = parts[-1]
    assert [b.title for b in design_part.blocks] == ["Rythme de l'alternance"]
    (change,) = design_part.blocks[0].items.changes
    assert change.fields[0].new == "Accueil, sécurité et bilan de positionnement"
    parties = parts[0].blocks[0].items.changes
    assert {(c.kind, c.name) for c in parties} == {
        ("added", "Entreprise F"),
        ("removed", "Partenaire P"),
    }


def participant_withdrawn(ready, organisation) -> bool:
    return any(
        p.organisation_id == organisation.id and p.withdrawn_at is not None
        for p in ready.operation.participants
    )


# --- The amendment's document ---------------------------------------------------------------


def test_the_amendments_document_lists_what_it_changes(ready):
    relabel_first_period(ready, "Accueil renforcé")
    market = ready.market
    needs.add_position(
        needs.need_for(ready.operation, market.employer),
        PROMISE,
        by=market.employer_user,
        org=market.employer,
    )
    version = ready.submit()
    text = "\n".join(p.text for p in Document(BytesIO(convention_docx(version))).paragraphs)
    assert "Modifications apportées par l'avenant à la version 1" in text
    assert "Rythme de l'alternance" in text and "Libellé : Accueil renforcé" in text
    assert "Ajouté : Agent·e de propreté — Entreprise E" in text
    first = services.versions(ready.convention)[0]
    first_text = "\n".join(p.text for p in Document(BytesIO(convention_docx(first))).paragraphs)
    assert "Modifications apportées" not in first_text
    assert db.session.scalar(select(func.count(Position.id))) == 2


def refuse_cumul(ready) -> None:
    """Camille, Entreprise E's signer, joins Partenaire P; the Région refuses the cumul."""
    market, operation = ready.market, ready.operation
    accounts.add_membership(market.employer_user, market.partner)
    situation = Situation(
        operation.id, market.employer_user.id, *sorted((market.employer.id, market.partner.id))
    )
    dual_approvals.decide(
        operation, situation, approve=False, reason="Elle dirige les deux.",
        by=market.referent, org=market.region,
    )  # fmt: skip


def test_a_refused_cumul_does_not_block_the_amendment_that_removes_one_of_its_parties(ready):
    """#11 M6 with #12 §3: Camille, Entreprise E's signer, joined Partenaire P after
    version 1 and the Région refused the cumul. The amendment withdrawing Partenaire P is
    what ends it: its submission, Camille's signature and its validation read the parties
    the amendment names, not the participants still running until it is validated."""
    market, operation = ready.market, ready.operation
    refuse_cumul(ready)
    assert any("refusé" in p for p in services.submission_problems(ready.convention))

    user, org = ready.carrier
    operations.withdraw_participant(
        participant(ready, market.partner), reason="Fin du partenariat", by=user, org=org
    )
    assert services.submission_problems(ready.convention) == []
    version = amend(ready)  # submitted, signed by Camille among others, validated

    assert version.status == VersionStatus.VALIDATED
    assert dual_memberships.situations(operation_id=operation.id) == []


def test_a_refused_cumul_still_blocks_an_amendment_that_keeps_both_parties(ready):
    """The counterpart: an amendment naming both organisations stays blocked."""
    refuse_cumul(ready)
    relabel_first_period(ready, "Découverte du métier")
    problems = services.submission_problems(ready.convention)
    assert any("Cumul d'appartenance refusé par la Région" in p for p in problems)
    with pytest.raises(RuleError, match="refusé"):
        ready.submit()
