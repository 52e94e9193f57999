"""Rules of the partnership convention, on the services without HTTP: who signs, what a
submission freezes, and signing from « à signer » to « validée » (the life after the
first submission is in test_lifecycle.py)."""

import hashlib

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Membership
from portal.audit.models import AuditEvent
from portal.conventions import services
from portal.conventions.models import ConventionVersion, DesignatedSigner, Signature
from portal.conventions.models import VersionStatus as VS
from portal.conventions.snapshot import canonical
from portal.core.errors import RuleError
from portal.design.models import SectionKey
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.operations import lifecycle
from portal.operations import services as operations
from portal.operations.models import ParticipantRole, Status
from tests.conventions.factories import (
    EVIDENCE,
    make_convention_ready,
    sign_as,
)
from tests.factories import make_user
from tests.operations.factories import Market

NOT_VALIDATED = "La convention de partenariat n'est pas encore validée par la Région."


@pytest.fixture
def ready(ctx):
    return make_convention_ready()


def actions(name: str) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == name).order_by(AuditEvent.seq)
    ).all()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- Start ------------------------------------------------------------------------------


def test_advancing_to_convention_starts_a_draft_with_every_clause_prefilled(ready):
    convention = ready.convention
    assert (
        convention.reference == f"DEFI-{ready.operation.reported_at.year}-{ready.operation.id:04d}"
    )
    assert services.state(convention) == VS.DRAFT
    assert [c.key for c in ready.design.clauses] == SectionKey.clause_keys()
    assert all(c.content["text"].strip() for c in ready.design.clauses)
    assert "du 04/01/2027 au 25/06/2027" in ready.clause(SectionKey.CONV_DURATION).content["text"]
    user, org = ready.carrier
    assert services.start_convention(ready.operation, by=user, org=org) is convention


def test_the_convention_cannot_start_before_its_step(ctx):
    market = Market()
    operation = market.report()
    with pytest.raises(RuleError, match="étape convention"):
        services.start_convention(operation, by=market.a_user, org=market.of_a)


# --- Designated signers -----------------------------------------------------------------


def test_designation_needs_a_capacity(ready):
    market = ready.market
    with pytest.raises(RuleError, match="qualité du signataire") as error:
        services.designate_signer(
            ready.convention, market.employer, market.employer_user, "  ",
            by=market.a_user, by_org=market.of_a,
        )  # fmt: skip
    assert error.value.field == "capacity"


@pytest.mark.parametrize("who", ["region", "of_b"])
def test_only_a_signing_party_designates_a_signer(ready, who):
    market = ready.market
    organisation = getattr(market, who)
    user = market.referent if who == "region" else market.b_user
    with pytest.raises(RuleError, match="ne signe pas la convention"):
        services.designate_signer(
            ready.convention, organisation, user, "président",
            by=market.a_user, by_org=market.of_a,
        )  # fmt: skip


def test_the_signer_is_an_active_enabled_member_of_the_party(ready):
    market = ready.market
    for user in (market.partner_user, market.b_user):  # members of other organisations
        with pytest.raises(RuleError, match="membre actif d'Entreprise E") as error:
            services.designate_signer(
                ready.convention, market.employer, user, "gérant",
                by=market.a_user, by_org=market.of_a,
            )  # fmt: skip
        assert error.value.field == "user_id"
    colleague = make_user(market.employer, email="e.colleague@example.fr")
    colleague.is_enabled = False
    with pytest.raises(RuleError, match="membre actif"):
        services.designate_signer(
            ready.convention, market.employer, colleague, "gérant",
            by=market.a_user, by_org=market.of_a,
        )  # fmt: skip


def test_designating_again_replaces_the_signer_and_is_audited(ready):
    market = ready.market
    colleague = make_user(market.employer, email="e.colleague@example.fr", first_name="Inès")
    services.designate_signer(
        ready.convention, market.employer, colleague, " directrice adjointe ",
        by=market.employer_user, by_org=market.employer,
    )  # fmt: skip
    rows = db.session.scalars(
        select(DesignatedSigner).where(DesignatedSigner.organisation_id == market.employer.id)
    ).all()
    assert [(r.user_id, r.capacity) for r in rows] == [(colleague.id, "directrice adjointe")]
    last = actions("convention.signer_designated")[-1]
    assert last.detail == {
        "party": market.employer.id,
        "signer": colleague.id,
        "capacity": "directrice adjointe",
    }
    assert (last.actor_id, last.organisation_id) == (market.employer_user.id, market.employer.id)


