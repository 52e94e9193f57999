"""Rules of the convention's life after the first submission, on the services: new
versions voiding old signatures, rejection, cancellation, amendments (avenants) and the
gate to recruitment."""

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.conventions import services
from portal.conventions.models import Signature
from portal.conventions.models import VersionStatus as VS
from portal.core.errors import RuleError
from portal.design.models import SectionKey
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.operations import lifecycle
from portal.operations.models import Status
from tests.conventions.factories import (
    make_convention_ready,
    sign_all,
    sign_as,
    validated_convention,
)

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


# --- New versions, rejection, cancellation ----------------------------------------------


def test_a_change_after_submission_needs_a_new_version(ready):
    version = ready.submit()
    assert services.changes_since(ready.convention, version) == []
    ready.edit_clause("Un objet reformulé.")
    assert services.changes_since(ready.convention, version) == ["clauses"]
    assert services.submission_problems(ready.convention) == []


def test_resubmitting_voids_the_open_version_and_its_signatures(ready):
    market = ready.market
    first = ready.submit()
    signature = sign_as(first, market.employer_user, market.employer)
    ready.edit_clause("Un objet reformulé.")
    second = ready.submit()
    assert (second.number, second.status) == (2, VS.TO_SIGN)
    assert second.sha256 != first.sha256
    assert first.status == VS.VOIDED and first.void_reason == "Remplacée par la version 2."
    # The voided signature is kept, with why; none is valid on the new version.
    assert db.session.get(Signature, signature.id) is signature
    assert signature.voided_at is not None and signature.void_reason == first.void_reason
    assert services.valid_signatures(first) == [] and services.valid_signatures(second) == []
    assert len(services.pending_parties(second)) == 3
    voided = db.session.scalars(
        select(Notification).where(Notification.kind == "convention_voided")
    ).all()
    assert [n.user_id for n in voided] == [market.employer_user.id]
    assert "les signatures déjà données sont annulées" in voided[0].message
    # The others hear of version 2 once; the employer only through the message above.
    told = db.session.scalars(
        select(Notification.user_id).where(
            Notification.kind == "convention_to_sign", Notification.message == voided[0].message
        )
    ).all()
    assert sorted(told) == sorted([market.a_user.id, market.partner_user.id])
    mails = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.body.contains("version 2"))
    ).all()
    assert sorted(mails) == sorted(u.email for u, _org in ready.signers)
    [event] = actions("convention.version_voided")
    assert event.detail["number"] == 1 and event.detail["sha256"] == first.sha256


def test_an_older_version_can_no_longer_be_signed(ready):
    market = ready.market
    first = ready.submit()
    ready.edit_clause("Un objet reformulé.")
    ready.submit()
    with pytest.raises(RuleError, match=r"n'est pas ouverte à la signature \(Annulée\)"):
        sign_as(first, market.employer_user, market.employer)
    assert count(Signature) == 0


def test_the_region_rejects_with_a_reason_back_to_draft(ready):
    market = ready.market
    version = ready.submit()
    sign_as(version, market.a_user, market.of_a)
    referent, region = ready.region
    with pytest.raises(RuleError, match="motif du rejet") as error:
        services.reject(version, by=referent, org=region, reason="  ")
    assert error.value.field == "reason"
    with pytest.raises(RuleError, match="Seule la Région rejette"):
        services.reject(version, by=market.a_user, org=market.of_a, reason="Non")
    services.reject(version, by=referent, org=region, reason="Ajoutez la clause RGPD.")
    assert (version.status, version.reject_reason) == (VS.REJECTED, "Ajoutez la clause RGPD.")
    assert services.state(ready.convention) == VS.DRAFT
    notes = db.session.scalars(
        select(Notification).where(Notification.kind == "convention_rejected")
    ).all()
    assert all("Ajoutez la clause RGPD." in n.message for n in notes) and len(notes) == 3
    with pytest.raises(RuleError, match="Rejetée"):
        sign_as(version, market.employer_user, market.employer)
    ready.edit_clause("Avec la clause RGPD.", SectionKey.CONV_DATA)
    second = ready.submit()
    assert (second.number, second.status, version.status) == (2, VS.TO_SIGN, VS.REJECTED)


