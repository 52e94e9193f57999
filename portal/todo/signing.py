"""« À faire » of conventions across operations (issue #16): the versions to sign or to
validate, and the signers to designate before a version goes out — as ``select``s
(``rows.Rows``); who signs a version is read from its frozen text by the database
(``signing_party_sql``)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from portal.accounts.models import User
from portal.conventions.models import (
    Convention,
    ConventionVersion,
    DesignatedSigner,
    Signature,
    VersionStatus,
)
from portal.conventions.state import signing_party_sql
from portal.operations.models import (
    DRAFTING_STEPS,
    Operation,
    Participant,
    ParticipantRole,
    PendingChange,
)
from portal.todo.base import BLOCKING, DECISION, Duty, link, signature_label
from portal.todo.rows import OperationRef, Rows, Who, has_participant, operations


def signatures(who: Who) -> list:
    """A version out for signature that ``org`` has not signed, ``org`` a signing party
    of its frozen text (read by the database); for the Région, a version signed by every
    party that waits for its validation."""
    versions = (
        operations()
        .join(Convention, Convention.operation_id == Operation.id)
        .join(ConventionVersion, ConventionVersion.convention_id == Convention.id)
    )
    kinds = []
    if who.region:

        def validation(row):
            label = _l("Valider ou rejeter la version %(n)s de la convention, signée par "
                       "toutes les parties.", n=row.number)  # fmt: skip
            url = link("conventions.show_version", operation_id=row[0], number=row.number)
            return Duty(label, url, OperationRef(row[0], row[1]), "validation", BLOCKING)

        signed = versions.add_columns(ConventionVersion.number).where(
            ConventionVersion.status == VersionStatus.SIGNED
        )
        kinds.append(Rows(signed, validation, (ConventionVersion.id,)))
    org_id = who.org.id
    first = (
        select(DesignatedSigner.id)
        .where(
            DesignatedSigner.convention_id == Convention.id,
            DesignatedSigner.organisation_id == org_id,
        )
        .order_by(DesignatedSigner.id)
        .limit(1)
        .scalar_subquery()
    )
    designated, signer = aliased(DesignatedSigner), aliased(User)
    waiting = (
        versions.add_columns(
            ConventionVersion.number,
            designated.user_id.label("signer_id"),
            signer.first_name,
            signer.last_name,
        )
        .outerjoin(designated, designated.id == first)
        .outerjoin(signer, signer.id == designated.user_id)
        .where(
            ConventionVersion.status.in_((VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED)),
            ~exists().where(
                Signature.version_id == ConventionVersion.id,
                Signature.organisation_id == org_id,
                Signature.voided_at.is_(None),
            ),
            signing_party_sql(org_id),
        )
    )

    def signature(row):
        url = link("conventions.show_version", operation_id=row[0], number=row.number)
        name = f"{row.first_name} {row.last_name}"
        label = signature_label(who.user.id, row.signer_id, name, row.number)
        return Duty(label, url, OperationRef(row[0], row[1]), "signature", BLOCKING)

    kinds.append(Rows(waiting, signature, (ConventionVersion.id,)))
    return kinds + _signers(who)


def _signers(who: Who) -> list:
    """Before a version goes out (the convention drafted, or in force while a party joins
    by an amendment), with no version open: ``org``'s admins name (or confirm) its signer;
    the organisme porteur names those still missing."""
    org_id = who.org.id
    open_version = exists().where(
        ConventionVersion.convention_id == Convention.id,
        ConventionVersion.status.in_((VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED,
                                      VersionStatus.SIGNED)),
    )  # fmt: skip
    joining = has_participant(Participant.pending_change == PendingChange.ADD)
    drafted = (
        operations()
        .join(Convention, Convention.operation_id == Operation.id)
        .where(~open_version, or_(Operation.status.in_(DRAFTING_STEPS), joining))
    )
    signing = (Participant.role != ParticipantRole.REGION,
               Participant.pending_change.is_distinct_from(PendingChange.WITHDRAW))  # fmt: skip
    url = "conventions.show_convention"
    kinds = []
    if who.is_admin:
        first = (
            select(DesignatedSigner)
            .where(
                DesignatedSigner.convention_id == Convention.id,
                DesignatedSigner.organisation_id == org_id,
            )
            .order_by(DesignatedSigner.id)
            .limit(1)
        )
        signer = first.with_only_columns(DesignatedSigner.id).scalar_subquery()
        confirmed = first.with_only_columns(DesignatedSigner.confirmed_at).scalar_subquery()
        party = drafted.add_columns(signer.label("signer")).where(
            has_participant(Participant.organisation_id == org_id, *signing),
            or_(signer.is_(None), confirmed.is_(None)),
        )

        def own(row):
            label = (
                _l("Désigner la personne qui signera la convention pour votre organisation.")
                if row.signer is None
                else _l("Confirmer la personne proposée pour signer la convention au nom de "
                        "votre organisation.")
            )  # fmt: skip
            return Duty(label, link(url, operation_id=row[0]), OperationRef(row[0], row[1]),
                        "signer", DECISION)  # fmt: skip

        kinds.append(Rows(party, own))
    missing = (
        select(func.count(Participant.id))
        .where(
            Participant.operation_id == Operation.id,
            Participant.withdrawn_at.is_(None),
            Participant.organisation_id != org_id,
            *signing,
            ~exists().where(
                DesignatedSigner.convention_id == Convention.id,
                DesignatedSigner.organisation_id == Participant.organisation_id,
            ),
        )
        .scalar_subquery()
    )

    def carrier(row):
        label = _l("Faire désigner les signataires de la convention qui manquent "
                   "(%(n)d partie(s)).", n=row.missing)  # fmt: skip
        return Duty(label, link(url, operation_id=row[0]), OperationRef(row[0], row[1]),
                    "signer")  # fmt: skip

    carried = drafted.add_columns(missing.label("missing")).where(
        Operation.provider_id == org_id, missing > 0
    )
    return [*kinds, Rows(carried, carrier)]