def test_a_party_that_signed_keeps_its_signer_for_that_version(ready):
    market = ready.market
    version = ready.submit()
    sign_as(version, market.employer_user, market.employer)
    colleague = make_user(market.employer, email="e.colleague@example.fr")
    with pytest.raises(RuleError, match="a déjà signé la version en cours"):
        services.designate_signer(
            ready.convention, market.employer, colleague, "gérant",
            by=market.a_user, by_org=market.of_a,
        )  # fmt: skip
    # Another party that has not signed yet may still change its signer.
    other = make_user(market.partner, email="p.colleague@example.fr")
    services.designate_signer(
        ready.convention, market.partner, other, "directrice",
        by=market.a_user, by_org=market.of_a,
    )  # fmt: skip


# --- Submission problems ----------------------------------------------------------------


def test_submission_names_every_party_without_a_signer(ctx):
    ready = make_convention_ready(designate=False)
    assert services.submission_problems(ready.convention) == [
        "Signataire à désigner pour : Organisme A, Entreprise E, Partenaire P."
    ]
    user, org = ready.carrier
    with pytest.raises(RuleError, match="Signataire à désigner pour"):
        services.submit(ready.convention, by=user, org=org)
    assert count(ConventionVersion) == 0


def test_a_signer_who_left_the_party_must_be_replaced(ready):
    market = ready.market
    membership = db.session.scalar(
        select(Membership).where(Membership.user_id == market.partner_user.id)
    )
    membership.active = False
    assert services.submission_problems(ready.convention) == [
        "Signataire à désigner pour : Partenaire P."
    ]


def test_an_empty_clause_holds_the_submission(ready):
    ready.edit_clause("   ", SectionKey.CONV_STEERING)
    assert services.submission_problems(ready.convention) == [
        "Articles à rédiger : Comité de pilotage."
    ]


def test_a_new_party_needs_a_signer_before_submission(ready):
    market = ready.market
    operations.add_participant(
        ready.operation, market.employer2, ParticipantRole.EMPLOYER,
        by=market.a_user, org=market.of_a,
    )  # fmt: skip
    assert services.submission_problems(ready.convention) == [
        "Signataire à désigner pour : Entreprise F."
    ]


def test_nothing_changed_means_no_new_version(ready):
    version = ready.submit()
    assert services.submission_problems(ready.convention) == [
        "Rien n'a changé depuis la version 1 : aucune nouvelle version à soumettre."
    ]
    with pytest.raises(RuleError, match="Rien n'a changé"):
        ready.submit()
    assert services.versions(ready.convention) == [version]


# --- Submitting freezes a version -------------------------------------------------------


def test_submit_freezes_the_canonical_text_and_its_sha256(ready):
    expected = canonical(services.current_snapshot(ready.convention))
    version = ready.submit()
    assert (version.number, version.status, version.is_amendment) == (1, VS.TO_SIGN, False)
    assert version.canonical == expected
    assert version.sha256 == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    snapshot = services.snapshot_of(version)
    assert [p["name"] for p in snapshot["parties"]] == [
        "Région Centre-Val de Loire",
        "Organisme A",
        "Entreprise E",
        "Partenaire P",
    ]
    assert [(p["employer"], p["count"], p["contract_type"]) for p in snapshot["promises"]] == [
        ("Entreprise E", 3, "cdi")
    ]
    assert len(snapshot["clauses"]) == 9 and len(snapshot["design"]) == 9
    assert services.state(ready.convention) == VS.TO_SIGN
    [event] = actions("convention.submitted")
    assert event.detail == {"number": 1, "sha256": version.sha256, "amendment": False}


@pytest.mark.parametrize("column", ["canonical", "sha256"])
def test_a_frozen_version_cannot_be_rewritten(ready, column):
    version = ready.submit()
    db.session.flush()
    setattr(version, column, "0" * 64)
    with pytest.raises(RuntimeError, match=f"ConventionVersion.{column} is frozen"):
        db.session.flush()
    db.session.rollback()


def test_the_signers_are_told_in_the_portal_and_by_email(ready):
    version = ready.submit()
    notes = db.session.scalars(
        select(Notification).where(Notification.kind == "convention_to_sign")
    ).all()
    assert sorted(n.user_id for n in notes) == sorted(u.id for u, _org in ready.signers)
    path = f"/operations/{ready.operation.id}/convention/versions/{version.number}"
    assert all(n.link.endswith(path) or path in n.link for n in notes)
    assert all("La version 1 de la convention" in n.message for n in notes)
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject == "Convention DEFI à signer")
    ).all()
    assert sorted(m.recipient for m in mails) == sorted(u.email for u, _org in ready.signers)


# --- Signing ----------------------------------------------------------------------------