def test_cancelling_the_operation_voids_the_open_version(ready):
    market = ready.market
    version = ready.submit()
    signature = sign_as(version, market.a_user, market.of_a)
    lifecycle.cancel(ready.operation, reason="Plus de financement", by=market.referent,
                      org=market.region)  # fmt: skip
    assert version.status == VS.VOIDED and version.void_reason == "Opération annulée."
    assert signature.voided_at is not None
    assert services.state(ready.convention) == VS.VOIDED
    assert services.submission_problems(ready.convention)[0].startswith("L'opération n'est pas")


def test_opening_a_version_is_recorded_once(ready):
    market = ready.market
    version = ready.submit()
    assert services.mark_opened(version, user=market.employer_user, org=market.employer)
    assert not services.mark_opened(version, user=market.employer_user, org=market.employer)
    assert len(actions("convention.opened")) == 1
    ready.edit_clause("Un objet reformulé.")
    second = ready.submit()
    seen = services.last_seen_version(ready.convention, market.employer_user, second)
    assert seen == version
    assert services.last_seen_version(ready.convention, market.partner_user, second) is None


# --- Amendments ---------------------------------------------------------------------------


def test_an_amendment_leaves_the_validated_version_in_force_until_validated(ctx):
    ready = make_convention_ready()
    market = ready.market
    first = validated_convention(ready)
    lifecycle.advance(ready.operation, Status.RECRUITMENT, by=market.a_user, org=market.of_a)
    assert services.submission_problems(ready.convention) == [
        "Rien n'a changé depuis la version 1 : aucune nouvelle version à soumettre."
    ]
    ready.edit_clause("Le comité se réunit chaque trimestre.", SectionKey.CONV_STEERING)
    amendment = ready.submit()
    assert (amendment.number, amendment.is_amendment) == (2, True)
    assert services.snapshot_of(amendment)["amends_version"] == 1
    assert first.status == VS.VALIDATED and services.in_force(ready.convention) == first
    assert services.state(ready.convention) == VS.TO_SIGN
    assert services.recruitment_problems(ready.operation) == []
    sign_all(ready, amendment)
    assert services.in_force(ready.convention) == first
    ready.validate(amendment)
    assert first.status == VS.SUPERSEDED and first.superseded_at is not None
    assert services.in_force(ready.convention) == amendment
    assert services.state(ready.convention) == VS.VALIDATED


def test_a_rejected_amendment_leaves_the_validated_version_in_force(ctx):
    ready = make_convention_ready()
    market = ready.market
    first = validated_convention(ready)
    lifecycle.advance(ready.operation, Status.RECRUITMENT, by=market.a_user, org=market.of_a)
    ready.edit_clause("Un objet reformulé.")
    amendment = ready.submit()
    referent, region = ready.region
    services.reject(amendment, by=referent, org=region, reason="Pas utile.")
    assert services.in_force(ready.convention) == first
    assert services.state(ready.convention) == VS.VALIDATED


def test_no_amendment_without_a_validated_convention(ready):
    ready.operation.status = Status.RECRUITMENT  # forced: the gate would refuse it
    assert "Aucune convention validée : un avenant n'a pas de sens ici." in (
        services.submission_problems(ready.convention)
    )


# --- The gate to recruitment --------------------------------------------------------------


def test_recruitment_waits_for_the_regions_validation(ready):
    market = ready.market
    assert lifecycle.unmet_conditions(ready.operation, Status.RECRUITMENT) == [NOT_VALIDATED]
    version = ready.submit()
    sign_all(ready, version)
    with pytest.raises(RuleError, match=NOT_VALIDATED):
        lifecycle.advance(ready.operation, Status.RECRUITMENT, by=market.a_user, org=market.of_a)
    ready.validate(version)
    lifecycle.advance(ready.operation, Status.RECRUITMENT, by=market.a_user, org=market.of_a)
    assert ready.operation.status == Status.RECRUITMENT