def test_the_consent_text_is_exact_and_stored_with_the_evidence(ready):
    market = ready.market
    version = ready.submit()
    consent = services.consent_text(version, market.employer, "gérant")
    assert consent == (
        f"J'ai pris connaissance de la version 1 de la convention {ready.convention.reference} "
        f"(empreinte SHA-256 {version.sha256}) et j'en accepte les termes. Je la signe "
        "électroniquement au nom d'Entreprise E, en qualité de gérant, et je reconnais "
        "que cette signature m'engage."
    )
    signature = sign_as(version, market.employer_user, market.employer)
    assert signature.consent_text == consent
    assert (signature.version_sha256, signature.capacity) == (version.sha256, "gérant")
    assert (signature.ip, signature.user_agent) == (EVIDENCE.ip, EVIDENCE.user_agent)
    assert signature.auth_method == "password" and signature.signed_at is not None
    [event] = actions("convention.signed")
    assert event.detail["sha256"] == version.sha256 and event.detail["signature"] == signature.id


@pytest.mark.parametrize("consent", ["", "J'accepte.", "altered"])
def test_a_different_consent_text_is_refused(ready, consent):
    market = ready.market
    version = ready.submit()
    if consent == "altered":
        consent = services.consent_text(version, market.employer, "gérant").replace("1", "2")
    with pytest.raises(RuleError, match="consentement") as error:
        services.sign(
            version, user=market.employer_user, organisation=market.employer,
            consent=consent, evidence=EVIDENCE,
        )  # fmt: skip
    assert error.value.field == "consent"
    assert count(Signature) == 0


def test_the_states_from_to_sign_to_validated_in_any_signing_order(ready):
    market = ready.market
    version = ready.submit()
    for n, (user, org) in enumerate(reversed(ready.signers), start=1):
        sign_as(version, user, org)
        expected = VS.SIGNED if n == len(ready.signers) else VS.PARTIALLY_SIGNED
        assert version.status == expected
        assert services.state(ready.convention) == expected
    assert services.pending_parties(version) == []
    [note] = db.session.scalars(
        select(Notification).where(Notification.kind == "convention_signed")
    ).all()
    assert note.user_id == market.referent.id
    assert lifecycle.unmet_conditions(ready.operation, Status.RECRUITMENT) == [NOT_VALIDATED]
    ready.validate(version)
    assert version.status == VS.VALIDATED and version.validated_by_id == market.referent.id
    assert services.state(ready.convention) == VS.VALIDATED
    assert services.in_force(ready.convention) == version
    assert lifecycle.unmet_conditions(ready.operation, Status.RECRUITMENT) == []
    told = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "convention_validated")
    ).all()
    assert sorted(told) == sorted(u.id for u, _org in ready.signers)


def test_only_a_fully_signed_version_is_validated_and_only_by_the_region(ready):
    market = ready.market
    version = ready.submit()
    sign_as(version, market.a_user, market.of_a)
    with pytest.raises(RuleError, match="signée par toutes les parties"):
        ready.validate(version)
    for user, org in ready.signers[1:]:
        sign_as(version, user, org)
    with pytest.raises(RuleError, match="Seule la Région valide"):
        services.validate(version, by=market.a_user, org=market.of_a)
    assert version.status == VS.SIGNED


def test_signing_twice_raises_already_signed_and_keeps_one_signature(ready):
    market = ready.market
    version = ready.submit()
    sign_as(version, market.employer_user, market.employer)
    with pytest.raises(services.AlreadySigned, match="Entreprise E a déjà signé"):
        sign_as(version, market.employer_user, market.employer)
    assert count(Signature, Signature.organisation_id == market.employer.id) == 1


def test_only_the_designated_signer_signs_for_a_party(ready):
    market = ready.market
    version = ready.submit()
    colleague = make_user(market.employer, email="e.colleague@example.fr")
    with pytest.raises(RuleError, match="pas le signataire désigné pour Entreprise E"):
        services.sign(
            version, user=colleague, organisation=market.employer,
            consent=services.consent_text(version, market.employer, "gérant"),
            evidence=EVIDENCE,
        )  # fmt: skip
    with pytest.raises(RuleError, match="Organisme B n'est pas signataire"):
        services.sign(
            version, user=market.b_user, organisation=market.of_b,
            consent="", evidence=EVIDENCE,
        )  # fmt: skip
    assert count(Signature) == 0


def test_a_designated_signer_who_left_cannot_sign(ready):
    market = ready.market
    version = ready.submit()
    membership = db.session.scalar(
        select(Membership).where(Membership.user_id == market.employer_user.id)
    )
    membership.active = False
    with pytest.raises(RuleError, match="plus membre d'Entreprise E"):
        sign_as(version, market.employer_user, market.employer)
